import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fieldName } from '../../../lib/metadata/fields.js';
import {
  bool,
  child,
  children,
  int as num,
  parseMetadataXml,
  text as str,
  texts,
  type XmlNode,
} from '../../../lib/metadata/xml.js';
import { parseFormula } from './formula.js';
import { HISTORY_KEY_PREFIX } from './ids.js';
import type { SoqlFieldType } from './model.js';
import type { Expr } from './formula.js';
import type { FieldDef, ObjectCategory, ObjectDef, ValidationRuleDef } from './schema.js';
import { field, makeObject, ownerField, auditFields, ref, sys, text } from './schema-fields.js';

/**
 * Reading `force-app/` source: a `<CustomField>` into a FieldDef, the base fields of each kind of object,
 * history objects, and the package's folders. XML goes through the shared reader in lib/metadata.
 */
// ---------------------------------------------------------------------------------------------
// force-app parsing.

export type Xml = XmlNode;

/** Reads a metadata file with the shared parser (lib/metadata); throws naming the file on a wrong root. */
export function readXml(path: string, root: string): Xml {
  const parsed = parseMetadataXml(readFileSync(path, 'utf8'));
  if (parsed.root !== root) throw new Error(`${path}: expected a <${root}> document`);
  return parsed.node;
}

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
  const name = fieldName(xml, file);
  const sfType = str(xml, 'type');
  if (sfType === undefined) throw new Error(`${file}: field ${objectName}.${name} has no <type>`);
  const type = TYPE_MAP[sfType];
  if (type === undefined)
    throw new Error(`${file}: field ${objectName}.${name} has unsupported type ${sfType}`);
  const custom = name.endsWith('__c');
  const formula = str(xml, 'formula');
  const calculated = formula !== undefined || sfType === 'Summary';
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
    metadataType: sfType,
  });
  const length = num(xml, 'length') ?? DEFAULT_LENGTHS[sfType];
  if (length !== undefined && TEXT_TYPES.has(type)) def.length = length;
  if (type === 'double' || type === 'currency' || type === 'percent') {
    def.precision = num(xml, 'precision') ?? 18;
    def.scale = num(xml, 'scale') ?? 0;
  }
  if (formula !== undefined) def.formula = parseFormulaOf(formula, `${file}: field ${objectName}.${name}`);
  if (isCheckbox) def.defaultValue = str(xml, 'defaultValue') === 'true';
  if (autoNumber) def.autoNumberFormat = str(xml, 'displayFormat') ?? 'A-{0}';
  if (type === 'reference') {
    const to = texts(xml, 'referenceTo');
    if (to.length === 0) throw new Error(`${file}: lookup ${objectName}.${name} has no <referenceTo>`);
    def.referenceTo = to;
    def.relationshipName = name.replace(/__c$/, '__r');
    def.length = 18;
    // The XML's relationshipName is the child relationship seen from the parent (plus `__r`).
    def.childRelationshipName = `${str(xml, 'relationshipName') ?? objectName.replace(/__c$/, '') + 's'}__r`;
  }
  if (type === 'picklist' || type === 'multipicklist') {
    const valueSet = child(xml, 'valueSet');
    const values = children(child(valueSet, 'valueSetDefinition'), 'value');
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

export function categoryOf(objectName: string): ObjectCategory {
  if (objectName.endsWith('__e')) return 'event';
  if (objectName.endsWith('__mdt')) return 'metadata';
  if (objectName.endsWith('__c')) return 'custom';
  return 'standard';
}

export function baseFieldsFor(category: ObjectCategory, objectXml: Xml | undefined): FieldDef[] {
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
  const nameField = child(objectXml, 'nameField');
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

export function listDirs(dir: string): string[] {
  return readdirSync(dir).filter((entry) => statSync(join(dir, entry)).isDirectory());
}

/** Finds every folder named `name` under `root` (skipping node_modules, lwc and tests). */
export function findFolders(root: string, name: string, found: string[] = []): string[] {
  if (!existsSync(root)) return found;
  for (const entry of listDirs(root)) {
    if (['node_modules', 'lwc', 'aura', '__tests__', 'staticresources'].includes(entry)) continue;
    const path = join(root, entry);
    if (entry === name) found.push(path);
    else findFolders(path, name, found);
  }
  return found;
}

export function packageDirectories(projectDir: string): string[] {
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

export function addHistoryObject(objects: Map<string, ObjectDef>, parent: ObjectDef): void {
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

export function customKeyPrefix(index: number, first: string): string {
  return `${first}${index.toString(36).padStart(2, '0')}`;
}

/** A formula parsed, or an error naming where it is (the emulator refuses what it cannot evaluate). */
export function parseFormulaOf(source: string, where: string): Expr {
  try {
    return parseFormula(source);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

/** One `<ValidationRule>` (source file or a deployed object's `<validationRules>`); undefined if inactive. */
export function parseValidationRule(
  xml: Xml,
  objectName: string,
  file: string,
): ValidationRuleDef | undefined {
  if (!bool(xml, 'active')) return undefined;
  const name = str(xml, 'fullName') ?? file.replace(/^.*\//, '').replace(/\.validationRule-meta\.xml$/, '');
  const formula = str(xml, 'errorConditionFormula');
  if (formula === undefined) throw new Error(`${file}: validation rule ${objectName}.${name} has no formula`);
  const displayField = str(xml, 'errorDisplayField');
  return {
    name,
    condition: parseFormulaOf(formula, `${file}: validation rule ${objectName}.${name}`),
    message: str(xml, 'errorMessage') ?? name,
    ...(displayField !== undefined ? { displayField } : {}),
  };
}

/** The active validation rules in `<objectDir>/validationRules/`, in file name order. */
export function readValidationRules(objectName: string, objectDir: string): ValidationRuleDef[] {
  const dir = join(objectDir, 'validationRules');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.validationRule-meta.xml'))
    .sort()
    .flatMap((f) => {
      const file = join(dir, f);
      const rule = parseValidationRule(readXml(file, 'ValidationRule'), objectName, file);
      return rule === undefined ? [] : [rule];
    });
}
