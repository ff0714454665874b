import type { PackageField } from './data-map.js';

/**
 * Pure builders for the two lookups parseDataMap needs. The caller parses the files (YAML for the
 * OpenAPI document, XML for the field metadata) and passes the resulting objects in; see
 * sync-service/src/governance-io/ for the reader that does so from disk.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(doc: Json, schema: unknown, depth = 0): Json | undefined {
  if (!isObject(schema) || depth > 10) return undefined;
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) node = isObject(node) ? node[part] : undefined;
  return resolveRef(doc, node, depth + 1);
}

function propertyNames(doc: Json, schema: unknown, into: Set<string>, depth = 0): void {
  const resolved = resolveRef(doc, schema);
  if (resolved === undefined || depth > 10) return;
  if (isObject(resolved.properties)) for (const name of Object.keys(resolved.properties)) into.add(name);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = resolved[key];
    if (Array.isArray(list)) for (const part of list) propertyNames(doc, part, into, depth + 1);
  }
}

/**
 * Cliniko resource -> field names, from the official OpenAPI document: for every list endpoint
 * `GET /<resource>` whose 200 body is `{ <resource>: [items] }`, the item schema's properties.
 */
export function clinikoSpecFieldsFromOpenApi(doc: unknown): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  if (!isObject(doc) || !isObject(doc.paths)) throw new TypeError('not an OpenAPI document (no paths)');
  for (const [path, item] of Object.entries(doc.paths)) {
    const match = /^\/([a-z_]+)$/.exec(path);
    const resource = match?.[1];
    if (resource === undefined || !isObject(item) || !isObject(item.get)) continue;
    const responses = item.get.responses;
    const ok = isObject(responses) ? responses['200'] : undefined;
    const content = isObject(ok) && isObject(ok.content) ? ok.content['application/json'] : undefined;
    const body = isObject(content) ? resolveRef(doc, content.schema) : undefined;
    const list = body && isObject(body.properties) ? body.properties[resource] : undefined;
    if (!isObject(list) || list.type !== 'array') continue;
    const fields = new Set<string>();
    propertyNames(doc, list.items, fields);
    if (fields.size > 0) result.set(resource, fields);
  }
  return result;
}

/**
 * Standard Contact fields the sync writes (docs/data-model.md). Standard fields have source files in
 * force-app only when the package customises them (history tracking), and those files may omit the
 * type, so their types are known here.
 */
export const STANDARD_FIELDS: ReadonlyMap<string, PackageField> = new Map<string, PackageField>([
  ['Contact.FirstName', { type: 'Text', length: 40 }],
  ['Contact.LastName', { type: 'Text', length: 80 }],
  ['Contact.Email', { type: 'Email', length: 80 }],
  ['Contact.MobilePhone', { type: 'Phone', length: 40 }],
  ['Contact.HomePhone', { type: 'Phone', length: 40 }],
  ['Contact.Phone', { type: 'Phone', length: 40 }],
  ['Contact.MailingStreet', { type: 'TextArea', length: 255 }],
  ['Contact.MailingCity', { type: 'Text', length: 40 }],
  ['Contact.MailingState', { type: 'Text', length: 80 }],
  ['Contact.MailingPostalCode', { type: 'Text', length: 20 }],
  ['Contact.MailingCountry', { type: 'Text', length: 80 }],
  ['Contact.Birthdate', { type: 'Date' }],
  ['Contact.HasOptedOutOfEmail', { type: 'Checkbox' }],
  ['Contact.DoNotCall', { type: 'Checkbox' }],
]);

/** A CustomField as fast-xml-parser reads `<CustomField>` from a `.field-meta.xml` file. */
export interface CustomFieldMetadata {
  readonly fullName?: unknown;
  readonly type?: unknown;
  readonly length?: unknown;
  readonly referenceTo?: unknown;
}

/**
 * `Object.Field` -> type, from the package's field files plus the standard fields. `fields` pairs the
 * object folder name (`force-app/main/default/objects/<Object>/fields/<Field>.field-meta.xml`) with the
 * parsed `CustomField` element.
 */
