/**
 * The emulator's schema: built-in standard objects plus everything `force-app/` declares (custom
 * objects and fields, fields added to standard objects, custom metadata types and records, platform
 * events, permission sets). Parsed with fast-xml-parser from source format, so a field added to
 * `force-app/` appears here with no code change.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { HISTORY_KEY_PREFIX, STANDARD_KEY_PREFIXES } from './ids.js';
import type { SoqlField, SoqlFieldType, SoqlObject } from './model.js';

export type ObjectCategory = 'standard' | 'custom' | 'history' | 'event' | 'metadata' | 'setup';

export interface PicklistValue {
  value: string;
  label: string;
  default: boolean;
}

export interface FieldDef extends SoqlField {
  label: string;
  custom: boolean;
  /** Salesforce's metadata type name (`Text`, `Checkbox`, `Lookup`, ...) for the describe's soapType. */
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

export interface ObjectAccess {
  create: boolean;
  read: boolean;
  edit: boolean;
  delete: boolean;
  viewAll: boolean;
  modifyAll: boolean;
}

export interface PermissionSetDef {
  name: string;
  label: string;
  description: string;
  /** Keyed by `object.field`, lower-cased. */
  fields: Map<string, { field: string; readable: boolean; editable: boolean }>;
  /** Keyed by the lower-cased object name. */
  objects: Map<string, ObjectAccess & { object: string }>;
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
  metadataRecords: MetadataRecord[];
}

// ---------------------------------------------------------------------------------------------
// Field builders for the built-in standard objects.

type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>>;

function field(name: string, type: SoqlFieldType, options: FieldOptions = {}): FieldDef {
  const nillable = options.nillable ?? type !== 'boolean';
  const createable = options.createable ?? true;
  return {
    name,
    type,
    label: options.label ?? name.replace(/__c$/, '').replace(/_/g, ' '),
    custom: options.custom ?? false,
    nillable,
    required: options.required ?? false,
    createable,
    updateable: options.updateable ?? createable,
    defaultedOnCreate: options.defaultedOnCreate ?? type === 'boolean',
    externalId: false,
    unique: false,
    caseSensitive: false,
    idLookup: false,
    restrictedPicklist: false,
    trackHistory: false,
    calculated: false,
    permissionable: false,
    ...options,
  };
}

const text = (name: string, length: number, o: FieldOptions = {}) => field(name, 'string', { length, ...o });
const sys = (name: string, type: SoqlFieldType, o: FieldOptions = {}) =>
  field(name, type, { createable: false, updateable: false, defaultedOnCreate: true, ...o });
const ref = (name: string, to: string, relationshipName: string, o: FieldOptions = {}) =>
  field(name, 'reference', { referenceTo: [to], relationshipName, length: 18, ...o });
const picklist = (name: string, values: string[], o: FieldOptions = {}) =>
  field(name, 'picklist', {
    length: 255,
    picklistValues: values.map((v) => ({ value: v, label: v, default: false })),
    ...o,
  });

