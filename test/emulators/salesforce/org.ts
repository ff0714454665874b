/**
 * The in-memory org: records, users, permission-set assignments and the security they imply, DML with
 * Salesforce's validation order and error codes, field history, platform events, the API request
 * budget and the clock. Routes (server.ts, rest.ts) translate HTTP to calls here; Bulk 2.0 and SOQL
 * reach it through the contract in model.ts.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, RecordError } from './errors.js';
import { EVENT_ID_PREFIX, makeId, STANDARD_KEY_PREFIXES, to18 } from './ids.js';
import type { DmlOperation, DmlRowResult, SoqlContext } from './model.js';
import type { FieldDef, ObjectAccess, ObjectDef, PermissionSetDef, Schema } from './schema.js';
import { asText, coerceValue, formatDateTime, historyDataType } from './values.js';

export type Rec = Record<string, unknown>;

export interface UserDef {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  /** System Administrator: object and field security do not apply. */
  bypassSecurity: boolean;
}

export interface SaveResult {
  id?: string;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
}

export interface PublishedEvent {
  object: string;
  id: string;
  uuid: string;
  replayId: number;
  publishedAt: string;
  publishedById: string;
  payload: Rec;
}

/** A unit of work in a batch: what to write and how. */
export interface SaveItem {
  operation: 'insert' | 'update' | 'upsert';
  object: ObjectDef;
  values: Rec;
  /** For update: the record id. */
  id?: string;
  /** For upsert: the field to match on (an external id, an idLookup field, or Id). */
  externalIdField?: FieldDef;
}

export interface LockFault {
  object: string;
  /** Matches when the record (before or after the write) has this value in this field. */
  field: string;
  value: string;
  /** How many writes to fail; unlimited when absent. */
  times?: number;
}

export class Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  set(date: Date, freeze: boolean): void {
    if (freeze) {
      this.frozenAt = date.getTime();
    } else {
      this.frozenAt = undefined;
      this.offsetMs = date.getTime() - Date.now();
    }
  }

  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }
}

interface Journal {
  saved: Map<string, { table: string; prev: Rec | undefined }>;
}

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

export interface OrgOptions {
  schema: Schema;
  clock: Clock;
  dailyApiLimit: number;
  integrationUsername: string;
  adminUsername: string;
  integrationPermissionSets: string[];
}

export class Org {
  readonly schema: Schema;
  readonly clock: Clock;
  readonly orgId: string;
  readonly users = new Map<string, UserDef>();
  readonly integrationUser: UserDef;
  readonly adminUser: UserDef;
  readonly events: PublishedEvent[] = [];
  readonly lockFaults: LockFault[] = [];
  readonly api = { used: 0, max: 0, day: '' };

  private readonly tables = new Map<string, Map<string, Rec>>();
  private readonly idIndex = new Map<string, string>();
  /** `object.field` (lower-cased) -> normalised value -> ids; for external id and unique fields. */
  private readonly valueIndex = new Map<string, Map<string, Set<string>>>();
  private readonly counters = new Map<string, number>();
  private readonly autoNumbers = new Map<string, number>();
  private journal: Journal | undefined;
  private securityVersion = 0;
  private readonly accessCache = new Map<string, { version: number; sets: PermissionSetDef[] }>();
  private replayId = 0;