export function packageFieldsFromMetadata(
  fields: Iterable<{ readonly object: string; readonly field: CustomFieldMetadata }>,
): Map<string, PackageField> {
  const result = new Map<string, PackageField>(STANDARD_FIELDS);
  for (const { object, field } of fields) {
    if (typeof field.fullName !== 'string') continue;
    const key = `${object}.${field.fullName}`;
    const standard = STANDARD_FIELDS.get(key);
    const type = typeof field.type === 'string' ? field.type : standard?.type;
    if (type === undefined) continue;
    const length = Number(field.length);
    result.set(key, {
      type,
      ...(Number.isInteger(length) && length > 0
        ? { length }
        : standard?.length
          ? { length: standard.length }
          : {}),
      ...(typeof field.referenceTo === 'string' ? { referenceTo: field.referenceTo } : {}),
    });
  }
  return result;
}

/** How the OpenAPI document declares one property of a resource (what the deny-list test classifies by). */
export interface SpecFieldShape {
  /** `string`, `integer`, `boolean`, `array`, `object`, ... (`unknown` when the schema names none). */
  readonly type: string;
  readonly format: string | undefined;
  /** True when the schema lists the allowed values (a code, not free text). */
  readonly enumerated: boolean;
}

function shapeOf(doc: Json, schema: unknown): SpecFieldShape {
  const resolved = resolveRef(doc, schema) ?? {};
  let type = resolved.type;
  // OpenAPI 3.1 writes a nullable string as `type: [string, 'null']`.
  if (Array.isArray(type)) type = type.find((t) => t !== 'null');
  if (type === undefined) {
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const list = resolved[key];
      if (!Array.isArray(list)) continue;
      const parts = list.map((p) => shapeOf(doc, p)).filter((p) => p.type !== 'null' && p.type !== 'unknown');
      if (parts.length > 0 && parts[0] !== undefined) return parts[0];
    }
  }
  return {
    type: typeof type === 'string' ? type : 'unknown',
    format: typeof resolved.format === 'string' ? resolved.format : undefined,
    enumerated: Array.isArray(resolved.enum),
  };
}

function propertyShapes(doc: Json, schema: unknown, into: Map<string, SpecFieldShape>, depth = 0): void {
  const resolved = resolveRef(doc, schema);
  if (resolved === undefined || depth > 10) return;
  if (isObject(resolved.properties)) {
    for (const [name, prop] of Object.entries(resolved.properties)) into.set(name, shapeOf(doc, prop));
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = resolved[key];
    if (Array.isArray(list)) for (const part of list) propertyShapes(doc, part, into, depth + 1);
  }
}

/** Cliniko resource -> field -> declared shape, from the same list endpoints as `clinikoSpecFieldsFromOpenApi`. */
export function clinikoFieldShapesFromOpenApi(doc: unknown): Map<string, Map<string, SpecFieldShape>> {
  const result = new Map<string, Map<string, SpecFieldShape>>();
  if (!isObject(doc) || !isObject(doc.paths)) throw new TypeError('not an OpenAPI document (no paths)');
  for (const [path, item] of Object.entries(doc.paths)) {
    const resource = /^\/([a-z_]+)$/.exec(path)?.[1];
    if (resource === undefined || !isObject(item) || !isObject(item.get)) continue;
    const responses = item.get.responses;
    const ok = isObject(responses) ? responses['200'] : undefined;
    const content = isObject(ok) && isObject(ok.content) ? ok.content['application/json'] : undefined;
    const body = isObject(content) ? resolveRef(doc, content.schema) : undefined;
    const list = body && isObject(body.properties) ? body.properties[resource] : undefined;
    if (!isObject(list) || list.type !== 'array') continue;
    const fields = new Map<string, SpecFieldShape>();
    propertyShapes(doc, list.items, fields);
    if (fields.size > 0) result.set(resource, fields);
  }
  return result;
}

/**
 * Free text, as the deny-list test reads the spec: a string with no `format` (a date, date-time, uri or
 * email is not prose) and no `enum` (a code). Every such field of a resource we read must be classified.
 */
export function isFreeTextShape(shape: SpecFieldShape): boolean {
  return shape.type === 'string' && shape.format === undefined && !shape.enumerated;
}
