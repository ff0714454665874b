import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { bool, children, int, parseMetadataXml, text, type XmlNode } from '../../lib/metadata/xml.js';
import { fieldName } from '../../lib/metadata/fields.js';

/**
 * A read-only model of the SFDX package (`force-app/main/default`) built from its source files:
 * objects and fields (custom ones from their `*.field-meta.xml`, standard ones from the table below),
 * permission sets, list views, validation rules, tabs, applications, layouts and custom metadata
 * records. The validator's project rules and the generator both work from this model.
 */

export type ObjectKind = 'standard' | 'custom' | 'platform-event' | 'custom-metadata';

export interface FieldInfo {
  readonly object: string;
  readonly name: string;
  /** Repository-relative path of the field file; undefined for a standard field with no file. */
  readonly file: string | undefined;
  readonly type: string;
  readonly label: string | undefined;
  readonly length: number | undefined;
  readonly precision: number | undefined;
  readonly scale: number | undefined;
  readonly required: boolean;
  readonly externalId: boolean;
  readonly unique: boolean;
  readonly caseSensitive: boolean;
  readonly trackHistory: boolean;
  readonly referenceTo: string | undefined;
  /** A lookup's child relationship name as the parent sees it (`Cliniko_Appointments`, without `__r`). */
  readonly relationshipName: string | undefined;
  readonly picklistValues: readonly string[];
  readonly standard: boolean;
  /** Whether field-level security can be set on it (not required, not master-detail, not a name part). */
  readonly permissionable: boolean;
  /** A formula (or roll-up) field: readable at most, never editable, through any permission. */
  readonly calculated: boolean;
}

export interface ObjectInfo {
  readonly name: string;
  readonly kind: ObjectKind;
  readonly file: string | undefined;
  readonly label: string | undefined;
  readonly pluralLabel: string | undefined;
  readonly enableHistory: boolean;
  readonly fields: ReadonlyMap<string, FieldInfo>;
}

export interface MetadataFile {
  readonly file: string;
  readonly root: string;
  readonly node: XmlNode;
}

export interface Project {
  readonly repoRoot: string;
  readonly objects: ReadonlyMap<string, ObjectInfo>;
  /** Every `*-meta.xml` under the package directory, parsed (LWC, flexipages and all). */
  readonly files: readonly MetadataFile[];
  /** Files that are not well-formed XML: file -> parser message. */
  readonly unreadable: ReadonlyMap<string, string>;
}

/**
 * Standard fields the package uses, with Salesforce's own types and lengths (they are not in source).
 * Salesforce does not allow some of them in `fieldPermissions`: required fields, the parts of the
 * compound Name, and the parts of a compound address, whose field-level security is set on the address
 * as a whole (`Contact.MailingAddress`), never on `Contact.MailingStreet` and its siblings.
 */
export const STANDARD_FIELDS: Readonly<
  Record<
    string,
    readonly {
      name: string;
      type: string;
      length?: number;
      required?: boolean;
      nameField?: boolean;
      /** The compound field this is a part of; security is granted on that. */
      compound?: string;
    }[]
  >
> = {
  Contact: [
    { name: 'FirstName', type: 'Text', length: 40, nameField: true },
    { name: 'LastName', type: 'Text', length: 80, required: true, nameField: true },
    { name: 'Email', type: 'Email', length: 80 },
    { name: 'MobilePhone', type: 'Phone', length: 40 },
    { name: 'HomePhone', type: 'Phone', length: 40 },
    { name: 'Phone', type: 'Phone', length: 40 },
    { name: 'MailingStreet', type: 'TextArea', length: 255, compound: 'MailingAddress' },
    { name: 'MailingCity', type: 'Text', length: 40, compound: 'MailingAddress' },
    { name: 'MailingState', type: 'Text', length: 80, compound: 'MailingAddress' },
    { name: 'MailingPostalCode', type: 'Text', length: 20, compound: 'MailingAddress' },
    { name: 'MailingCountry', type: 'Text', length: 80, compound: 'MailingAddress' },
    { name: 'MailingAddress', type: 'Address' },
    { name: 'Birthdate', type: 'Date' },
    { name: 'HasOptedOutOfEmail', type: 'Checkbox' },
    { name: 'DoNotCall', type: 'Checkbox' },
    { name: 'OwnerId', type: 'Lookup', required: true },
  ],
  // Read by the service's matching of existing records (issue #19): open Leads by email, phones to tie-break.
  Lead: [
    { name: 'FirstName', type: 'Text', length: 40, nameField: true },
    { name: 'LastName', type: 'Text', length: 80, required: true, nameField: true },
    { name: 'Email', type: 'Email', length: 80 },
    { name: 'MobilePhone', type: 'Phone', length: 40 },
    { name: 'Phone', type: 'Phone', length: 40 },
  ],
  User: [{ name: 'Username', type: 'Text', length: 80, required: true }],
};

/** `Object.Part` -> `Object.Compound` for the parts of compound standard fields. */
export const COMPOUND_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(STANDARD_FIELDS).flatMap(([object, fields]) =>
    fields.flatMap((f) => (f.compound ? [[`${object}.${f.name}`, `${object}.${f.compound}`] as const] : [])),
  ),
);

/**
 * The `fieldPermissions` names that grant `readable` targets: a target Salesforce permissions directly
 * stands for itself; a part of a compound address is granted through the compound, and only when every
 * part the map targets is readable (one part must never open the others). `grantable` says whether a
 * field takes field-level security at all.
 */
