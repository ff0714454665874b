/**
 * What a new org holds before anyone writes: the Organization row, the standard profiles (profiles.ts),
 * the permission sets, profiles and groups of `force-app/` with their FieldPermissions and
 * ObjectPermissions rows (so SOQL on them works as in an org), the integration and admin users with
 * their profiles, the integration user's assignments and the custom metadata records.
 */
import type { MetadataRecord, PermissionSetDef, Schema } from '../schema.js';
import { coerceValue } from '../values.js';
import {
  insertPermissionSetGroup,
  insertProfile,
  insertSetRows,
  MINIMUM_ACCESS_API,
  refreshStandardProfiles,
  SYSTEM_ADMINISTRATOR,
} from './profiles.js';
import type { Security } from './security.js';
import type { RecordStore } from './store.js';
import type { Rec, UserDef } from './types.js';

export interface SeedOptions {
  orgId: string;
  integrationUsername: string;
  adminUsername: string;
  integrationPermissionSets: string[];
}

export function seedOrg(
  schema: Schema,
  store: RecordStore,
  security: Security,
  options: SeedOptions,
): { integrationUser: UserDef; adminUser: UserDef } {
  store.insertSystem('Organization', {
    Id: options.orgId,
    Name: 'Cliniko Sync Emulator',
    InstanceName: 'EMU1',
    IsSandbox: false,
    OrganizationType: 'Developer Edition',
    TrialExpirationDate: null,
    NamespacePrefix: null,
  });
  refreshStandardProfiles(schema, store);
  for (const profile of schema.profiles.values())
    if (!store.findRecords('Profile', (r) => r.Name === profile.name).length) insertProfile(store, profile);
  // As docs/go-live.md sets the integration user up: the API-only minimum profile plus permission sets.
  const integrationUser = security.addUser(
    options.integrationUsername,
    'Cliniko Sync',
    'Integration',
    false,
    MINIMUM_ACCESS_API,
  );
  const adminUser = security.addUser(options.adminUsername, 'Emulator', 'Admin', true, SYSTEM_ADMINISTRATOR);
  store.systemUserId = adminUser.id;
  seedPermissionSets(schema, store);
  for (const group of schema.permissionSetGroups.values()) insertPermissionSetGroup(schema, store, group);
  for (const name of options.integrationPermissionSets)
    security.assignPermissionSet(integrationUser.id, name);
  seedMetadataRecords(schema, store);
  return { integrationUser, adminUser };
}

function seedPermissionSets(schema: Schema, store: RecordStore): void {
  for (const ps of schema.permissionSets.values()) insertPermissionSet(store, ps);
}

/**
 * A permission set's rows: PermissionSet, its FieldPermissions and ObjectPermissions. A set deployed
 * again replaces its earlier rows (same Id), as a metadata deploy does.
 */
export function insertPermissionSet(store: RecordStore, ps: PermissionSetDef): void {
  const previous = [...store.table('PermissionSet').values()].find(
    (r) => r.Name === ps.name && r.Type === 'Regular',
  );
  insertSetRows(store, previous ? String(previous.Id) : store.nextId('PermissionSet'), ps, {
    IsOwnedByProfile: false,
    IsCustom: true,
    Type: 'Regular',
  });
}

/** Custom metadata records become rows of their type; a bad one names the record and the field. */
function seedMetadataRecords(schema: Schema, store: RecordStore): void {
  for (const record of schema.metadataRecords) insertMetadataRecord(schema, store, record);
}

/** One custom metadata record as a row of its type; deployed again, it replaces the earlier row. */
export function insertMetadataRecord(schema: Schema, store: RecordStore, record: MetadataRecord): void {
  const object = schema.objects.get(record.type.toLowerCase());
  if (!object)
    throw new Error(
      `custom metadata record ${record.type}.${record.developerName}: type ${record.type} has no object definition`,
    );
  const previous = [...store.table(object.name).values()].find(
    (r) => r.DeveloperName === record.developerName,
  );
  if (previous) store.removeRaw(object.name, String(previous.Id));
  const row: Rec = {
    Id: previous ? String(previous.Id) : store.nextId(object.name),
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
        {
          cause: error,
        },
      );
    }
  }
  store.insertSystem(object.name, row);
}
