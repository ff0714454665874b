/**
 * Users and the security they have: their profile and their permission-set and group assignments, all
 * stored as PermissionSetAssignment rows as in an org (a user's profile is an assignment of the
 * profile's own set), and the object and field-level access those grant. What a row grants is read
 * through `grantsOf` (profiles.ts), so enforcement and the setup objects cannot disagree. Objects not
 * governed by permissions, and the administrator, see everything. Access is cached per user (and a
 * field's per user, object and field) until an assignment or a deploy changes what is granted.
 */
import { ApiError } from '../errors.js';
import type { FieldDef, ObjectAccess, ObjectDef, PermissionSetDef, Schema } from '../schema.js';
import { grantsOf, STANDARD_USER } from './profiles.js';
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

/** What a user may do with a field; four shared answers, never changed. */
type FieldAccess = Readonly<{ read: boolean; edit: boolean }>;
const FIELD_ACCESS: ReadonlyArray<FieldAccess> = [
  Object.freeze({ read: false, edit: false }),
  Object.freeze({ read: false, edit: true }),
  Object.freeze({ read: true, edit: false }),
  Object.freeze({ read: true, edit: true }),
];
const fieldAccessOf = (read: boolean, edit: boolean): FieldAccess =>
  FIELD_ACCESS[(read ? 2 : 0) + (edit ? 1 : 0)]!;

export class Security {
  readonly users = new Map<string, UserDef>();
  private version = 0;
  private readonly accessCache = new Map<string, { version: number; sets: PermissionSetDef[] }>();
  /**
   * fieldAccess's answers per user, object and field at `answersVersion`: a Bulk job asks for every
   * cell of every row, and the loop over the user's permission sets was a tenth of the org's DML time.
   */
  private readonly fieldAnswers = new Map<string, WeakMap<ObjectDef, WeakMap<FieldDef, FieldAccess>>>();
  private answersVersion = 0;

  constructor(
    private readonly schema: Schema,
    private readonly store: RecordStore,
  ) {}

  /** Assignments changed: every cached access is stale. */
  invalidate(): void {
    this.version++;
  }

