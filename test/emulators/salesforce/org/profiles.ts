/**
 * Profiles and permission set groups as an org stores them, and the one place that turns the rows back
 * into grants (`grantsOf`), so the access the emulator enforces is the access its setup objects report.
 *
 * Salesforce's model, which the rows follow:
 * - every profile owns one permission set (`IsOwnedByProfile`, `Type` Profile, `ProfileId`) holding the
 *   profile's object, field and user permissions, and every user has a PermissionSetAssignment of their
 *   profile's set;
 * - a permission set group has an aggregate permission set (`Type` Group, `PermissionSetGroupId`) holding
 *   the union of its members' permissions; assigning the group is a PermissionSetAssignment of that set
 *   with `PermissionSetGroupId` filled in; PermissionSetGroupComponent rows name the members;
 * - View All Data and Modify All Data are user permissions (`PermissionsViewAllData`, ...) on the set;
 *   they open every object and record, not fields (field permissions still apply).
 *
 * The emulator's standard profiles: System Administrator (the emulator's admin: Modify All Data and, as a
 * real admin profile has on every field, View All Fields on every object), Standard User (the default
 * for new users: create, read, edit and delete on the standard objects, whose fields the emulator does not
 * govern by field-level security) and the two Minimum Access profiles (nothing).
 */
import type { PermissionSetDef, PermissionSetGroupDef, Schema } from '../schema.js';
import type { RecordStore } from './store.js';
import type { Rec } from './types.js';

export const SYSTEM_ADMINISTRATOR = 'System Administrator';
export const STANDARD_USER = 'Standard User';
export const MINIMUM_ACCESS = 'Minimum Access - Salesforce';
export const MINIMUM_ACCESS_API = 'Minimum Access - API Only Integrations';

function emptyDef(name: string): PermissionSetDef {
  return {
    name,
    label: name,
    description: '',
    fields: new Map(),
    objects: new Map(),
    viewAllData: false,
    modifyAllData: false,
  };
}

/** The standard profiles, computed from the schema as it stands (deploys add objects; see refresh). */
export function standardProfiles(schema: Schema): PermissionSetDef[] {
  const admin = { ...emptyDef(SYSTEM_ADMINISTRATOR), viewAllData: true, modifyAllData: true };
  const standard = emptyDef(STANDARD_USER);
  for (const object of schema.objects.values()) {
    if (object.category === 'history') continue;
    const key = object.name.toLowerCase();
    if (object.permissionable)
      admin.objects.set(key, { object: object.name, ...all(true), viewAllFields: true });
    else if (object.category === 'standard')
      standard.objects.set(key, {
        object: object.name,
        ...all(true),
        viewAll: false,
        modifyAll: false,
        viewAllFields: false,
      });
  }
  return [admin, standard, emptyDef(MINIMUM_ACCESS), emptyDef(MINIMUM_ACCESS_API)];
}

const all = (on: boolean) => ({ create: on, read: on, edit: on, delete: on, viewAll: on, modifyAll: on });

/** (Re)writes the standard profiles' rows; run at seed and after each deploy. */
export function refreshStandardProfiles(schema: Schema, store: RecordStore): void {
  for (const profile of standardProfiles(schema)) {
    schema.profiles.set(profile.name, profile);
    insertProfile(store, profile, false);
  }
}

/** A profile's rows: Profile, its owned PermissionSet and that set's permission rows (ids kept on redeploy). */
export function insertProfile(store: RecordStore, def: PermissionSetDef, custom = true): void {
  const previous = [...store.table('Profile').values()].find((r) => r.Name === def.name);
  const profileId = previous ? String(previous.Id) : store.nextId('Profile');
  store.insertSystem('Profile', {
    ...(previous ?? {}),
    Id: profileId,
    Name: def.name,
    UserType: 'Standard',
    Description: def.description || null,
  });
  const owned = [...store.table('PermissionSet').values()].find((r) => r.ProfileId === profileId);
  const setId = owned ? String(owned.Id) : store.nextId('PermissionSet');
  // A profile's own set is named after the profile's id in a real org (X00e...).
  insertSetRows(store, setId, def, {
    Name: `X${profileId}`,
    Label: profileId,
    IsOwnedByProfile: true,
    IsCustom: custom,
    Type: 'Profile',
    ProfileId: profileId,
  });
}

