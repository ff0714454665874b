/**
 * The in-memory org: records, users, permission-set assignments and the security they imply, DML with
 * Salesforce's validation order and error codes, field history, platform events, the API request
 * budget and the clock. Routes (server.ts, rest/) translate HTTP to calls here; Bulk 2.0 and SOQL
 * reach it through the contract in model.ts.
 *
 * This class is the org's one face; the work is done by one module per concern under `org/`:
 * storage and transactions (store.ts), users and security (security.ts), the initial rows (seed.ts),
 * saves (dml.ts, references.ts), deletes (delete.ts), field history (history.ts), platform events
 * (events.ts), lock faults (lock-faults.ts), the API budget (budget.ts), REST and SOQL views
 * (views.ts) and the Bulk 2.0 bridge (bulk.ts).
 */
import { ApiError } from './errors.js';
import { makeId, STANDARD_KEY_PREFIXES } from './ids.js';
import type { DmlOperation, DmlRowResult, SoqlContext } from './model.js';
import type { ApiBudget } from './org/budget.js';
import { countRequest } from './org/budget.js';
import { applyDml } from './org/bulk.js';
import type { Clock } from './org/clock.js';
import type { OrgCore } from './org/core.js';
import { expandRecord } from './org/compact.js';
import { deleteBatch, deleteOne } from './org/delete.js';
import { saveBatch, saveOne } from './org/dml.js';
import { DEFAULT_MAX_EVENTS, type EventBus, publish, retainEvents } from './org/events.js';
import { Security } from './org/security.js';
import { seedOrg } from './org/seed.js';
import { RecordStore } from './org/store.js';
import type {
  LockFault,
  OrgSnapshot,
  PublishedEvent,
  Rec,
  SaveItem,
  SaveResult,
  UserDef,
} from './org/types.js';
import { present, soqlContext } from './org/views.js';
import type { FieldDef, ObjectAccess, ObjectDef, Schema } from './schema.js';

export { Clock } from './org/clock.js';
export type {
  LockFault,
  OrgSnapshot,
  PublishedEvent,
  Rec,
  SaveItem,
  SaveResult,
  UserDef,
} from './org/types.js';
export { RecordErrors, rolledBack } from './org/types.js';

export interface OrgOptions {
  schema: Schema;
  clock: Clock;
  dailyApiLimit: number;
  integrationUsername: string;
  adminUsername: string;
  integrationPermissionSets: string[];
  /** Platform events kept for replay besides the 72-hour window (org/events.ts). Default 100,000. */
  maxEvents?: number;
}

export class Org implements OrgCore {
  readonly schema: Schema;
  readonly clock: Clock;
  readonly orgId: string;
  readonly store: RecordStore;
  readonly security: Security;
  readonly integrationUser: UserDef;
  readonly adminUser: UserDef;
  readonly events: PublishedEvent[] = [];
  readonly lockFaults: LockFault[] = [];
  readonly api: ApiBudget = { used: 0, max: 0, day: '' };
  /** Records a client asked to save or publish, by object, successful or not (benchmark counters). */
  readonly writeCounts = new Map<string, number>();
  private readonly bus: EventBus;

  constructor(options: OrgOptions) {
    this.schema = options.schema;
    this.clock = options.clock;
    this.api.max = options.dailyApiLimit;
    this.bus = {
      events: this.events,
      replayId: 0,
      published: 0,
      droppedThrough: 0,
      maxEvents: Math.max(1, options.maxEvents ?? DEFAULT_MAX_EVENTS),
    };
    this.orgId = makeId(STANDARD_KEY_PREFIXES.Organization ?? '00D', 1);
    this.store = new RecordStore(this.schema, this.clock, (objectName) => {
      if (objectName === 'PermissionSetAssignment') this.security.invalidate();
    });
    this.security = new Security(this.schema, this.store);
    const { integrationUser, adminUser } = seedOrg(this.schema, this.store, this.security, {
      orgId: this.orgId,
      integrationUsername: options.integrationUsername,
      adminUsername: options.adminUsername,
      integrationPermissionSets: options.integrationPermissionSets,
    });
    this.integrationUser = integrationUser;
    this.adminUser = adminUser;
  }

