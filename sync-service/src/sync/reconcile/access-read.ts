import type { SetRow, SetupRows, SyncedField } from '../../governance/access-picture.js';
import { soqlString } from '../common/soql.js';
import type { ReconcileContext } from './context.js';

/**
 * Reads what the access picture is computed from: Salesforce's setup objects (User, PermissionSet with
 * its profile and group, PermissionSetAssignment, PermissionSetGroupComponent, ObjectPermissions,
 * FieldPermissions) and, per synced object, describe's `permissionable` for each synced field. Every
 * read is checked for the shape it must have: an error answer is never taken for "nobody".
 */
export async function readSetupRows(ctx: ReconcileContext, objects: readonly string[]): Promise<SetupRows> {
  const users = await query<{ Id: string; Username: string; Profile: { Name?: string } | null }>(
    ctx,
    'SELECT Id, Username, Profile.Name FROM User WHERE IsActive = true',
  );
  const setRows = await query<{
    Id: string;
    Name: string;
    IsOwnedByProfile: boolean;
    Profile: { Name?: string } | null;
    PermissionSetGroupId: string | null;
    PermissionSetGroup: { DeveloperName?: string } | null;
    PermissionsViewAllData: boolean;
    PermissionsModifyAllData: boolean;
  }>(
    ctx,
    'SELECT Id, Name, IsOwnedByProfile, Profile.Name, PermissionSetGroupId, PermissionSetGroup.DeveloperName, PermissionsViewAllData, PermissionsModifyAllData FROM PermissionSet',
  );
  const active = new Set(users.map((u) => u.Id));
  const assignments = await query<{ AssigneeId: string; PermissionSetId: string }>(
    ctx,
    'SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment',
  );
  const components = await query<{ PermissionSetGroupId: string; PermissionSet: { Name?: string } | null }>(
    ctx,
    'SELECT PermissionSetGroupId, PermissionSet.Name FROM PermissionSetGroupComponent',
  );
  const inList = objects.map(soqlString).join(', ');
  const objectPermissions = await query<{
    ParentId: string;
    SobjectType: string;
    PermissionsRead: boolean;
    PermissionsViewAllRecords: boolean;
    PermissionsModifyAllRecords: boolean;
    PermissionsViewAllFields: boolean;
  }>(
    ctx,
    `SELECT ParentId, SobjectType, PermissionsRead, PermissionsViewAllRecords, PermissionsModifyAllRecords, PermissionsViewAllFields FROM ObjectPermissions WHERE SobjectType IN (${inList})`,
  );
  const fieldReads = await query<{ ParentId: string; Field: string }>(
    ctx,
    `SELECT ParentId, Field FROM FieldPermissions WHERE SobjectType IN (${inList}) AND PermissionsRead = true`,
  );
  const sets = setRows.map((s) => setRow(s));
  const aggregateOf = new Map(
    setRows.flatMap((s) => (s.PermissionSetGroupId ? [[s.PermissionSetGroupId, s.Id]] : [])),
  );
  const groupMembers = new Map<string, string[]>();
  for (const c of components) {
    const setId = aggregateOf.get(c.PermissionSetGroupId);
    if (!setId || !c.PermissionSet?.Name) continue;
    groupMembers.set(setId, [...(groupMembers.get(setId) ?? []), c.PermissionSet.Name]);
  }
  return {
    users: users.map((u) => ({ id: u.Id, username: u.Username, profile: u.Profile?.Name ?? '' })),
    sets,
    assignments: assignments
      .filter((a) => active.has(a.AssigneeId))
      .map((a) => ({ userId: a.AssigneeId, setId: a.PermissionSetId })),
    groupMembers,
    objectPermissions: objectPermissions.map((o) => ({
      setId: o.ParentId,
      object: o.SobjectType,
      read: o.PermissionsRead === true,
      viewAllRecords: o.PermissionsViewAllRecords === true,
      modifyAllRecords: o.PermissionsModifyAllRecords === true,
      viewAllFields: o.PermissionsViewAllFields === true,
    })),
    fieldReads: fieldReads.map((f) => ({ setId: f.ParentId, field: f.Field })),
  };
}

function setRow(s: {
  Id: string;
  Name: string;
  IsOwnedByProfile: boolean;
  Profile: { Name?: string } | null;
  PermissionSetGroupId: string | null;
  PermissionSetGroup: { DeveloperName?: string } | null;
  PermissionsViewAllData: boolean;
  PermissionsModifyAllData: boolean;
}): SetRow {
  const common = {
    id: s.Id,
    viewAllData: s.PermissionsViewAllData === true,
    modifyAllData: s.PermissionsModifyAllData === true,
  };
  if (s.IsOwnedByProfile) return { ...common, kind: 'profile', name: s.Profile?.Name ?? s.Name };
  if (s.PermissionSetGroupId)
    return { ...common, kind: 'permission set group', name: s.PermissionSetGroup?.DeveloperName ?? s.Name };
  return { ...common, kind: 'permission set', name: s.Name };
}

async function query<T extends Record<string, unknown>>(ctx: ReconcileContext, soql: string): Promise<T[]> {
  const result = await ctx.deps.connection.query<T>(soql, { autoFetch: true, maxFetch: 10_000_000 });
  if (!Array.isArray(result.records))
    throw new Error(`unexpected answer to ${soql.split(' FROM ')[1] ?? soql}`);
  return result.records;
}

/**
 * The synced fields of the signed map (copied entries and derived fields, never clinician-only), with
 * their classification and whether field-level security governs them (describe). A field describe does
 * not list is left out: nobody can read what the org does not have.
 */
export async function syncedFields(ctx: ReconcileContext): Promise<SyncedField[]> {
  const { dataMap } = ctx.deps;
  const classified = new Map<string, SyncedField['classification']>();
  for (const e of dataMap.entries)
    if (e.target && e.classification !== 'clinician-only') classified.set(e.target.path, e.classification);
  for (const d of dataMap.derived) classified.set(d.target.path, d.classification);
  const byObject = new Map<string, string[]>();
  for (const path of classified.keys()) {
    const [object = '', field = ''] = path.split('.');
    byObject.set(object, [...(byObject.get(object) ?? []), field]);
  }
  const fields: SyncedField[] = [];
  for (const [object, names] of [...byObject].sort(([a], [b]) => a.localeCompare(b))) {
    const described = await ctx.deps.connection.sobject(object).describe();
    const permissionable = new Map(described.fields.map((f) => [f.name.toLowerCase(), f.permissionable]));
    for (const name of names.sort()) {
      const p = permissionable.get(name.toLowerCase());
      const path = `${object}.${name}`;
      const classification = classified.get(path);
      if (p === undefined || !classification) continue;
      fields.push({ path, classification, permissionable: p });
    }
  }
  return fields;
}