/** A group's rows: PermissionSetGroup, its aggregate PermissionSet (the union) and the components. */
export function insertPermissionSetGroup(
  schema: Schema,
  store: RecordStore,
  group: PermissionSetGroupDef,
): void {
  const previous = [...store.table('PermissionSetGroup').values()].find(
    (r) => r.DeveloperName === group.name,
  );
  const groupId = previous ? String(previous.Id) : store.nextId('PermissionSetGroup');
  store.insertSystem('PermissionSetGroup', {
    Id: groupId,
    DeveloperName: group.name,
    MasterLabel: group.label,
    Description: group.description || null,
    Status: 'Updated',
  });
  const aggregate = [...store.table('PermissionSet').values()].find(
    (r) => r.PermissionSetGroupId === groupId,
  );
  const setId = aggregate ? String(aggregate.Id) : store.nextId('PermissionSet');
  insertSetRows(store, setId, groupGrants(schema, group), {
    Name: `X${groupId}`,
    Label: group.label,
    IsOwnedByProfile: false,
    IsCustom: true,
    Type: 'Group',
    PermissionSetGroupId: groupId,
  });
  for (const [id, row] of [...store.table('PermissionSetGroupComponent')])
    if (row.PermissionSetGroupId === groupId) store.removeRaw('PermissionSetGroupComponent', id);
  for (const member of group.permissionSets) {
    const ps = [...store.table('PermissionSet').values()].find(
      (r) => r.Name === member && r.Type === 'Regular',
    );
    if (!ps) continue;
    store.insertSystem('PermissionSetGroupComponent', {
      Id: store.nextId('PermissionSetGroupComponent'),
      PermissionSetGroupId: groupId,
      PermissionSetId: ps.Id,
    });
  }
}

/** Groups recalculate when a member changes (Salesforce marks them Outdated, then Updated). */
export function refreshGroups(schema: Schema, store: RecordStore): void {
  for (const group of schema.permissionSetGroups.values()) insertPermissionSetGroup(schema, store, group);
}

/** The union of a group's members' grants (members the org does not have grant nothing). */
export function groupGrants(schema: Schema, group: PermissionSetGroupDef): PermissionSetDef {
  const union = { ...emptyDef(group.name), label: group.label };
  for (const member of group.permissionSets) {
    const def = schema.permissionSets.get(member);
    if (!def) continue;
    union.viewAllData ||= def.viewAllData;
    union.modifyAllData ||= def.modifyAllData;
    for (const [key, f] of def.fields) {
      const had = union.fields.get(key);
      union.fields.set(key, {
        field: f.field,
        readable: f.readable || (had?.readable ?? false),
        editable: f.editable || (had?.editable ?? false),
      });
    }
    for (const [key, o] of def.objects) {
      const had = union.objects.get(key);
      union.objects.set(key, {
        object: o.object,
        create: o.create || (had?.create ?? false),
        read: o.read || (had?.read ?? false),
        edit: o.edit || (had?.edit ?? false),
        delete: o.delete || (had?.delete ?? false),
        viewAll: o.viewAll || (had?.viewAll ?? false),
        modifyAll: o.modifyAll || (had?.modifyAll ?? false),
        viewAllFields: o.viewAllFields || (had?.viewAllFields ?? false),
      });
    }
  }
  return union;
}

/**
 * The PermissionSet row (with `extra`) and its FieldPermissions and ObjectPermissions rows, replacing
 * what the set held before (a metadata deploy replaces a component whole).
 */
export function insertSetRows(store: RecordStore, setId: string, def: PermissionSetDef, extra: Rec): void {
  for (const child of ['FieldPermissions', 'ObjectPermissions'])
    for (const row of [...store.table(child).values()])
      if (row.ParentId === setId) store.removeRaw(child, String(row.Id));
  store.insertSystem('PermissionSet', {
    Id: setId,
    Name: def.name,
    Label: def.label,
    Description: def.description,
    NamespacePrefix: null,
    PermissionsViewAllData: def.viewAllData,
    PermissionsModifyAllData: def.modifyAllData,
    ...extra,
  });
  for (const fp of def.fields.values()) {
    const [sobject] = fp.field.split('.');
    store.insertSystem('FieldPermissions', {
      Id: store.nextId('FieldPermissions'),
      ParentId: setId,
      SobjectType: sobject,
      Field: fp.field,
      PermissionsRead: fp.readable || fp.editable,
      PermissionsEdit: fp.editable,
    });
  }
  for (const op of def.objects.values()) {
    store.insertSystem('ObjectPermissions', {
      Id: store.nextId('ObjectPermissions'),
      ParentId: setId,
      SobjectType: op.object,
      PermissionsCreate: op.create,
      PermissionsRead: op.read,
      PermissionsEdit: op.edit,
      PermissionsDelete: op.delete,
      PermissionsViewAllRecords: op.viewAll,
      PermissionsModifyAllRecords: op.modifyAll,
      PermissionsViewAllFields: op.viewAllFields,
    });
  }
}

/**
 * What one PermissionSet row grants: a profile's set -> the profile, a group's aggregate -> the union of
 * its members, any other -> the permission set of that name. Undefined for a set the schema does not know.
 */
export function grantsOf(schema: Schema, store: RecordStore, ps: Rec): PermissionSetDef | undefined {
  if (ps.Type === 'Profile') {
    const profile = store.table('Profile').get(String(ps.ProfileId));
    return profile ? schema.profiles.get(String(profile.Name)) : undefined;
  }
  if (ps.Type === 'Group') {
    const group = store.table('PermissionSetGroup').get(String(ps.PermissionSetGroupId));
    const def = group ? schema.permissionSetGroups.get(String(group.DeveloperName)) : undefined;
    return def ? groupGrants(schema, def) : undefined;
  }
  return schema.permissionSets.get(String(ps.Name));
}
