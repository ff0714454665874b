import {
  AUDIENCES,
  AUDIENCES_BY_CLASSIFICATION,
  INTEGRATION_PERMISSION_SET,
  PERMISSION_SET_BY_AUDIENCE,
  type Audience,
} from './access-lattice.js';
import type { Classification } from './data-map-schema.js';

/**
 * The access picture (issue 17, item 4): for every synced field, which active users can read it and
 * through what, computed from Salesforce's setup objects as Salesforce evaluates them. Pure: the rows
 * come in (sync/reconcile/access-picture.ts reads them), findings go out.
 *
 * Salesforce's rules applied here (docs/governance.md, "The access picture"):
 * - a user's grants are every permission set assigned to them: their profile's own set (every user has
 *   that assignment), permission sets, and the aggregate set of each permission set group;
 * - reading a field needs read on its object (object permission Read, View All or Modify All, or the
 *   View All Data / Modify All Data user permission) AND read on the field (a FieldPermissions Read row,
 *   or View All Fields on the object); a field that is not permissionable (required fields, fields
 *   outside field-level security) needs only the object;
 * - View All Data and View All open every record; without them a user reads the records shared with them.
 * Grants only add: no permission set can take away what another grants.
 */

export type SetKind = 'profile' | 'permission set' | 'permission set group';

/** A PermissionSet row as the picture needs it. */
export interface SetRow {
  readonly id: string;
  readonly kind: SetKind;
  /** The profile's name, the group's developer name, or the permission set's name. */
  readonly name: string;
  readonly viewAllData: boolean;
  readonly modifyAllData: boolean;
}

export interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly profile: string;
}

export interface SetupRows {
  /** Active users only. */
  readonly users: readonly UserRow[];
  readonly sets: readonly SetRow[];
  readonly assignments: ReadonlyArray<{ readonly userId: string; readonly setId: string }>;
  /** Members of each group (group's aggregate set id -> member permission set names), for audiences. */
  readonly groupMembers: ReadonlyMap<string, readonly string[]>;
  readonly objectPermissions: ReadonlyArray<{
    readonly setId: string;
    readonly object: string;
    readonly read: boolean;
    readonly viewAllRecords: boolean;
    readonly modifyAllRecords: boolean;
    readonly viewAllFields: boolean;
  }>;
  /** Rows with Read only (`Object.Field`). */
  readonly fieldReads: ReadonlyArray<{ readonly setId: string; readonly field: string }>;
}

export interface SyncedField {
  /** `Object.Field`. */
  readonly path: string;
  readonly classification: Exclude<Classification, 'clinician-only'>;
  /** Field-level security governs it (describe's `permissionable`). */
  readonly permissionable: boolean;
}

/** How one user reads one field: the grants of each kind, named (`profile Marketing Team`). */
export interface ReadPath {
  readonly field: readonly string[];
  readonly object: readonly string[];
  /** `View All Data (profile X)`, `View All on Cliniko_Invoice__c (permission set Y)`, or empty: shared records only. */
  readonly records: readonly string[];
}

export interface UserAccess {
  readonly username: string;
  readonly profile: string;
  /** The audiences the user's Cliniko_Sync_* permission sets make them part of; `integration` too. */
  readonly audiences: readonly string[];
  /** Field path -> how the user reads it; fields the user cannot read are absent. */
  readonly reads: Readonly<Record<string, ReadPath>>;
}

export interface AccessPicture {
  readonly takenAt: string;
  /** Field path -> classification, as the signed map had it when the picture was taken. */
  readonly fields: Readonly<Record<string, SyncedField['classification']>>;
  /** User id -> access. Users who read no synced field are left out. */
  readonly users: Readonly<Record<string, UserAccess>>;
}

export type FindingKind = 'Gained' | 'Lost' | 'Outside Audience';

/** One user, one field class, one kind of finding, with the fields and how they are (were) read. */
export interface AccessFinding {
  readonly kind: FindingKind;
  readonly userId: string;
  readonly username: string;
  readonly classification: SyncedField['classification'];
  readonly fields: readonly string[];
  /** The distinct grants behind the finding (`profile Marketing Team`), for the review's Path column. */
  readonly grants: readonly string[];
  /** One line per field: `Cliniko_Invoice__c.Total_Amount__c: field via ...; object via ...; records ...`. */
  readonly detail: readonly string[];
}

const label = (s: SetRow): string => `${s.kind} ${s.name}`;

/** The picture: every active user's reads of every synced field, with paths and audiences. */
export function computeAccessPicture(
  rows: SetupRows,
  fields: readonly SyncedField[],
  takenAt: string,
): AccessPicture {
  const sets = new Map(rows.sets.map((s) => [s.id, s]));
  const objectPerms = groupBy(rows.objectPermissions, (o) => o.setId);
  const fieldReads = new Set(rows.fieldReads.map((f) => `${f.setId}|${f.field.toLowerCase()}`));
  const assigned = groupBy(rows.assignments, (a) => a.userId);
  const users: Record<string, UserAccess> = {};
  for (const user of rows.users) {
    const held = (assigned.get(user.id) ?? []).flatMap((a) => sets.get(a.setId) ?? []);
    const reads: Record<string, ReadPath> = {};
    for (const f of fields) {
      const path = readPath(f, held, objectPerms, fieldReads);
      if (path) reads[f.path] = path;
    }
    if (Object.keys(reads).length === 0) continue;
    users[user.id] = {
      username: user.username,
      profile: user.profile,
      audiences: audiencesOf(held, rows.groupMembers),
      reads,
    };
  }
  return {
    takenAt,
    fields: Object.fromEntries(fields.map((f) => [f.path, f.classification])),
    users,
  };
}