export function fieldPermissionNames(
  readable: ReadonlySet<string>,
  mapped: ReadonlySet<string>,
  grantable: (field: string) => boolean,
): Set<string> {
  const out = new Set<string>();
  for (const target of readable) {
    const compound = COMPOUND_OF.get(target);
    if (compound === undefined) {
      if (grantable(target)) out.add(target);
      continue;
    }
    const parts = [...mapped].filter((t) => COMPOUND_OF.get(t) === compound);
    if (parts.every((p) => readable.has(p)) && grantable(compound)) out.add(compound);
  }
  return out;
}

/** Standard objects the package may reference without defining them. */
export const STANDARD_OBJECTS: ReadonlySet<string> = new Set(['Contact', 'User', 'Account', 'Lead']);

function walk(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

/** Every `*-meta.xml` below `dir` (absolute paths, sorted). */
export function metadataFilesUnder(dir: string): string[] {
  return walk(dir).filter((f) => f.endsWith('-meta.xml'));
}

function objectKind(name: string): ObjectKind {
  if (name.endsWith('__e')) return 'platform-event';
  if (name.endsWith('__mdt')) return 'custom-metadata';
  if (name.endsWith('__c')) return 'custom';
  return 'standard';
}

function fieldFrom(
  object: string,
  node: XmlNode,
  file: string | undefined,
  standardType?: string,
): FieldInfo {
  const name = text(node, 'fullName') ?? '';
  const type = text(node, 'type') ?? standardType ?? 'Unknown';
  const required = bool(node, 'required');
  return {
    object,
    name,
    file,
    type,
    label: text(node, 'label'),
    length: int(node, 'length'),
    precision: int(node, 'precision'),
    scale: int(node, 'scale'),
    required,
    externalId: bool(node, 'externalId'),
    unique: bool(node, 'unique'),
    caseSensitive: bool(node, 'caseSensitive'),
    trackHistory: bool(node, 'trackHistory'),
    referenceTo: text(node, 'referenceTo'),
    relationshipName: text(node, 'relationshipName'),
    picklistValues: children(children(node, 'valueSet')[0], 'valueSetDefinition').flatMap((d) =>
      children(d, 'value').map((v) => text(v, 'fullName') ?? ''),
    ),
    standard: false,
    permissionable: !required && type !== 'MasterDetail',
    calculated: text(node, 'formula') !== undefined || type === 'Summary',
  };
}

/** Loads the package at `<repoRoot>/<packageDir>/main/default`. */
export function loadProject(repoRoot: string, packageDir = 'force-app'): Project {
  const base = path.join(repoRoot, packageDir, 'main', 'default');
  const files: MetadataFile[] = [];
  const unreadable = new Map<string, string>();
  for (const abs of metadataFilesUnder(path.join(repoRoot, packageDir))) {
    const rel = path.relative(repoRoot, abs);
    try {
      const { root, node } = parseMetadataXml(readFileSync(abs, 'utf8'));
      files.push({ file: rel, root, node });
    } catch (error) {
      unreadable.set(rel, error instanceof Error ? error.message : String(error));
    }
  }

  const objects = new Map<string, { info: Omit<ObjectInfo, 'fields'>; fields: Map<string, FieldInfo> }>();
  const ensure = (name: string) => {
    let o = objects.get(name);
    if (o === undefined) {
      o = {
        info: {
          name,
          kind: objectKind(name),
          file: undefined,
          label: undefined,
          pluralLabel: undefined,
          enableHistory: false,
        },
        fields: new Map(),
      };
      objects.set(name, o);
    }
    return o;
  };
  for (const [object, fields] of Object.entries(STANDARD_FIELDS)) {
    const o = ensure(object);
    for (const f of fields) {
      o.fields.set(f.name, {
        object,
        name: f.name,
        file: undefined,
        type: f.type,
        label: undefined,
        length: f.length,
        precision: undefined,
        scale: undefined,
        required: f.required === true,
        externalId: false,
        unique: false,
        caseSensitive: false,
        trackHistory: false,
        referenceTo: undefined,
        relationshipName: undefined,
        picklistValues: [],
        standard: true,
        permissionable: f.required !== true && f.nameField !== true && f.compound === undefined,
        calculated: false,
      });
    }
  }

  const objectsDir = path.join(path.relative(repoRoot, base), 'objects') + path.sep;
  for (const f of files) {
    if (!f.file.startsWith(objectsDir)) continue;
    const parts = f.file.slice(objectsDir.length).split(path.sep);
    const objectName = parts[0];
    if (objectName === undefined) continue;
    const o = ensure(objectName);
    if (f.root === 'CustomObject' && parts.length === 2) {
      o.info = {
        ...o.info,
        file: f.file,
        label: text(f.node, 'label'),
        pluralLabel: text(f.node, 'pluralLabel'),
        enableHistory: bool(f.node, 'enableHistory'),
      };
    } else if (f.root === 'CustomField' && parts[1] === 'fields') {
      const fullName = fieldName(f.node, f.file);
      const existing = o.fields.get(fullName);
      if (existing?.standard === true) {
        // A standard field's file only customises it (history tracking); type and length stay Salesforce's.
        o.fields.set(fullName, { ...existing, file: f.file, trackHistory: bool(f.node, 'trackHistory') });
      } else {
        o.fields.set(fullName, fieldFrom(objectName, { ...f.node, fullName: [fullName] }, f.file));
      }
    }
  }

  const result = new Map<string, ObjectInfo>();
  for (const [name, o] of [...objects.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    result.set(name, { ...o.info, fields: o.fields });
  }
  return { repoRoot, objects: result, files, unreadable };
}

/** Looks up `Object.Field`. */
export function findField(project: Project, objectDotField: string): FieldInfo | undefined {
  const dot = objectDotField.indexOf('.');
  if (dot <= 0) return undefined;
  return project.objects.get(objectDotField.slice(0, dot))?.fields.get(objectDotField.slice(dot + 1));
}
