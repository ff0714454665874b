import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readObjectFields } from '../../../lib/metadata/fields.js';
import { bool, children, text as str, texts } from '../../../lib/metadata/xml.js';
import type {
  FieldDef,
  MetadataRecord,
  ObjectDef,
  PermissionSetDef,
  PermissionSetGroupDef,
} from './schema.js';
import { makeObject } from './schema-fields.js';
import {
  addHistoryObject,
  baseFieldsFor,
  categoryOf,
  customKeyPrefix,
  findFolders,
  listDirs,
  parseCustomField,
  readValidationRules,
  readXml,
  type Xml,
} from './schema-source.js';

/**
 * Loading a package's source into the schema: objects and their fields, child relationships, history
 * objects, permission sets and custom metadata records. Each step is one function; `loadSchema`
 * (schema.ts) runs them in order.
 */

type Objects = Map<string, ObjectDef>;
export type ChildLink = { object: ObjectDef; field: FieldDef };

/** Hands out key prefixes per kind of object, in the (sorted) order objects are met. */
export function keyPrefixes(
  next = { metadata: 0, event: 0, custom: 0 },
): (category: ObjectDef['category']) => string {
  return (category) =>
    category === 'metadata'
      ? customKeyPrefix(next.metadata++, 'm')
      : category === 'event'
        ? customKeyPrefix(next.event++, 'e')
        : customKeyPrefix(next.custom++, 'a');
}

export function objectFor(
  objects: Objects,
  name: string,
  path: string,
  objectXml: Xml | undefined,
  keyPrefix: (category: ObjectDef['category']) => string,
): ObjectDef {
  const existing = objects.get(name.toLowerCase());
  if (existing !== undefined) return existing;
  const category = categoryOf(name);
  if (category === 'standard')
    throw new Error(`${path}: standard object ${name} is not built into the emulator`);
  const object = makeObject(name, category, baseFieldsFor(category, objectXml), {
    keyPrefix: keyPrefix(category),
    ...(objectXml && str(objectXml, 'label') ? { label: str(objectXml, 'label') } : {}),
    ...(objectXml && str(objectXml, 'pluralLabel') ? { labelPlural: str(objectXml, 'pluralLabel') } : {}),
  });
  objects.set(name.toLowerCase(), object);
  return object;
}

/** One parsed `<CustomField>`: from a source file, or a `<fields>` element of a deployed `.object`. */
export interface FieldNode {
  readonly node: Xml;
  readonly name: string;
  readonly file: string;
}

/**
 * The object's fields: custom fields become FieldDefs (replacing an earlier definition); a standard
 * field's entry only sets history tracking. Lookups are pushed to `childLinks` for `linkChildren`.
 */