  addUser(
    username: string,
    firstName: string,
    lastName: string,
    bypassSecurity: boolean,
    profile = STANDARD_USER,
  ): UserDef {
    const profileRow = this.profileRow(profile);
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
      ProfileId: profileRow.Id,
    });
    this.insertAssignment(user.id, this.profileSet(String(profileRow.Id)));
    return user;
  }

  private profileRow(name: string): Record<string, unknown> {
    const row = this.store.findRecords('Profile', (r) => r.Name === name)[0];
    if (!row) throw new ApiError(404, 'NOT_FOUND', `No profile named ${name}`);
    return row;
  }

  private profileSet(profileId: string): string {
    const ps = this.store.findRecords(
      'PermissionSet',
      (r) => r.ProfileId === profileId && r.Type === 'Profile',
    )[0];
    if (!ps) throw new Error(`profile ${profileId} has no permission set`);
    return String(ps.Id);
  }

  private insertAssignment(userId: string, permissionSetId: string, groupId: string | null = null): void {
    this.store.insertSystem('PermissionSetAssignment', {
      Id: this.store.nextId('PermissionSetAssignment'),
      AssigneeId: userId,
      PermissionSetId: permissionSetId,
      PermissionSetGroupId: groupId,
      IsActive: true,
    });
  }

  /** Changes a user's profile: User.ProfileId and the assignment of the profile's set, as Salesforce does. */
  setProfile(userId: string, profile: string): void {
    this.user(userId);
    const profileRow = this.profileRow(profile);
    const userObject = this.schema.objects.get('user');
    const row = this.store.table('User').get(userId);
    if (!userObject || !row) throw new ApiError(404, 'NOT_FOUND', 'No such user');
    this.store.put(userObject, userId, { ...row, ProfileId: profileRow.Id });
    for (const [id, a] of [...this.store.table('PermissionSetAssignment')]) {
      const ps = this.store.table('PermissionSet').get(String(a.PermissionSetId));
      if (a.AssigneeId === userId && ps?.Type === 'Profile')
        this.store.removeRaw('PermissionSetAssignment', id);
    }
    this.insertAssignment(userId, this.profileSet(String(profileRow.Id)));
    this.invalidate();
  }

  /** Activates or deactivates a user (User.IsActive; the emulator still lets an inactive user's session work). */
  setActive(userId: string, active: boolean): void {
    this.user(userId);
    const userObject = this.schema.objects.get('user');
    const row = this.store.table('User').get(userId);
    if (!userObject || !row) throw new ApiError(404, 'NOT_FOUND', 'No such user');
    this.store.put(userObject, userId, { ...row, IsActive: active });
  }

  /** Assigns a permission set group: an assignment of the group's aggregate set naming the group. */
  assignPermissionSetGroup(userId: string, groupName: string): void {
    const group = this.store.findRecords('PermissionSetGroup', (r) => r.DeveloperName === groupName)[0];
    if (!group) throw new ApiError(404, 'NOT_FOUND', `No permission set group named ${groupName}`);
    const aggregate = this.store.findRecords('PermissionSet', (r) => r.PermissionSetGroupId === group.Id)[0];
    if (!aggregate) throw new Error(`group ${groupName} has no aggregate permission set`);
    const held = this.store.findRecords(
      'PermissionSetAssignment',
      (r) => r.AssigneeId === userId && r.PermissionSetGroupId === group.Id,
    );
    if (held.length === 0) this.insertAssignment(userId, String(aggregate.Id), String(group.Id));
    this.invalidate();
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
    const ps = this.regularSet(permissionSetName);
    if (!ps) throw new ApiError(404, 'NOT_FOUND', `No permission set named ${permissionSetName}`);
    const existing = this.store.findRecords(
      'PermissionSetAssignment',
      (r) => r.AssigneeId === userId && r.PermissionSetId === ps.Id,
    );
    if (existing.length > 0) return;
    this.insertAssignment(userId, String(ps.Id));
  }

  private regularSet(name: string): Record<string, unknown> | undefined {
    return this.store.findRecords('PermissionSet', (r) => r.Name === name && r.Type === 'Regular')[0];
  }

  unassignPermissionSet(userId: string, permissionSetName: string): boolean {
    const ps = this.regularSet(permissionSetName);
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

  /** Names of the (regular) permission sets assigned to the user directly, as the controls list them. */
  assignedSetNames(userId: string): string[] {
    const names: string[] = [];
    for (const a of this.store.table('PermissionSetAssignment').values()) {
      if (a.AssigneeId !== userId) continue;
      const ps = this.store.table('PermissionSet').get(String(a.PermissionSetId));
      if (ps?.Type === 'Regular') names.push(String(ps.Name));
    }
    return names;
  }

  /** Everything that grants the user access: their profile, permission sets and groups. */
  permissionSetsOf(userId: string): PermissionSetDef[] {
    const cached = this.accessCache.get(userId);
    if (cached && cached.version === this.version) return cached.sets;
    const sets: PermissionSetDef[] = [];
    for (const a of this.store.table('PermissionSetAssignment').values()) {
      if (a.AssigneeId !== userId || a.IsDeleted === true) continue;
      const ps = this.store.table('PermissionSet').get(String(a.PermissionSetId));
      const def = ps ? grantsOf(this.schema, this.store, ps) : undefined;
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
      // View All Data reads every object and record; Modify All Data also edits and deletes them.
      if (ps.viewAllData) Object.assign(access, { read: true, viewAll: true });
      if (ps.modifyAllData) Object.assign(access, ALL_ACCESS);
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

  fieldAccess(userId: string, object: ObjectDef, field: FieldDef): FieldAccess {
    if (this.answersVersion !== this.version) {
      this.fieldAnswers.clear();
      this.answersVersion = this.version;
    }
    let byObject = this.fieldAnswers.get(userId);
    let byField = byObject?.get(object);
    const known = byField?.get(field);
    if (known) return known;
    const answer = this.grantedFieldAccess(userId, object, field);
    if (!byObject) this.fieldAnswers.set(userId, (byObject = new WeakMap()));
    if (!byField) byObject.set(object, (byField = new WeakMap()));
    byField.set(field, answer);
    return answer;
  }

  private grantedFieldAccess(userId: string, object: ObjectDef, field: FieldDef): FieldAccess {
    const objectAccess = this.objectAccess(userId, object);
    if (!objectAccess.read) return fieldAccessOf(false, false);
    const user = this.user(userId);
    if (user.bypassSecurity || !field.permissionable) return fieldAccessOf(true, true);
    let read = false;
    let edit = false;
    for (const ps of this.permissionSetsOf(userId)) {
      // View All Fields on the object reads every field of it, whatever the field permissions say.
      if (ps.objects.get(object.name.toLowerCase())?.viewAllFields) read = true;
      const fp = ps.fields.get(`${object.name}.${field.name}`.toLowerCase());
      if (!fp) continue;
      read ||= fp.readable || fp.editable;
      edit ||= fp.editable;
    }
    return fieldAccessOf(read, edit);
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
