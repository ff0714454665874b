/**
 * The emulator's schema: built-in standard objects plus everything `force-app/` declares (custom
 * objects and fields, fields added to standard objects, custom metadata types and records, platform
 * events, permission sets, profiles, permission set groups). Parsed from source format with the shared reader in lib/metadata, so a
 * field added to `force-app/` appears here with no code change.
 *
 * This file holds the types and `loadSchema`; the pieces: schema-fields.ts (field and object builders),
 * schema-standard.ts (the built-in standard objects), schema-source.ts (reading one field or object),
 * schema-package.ts (walking a package).
 */
import type { Expr } from './formula.js';
import type { SoqlField, SoqlObject } from './model.js';
import {
  addHistoryObjects,
  linkChildren,
  linkStandardChildren,
  loadMetadataRecords,
  loadObjects,
  loadPermissionSetGroups,
  loadPermissionSets,
  loadProfiles,
} from './schema-package.js';
import { packageDirectories } from './schema-source.js';
import { standardObjects } from './schema-standard.js';

export { parseCustomField, TEXT_TYPES } from './schema-source.js';

export type ObjectCategory = 'standard' | 'custom' | 'history' | 'event' | 'metadata' | 'setup';

export interface PicklistValue {
  value: string;
  label: string;
  default: boolean;
}

export interface FieldDef extends SoqlField {
  label: string;
  custom: boolean;
  /** Salesforce's metadata type name (`Text`, `Checkbox`, `Lookup`, ...) of a field read from metadata. */
  metadataType?: string;
  length?: number;
  precision?: number;
  scale?: number;
  /** Nillable in describe; false for required fields and checkboxes. */
  nillable: boolean;
  /** Must be given a value on create (not nillable, createable, not defaulted). */
  required: boolean;
  /** System-level writability, before field-level security. */
  createable: boolean;
  updateable: boolean;
  defaultValue?: unknown;
  defaultedOnCreate: boolean;
  externalId: boolean;
  unique: boolean;
  caseSensitive: boolean;
  idLookup: boolean;
  picklistValues?: PicklistValue[];
  restrictedPicklist: boolean;
  trackHistory: boolean;
  /** Display format of an auto-number field, e.g. `CP-{000000}`. */
  autoNumberFormat?: string;
  calculated: boolean;
  /** A formula field's parsed formula (formula.ts), computed by the org whenever the record is saved. */
  formula?: Expr;
  /** Field-level security applies (custom fields that are not required). */
  permissionable: boolean;
  /** For lookups declared in force-app: the child relationship seen from the parent, e.g. `Care_Plans__r`. */
  childRelationshipName?: string;
}

export interface ObjectDef extends SoqlObject {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  category: ObjectCategory;
  fields: Map<string, FieldDef>;
  /** Keyed by the lower-cased relationship name; `relationshipName` keeps the declared spelling. */
  childRelationships: Map<string, { childObject: string; field: string; relationshipName: string }>;
  enableHistory: boolean;
  /** Active validation rules (`<ValidationRule>`), evaluated on every save after the system checks. */
  validationRules?: ValidationRuleDef[];
  /** Name of the `<Object>History` object when one exists. */
  historyObject?: string;
  /** For history objects: the field naming the parent (`ContactId`, `ParentId`). */
  historyParentField?: string;
  /** For history objects: the tracked object (`Contact`); its object permissions govern the history. */
  historyOf?: string;
  /** Object permissions apply (custom objects); standard objects are granted by the profile baseline. */
  permissionable: boolean;
  createable: boolean;
  updateable: boolean;
  deletable: boolean;
  queryable: boolean;
}

export interface ValidationRuleDef {
  name: string;
  /** The parsed errorConditionFormula: the save fails when it is true. */
  condition: Expr;
  message: string;
  /** The field the error is shown against (`errorDisplayField`), if any. */
  displayField?: string;
}

export interface ObjectAccess {
  create: boolean;
  read: boolean;
  edit: boolean;
  delete: boolean;
  viewAll: boolean;
  modifyAll: boolean;
}

/**
 * What a permission set or a profile grants (the two share Salesforce's metadata shape:
 * `fieldPermissions`, `objectPermissions`, `userPermissions`).
 */
export interface PermissionSetDef {
  name: string;
  label: string;
  description: string;
  /** Keyed by `object.field`, lower-cased. */
  fields: Map<string, { field: string; readable: boolean; editable: boolean }>;
  /** Keyed by the lower-cased object name. `viewAllFields`: read on every field of the object. */
  objects: Map<string, ObjectAccess & { object: string; viewAllFields: boolean }>;
  /** The ViewAllData user permission: read on every object, every record (field permissions still apply). */
  viewAllData: boolean;
  /** The ModifyAllData user permission (Salesforce turns ViewAllData on with it). */
  modifyAllData: boolean;
}

/** A permission set group: its member permission sets by name. */
export interface PermissionSetGroupDef {
  name: string;
  label: string;
  description: string;
  permissionSets: string[];
}

export interface MetadataRecord {
  type: string;
  developerName: string;
  label: string;
  values: Record<string, unknown>;
}

export interface Schema {
  objects: Map<string, ObjectDef>;
  permissionSets: Map<string, PermissionSetDef>;
  /** Profiles by name: the seeded standard profiles (org/profiles.ts) and any deployed or in source. */
  profiles: Map<string, PermissionSetDef>;
  permissionSetGroups: Map<string, PermissionSetGroupDef>;
  metadataRecords: MetadataRecord[];
}

/**
 * Loads the schema of `projectDir` (a folder with sfdx-project.json, or with a force-app/ folder).
 * `projectDir` undefined: an empty org, Salesforce's standard objects and nothing of ours (metadata
 * deploys add the rest; see metadata/).
 */
export function loadSchema(projectDir: string | undefined): Schema {
  const objects = new Map<string, ObjectDef>();
  for (const o of standardObjects()) objects.set(o.name.toLowerCase(), o);
  const roots = projectDir === undefined ? [] : packageDirectories(projectDir);
  linkChildren(objects, loadObjects(objects, roots));
  linkStandardChildren(objects);
  addHistoryObjects(objects);
  return {
    objects,
    permissionSets: loadPermissionSets(roots),
    profiles: loadProfiles(roots),
    permissionSetGroups: loadPermissionSetGroups(roots),
    metadataRecords: loadMetadataRecords(roots),
  };
}