export function addFieldNodes(
  object: ObjectDef,
  fields: readonly FieldNode[],
  childLinks: ChildLink[],
): void {
  const name = object.name;
  const category = categoryOf(name);
  for (const { node: xml, name: fieldApiName, file: filePath } of fields) {
    const existing = object.fields.get(fieldApiName.toLowerCase());
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

/** Objects and fields of every package root; returns the lookups whose parents need a child relationship. */
export function loadObjects(objects: Objects, roots: readonly string[]): ChildLink[] {
  // Sorted so that key prefixes are stable from run to run.
  const objectDirs = roots
    .flatMap((root) => findFolders(root, 'objects'))
    .flatMap((dir) => listDirs(dir).map((name) => ({ name, path: join(dir, name) })))
    .sort((a, b) => a.name.localeCompare(b.name));
  const keyPrefix = keyPrefixes();
  const childLinks: ChildLink[] = [];
  for (const { name, path } of objectDirs) {
    const objectFile = join(path, `${name}.object-meta.xml`);
    const objectXml = existsSync(objectFile) ? readXml(objectFile, 'CustomObject') : undefined;
    const object = objectFor(objects, name, path, objectXml, keyPrefix);
    if (objectXml !== undefined && bool(objectXml, 'enableHistory')) object.enableHistory = true;
    addFieldNodes(object, readObjectFields(name, path), childLinks);
    const rules = readValidationRules(name, path);
    if (rules.length > 0) object.validationRules = rules;
  }
  return childLinks;
}

/** Each lookup gives its parent a child relationship; a lookup to an unknown object is an error. */
export function linkChildren(objects: Objects, childLinks: readonly ChildLink[]): void {
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
}

/** The standard child relationships every org has between Contact and Account. */
export function linkStandardChildren(objects: Objects): void {
  objects.get('contact')?.childRelationships.set('contacts', {
    childObject: 'Contact',
    field: 'ReportsToId',
    relationshipName: 'Contacts',
  });
  objects.get('account')?.childRelationships.set('contacts', {
    childObject: 'Contact',
    field: 'AccountId',
    relationshipName: 'Contacts',
  });
}

/** History objects: ContactHistory and AccountHistory exist in every org; custom ones when enabled. */
export function addHistoryObjects(objects: Objects): void {
  for (const object of [...objects.values()]) {
    if (
      object.name === 'Contact' ||
      object.name === 'Account' ||
      (object.category === 'custom' && object.enableHistory)
    ) {
      addHistoryObject(objects, object);
    }
  }
}

/**
 * A `<PermissionSet>` or `<Profile>` document: both carry `fieldPermissions`, `objectPermissions` and
 * `userPermissions` (of which the access picture needs ViewAllData and ModifyAllData).
 */
export function permissionSetFrom(name: string, xml: Xml): PermissionSetDef {
  const userPermission = (permission: string) =>
    children(xml, 'userPermissions').some((u) => str(u, 'name') === permission && bool(u, 'enabled'));
  const modifyAllData = userPermission('ModifyAllData');
  const ps: PermissionSetDef = {
    name,
    label: str(xml, 'label') ?? name,
    description: str(xml, 'description') ?? '',
    fields: new Map(),
    objects: new Map(),
    // Salesforce enables View All Data whenever Modify All Data is enabled.
    viewAllData: modifyAllData || userPermission('ViewAllData'),
    modifyAllData,
  };
  for (const fp of children(xml, 'fieldPermissions')) {
    const f = str(fp, 'field') ?? '';
    ps.fields.set(f.toLowerCase(), {
      field: f,
      readable: bool(fp, 'readable'),
      editable: bool(fp, 'editable'),
    });
  }
  for (const op of children(xml, 'objectPermissions')) {
    const object = str(op, 'object') ?? '';
    ps.objects.set(object.toLowerCase(), {
      object,
      create: bool(op, 'allowCreate'),
      read: bool(op, 'allowRead'),
      edit: bool(op, 'allowEdit'),
      delete: bool(op, 'allowDelete'),
      viewAll: bool(op, 'viewAllRecords'),
      modifyAll: bool(op, 'modifyAllRecords'),
      viewAllFields: bool(op, 'viewAllFields'),
    });
  }
  return ps;
}

/** A `<PermissionSetGroup>` document: its label and member permission sets. */
export function permissionSetGroupFrom(name: string, xml: Xml): PermissionSetGroupDef {
  return {
    name,
    label: str(xml, 'label') ?? name,
    description: str(xml, 'description') ?? '',
    permissionSets: texts(xml, 'permissionSets'),
  };
}

/** `<folder>/*.<suffix>-meta.xml` of every package root, parsed by `read`, keyed by file name. */
function loadFolder<T>(
  roots: readonly string[],
  folder: string,
  suffix: string,
  root: string,
  read: (name: string, xml: Xml) => T,
): Map<string, T> {
  const found = new Map<string, T>();
  const ending = `.${suffix}-meta.xml`;
  for (const dir of roots.flatMap((r) => findFolders(r, folder))) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(ending))
      .sort()) {
      const name = file.slice(0, -ending.length);
      found.set(name, read(name, readXml(join(dir, file), root)));
    }
  }
  return found;
}

/** `permissionsets/*.permissionset-meta.xml` of every package root. */
export function loadPermissionSets(roots: readonly string[]): Map<string, PermissionSetDef> {
  return loadFolder(roots, 'permissionsets', 'permissionset', 'PermissionSet', permissionSetFrom);
}

/** `profiles/*.profile-meta.xml` (this repository ships none; an org's own may be deployed). */
export function loadProfiles(roots: readonly string[]): Map<string, PermissionSetDef> {
  return loadFolder(roots, 'profiles', 'profile', 'Profile', permissionSetFrom);
}

/** `permissionsetgroups/*.permissionsetgroup-meta.xml`. */
export function loadPermissionSetGroups(roots: readonly string[]): Map<string, PermissionSetGroupDef> {
  return loadFolder(
    roots,
    'permissionsetgroups',
    'permissionsetgroup',
    'PermissionSetGroup',
    permissionSetGroupFrom,
  );
}

/** Custom metadata records: `customMetadata/<Type>.<DeveloperName>.md-meta.xml`. */
export function loadMetadataRecords(roots: readonly string[]): MetadataRecord[] {
  const metadataRecords: MetadataRecord[] = [];
  for (const dir of roots.flatMap((root) => findFolders(root, 'customMetadata'))) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.md-meta.xml'))
      .sort()) {
      const xml = readXml(join(dir, file), 'CustomMetadata');
      metadataRecords.push(metadataRecordFrom(file.replace(/\.md-meta\.xml$/, ''), xml, join(dir, file)));
    }
  }
  return metadataRecords;
}

/** One custom metadata record, `<Type>.<DeveloperName>` (the file name without its suffix). */
export function metadataRecordFrom(fullName: string, xml: Xml, file: string): MetadataRecord {
  const [type, developerName] = fullName.split('.');
  if (!type || !developerName) throw new Error(`${file}: expected <Type>.<Name> as the record's name`);
  const values: Record<string, unknown> = {};
  for (const v of children(xml, 'values')) {
    const valueField = str(v, 'field');
    const value = str(v, 'value');
    // `<value xsi:nil="true"/>` has no text: Salesforce stores it as null.
    if (valueField) values[valueField] = value !== undefined && value !== '' ? value : null;
  }
  return { type: `${type}__mdt`, developerName, label: str(xml, 'label') ?? developerName, values };
}
