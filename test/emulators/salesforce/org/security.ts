/**
 * Users and the security they have: permission-set assignments (stored as PermissionSetAssignment
 * rows, as in an org) and the object and field-level access they grant. Objects not governed by
 * permissions, and the administrator, see everything. Access is cached per user until an assignment
 * changes.
 */
import { ApiError } from '../errors.js';
import type { FieldDef, ObjectAccess, ObjectDef, PermissionSetDef, Schema } from '../schema.js';
import type { RecordStore } from './store.js';
import type { UserDef } from './types.js';

const NO_ACCESS: ObjectAccess = {
  create: false,
  read: false,
  edit: false,
  delete: false,
  viewAll: false,
  modifyAll: false,
};
const ALL_ACCESS: ObjectAccess = {
  create: true,
  read: true,
  edit: true,
  delete: true,
  viewAll: true,
  modifyAll: true,
};

export class Security {
  readonly users = new Map<string, UserDef>();
  private version = 0;
  private readonly accessCache = new Map<string, { version: number; sets: PermissionSetDef[] }>();

  constructor(
    private readonly schema: Schema,
    private readonly store: RecordStore,
  ) {}

  /** Assignments changed: every cached access is stale. */
  invalidate(): void {
    this.version++;
  }

  addUser(username: string, firstName: string, lastName: string, bypassSecurity: boolean): UserDef {
    const user: UserDef = {
      id: this.store.nextId('User'),
      username,
      firstName,
      lastName,
      email: username,
      bypassSecurity,
    };
    this.users.set(user.id, user);
    this.store.insertSystem('User', {
      Id: user.id,
      Username: username,
      FirstName: firstName,
      LastName: lastName,
      Name: `${firstName} ${lastName}`,
      Email: username,
      Alias: lastName.slice(0, 8).toLowerCase(),
      IsActive: true,
      UserType: 'Standard',
      TimeZoneSidKey: 'Australia/Sydney',
    });
    return user;
  }

  userByUsername(username: string): UserDef | undefined {
    return [...this.users.values()].find((u) => u.username.toLowerCase() === username.toLowerCase());
  }

  user(userId: string): UserDef {
    const user = this.users.get(userId);
    if (!user) throw new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
    return user;
  }

  assignPermissionSet(userId: string, permissionSetName: string): void {
    const ps = this.store.findRecords('PermissionSet', (r) => r.Name === permissionSetName)[0];
    if (!ps) throw new ApiError(404, 'NOT_FOUND', `No permission set named ${permissionSetName}`);
    const existing = this.store.findRecords(
      'PermissionSetAssignment',
      (r) => r.AssigneeId === userId && r.PermissionSetId === ps.Id,
    );
    if (existing.length > 0) return;
    this.store.insertSystem('PermissionSetAssignment', {
      Id: this.store.nextId('PermissionSetAssignment'),
      AssigneeId: userId,
      PermissionSetId: ps.Id,
      IsActive: true,
    });
  }

  unassignPermissionSet(userId: string, permissionSetName: string): boolean {
    const ps = this.store.findRecords('PermissionSet', (r) => r.Name === permissionSetName)[0];
    let removed = false;
    for (const [id, r] of this.store.table('PermissionSetAssignment')) {
      if (ps && r.AssigneeId === userId && r.PermissionSetId === ps.Id) {
        this.store.removeRaw('PermissionSetAssignment', id);
        removed = true;
      }
    }
    this.invalidate();
    return removed;
  }

  permissionSetsOf(userId: string): PermissionSetDef[] {
    const cached = this.accessCache.get(userId);
    if (cached && cached.version === this.version) return cached.sets;
    const sets: PermissionSetDef[] = [];
    for (const a of this.store.table('PermissionSetAssignment').values()) {
      if (a.AssigneeId !== userId || a.IsDeleted === true) continue;
      const ps = this.store.table('PermissionSet').get(String(a.PermissionSetId));
      const def = ps ? this.schema.permissionSets.get(String(ps.Name)) : undefined;
      if (def) sets.push(def);
    }
    this.accessCache.set(userId, { version: this.version, sets });
    return sets;
  }

  objectAccess(userId: string, object: ObjectDef): ObjectAccess {
    const user = this.user(userId);
    if (user.bypassSecurity) return ALL_ACCESS;
    const governing = object.historyOf ? this.schema.objects.get(object.historyOf.toLowerCase()) : object;
    if (!governing || !governing.permissionable) return ALL_ACCESS;
    const access = { ...NO_ACCESS };
    for (const ps of this.permissionSetsOf(userId)) {
      const op = ps.objects.get(governing.name.toLowerCase());
      if (!op) continue;
      access.create ||= op.create;
      access.read ||= op.read || op.edit || op.create || op.delete || op.viewAll || op.modifyAll;
      access.edit ||= op.edit || op.modifyAll;
      access.delete ||= op.delete || op.modifyAll;
      access.viewAll ||= op.viewAll || op.modifyAll;
      access.modifyAll ||= op.modifyAll;
    }
    // Platform events have no read permission of their own; create is what publishing needs.
    if (object.category === 'event') access.read = true;
    return access;
  }

  fieldAccess(userId: string, object: ObjectDef, field: FieldDef): { read: boolean; edit: boolean } {
    const objectAccess = this.objectAccess(userId, object);
    if (!objectAccess.read) return { read: false, edit: false };
    const user = this.user(userId);
    if (user.bypassSecurity || !field.permissionable) return { read: true, edit: true };
    let read = false;
    let edit = false;
    for (const ps of this.permissionSetsOf(userId)) {
      const fp = ps.fields.get(`${object.name}.${field.name}`.toLowerCase());
      if (!fp) continue;
      read ||= fp.readable || fp.editable;
      edit ||= fp.editable;
    }
    return { read, edit };
  }

  /** The object as the user may see it; undefined when it does not exist or is not readable. */
  visibleObject(userId: string, name: string): ObjectDef | undefined {
    const object = this.schema.objects.get(name.toLowerCase());
    if (!object) return undefined;
    return this.objectAccess(userId, object).read ? object : undefined;
  }

  /** Resolves a field the user can see; unknown and invisible fields are the same to the caller. */
  visibleField(userId: string, object: ObjectDef, name: string): FieldDef | undefined {
    const f = object.fields.get(name.toLowerCase());
    if (!f) return undefined;
    return this.fieldAccess(userId, object, f).read ? f : undefined;
  }
}