  // ---------------------------------------------------------------- users and security (org/security.ts)

  get users(): Map<string, UserDef> {
    return this.security.users;
  }

  /** A user with no permission sets, on the Standard User profile unless told (controls add audiences). */
  createUser(username: string, firstName: string, lastName: string, profile?: string): UserDef {
    if (this.userByUsername(username))
      throw new ApiError(400, 'DUPLICATE_USERNAME', `Duplicate Username: ${username}`);
    return this.security.addUser(username, firstName, lastName, false, profile);
  }

  userByUsername(username: string): UserDef | undefined {
    return this.security.userByUsername(username);
  }

  user(userId: string): UserDef {
    return this.security.user(userId);
  }

  assignPermissionSet(userId: string, permissionSetName: string): void {
    this.security.assignPermissionSet(userId, permissionSetName);
  }

  unassignPermissionSet(userId: string, permissionSetName: string): boolean {
    return this.security.unassignPermissionSet(userId, permissionSetName);
  }

  permissionSetNames(userId: string): string[] {
    return this.security.assignedSetNames(userId);
  }

  assignPermissionSetGroup(userId: string, groupName: string): void {
    this.security.assignPermissionSetGroup(userId, groupName);
  }

  setProfile(userId: string, profile: string): void {
    this.security.setProfile(userId, profile);
  }

  setActive(userId: string, active: boolean): void {
    this.security.setActive(userId, active);
  }

  objectAccess(userId: string, object: ObjectDef): ObjectAccess {
    return this.security.objectAccess(userId, object);
  }

  fieldAccess(
    userId: string,
    object: ObjectDef,
    field: FieldDef,
  ): Readonly<{ read: boolean; edit: boolean }> {
    return this.security.fieldAccess(userId, object, field);
  }

  /** The object as the user may see it; undefined when it does not exist or is not readable. */
  visibleObject(userId: string, name: string): ObjectDef | undefined {
    return this.security.visibleObject(userId, name);
  }

  /** Resolves a field the user can see; unknown and invisible fields are the same to the caller. */
  visibleField(userId: string, object: ObjectDef, name: string): FieldDef | undefined {
    return this.security.visibleField(userId, object, name);
  }

  // ---------------------------------------------------------------- reads (org/store.ts, org/views.ts)
  // Records leave the org as full views (every field, null when empty: org/compact.ts), fresh objects
  // that a caller may keep or change without touching the org; the store holds them compact.

  nextId(objectName: string): string {
    return this.store.nextId(objectName);
  }

  findRecords(objectName: string, predicate: (r: Rec) => boolean): Rec[] {
    const object = this.objectOf(objectName);
    return [...this.records(object.name)].filter(predicate);
  }

  *records(objectName: string): Iterable<Rec> {
    const object = this.objectOf(objectName);
    for (const record of this.store.table(object.name).values()) yield expandRecord(object, record);
  }

  /**
   * The stored records themselves, for scans that read a few fields of every record (replication):
   * compact, so a field that is empty is missing rather than null; never to be changed.
   */
  scan(objectName: string): Iterable<Readonly<Rec>> {
    return this.store.table(objectName).values();
  }

  byId(id: string): { object: ObjectDef; record: Rec } | undefined {
    const hit = this.store.byId(id);
    return hit && { object: hit.object, record: expandRecord(hit.object, hit.record) };
  }

  /** Live (not deleted) records whose `field` equals `value` (case rules of the field). */
  matchByField(object: ObjectDef, field: FieldDef, value: unknown): Rec[] {
    return this.store.matchByField(object, field, value).map((r) => expandRecord(object, r));
  }

