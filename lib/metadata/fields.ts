import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseMetadataXml, text, texts, type XmlNode } from './xml.js';

/**
 * The one reader of `*.field-meta.xml` files: walks `<objectsDir>/<Object>/fields/` and parses each
 * field with the shared parser (xml.ts). Objects and files come back sorted, so everything built from
 * them (key prefixes in the emulator, generated JSON) is stable from run to run.
 */

export interface FieldFile {
  /** The object folder's name (`Contact`, `Cliniko_Invoice__c`). */
  readonly object: string;
  /** The field's API name: `<fullName>`, or the file name when the element is absent. */
  readonly name: string;
  /** Path of the file, as found under `objectsDir`. */
  readonly file: string;
  /** The parsed `<CustomField>` element (every child a list; see xml.ts). */
  readonly node: XmlNode;
}

/** The field's API name: `<fullName>`, falling back to the file name (`Email__c.field-meta.xml`). */
export function fieldName(node: XmlNode, file: string): string {
  return text(node, 'fullName') ?? path.basename(file).replace(/\.field-meta\.xml$/, '');
}

/** Parses one field file; throws naming the file when it is not a `<CustomField>` document. */
export function readFieldFile(object: string, file: string): FieldFile {
  const { root, node } = parseMetadataXml(readFileSync(file, 'utf8'));
  if (root !== 'CustomField') throw new Error(`${file}: expected a <CustomField> document, found <${root}>`);
  return { object, name: fieldName(node, file), file, node };
}

function sortedDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((entry) => statSync(path.join(dir, entry)).isDirectory())
    .sort();
}

/** Every field file of one object folder (`<objectDir>/fields/*.field-meta.xml`), sorted by file name. */
export function readObjectFields(object: string, objectDir: string): FieldFile[] {
  const fieldsDir = path.join(objectDir, 'fields');
  if (!existsSync(fieldsDir)) return []; // an object without field files
  return readdirSync(fieldsDir)
    .filter((f) => f.endsWith('.field-meta.xml'))
    .sort()
    .map((f) => readFieldFile(object, path.join(fieldsDir, f)));
}

/** Every field file under an `objects/` folder, objects in name order. */
export function readFieldFiles(objectsDir: string): FieldFile[] {
  return sortedDirs(objectsDir).flatMap((object) => readObjectFields(object, path.join(objectsDir, object)));
}

/** The few facts a consumer outside Salesforce needs about a field: type, length, lookup target. */
export interface FieldSummary {
  readonly object: string;
  readonly name: string;
  /** Metadata type (`Text`, `Email`, `Lookup`, ...); absent in a standard field's customisation file. */
  readonly type?: string;
  /** The `<length>` text as written (absent when there is none). */
  readonly length?: string;
  /** The first `<referenceTo>` of a lookup. */
  readonly referenceTo?: string;
}

export function summariseField(field: FieldFile): FieldSummary {
  const type = text(field.node, 'type');
  const length = text(field.node, 'length');
  const [referenceTo] = texts(field.node, 'referenceTo');
  return {
    object: field.object,
    name: field.name,
    ...(type !== undefined ? { type } : {}),
    ...(length !== undefined ? { length } : {}),
    ...(referenceTo !== undefined ? { referenceTo } : {}),
  };
}