function readPath(
  f: SyncedField,
  held: readonly SetRow[],
  objectPerms: ReadonlyMap<string, SetupRows['objectPermissions']>,
  fieldReads: ReadonlySet<string>,
): ReadPath | undefined {
  const [object = ''] = f.path.split('.');
  const field: string[] = [];
  const objectGrants: string[] = [];
  const records: string[] = [];
  for (const s of held) {
    const op = (objectPerms.get(s.id) ?? []).find((o) => o.object.toLowerCase() === object.toLowerCase());
    const allData = s.viewAllData || s.modifyAllData;
    if (allData || op?.read || op?.viewAllRecords || op?.modifyAllRecords) objectGrants.push(label(s));
    if (allData) records.push(`${s.modifyAllData ? 'Modify' : 'View'} All Data (${label(s)})`);
    if (op?.viewAllRecords || op?.modifyAllRecords) records.push(`View All on ${object} (${label(s)})`);
    if (op?.viewAllFields) field.push(`View All Fields on ${object} (${label(s)})`);
    else if (fieldReads.has(`${s.id}|${f.path.toLowerCase()}`)) field.push(label(s));
  }
  if (objectGrants.length === 0) return undefined;
  if (!f.permissionable) return { field: ['no field-level security'], object: objectGrants, records };
  return field.length > 0 ? { field, object: objectGrants, records } : undefined;
}

/** Audiences from the Cliniko_Sync_* sets held directly or as members of an assigned group. */
function audiencesOf(
  held: readonly SetRow[],
  groupMembers: ReadonlyMap<string, readonly string[]>,
): string[] {
  const names = new Set<string>();
  for (const s of held) {
    if (s.kind === 'permission set') names.add(s.name);
    if (s.kind === 'permission set group') for (const m of groupMembers.get(s.id) ?? []) names.add(m);
  }
  const audiences: string[] = AUDIENCES.filter((a) => names.has(PERMISSION_SET_BY_AUDIENCE[a]));
  if (names.has(INTEGRATION_PERMISSION_SET)) audiences.push('integration');
  return audiences;
}

/** Whether a user of these audiences may read a field of this classification under the lattice. */
export function mayRead(audiences: readonly string[], classification: Classification): boolean {
  if (audiences.includes('integration')) return classification !== 'clinician-only';
  return AUDIENCES_BY_CLASSIFICATION[classification].some((a: Audience) => audiences.includes(a));
}

/** One line per field: where the read comes from. */
export function describePath(field: string, p: ReadPath): string {
  const records = p.records.length > 0 ? `all records via ${p.records.join(', ')}` : 'shared records only';
  return `${field}: field via ${p.field.join(', ')}; object via ${p.object.join(', ')}; ${records}`;
}

/**
 * What changed between the baseline picture (the one current when the last review was signed) and now,
 * per user and field class: fields gained and fields lost. A field whose classification changed in the
 * map counts under its class now (gained there) and its class then (lost there).
 */
export function accessDiff(baseline: AccessPicture, current: AccessPicture): AccessFinding[] {
  const findings: AccessFinding[] = [];
  const userIds = [...new Set([...Object.keys(baseline.users), ...Object.keys(current.users)])].sort();
  for (const userId of userIds) {
    const before = baseline.users[userId];
    const now = current.users[userId];
    const username = now?.username ?? before?.username ?? userId;
    const readsBefore = classed(baseline, before);
    const readsNow = classed(current, now);
    for (const c of CLASSES) {
      const gained = [...(readsNow.get(c) ?? [])].filter((f) => !readsBefore.get(c)?.has(f)).sort();
      const lost = [...(readsBefore.get(c) ?? [])].filter((f) => !readsNow.get(c)?.has(f)).sort();
      if (gained.length > 0 && now) findings.push(finding('Gained', userId, username, c, gained, now));
      if (lost.length > 0 && before) findings.push(finding('Lost', userId, username, c, lost, before));
    }
  }
  return findings;
}

/** Users reading a field of a class their audiences may not read (the lattice), per user and class. */
export function outsideAudience(current: AccessPicture): AccessFinding[] {
  const findings: AccessFinding[] = [];
  for (const userId of Object.keys(current.users).sort()) {
    const user = current.users[userId];
    if (!user) continue;
    for (const [c, fields] of classed(current, user)) {
      if (mayRead(user.audiences, c)) continue;
      findings.push(finding('Outside Audience', userId, user.username, c, [...fields].sort(), user));
    }
  }
  return findings;
}

const CLASSES = ['marketing-safe', 'operations-safe', 'billing'] as const;

function classed(
  picture: AccessPicture,
  user: UserAccess | undefined,
): Map<SyncedField['classification'], Set<string>> {
  const byClass = new Map<SyncedField['classification'], Set<string>>();
  for (const field of Object.keys(user?.reads ?? {})) {
    const c = picture.fields[field];
    if (!c) continue;
    const set = byClass.get(c) ?? new Set<string>();
    set.add(field);
    byClass.set(c, set);
  }
  return byClass;
}

function finding(
  kind: FindingKind,
  userId: string,
  username: string,
  classification: SyncedField['classification'],
  fields: string[],
  user: UserAccess,
): AccessFinding {
  const paths = fields.flatMap((f) => {
    const p = user.reads[f];
    return p ? [[f, p] as const] : [];
  });
  const grants = [...new Set(paths.flatMap(([, p]) => [...p.field, ...p.object]))].sort();
  return {
    kind,
    userId,
    username,
    classification,
    fields,
    grants,
    detail: paths.map(([f, p]) => describePath(f, p)),
  };
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const list = map.get(key(item)) ?? [];
    list.push(item);
    map.set(key(item), list);
  }
  return map;
}