  private objectOf(objectName: string): ObjectDef {
    const object = this.schema.objects.get(objectName.toLowerCase());
    if (!object) throw new Error(`no table for ${objectName}`);
    return object;
  }

  /** A record as the REST API returns it: visible fields only, with `attributes`. */
  present(userId: string, object: ObjectDef, record: Rec, apiVersion: string, fields?: string[]): Rec {
    return present(this, userId, object, record, apiVersion, fields);
  }

  soqlContext(userId: string, includeDeleted: boolean, apiVersion: string): SoqlContext {
    return soqlContext(this, userId, includeDeleted, apiVersion);
  }

  // ---------------------------------------------------------------- API budget (org/budget.ts)

  /** Counts one API request; false when the daily limit is already used up. */
  countRequest(): boolean {
    return countRequest(this.api, this.clock);
  }

  // ---------------------------------------------------------------- writes (org/dml.ts, org/delete.ts)

  /**
   * Saves a batch. With allOrNone, every record is attempted inside one transaction and, if any fails,
   * all are rolled back and the valid ones report ALL_OR_NONE_OPERATION_ROLLED_BACK.
   */
  saveBatch(userId: string, items: SaveItem[], allOrNone: boolean): SaveResult[] {
    for (const item of items) this.countWrites(item.object.name, 1);
    return saveBatch(this, userId, items, allOrNone);
  }

  /** Saves one record or throws RecordError(s). Assumes a surrounding transaction. */
  saveOne(userId: string, item: SaveItem): { id: string; created: boolean } {
    this.countWrites(item.object.name, 1);
    return saveOne(this, userId, item);
  }

  /** Soft delete (the record stays visible to queryAll with IsDeleted = true). */
  deleteOne(userId: string, id: string): string {
    return deleteOne(this, userId, id);
  }

  deleteBatch(userId: string, ids: string[], allOrNone: boolean): SaveResult[] {
    return deleteBatch(this, userId, ids, allOrNone);
  }

  private countWrites(objectName: string, n: number): void {
    this.writeCounts.set(objectName, (this.writeCounts.get(objectName) ?? 0) + n);
  }

  // ---------------------------------------------------------------- platform events (org/events.ts)

  publish(userId: string, object: ObjectDef, values: Rec): SaveResult {
    this.countWrites(object.name, 1);
    return publish(this, this.bus, userId, object, values);
  }

  /** Applies retention now (streaming calls it before replaying), as the clock may have moved on. */
  retainEvents(): void {
    retainEvents(this.bus, this.clock.now().getTime());
  }

  /** Events published since the last clear, retained or not. */
  get eventsPublished(): number {
    return this.bus.published;
  }

  /** The replay id of the newest event retention dropped; replaying from before it is refused. */
  get eventsDroppedThrough(): number {
    return this.bus.droppedThrough;
  }

  /** Forgets every event (a test control); replay ids go on rising, event ids start again. */
  clearEvents(): void {
    this.events.length = 0;
    this.bus.published = 0;
  }

  // ---------------------------------------------------------------- snapshot (org/store.ts)

  /** Business data (standard, custom and history objects) and id counters, for a snapshot file. */
  snapshot(): OrgSnapshot {
    return this.store.snapshot();
  }

  /** Loads a snapshot taken by snapshot(); unknown objects or fields are errors, not dropped. */
  restore(snapshot: OrgSnapshot): void {
    this.store.restore(snapshot);
  }

  // ---------------------------------------------------------------- Bulk API 2.0 bridge (org/bulk.ts)

  /** Applies CSV rows one by one (see BulkDeps.applyDml in model.ts). */
  applyDml(
    userId: string,
    objectName: string,
    operation: DmlOperation,
    externalIdFieldName: string | undefined,
    rows: Array<Record<string, string | null>>,
  ): DmlRowResult[] {
    this.countWrites(objectName, rows.length);
    return applyDml(this, userId, objectName, { operation, externalIdFieldName }, rows);
  }
}