function auditFields(): FieldDef[] {
  return [
    sys('Id', 'id', { length: 18, nillable: false, idLookup: true, label: 'Record ID' }),
    sys('IsDeleted', 'boolean', { label: 'Deleted' }),
    sys('CreatedDate', 'datetime', { nillable: false }),
    ref('CreatedById', 'User', 'CreatedBy', {
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    sys('LastModifiedDate', 'datetime', { nillable: false }),
    ref('LastModifiedById', 'User', 'LastModifiedBy', {
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    sys('SystemModstamp', 'datetime', { nillable: false }),
  ];
}

const ownerField = () => ref('OwnerId', 'User', 'Owner', { defaultedOnCreate: true, nillable: false });

function makeObject(
  name: string,
  category: ObjectCategory,
  fields: FieldDef[],
  extra: Partial<ObjectDef> = {},
): ObjectDef {
  const custom = category === 'custom' || category === 'event' || category === 'metadata';
  const writable = category === 'standard' || category === 'custom';
  return {
    name,
    label: extra.label ?? name.replace(/__(c|e|mdt)$/, '').replace(/_/g, ' '),
    labelPlural:
      extra.labelPlural ?? `${extra.label ?? name.replace(/__(c|e|mdt)$/, '').replace(/_/g, ' ')}s`,
    keyPrefix: extra.keyPrefix ?? STANDARD_KEY_PREFIXES[name] ?? '000',
    custom,
    category,
    fields: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
    childRelationships: new Map(),
    enableHistory: false,
    // Custom metadata records are readable by every user here (orgs usually grant that broadly).
    permissionable: category === 'custom' || category === 'event',
    createable: writable || category === 'event',
    updateable: writable,
    deletable: writable,
    queryable: category !== 'event',
    ...extra,
  };
}

const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];

function address(prefix: string): FieldDef[] {
  return [
    field(`${prefix}Street`, 'textarea', { length: 255 }),
    text(`${prefix}City`, 40),
    text(`${prefix}State`, 80),
    text(`${prefix}PostalCode`, 20),
    text(`${prefix}Country`, 80),
  ];
}

/** Standard objects with their real field names, types and lengths (the subset integrations use). */
function standardObjects(): ObjectDef[] {
  const contact = makeObject('Contact', 'standard', [
    ...auditFields(),
    ref('MasterRecordId', 'Contact', 'MasterRecord', { createable: false, updateable: false }),
    ref('AccountId', 'Account', 'Account'),
    text('LastName', 80, { nillable: false, required: true, label: 'Last Name' }),
    text('FirstName', 40, { label: 'First Name' }),
    picklist('Salutation', ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.', 'Mx.'], { length: 40 }),
    text('Name', 121, { createable: false, updateable: false, label: 'Full Name', nillable: false }),
    ...address('Other'),
    ...address('Mailing'),
    field('Phone', 'phone', { length: 40, label: 'Business Phone' }),
    field('Fax', 'phone', { length: 40 }),
    field('MobilePhone', 'phone', { length: 40, label: 'Mobile Phone' }),
    field('HomePhone', 'phone', { length: 40, label: 'Home Phone' }),
    field('OtherPhone', 'phone', { length: 40 }),
    field('AssistantPhone', 'phone', { length: 40 }),
    ref('ReportsToId', 'Contact', 'ReportsTo'),
    field('Email', 'email', { length: 80 }),
    text('Title', 128),
    text('Department', 80),
    text('AssistantName', 40),
    picklist('LeadSource', LEAD_SOURCES, { length: 255, label: 'Lead Source' }),
    field('Birthdate', 'date'),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
    field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
    field('HasOptedOutOfFax', 'boolean', { label: 'Fax Opt Out', defaultValue: false }),
    field('DoNotCall', 'boolean', { label: 'Do Not Call', defaultValue: false }),
    sys('LastActivityDate', 'date', { defaultedOnCreate: false }),
    sys('LastViewedDate', 'datetime', { defaultedOnCreate: false }),
    sys('LastReferencedDate', 'datetime', { defaultedOnCreate: false }),
    text('EmailBouncedReason', 255),
    field('EmailBouncedDate', 'datetime'),
    sys('IsEmailBounced', 'boolean'),
    sys('PhotoUrl', 'url', { length: 255, defaultedOnCreate: false }),
  ]);
  const account = makeObject('Account', 'standard', [
    ...auditFields(),
    text('Name', 255, { nillable: false, required: true, label: 'Account Name' }),
    ref('ParentId', 'Account', 'Parent'),
    field('Phone', 'phone', { length: 40 }),
    field('Website', 'url', { length: 255 }),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ]);
  const user = makeObject(
    'User',
    'setup',
    [
      ...auditFields(),
      text('Username', 80, { nillable: false, createable: false, updateable: false }),
      text('LastName', 80, { nillable: false, createable: false, updateable: false }),
      text('FirstName', 40, { createable: false, updateable: false }),
      text('Name', 121, { createable: false, updateable: false }),
      field('Email', 'email', { length: 128, createable: false, updateable: false }),
      text('Alias', 8, { createable: false, updateable: false }),
      sys('IsActive', 'boolean'),
      picklist('UserType', ['Standard', 'PowerPartner', 'CsnOnly'], { createable: false, updateable: false }),
      text('TimeZoneSidKey', 40, { createable: false, updateable: false }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
  const permissionSet = makeObject(
    'PermissionSet',
    'setup',
    [
      ...auditFields(),
      text('Name', 80, { createable: false, updateable: false }),
      text('Label', 80, { createable: false, updateable: false }),
      field('Description', 'textarea', { length: 255, createable: false, updateable: false }),
      sys('IsOwnedByProfile', 'boolean'),
      sys('IsCustom', 'boolean'),
      text('NamespacePrefix', 15, { createable: false, updateable: false }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
  const assignment = makeObject(
    'PermissionSetAssignment',
    'setup',
    [
      ...auditFields().filter((f) => f.name === 'Id' || f.name === 'SystemModstamp'),
      ref('AssigneeId', 'User', 'Assignee', { nillable: false, required: true, updateable: false }),
      ref('PermissionSetId', 'PermissionSet', 'PermissionSet', {
        nillable: false,
        required: true,
        updateable: false,
      }),
      sys('IsActive', 'boolean'),
    ],
    // Assignments can be inserted and deleted through the API, as in a real org.
    { createable: true, updateable: false, deletable: true },
  );
  const fieldPermissions = makeObject(
    'FieldPermissions',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      ref('ParentId', 'PermissionSet', 'Parent', { createable: false, updateable: false }),
      text('SobjectType', 40, { createable: false, updateable: false }),
      text('Field', 100, { createable: false, updateable: false }),
      sys('PermissionsRead', 'boolean'),
      sys('PermissionsEdit', 'boolean'),
      sys('SystemModstamp', 'datetime'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
  const objectPermissions = makeObject(
    'ObjectPermissions',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      ref('ParentId', 'PermissionSet', 'Parent', { createable: false, updateable: false }),
      text('SobjectType', 40, { createable: false, updateable: false }),
      sys('PermissionsCreate', 'boolean'),
      sys('PermissionsRead', 'boolean'),
      sys('PermissionsEdit', 'boolean'),
      sys('PermissionsDelete', 'boolean'),
      sys('PermissionsViewAllRecords', 'boolean'),
      sys('PermissionsModifyAllRecords', 'boolean'),
      sys('SystemModstamp', 'datetime'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
  const organization = makeObject(
    'Organization',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      text('Name', 80, { createable: false, updateable: false }),
      text('InstanceName', 5, { createable: false, updateable: false }),
      sys('IsSandbox', 'boolean'),
      picklist('OrganizationType', ['Developer Edition', 'Enterprise Edition'], {
        createable: false,
        updateable: false,
      }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
  return [
    contact,
    account,
    user,
    permissionSet,
    assignment,
    fieldPermissions,
    objectPermissions,
    organization,
  ];
}

// ---------------------------------------------------------------------------------------------
// force-app parsing.

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  // Repeated elements become arrays even when a file holds only one; `value` only inside a picklist's
  // value set (a custom metadata record's `values.value` is a scalar).
  isArray: (name, jpath) =>
    ['fieldPermissions', 'objectPermissions', 'values', 'referenceTo'].includes(name) ||
    (name === 'value' && String(jpath).endsWith('valueSetDefinition.value')),
});

type Xml = Record<string, unknown>;

function readXml(path: string, root: string): Xml {
  const parsed = parser.parse(readFileSync(path, 'utf8')) as Xml;
  const body = parsed[root];
  if (body === undefined || typeof body !== 'object' || body === null) {
    throw new Error(`${path}: expected a <${root}> document`);
  }
  return body as Xml;
}

const str = (x: Xml, key: string): string | undefined => {
  const v = x[key];
  return typeof v === 'string' ? v : undefined;
};
const bool = (x: Xml, key: string): boolean => str(x, key) === 'true';
const num = (x: Xml, key: string): number | undefined => {
  const v = str(x, key);
  return v === undefined ? undefined : Number(v);
};

const TYPE_MAP: Record<string, SoqlFieldType> = {
  Text: 'string',
  EncryptedText: 'string',
  TextArea: 'textarea',
  LongTextArea: 'textarea',
  Html: 'textarea',
  Email: 'email',
  Phone: 'phone',
  Url: 'url',
  Picklist: 'picklist',
  MultiselectPicklist: 'multipicklist',
  Checkbox: 'boolean',
  Number: 'double',
  Currency: 'currency',
  Percent: 'percent',
  Date: 'date',
  DateTime: 'datetime',
  Lookup: 'reference',
  MasterDetail: 'reference',
  MetadataRelationship: 'string',
  AutoNumber: 'string',
  Summary: 'double',
};

export const TEXT_TYPES: ReadonlySet<SoqlFieldType> = new Set([
  'string',
  'textarea',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
]);

const DEFAULT_LENGTHS: Partial<Record<string, number>> = {
  Email: 80,
  Phone: 40,
  Url: 255,
  Picklist: 255,
  MultiselectPicklist: 4099,
  TextArea: 255,
  AutoNumber: 30,
};

/** Parses one `<CustomField>` into a FieldDef; `objectName` is for error messages and relationships. */
export function parseCustomField(xml: Xml, objectName: string, file: string): FieldDef {
  const name = str(xml, 'fullName') ?? basename(file).replace(/\.field-meta\.xml$/, '');
  const sfType = str(xml, 'type');
  if (sfType === undefined) throw new Error(`${file}: field ${objectName}.${name} has no <type>`);
  const type = TYPE_MAP[sfType];
  if (type === undefined)
    throw new Error(`${file}: field ${objectName}.${name} has unsupported type ${sfType}`);
  const custom = name.endsWith('__c');
  const calculated = str(xml, 'formula') !== undefined || sfType === 'Summary';
  const autoNumber = sfType === 'AutoNumber';
  const isCheckbox = sfType === 'Checkbox';
  const masterDetail = sfType === 'MasterDetail';
  const required = bool(xml, 'required') || masterDetail;
  const writable = !calculated && !autoNumber;
  const def: FieldDef = field(name, type, {
    label: str(xml, 'label') ?? name,
    custom,
    nillable: !required && !isCheckbox,
    required: required && writable,
    createable: writable,
    updateable: writable && !(masterDetail && !bool(xml, 'reparentableMasterDetail')),
    defaultedOnCreate: isCheckbox || autoNumber || str(xml, 'defaultValue') !== undefined,
    externalId: bool(xml, 'externalId'),
    unique: bool(xml, 'unique'),
    caseSensitive: bool(xml, 'caseSensitive'),
    idLookup: bool(xml, 'externalId') || bool(xml, 'unique'),
    trackHistory: bool(xml, 'trackHistory'),
    calculated,
    // Required and master-detail fields are always visible and editable; FLS governs the rest.
    permissionable: custom && !required,
  });
  const length = num(xml, 'length') ?? DEFAULT_LENGTHS[sfType];
  if (length !== undefined && TEXT_TYPES.has(type)) def.length = length;
  if (type === 'double' || type === 'currency' || type === 'percent') {
    def.precision = num(xml, 'precision') ?? 18;
    def.scale = num(xml, 'scale') ?? 0;
  }
  if (isCheckbox) def.defaultValue = str(xml, 'defaultValue') === 'true';
  if (autoNumber) def.autoNumberFormat = str(xml, 'displayFormat') ?? 'A-{0}';
  if (type === 'reference') {
    const to = (xml.referenceTo as string[] | undefined) ?? [];
    if (to.length === 0) throw new Error(`${file}: lookup ${objectName}.${name} has no <referenceTo>`);
    def.referenceTo = to;
    def.relationshipName = name.replace(/__c$/, '__r');
    def.length = 18;
    // The XML's relationshipName is the child relationship seen from the parent (plus `__r`).
    def.childRelationshipName = `${str(xml, 'relationshipName') ?? objectName.replace(/__c$/, '') + 's'}__r`;
  }
  if (type === 'picklist' || type === 'multipicklist') {
    const valueSet = xml.valueSet as Xml | undefined;
    const definition = valueSet?.valueSetDefinition as Xml | undefined;
    const values = (definition?.value as Xml[] | undefined) ?? [];
    def.picklistValues = values.map((v) => ({
      value: str(v, 'fullName') ?? '',
      label: str(v, 'label') ?? str(v, 'fullName') ?? '',
      default: bool(v, 'default'),
    }));
    def.restrictedPicklist = valueSet !== undefined && bool(valueSet, 'restricted');
    if (valueSet !== undefined && str(valueSet, 'valueSetName') !== undefined) {
      // A global value set lives elsewhere; without its values the picklist cannot be restricted here.
      def.restrictedPicklist = false;
    }
  }
  return def;
}

function categoryOf(objectName: string): ObjectCategory {
  if (objectName.endsWith('__e')) return 'event';
  if (objectName.endsWith('__mdt')) return 'metadata';
  if (objectName.endsWith('__c')) return 'custom';
  return 'standard';
}

function baseFieldsFor(category: ObjectCategory, objectXml: Xml | undefined): FieldDef[] {
  if (category === 'event') {
    return [
      sys('ReplayId', 'string', { length: 255 }),
      sys('CreatedDate', 'datetime'),
      ref('CreatedById', 'User', 'CreatedBy', { createable: false, updateable: false }),
      sys('EventUuid', 'string', { length: 36 }),
    ];
  }
  if (category === 'metadata') {
    return [
      sys('Id', 'id', { length: 18, nillable: false }),
      text('DeveloperName', 40, { createable: false, updateable: false }),
      text('MasterLabel', 40, { createable: false, updateable: false }),
      text('Label', 40, { createable: false, updateable: false }),
      text('Language', 40, { createable: false, updateable: false }),
      text('NamespacePrefix', 15, { createable: false, updateable: false }),
      text('QualifiedApiName', 70, { createable: false, updateable: false }),
      sys('SystemModstamp', 'datetime'),
    ];
  }
  const nameField = objectXml?.nameField as Xml | undefined;
  const nameLabel = (nameField && str(nameField, 'label')) ?? 'Name';
  const nameIsAuto = nameField !== undefined && str(nameField, 'type') === 'AutoNumber';
  const name = nameIsAuto
    ? text('Name', 80, {
        label: nameLabel,
        createable: false,
        updateable: false,
        defaultedOnCreate: true,
        nillable: false,
        autoNumberFormat: (nameField && str(nameField, 'displayFormat')) ?? 'A-{0}',
        idLookup: true,
      })
    : text('Name', 80, { label: nameLabel, nillable: true, idLookup: true });
  return [
    ...auditFields(),
    ownerField(),
    name,
    sys('LastViewedDate', 'datetime', { defaultedOnCreate: false }),
    sys('LastReferencedDate', 'datetime', { defaultedOnCreate: false }),
  ];
}

function listDirs(dir: string): string[] {
  return readdirSync(dir).filter((entry) => statSync(join(dir, entry)).isDirectory());
}

/** Finds every folder named `name` under `root` (skipping node_modules, lwc and tests). */
function findFolders(root: string, name: string, found: string[] = []): string[] {
  if (!existsSync(root)) return found;
  for (const entry of listDirs(root)) {
    if (['node_modules', 'lwc', 'aura', '__tests__', 'staticresources'].includes(entry)) continue;
    const path = join(root, entry);
    if (entry === name) found.push(path);
    else findFolders(path, name, found);
  }
  return found;
}

function packageDirectories(projectDir: string): string[] {
  const projectFile = join(projectDir, 'sfdx-project.json');
  if (!existsSync(projectFile)) return [join(projectDir, 'force-app')];
  const project = JSON.parse(readFileSync(projectFile, 'utf8')) as {
    packageDirectories?: Array<{ path: string }>;
    plugins?: { clinikoGovernedSync?: { unpackagedDirectories?: Array<{ path: string }> } };
  };
  // The org as an admin leaves it: the package, then what go-live deploys beside it (org setup, Shield).
  const unpackaged = project.plugins?.clinikoGovernedSync?.unpackagedDirectories ?? [];
  return [...(project.packageDirectories ?? [{ path: 'force-app' }]), ...unpackaged].map((d) =>
    join(projectDir, d.path),
  );
}

function addHistoryObject(objects: Map<string, ObjectDef>, parent: ObjectDef): void {
  const historyName = parent.custom ? parent.name.replace(/__c$/, '__History') : `${parent.name}History`;
  const parentField = parent.custom ? 'ParentId' : `${parent.name}Id`;
  const parentRelationship = parent.custom ? 'Parent' : parent.name;
  const history = makeObject(
    historyName,
    'history',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      sys('IsDeleted', 'boolean'),
      ref(parentField, parent.name, parentRelationship, { createable: false, updateable: false }),
      ref('CreatedById', 'User', 'CreatedBy', { createable: false, updateable: false }),
      sys('CreatedDate', 'datetime'),
      text('Field', 255, { createable: false, updateable: false }),
      text('DataType', 40, { createable: false, updateable: false }),
      sys('OldValue', 'string', { length: 255 }),
      sys('NewValue', 'string', { length: 255 }),
    ],
    {
      keyPrefix: HISTORY_KEY_PREFIX,
      label: `${parent.label} History`,
      labelPlural: `${parent.label} History`,
      createable: false,
      updateable: false,
      deletable: false,
      // History follows the parent's visibility.
      permissionable: parent.permissionable,
    },
  );
  objects.set(historyName.toLowerCase(), history);
  parent.historyObject = historyName;
  history.historyParentField = parentField;
  history.historyOf = parent.name;
  parent.childRelationships.set('histories', {
    childObject: historyName,
    field: parentField,
    relationshipName: 'Histories',
  });
}

function customKeyPrefix(index: number, first: string): string {
  return `${first}${index.toString(36).padStart(2, '0')}`;
}

/** Loads the schema of `projectDir` (a folder with sfdx-project.json, or with a force-app/ folder). */
export function loadSchema(projectDir: string): Schema {
  const objects = new Map<string, ObjectDef>();
  for (const o of standardObjects()) objects.set(o.name.toLowerCase(), o);
  const roots = packageDirectories(projectDir);

  // Objects and fields. Sorted so that key prefixes are stable from run to run.
  const objectDirs = roots
    .flatMap((root) => findFolders(root, 'objects'))
    .flatMap((dir) => listDirs(dir).map((name) => ({ name, path: join(dir, name) })))
    .sort((a, b) => a.name.localeCompare(b.name));
  let customIndex = 0;
  let metadataIndex = 0;
  let eventIndex = 0;
  const childLinks: Array<{ object: ObjectDef; field: FieldDef }> = [];
  for (const { name, path } of objectDirs) {
    const objectFile = join(path, `${name}.object-meta.xml`);
    const objectXml = existsSync(objectFile) ? readXml(objectFile, 'CustomObject') : undefined;
    const category = categoryOf(name);
    let object = objects.get(name.toLowerCase());
    if (object === undefined) {
      if (category === 'standard') {
        throw new Error(`${path}: standard object ${name} is not built into the emulator`);
      }
      const keyPrefix =
        category === 'metadata'
          ? customKeyPrefix(metadataIndex++, 'm')
          : category === 'event'
            ? customKeyPrefix(eventIndex++, 'e')
            : customKeyPrefix(customIndex++, 'a');
      object = makeObject(name, category, baseFieldsFor(category, objectXml), {
        keyPrefix,
        ...(objectXml && str(objectXml, 'label') ? { label: str(objectXml, 'label') } : {}),
        ...(objectXml && str(objectXml, 'pluralLabel') ? { labelPlural: str(objectXml, 'pluralLabel') } : {}),
      });
      objects.set(name.toLowerCase(), object);
    }
    if (objectXml !== undefined && bool(objectXml, 'enableHistory')) object.enableHistory = true;
    const fieldsDir = join(path, 'fields');
    if (!existsSync(fieldsDir)) continue;
    for (const file of readdirSync(fieldsDir)
      .filter((f) => f.endsWith('.field-meta.xml'))
      .sort()) {
      const filePath = join(fieldsDir, file);
      const xml = readXml(filePath, 'CustomField');
      const existing = object.fields.get(
        (str(xml, 'fullName') ?? file.replace(/\.field-meta\.xml$/, '')).toLowerCase(),
      );
      if (existing !== undefined && !existing.custom) {
        // A standard field's file only carries settings such as trackHistory.
        existing.trackHistory = bool(xml, 'trackHistory');
        continue;
      }
      const def = parseCustomField(xml, name, filePath);
      if (category === 'event' || category === 'metadata') {
        def.permissionable = false;
        def.trackHistory = false;
      }
      if (category === 'metadata') {
        def.createable = false;
        def.updateable = false;
      }
      object.fields.set(def.name.toLowerCase(), def);
      if (def.type === 'reference') childLinks.push({ object, field: def });
    }
  }
  for (const { object, field: f } of childLinks) {
    const childName = f.childRelationshipName;
    for (const target of f.referenceTo ?? []) {
      const parent = objects.get(target.toLowerCase());
      if (parent === undefined) {
        throw new Error(
          `${object.name}.${f.name} refers to ${target}, which is neither standard nor in force-app`,
        );
      }
      if (childName)
        parent.childRelationships.set(childName.toLowerCase(), {
          childObject: object.name,
          field: f.name,
          relationshipName: childName,
        });
    }
  }
  const contact = objects.get('contact');
  if (contact)
    contact.childRelationships.set('contacts', {
      childObject: 'Contact',
      field: 'ReportsToId',
      relationshipName: 'Contacts',
    });
  const account = objects.get('account');
  if (account)
    account.childRelationships.set('contacts', {
      childObject: 'Contact',
      field: 'AccountId',
      relationshipName: 'Contacts',
    });
  // History objects: ContactHistory and AccountHistory exist in every org; custom ones when enabled.
  for (const object of [...objects.values()]) {
    if (
      object.name === 'Contact' ||
      object.name === 'Account' ||
      (object.category === 'custom' && object.enableHistory)
    ) {
      addHistoryObject(objects, object);
    }
  }

  // Permission sets.
  const permissionSets = new Map<string, PermissionSetDef>();
  for (const dir of roots.flatMap((root) => findFolders(root, 'permissionsets'))) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.permissionset-meta.xml'))
      .sort()) {
      const filePath = join(dir, file);
      const xml = readXml(filePath, 'PermissionSet');
      const name = file.replace(/\.permissionset-meta\.xml$/, '');
      const ps: PermissionSetDef = {
        name,
        label: str(xml, 'label') ?? name,
        description: str(xml, 'description') ?? '',
        fields: new Map(),
        objects: new Map(),
      };
      for (const fp of (xml.fieldPermissions as Xml[] | undefined) ?? []) {
        const f = str(fp, 'field') ?? '';
        ps.fields.set(f.toLowerCase(), {
          field: f,
          readable: bool(fp, 'readable'),
          editable: bool(fp, 'editable'),
        });
      }
      for (const op of (xml.objectPermissions as Xml[] | undefined) ?? []) {
        const object = str(op, 'object') ?? '';
        ps.objects.set(object.toLowerCase(), {
          object,
          create: bool(op, 'allowCreate'),
          read: bool(op, 'allowRead'),
          edit: bool(op, 'allowEdit'),
          delete: bool(op, 'allowDelete'),
          viewAll: bool(op, 'viewAllRecords'),
          modifyAll: bool(op, 'modifyAllRecords'),
        });
      }
      permissionSets.set(name, ps);
    }
  }

  // Custom metadata records: customMetadata/<Type>.<DeveloperName>.md-meta.xml.
  const metadataRecords: MetadataRecord[] = [];
  for (const dir of roots.flatMap((root) => findFolders(root, 'customMetadata'))) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.md-meta.xml'))
      .sort()) {
      const xml = readXml(join(dir, file), 'CustomMetadata');
      const [type, developerName] = file.replace(/\.md-meta\.xml$/, '').split('.');
      if (!type || !developerName) throw new Error(`${join(dir, file)}: expected <Type>.<Name>.md-meta.xml`);
      const values: Record<string, unknown> = {};
      for (const v of (xml.values as Xml[] | undefined) ?? []) {
        const fieldName = str(v, 'field');
        // `<value xsi:nil="true"/>` parses to an empty string: Salesforce stores it as null.
        if (fieldName) values[fieldName] = typeof v.value === 'string' && v.value !== '' ? v.value : null;
      }
      metadataRecords.push({
        type: `${type}__mdt`,
        developerName,
        label: str(xml, 'label') ?? developerName,
        values,
      });
    }
  }
  return { objects, permissionSets, metadataRecords };
}