  constructor(options: OrgOptions) {
    this.schema = options.schema;
    this.clock = options.clock;
    this.api.max = options.dailyApiLimit;
    this.orgId = makeId(STANDARD_KEY_PREFIXES.Organization ?? '00D', 1);
    for (const object of this.schema.objects.values()) this.tables.set(object.name.toLowerCase(), new Map());
    this.insertSystem('Organization', {
      Id: this.orgId,
      Name: 'Cliniko Sync Emulator',
      InstanceName: 'EMU1',
      IsSandbox: false,
      OrganizationType: 'Developer Edition',
    });
    this.integrationUser = this.addUser(options.integrationUsername, 'Cliniko Sync', 'Integration', false);
    this.adminUser = this.addUser(options.adminUsername, 'Emulator', 'Admin', true);
    const permissionSetIds = new Map<string, string>();
    for (const ps of this.schema.permissionSets.values()) {
      const id = this.nextId('PermissionSet');
      permissionSetIds.set(ps.name, id);
      this.insertSystem('PermissionSet', {
        Id: id,
        Name: ps.name,
        Label: ps.label,
        Description: ps.description,
        IsOwnedByProfile: false,
        IsCustom: true,
        NamespacePrefix: null,
      });
      for (const fp of ps.fields.values()) {
        const [sobject] = fp.field.split('.');
        this.insertSystem('FieldPermissions', {
          Id: this.nextId('FieldPermissions'),
          ParentId: id,
          SobjectType: sobject,
          Field: fp.field,
          PermissionsRead: fp.readable || fp.editable,
          PermissionsEdit: fp.editable,
        });
      }
      for (const op of ps.objects.values()) {
        this.insertSystem('ObjectPermissions', {
          Id: this.nextId('ObjectPermissions'),
          ParentId: id,
          SobjectType: op.object,
          PermissionsCreate: op.create,
          PermissionsRead: op.read,
          PermissionsEdit: op.edit,
          PermissionsDelete: op.delete,
          PermissionsViewAllRecords: op.viewAll,
          PermissionsModifyAllRecords: op.modifyAll,
        });
      }
    }
    for (const name of options.integrationPermissionSets)
      this.assignPermissionSet(this.integrationUser.id, name);
    for (const record of this.schema.metadataRecords) {
      const object = this.schema.objects.get(record.type.toLowerCase());
      if (!object)
        throw new Error(
          `custom metadata record ${record.type}.${record.developerName}: type ${record.type} has no object definition`,
        );
      const row: Rec = {
        Id: this.nextId(object.name),
        DeveloperName: record.developerName,
        MasterLabel: record.label,
        Label: record.label,
        Language: 'en_US',
        NamespacePrefix: null,
        QualifiedApiName: record.developerName,
      };
      for (const [fieldName, raw] of Object.entries(record.values)) {
        const f = object.fields.get(fieldName.toLowerCase());
        if (!f)
          throw new Error(
            `custom metadata record ${record.type}.${record.developerName}: unknown field ${fieldName}`,
          );
        try {
          row[f.name] = coerceValue(f, raw);
        } catch (error) {
          throw new Error(
            `custom metadata record ${record.type}.${record.developerName}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      this.insertSystem(object.name, row);
    }
  }

  // ---------------------------------------------------------------- users and security

  /** A standard user with no permission sets (controls add users to test other audiences). */
  createUser(username: string, firstName: string, lastName: string): UserDef {
    if (this.userByUsername(username))
      throw new ApiError(400, 'DUPLICATE_USERNAME', `Duplicate Username: ${username}`);
    return this.addUser(username, firstName, lastName, false);
  }

  private addUser(username: string, firstName: string, lastName: string, bypassSecurity: boolean): UserDef {
    const user: UserDef = {
      id: this.nextId('User'),
      username,
      firstName,
      lastName,
      email: username,
      bypassSecurity,
    };
    this.users.set(user.id, user);
    this.insertSystem('User', {
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
    const ps = this.findRecords('PermissionSet', (r) => r.Name === permissionSetName)[0];
    if (!ps) throw new ApiError(404, 'NOT_FOUND', `No permission set named ${permissionSetName}`);
    const existing = this.findRecords(
      'PermissionSetAssignment',
      (r) => r.AssigneeId === userId && r.PermissionSetId === ps.Id,
    );
    if (existing.length > 0) return;
    this.insertSystem('PermissionSetAssignment', {
      Id: this.nextId('PermissionSetAssignment'),
      AssigneeId: userId,
      PermissionSetId: ps.Id,
      IsActive: true,
    });
  }

  unassignPermissionSet(userId: string, permissionSetName: string): boolean {
    const ps = this.findRecords('PermissionSet', (r) => r.Name === permissionSetName)[0];
    const table = this.table('PermissionSetAssignment');
    let removed = false;
    for (const [id, r] of table) {
      if (ps && r.AssigneeId === userId && r.PermissionSetId === ps.Id) {
        table.delete(id);
        this.idIndex.delete(id);
        removed = true;
      }
    }
    this.securityVersion++;
    return removed;
  }

  permissionSetNames(userId: string): string[] {
    return this.permissionSetsOf(userId).map((p) => p.name);
  }

  private permissionSetsOf(userId: string): PermissionSetDef[] {
    const cached = this.accessCache.get(userId);
    if (cached && cached.version === this.securityVersion) return cached.sets;
    const sets: PermissionSetDef[] = [];
    for (const a of this.table('PermissionSetAssignment').values()) {
      if (a.AssigneeId !== userId || a.IsDeleted === true) continue;
      const ps = this.table('PermissionSet').get(String(a.PermissionSetId));
      const def = ps ? this.schema.permissionSets.get(String(ps.Name)) : undefined;
      if (def) sets.push(def);
    }
    this.accessCache.set(userId, { version: this.securityVersion, sets });
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

  // ---------------------------------------------------------------- storage primitives

  private table(objectName: string): Map<string, Rec> {
    const t = this.tables.get(objectName.toLowerCase());
    if (!t) throw new Error(`no table for ${objectName}`);
    return t;
  }

  nextId(objectName: string): string {
    const object = this.schema.objects.get(objectName.toLowerCase());
    const prefix = object?.keyPrefix ?? STANDARD_KEY_PREFIXES[objectName] ?? '000';
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return makeId(prefix, n);
  }

  private indexedFields(object: ObjectDef): FieldDef[] {
    return [...object.fields.values()].filter((f) => f.externalId || f.unique);
  }

  private normalise(field: FieldDef, value: unknown): string {
    const s = typeof value === 'string' ? value : JSON.stringify(value);
    return field.caseSensitive ? s : s.toLowerCase();
  }

  private unindex(object: ObjectDef, record: Rec): void {
    for (const f of this.indexedFields(object)) {
      const v = record[f.name];
      if (v === null || v === undefined) continue;
      this.valueIndex
        .get(`${object.name}.${f.name}`.toLowerCase())
        ?.get(this.normalise(f, v))
        ?.delete(String(record.Id));
    }
  }

  private index(object: ObjectDef, record: Rec): void {
    if (record.IsDeleted === true) return;
    for (const f of this.indexedFields(object)) {
      const v = record[f.name];
      if (v === null || v === undefined) continue;
      const key = `${object.name}.${f.name}`.toLowerCase();
      let byValue = this.valueIndex.get(key);
      if (!byValue) this.valueIndex.set(key, (byValue = new Map<string, Set<string>>()));
      const normalised = this.normalise(f, v);
      let ids = byValue.get(normalised);
      if (!ids) byValue.set(normalised, (ids = new Set()));
      ids.add(String(record.Id));
    }
  }

  /** Writes (or removes, with `next` undefined) one record, keeping indexes and the journal. */
  private put(object: ObjectDef, id: string, next: Rec | undefined): void {
    const table = this.table(object.name);
    const prev = table.get(id);
    if (this.journal && !this.journal.saved.has(id)) {
      this.journal.saved.set(id, { table: object.name, prev: prev ? { ...prev } : undefined });
    }
    if (prev) this.unindex(object, prev);
    if (next) {
      table.set(id, next);
      this.idIndex.set(id, object.name.toLowerCase());
      this.index(object, next);
    } else {
      table.delete(id);
      this.idIndex.delete(id);
    }
    if (object.name === 'PermissionSetAssignment') this.securityVersion++;
  }

  private insertSystem(objectName: string, values: Rec): void {
    const object = this.schema.objects.get(objectName.toLowerCase());
    if (!object) throw new Error(`unknown object ${objectName}`);
    const now = formatDateTime(this.clock.now());
    const record: Rec = {};
    for (const f of object.fields.values()) record[f.name] = f.type === 'boolean' ? false : null;
    Object.assign(record, { CreatedDate: now, LastModifiedDate: now, SystemModstamp: now }, values);
    for (const key of Object.keys(record)) if (!object.fields.has(key.toLowerCase())) delete record[key];
    if (object.fields.has('createdbyid') && record.CreatedById === null && this.adminUser)
      record.CreatedById = this.adminUser.id;
    if (object.fields.has('lastmodifiedbyid') && record.LastModifiedById === null && this.adminUser)
      record.LastModifiedById = this.adminUser.id;
    this.put(object, String(record.Id), record);
  }

  private transaction<T>(work: () => T, shouldCommit: (result: T) => boolean): T {
    const outer = this.journal;
    this.journal = { saved: new Map() };
    try {
      const result = work();
      if (!shouldCommit(result)) this.rollback();
      return result;
    } catch (error) {
      this.rollback();
      throw error;
    } finally {
      this.journal = outer;
    }
  }

  private rollback(): void {
    const journal = this.journal;
    if (!journal) return;
    this.journal = undefined;
    for (const [id, { table, prev }] of [...journal.saved].reverse()) {
      const object = this.schema.objects.get(table.toLowerCase());
      if (object) this.put(object, id, prev);
    }
    this.journal = journal;
    journal.saved.clear();
  }

  // ---------------------------------------------------------------- reads

  findRecords(objectName: string, predicate: (r: Rec) => boolean): Rec[] {
    return [...this.table(objectName).values()].filter(predicate);
  }

  records(objectName: string): Iterable<Rec> {
    return this.table(objectName).values();
  }

  byId(id: string): { object: ObjectDef; record: Rec } | undefined {
    const full = to18(id);
    if (!full) return undefined;
    const table = this.idIndex.get(full);
    if (!table) return undefined;
    const object = this.schema.objects.get(table);
    const record = this.tables.get(table)?.get(full);
    return object && record ? { object, record } : undefined;
  }

  /** Live (not deleted) records whose `field` equals `value` (case rules of the field). */
  matchByField(object: ObjectDef, field: FieldDef, value: unknown): Rec[] {
    if (field.name === 'Id') {
      const hit = typeof value === 'string' ? this.byId(value) : undefined;
      return hit && hit.object === object && hit.record.IsDeleted !== true ? [hit.record] : [];
    }
    const table = this.table(object.name);
    if (field.externalId || field.unique) {
      const ids = this.valueIndex
        .get(`${object.name}.${field.name}`.toLowerCase())
        ?.get(this.normalise(field, value));
      return ids ? [...ids].map((id) => table.get(id)).filter((r): r is Rec => r !== undefined) : [];
    }
    const wanted = this.normalise(field, value);
    return [...table.values()].filter(
      (r) =>
        r.IsDeleted !== true &&
        r[field.name] !== null &&
        r[field.name] !== undefined &&
        this.normalise(field, r[field.name]) === wanted,
    );
  }

  /** A record as the REST API returns it: visible fields only, with `attributes`. */
  present(userId: string, object: ObjectDef, record: Rec, apiVersion: string, fields?: string[]): Rec {
    const out: Rec = {
      attributes: {
        type: object.name,
        url: `/services/data/v${apiVersion}/sobjects/${object.name}/${String(record.Id)}`,
      },
    };
    const wanted = fields ?? [...object.fields.values()].map((f) => f.name);
    for (const name of wanted) {
      const f = object.fields.get(name.toLowerCase());
      if (!f || !this.fieldAccess(userId, object, f).read) {
        throw new ApiError(
          400,
          'INVALID_FIELD',
          `No such column '${name}' on entity '${object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      out[f.name] = record[f.name] ?? null;
    }
    return out;
  }

  soqlContext(userId: string, includeDeleted: boolean, apiVersion: string): SoqlContext {
    return {
      describe: (name) => this.visibleObject(userId, name),
      records: (name) => this.table(name).values(),
      byId: (id) => {
        const hit = this.byId(id);
        return hit ? { objectName: hit.object.name, record: hit.record } : undefined;
      },
      canRead: (objectName, fieldName) => {
        const object = this.schema.objects.get(objectName.toLowerCase());
        const f = object?.fields.get(fieldName.toLowerCase());
        return object !== undefined && f !== undefined && this.fieldAccess(userId, object, f).read;
      },
      now: this.clock.now(),
      includeDeleted,
      apiVersion,
    };
  }

  // ---------------------------------------------------------------- API budget

  /** Counts one API request; false when the daily limit is already used up. */
  countRequest(): boolean {
    const day = this.clock.now().toISOString().slice(0, 10);
    if (day !== this.api.day) {
      this.api.day = day;
      this.api.used = 0;
    }
    if (this.api.used >= this.api.max) return false;
    this.api.used++;
    return true;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Saves a batch. With allOrNone, every record is attempted inside one transaction and, if any fails,
   * all are rolled back and the valid ones report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  saveBatch(userId: string, items: SaveItem[], allOrNone: boolean): SaveResult[] {
    if (!allOrNone) {
      return items.map((item) =>
        this.transaction(
          () => this.trySave(userId, item),
          (r) => r.success,
        ),
      );
    }
    return this.transaction(
      () => {
        const results = items.map((item) => this.trySave(userId, item));
        if (results.every((r) => r.success)) return results;
        return results.map((r) => (r.success ? rolledBack() : r));
      },
      (results) => results.every((r) => r.success),
    );
  }

  private trySave(userId: string, item: SaveItem): SaveResult {
    try {
      const { id, created } = this.saveOne(userId, item);
      return { id, success: true, errors: [], ...(item.operation === 'upsert' ? { created } : {}) };
    } catch (error) {
      if (error instanceof RecordErrors)
        return { success: false, errors: error.errors.map((e) => e.toJSON()) };
      if (error instanceof RecordError) return { success: false, errors: [error.toJSON()] };
      throw error;
    }
  }

  /** Saves one record or throws RecordError(s). Assumes a surrounding transaction. */
  saveOne(userId: string, item: SaveItem): { id: string; created: boolean } {
    const { object } = item;
    const access = this.objectAccess(userId, object);
    if (object.category === 'event') {
      // Events are published (publish()), never stored as records.
      throw new RecordError(
        'INVALID_TYPE_FOR_OPERATION',
        `entity type ${object.name} does not support this operation`,
      );
    }
    if (object.category === 'setup' && !this.user(userId).bypassSecurity) {
      // Assigning permission sets needs an administrator, as in an org ("Assign Permission Sets").
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on object ${object.name}`,
      );
    }
    if (!object.createable && !object.updateable) {
      throw new RecordError(
        'INVALID_TYPE_FOR_OPERATION',
        `entity type ${object.name} does not support this operation`,
      );
    }
    const values = { ...item.values };
    delete values.attributes;
    let existing: Rec | undefined;
    if (item.operation === 'update') {
      existing = this.liveRecord(object, item.id);
    } else if (item.operation === 'upsert') {
      const extField = item.externalIdField;
      if (!extField) throw new Error('upsert without an external id field');
      const key = Object.keys(values).find((k) => k.toLowerCase() === extField.name.toLowerCase());
      const extValue = key === undefined ? undefined : values[key];
      if (extField.name === 'Id') {
        if (key !== undefined) delete values[key];
        if (extValue !== undefined && extValue !== null && extValue !== '')
          existing = this.liveRecord(object, asText(extValue));
      } else {
        if (extValue === undefined || extValue === null || extValue === '') {
          throw new RecordError('MISSING_ARGUMENT', `${extField.name} not specified`, [extField.name]);
        }
        const matches = this.matchByField(object, extField, extValue);
        if (matches.length > 1) {
          throw new RecordError(
            'DUPLICATE_EXTERNAL_ID',
            `${extField.label}: more than one record found for external id field: [${matches.map((m) => String(m.Id)).join(', ')}]`,
            [extField.name],
          );
        }
        existing = matches[0];
        // The matching value need not be written again; writing it is also allowed when unchanged.
        if (existing && key !== undefined) delete values[key];
      }
    } else if (Object.keys(values).some((k) => k.toLowerCase() === 'id')) {
      throw new RecordError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
    }
    const creating = existing === undefined;
    if (creating ? !access.create : !access.edit) {
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on object ${object.name}`,
      );
    }

    const errors: RecordError[] = [];
    const notWritable: string[] = [];
    const changes: Rec = {};
    for (const [key, raw] of Object.entries(values)) {
      if (item.operation === 'update' && key.toLowerCase() === 'id') continue;
      const relationship = this.relationshipOf(object, key);
      if (relationship) {
        try {
          const parentId = this.resolveReference(userId, relationship.field, relationship.extFieldName, raw);
          if (
            !this.fieldAccess(userId, object, relationship.field).edit ||
            !(creating ? relationship.field.createable : relationship.field.updateable)
          ) {
            notWritable.push(relationship.field.name);
          } else {
            changes[relationship.field.name] = parentId;
          }
        } catch (error) {
          if (error instanceof RecordError) errors.push(error);
          else throw error;
        }
        continue;
      }
      const f = this.visibleField(userId, object, key);
      if (!f) {
        errors.push(
          new RecordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`, [
            key,
          ]),
        );
        continue;
      }
      if (!this.fieldAccess(userId, object, f).edit || !(creating ? f.createable : f.updateable)) {
        notWritable.push(f.name);
        continue;
      }
      try {
        let value = coerceValue(f, raw);
        if (f.type === 'reference' && value !== null) value = this.checkReference(f, asText(value));
        changes[f.name] = value;
      } catch (error) {
        if (error instanceof RecordError) errors.push(error);
        else throw error;
      }
    }
    if (notWritable.length > 0) {
      errors.unshift(
        new RecordError(
          'INVALID_FIELD_FOR_INSERT_UPDATE',
          `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
          notWritable,
        ),
      );
    }
    if (errors.length > 0) throw new RecordErrors(errors);

    const now = formatDateTime(this.clock.now());
    let next: Rec;
    if (creating) {
      next = {};
      for (const f of object.fields.values()) {
        next[f.name] =
          f.type === 'boolean' ? (typeof f.defaultValue === 'boolean' ? f.defaultValue : false) : null;
      }
      Object.assign(next, changes);
      next.Id = this.nextId(object.name);
      if ('IsDeleted' in next) next.IsDeleted = false;
      if (object.fields.has('ownerid') && (next.OwnerId === null || next.OwnerId === undefined))
        next.OwnerId = userId;
      for (const f of object.fields.values()) {
        if (f.autoNumberFormat) next[f.name] = this.autoNumber(object, f);
      }
      Object.assign(next, { CreatedDate: now, CreatedById: userId });
    } else {
      next = { ...existing, ...changes };
    }
    if (object.fields.has('lastmodifieddate'))
      Object.assign(next, { LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now });
    if (object.name === 'Contact')
      next.Name = [next.FirstName, next.LastName].filter((v) => typeof v === 'string' && v !== '').join(' ');

    const missing = [...object.fields.values()]
      .filter(
        (f) =>
          f.required &&
          (creating || f.name in changes) &&
          (next[f.name] === null || next[f.name] === undefined || next[f.name] === ''),
      )
      .map((f) => f.name);
    if (missing.length > 0) {
      throw new RecordError(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      );
    }
    for (const f of object.fields.values()) {
      if (!f.unique || next[f.name] === null || next[f.name] === undefined) continue;
      const clash = this.matchByField(object, f, next[f.name]).find((r) => r.Id !== next.Id);
      if (clash) {
        throw new RecordError(
          'DUPLICATE_VALUE',
          `duplicate value found: ${f.name} duplicates value on record with id: ${String(clash.Id)}`,
          [f.name],
        );
      }
    }
    this.checkLockFaults(object, existing, next);

    this.put(object, String(next.Id), next);
    this.writeHistory(userId, object, existing, next, now);
    return { id: String(next.Id), created: creating };
  }

  private liveRecord(object: ObjectDef, id: string | undefined): Rec {
    // No Id at all is a different failure from a bad one (Salesforce's wording for both).
    if (id === undefined || id === '')
      throw new RecordError('MISSING_ARGUMENT', 'Id not specified in an update call', []);
    const full = to18(id);
    if (!full)
      throw new RecordError('MALFORMED_ID', `${object.label} ID: id value of incorrect type: ${id}`, ['Id']);
    const hit = this.byId(full);
    if (!hit || hit.object !== object)
      throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
    if (hit.record.IsDeleted === true) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
    return hit.record;
  }

  private relationshipOf(
    object: ObjectDef,
    key: string,
  ): { field: FieldDef; extFieldName?: string } | undefined {
    const [relName, extFieldName] = key.split('.');
    if (!relName) return undefined;
    const f = [...object.fields.values()].find(
      (x) => x.type === 'reference' && x.relationshipName?.toLowerCase() === relName.toLowerCase(),
    );
    if (!f) return undefined;
    return extFieldName === undefined ? { field: f } : { field: f, extFieldName };
  }

  /**
   * `Contact__r: { Cliniko_Patient_Id__c: "42" }` (REST) or the column `Contact__r.Cliniko_Patient_Id__c`
   * (Bulk) -> the parent's id. null clears the lookup.
   */
  private resolveReference(
    userId: string,
    field: FieldDef,
    extFieldName: string | undefined,
    raw: unknown,
  ): string | null {
    let targetName = field.referenceTo?.[0] ?? '';
    let extName = extFieldName;
    let value: unknown = raw;
    if (extName === undefined) {
      if (raw === null) return null;
      if (typeof raw !== 'object' || Array.isArray(raw)) {
        throw new RecordError(
          'INVALID_FIELD',
          `${field.relationshipName}: a relationship must be an object naming one external id field`,
          [field.name],
        );
      }
      const entries = Object.entries(raw as Rec).filter(([k]) => k !== 'attributes');
      const attributes = (raw as Rec).attributes as { type?: string } | undefined;
      if (attributes?.type) targetName = attributes.type;
      if (entries.length !== 1 || !entries[0]) {
        throw new RecordError(
          'INVALID_FIELD',
          `${field.relationshipName}: a relationship must name exactly one external id field`,
          [field.name],
        );
      }
      [extName, value] = entries[0];
    }
    if (value === null || value === '') return null;
    const target = this.schema.objects.get(targetName.toLowerCase());
    if (!target || !(field.referenceTo ?? []).some((t) => t.toLowerCase() === targetName.toLowerCase())) {
      throw new RecordError(
        'INVALID_FIELD',
        `${field.relationshipName}: ${targetName} is not a valid type for this relationship`,
        [field.name],
      );
    }
    const extField = extName === undefined ? undefined : this.visibleField(userId, target, extName);
    if (!extField || !(extField.externalId || extField.idLookup)) {
      throw new RecordError(
        'INVALID_FIELD',
        `Field ${extName ?? ''} does not exist or is not an external id field on ${target.name}`,
        [field.name],
      );
    }
    const matches = this.matchByField(target, extField, asText(value));
    if (matches.length === 0) {
      throw new RecordError(
        'INVALID_FIELD',
        `Foreign key external ID: ${asText(value)} not found for field ${extField.name} in entity ${target.name}`,
        [],
      );
    }
    if (matches.length > 1) {
      throw new RecordError(
        'INVALID_FIELD',
        `Foreign key external ID: ${asText(value)} matches more than one record for field ${extField.name} in entity ${target.name}`,
        [],
      );
    }
    return String(matches[0]?.Id);
  }

  private checkReference(field: FieldDef, value: string): string {
    const full = to18(value);
    if (!full)
      throw new RecordError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${value}`, [
        field.name,
      ]);
    const hit = this.byId(full);
    const allowed = (field.referenceTo ?? []).map((t) => t.toLowerCase());
    if (!hit || !allowed.includes(hit.object.name.toLowerCase()) || hit.record.IsDeleted === true) {
      throw new RecordError(
        'INVALID_CROSS_REFERENCE_KEY',
        `${field.label}: id value of incorrect type: ${value}`,
        [field.name],
      );
    }
    return full;
  }

  private autoNumber(object: ObjectDef, field: FieldDef): string {
    const key = `${object.name}.${field.name}`;
    const n = (this.autoNumbers.get(key) ?? 0) + 1;
    this.autoNumbers.set(key, n);
    return (field.autoNumberFormat ?? '{0}').replace(/\{(0+)\}/, (_m, zeros: string) =>
      String(n).padStart(zeros.length, '0'),
    );
  }

  private checkLockFaults(object: ObjectDef, before: Rec | undefined, after: Rec): void {
    for (const fault of this.lockFaults) {
      if (fault.object.toLowerCase() !== object.name.toLowerCase()) continue;
      if (fault.times !== undefined && fault.times <= 0) continue;
      const hit = [before, after].some(
        (r) => r !== undefined && asText(r[fault.field] ?? '') === fault.value,
      );
      if (!hit) continue;
      if (fault.times !== undefined) fault.times--;
      throw new RecordError(
        'UNABLE_TO_LOCK_ROW',
        `unable to obtain exclusive access to this record or 1 records: ${String(after.Id)}`,
        [],
      );
    }
  }

  private writeHistory(
    userId: string,
    object: ObjectDef,
    before: Rec | undefined,
    after: Rec,
    now: string,
  ): void {
    if (
      !object.enableHistory ||
      !object.historyObject ||
      (object.category !== 'custom' && object.category !== 'standard')
    )
      return;
    const history = this.schema.objects.get(object.historyObject.toLowerCase());
    if (!history?.historyParentField) return;
    const row = (fieldName: string, dataType: string, oldValue: unknown, newValue: unknown) => {
      const id = this.nextId(history.name);
      this.put(history, id, {
        Id: id,
        IsDeleted: false,
        [history.historyParentField ?? 'ParentId']: after.Id,
        CreatedById: userId,
        CreatedDate: now,
        Field: fieldName,
        DataType: dataType,
        OldValue: oldValue ?? null,
        NewValue: newValue ?? null,
      });
    };
    if (!before) {
      row('created', 'Text', null, null);
      return;
    }
    for (const f of object.fields.values()) {
      if (!f.trackHistory) continue;
      const oldValue = before[f.name] ?? null;
      const newValue = after[f.name] ?? null;
      if (oldValue !== newValue) row(f.name, historyDataType(f), oldValue, newValue);
    }
  }

  /** Soft delete (the record stays visible to queryAll with IsDeleted = true). */
  deleteOne(userId: string, id: string): string {
    const full = to18(id);
    if (!full) throw new RecordError('MALFORMED_ID', `bad id ${id}`, []);
    const hit = this.byId(full);
    if (!hit) throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
    if (hit.record.IsDeleted === true) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
    const { object, record } = hit;
    if (object.category === 'setup' && !this.user(userId).bypassSecurity) {
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on object ${object.name}`,
      );
    }
    if (!object.deletable)
      throw new RecordError(
        'INVALID_TYPE_FOR_OPERATION',
        `entity type ${object.name} does not support delete`,
      );
    if (!this.objectAccess(userId, object).delete) {
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on object ${object.name}`,
      );
    }
    this.checkLockFaults(object, record, record);
    if (!object.fields.has('isdeleted')) {
      this.put(object, full, undefined);
      return full;
    }
    const now = formatDateTime(this.clock.now());
    const next: Rec = { ...record, IsDeleted: true };
    if (object.fields.has('lastmodifieddate'))
      Object.assign(next, { LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now });
    this.put(object, full, next);
    return full;
  }

  deleteBatch(userId: string, ids: string[], allOrNone: boolean): SaveResult[] {
    const one = (id: string): SaveResult => {
      try {
        return { id: this.deleteOne(userId, id), success: true, errors: [] };
      } catch (error) {
        if (error instanceof RecordError) return { id, success: false, errors: [error.toJSON()] };
        throw error;
      }
    };
    if (!allOrNone)
      return ids.map((id) =>
        this.transaction(
          () => one(id),
          (r) => r.success,
        ),
      );
    return this.transaction(
      () => {
        const results = ids.map(one);
        return results.every((r) => r.success)
          ? results
          : results.map((r) => (r.success ? { ...rolledBack(), id: r.id } : r));
      },
      (results) => results.every((r) => r.success),
    );
  }

  // ---------------------------------------------------------------- platform events

  publish(userId: string, object: ObjectDef, values: Rec): SaveResult {
    try {
      if (!this.objectAccess(userId, object).create) {
        throw new RecordError(
          'INSUFFICIENT_ACCESS_OR_READONLY',
          `insufficient access rights on object ${object.name}`,
        );
      }
      const payload: Rec = {};
      const errors: RecordError[] = [];
      for (const [key, raw] of Object.entries(values)) {
        if (key === 'attributes') continue;
        const f = object.fields.get(key.toLowerCase());
        if (!f) {
          errors.push(
            new RecordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`, [
              key,
            ]),
          );
          continue;
        }
        if (!f.createable) {
          errors.push(
            new RecordError('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${f.name}.`, [
              f.name,
            ]),
          );
          continue;
        }
        try {
          payload[f.name] = coerceValue(f, raw);
        } catch (error) {
          if (error instanceof RecordError) errors.push(error);
          else throw error;
        }
      }
      const missing = [...object.fields.values()]
        .filter((f) => f.required && (payload[f.name] === null || payload[f.name] === undefined))
        .map((f) => f.name);
      if (missing.length > 0)
        errors.push(
          new RecordError(
            'REQUIRED_FIELD_MISSING',
            `Required fields are missing: [${missing.join(', ')}]`,
            missing,
          ),
        );
      if (errors.length > 0) throw new RecordErrors(errors);
      const uuid = randomUUID();
      const id = makeId(EVENT_ID_PREFIX, this.events.length + 1);
      const publishedAt = formatDateTime(this.clock.now());
      this.events.push({
        object: object.name,
        id,
        uuid,
        replayId: ++this.replayId,
        publishedAt,
        publishedById: userId,
        payload: { ...payload, CreatedDate: publishedAt, CreatedById: userId, EventUuid: uuid },
      });
      return { id, success: true, errors: [{ statusCode: 'OPERATION_ENQUEUED', message: uuid, fields: [] }] };
    } catch (error) {
      if (error instanceof RecordErrors)
        return { success: false, errors: error.errors.map((e) => e.toJSON()) };
      if (error instanceof RecordError) return { success: false, errors: [error.toJSON()] };
      throw error;
    }
  }

  // ---------------------------------------------------------------- snapshot

  /** Business data (standard, custom and history objects) and id counters, for a snapshot file. */
  snapshot(): OrgSnapshot {
    const tables: Record<string, Rec[]> = {};
    for (const object of this.schema.objects.values()) {
      if (!['standard', 'custom', 'history'].includes(object.category)) continue;
      const rows = [...this.table(object.name).values()];
      if (rows.length > 0) tables[object.name] = rows;
    }
    return {
      version: 1,
      tables,
      counters: Object.fromEntries(this.counters),
      autoNumbers: Object.fromEntries(this.autoNumbers),
    };
  }

  /**
   * Loads a snapshot taken by snapshot(). Objects or fields that no longer exist in force-app are
   * reported, not silently dropped: the caller decides whether a schema change invalidates the file.
   */
  restore(snapshot: OrgSnapshot): void {
    if (snapshot.version !== 1)
      throw new Error(`snapshot version ${String(snapshot.version)} is not supported`);
    for (const [objectName, rows] of Object.entries(snapshot.tables)) {
      const object = this.schema.objects.get(objectName.toLowerCase());
      if (!object) throw new Error(`snapshot holds ${objectName}, which the project no longer defines`);
      for (const row of rows) {
        const unknown = Object.keys(row).filter((k) => !object.fields.has(k.toLowerCase()));
        if (unknown.length > 0)
          throw new Error(
            `snapshot record ${objectName} ${asText(row.Id)}: unknown fields ${unknown.join(', ')}`,
          );
        this.put(object, asText(row.Id), { ...row });
      }
    }
    for (const [prefix, n] of Object.entries(snapshot.counters))
      this.counters.set(prefix, Math.max(n, this.counters.get(prefix) ?? 0));
    for (const [key, n] of Object.entries(snapshot.autoNumbers)) this.autoNumbers.set(key, n);
  }

  // ---------------------------------------------------------------- Bulk API 2.0 bridge

  /** Applies CSV rows one by one (see BulkDeps.applyDml in model.ts). */
  applyDml(
    userId: string,
    objectName: string,
    operation: DmlOperation,
    externalIdFieldName: string | undefined,
    rows: Array<Record<string, string | null>>,
  ): DmlRowResult[] {
    const object = this.visibleObject(userId, objectName);
    if (!object) {
      const error = {
        statusCode: 'INVALID_TYPE',
        message: `sObject type '${objectName}' is not supported.`,
        fields: [],
      };
      return rows.map(() => ({ success: false, errors: [error] }));
    }
    let extField: FieldDef | undefined;
    if (operation === 'upsert') {
      extField = this.visibleField(userId, object, externalIdFieldName ?? 'Id');
      if (!extField || !(extField.externalId || extField.idLookup)) {
        const error = {
          statusCode: 'INVALID_FIELD',
          message: `Provided external ID field does not exist or is not accessible: ${externalIdFieldName ?? ''}`,
          fields: [],
        };
        return rows.map(() => ({ success: false, errors: [error] }));
      }
    }
    return rows.map((row) => {
      const values: Rec = {};
      let id: string | undefined;
      for (const [column, value] of Object.entries(row)) {
        if (column.toLowerCase() === 'id') {
          if (value !== null && value !== '') id = value;
          continue;
        }
        if (value === '') continue; // Bulk 2.0: an empty cell leaves the field unchanged
        values[column] = value;
      }
      if (operation === 'delete') {
        const [result] = this.deleteBatch(userId, [id ?? ''], false);
        return result ?? { success: false };
      }
      if (operation === 'upsert' && extField?.name === 'Id' && id !== undefined) values.Id = id;
      const item: SaveItem =
        operation === 'update'
          ? { operation, object, values, ...(id !== undefined ? { id } : {}) }
          : operation === 'upsert'
            ? { operation, object, values, ...(extField ? { externalIdField: extField } : {}) }
            : { operation: 'insert', object, values };
      const [result] = this.saveBatch(userId, [item], false);
      if (!result) return { success: false };
      return {
        success: result.success,
        id: result.id,
        errors: result.errors,
        created: operation === 'insert' ? result.success : result.created,
      };
    });
  }
}

export interface OrgSnapshot {
  version: number;
  tables: Record<string, Rec[]>;
  counters: Record<string, number>;
  autoNumbers: Record<string, number>;
}

/** Several per-record errors for one record (Salesforce reports them all). */
export class RecordErrors extends Error {
  constructor(readonly errors: RecordError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

export function rolledBack(): SaveResult {
  return {
    success: false,
    errors: [
      {
        statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
        message:
          'Record rolled back because not all records were valid and the request was using AllOrNone header',
        fields: [],
      },
    ],
  };
}
