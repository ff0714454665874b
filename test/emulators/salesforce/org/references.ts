/**
 * Lookups in DML: a relationship written by the parent's external id (`Contact__r: { Ext__c: "42" }`
 * in REST, the column `Contact__r.Ext__c` in Bulk) resolves to the parent's id; an id written directly
 * must name a live record of an allowed type.
 */
import { RecordError } from '../errors.js';
import { to18 } from '../ids.js';
import type { FieldDef, ObjectDef } from '../schema.js';
import { asText } from '../values.js';
import type { OrgCore } from './core.js';
import type { ObjectLayout } from './store.js';
import type { Rec } from './types.js';

/** The lookup a key such as `Contact__r` or `Contact__r.Ext__c` writes through, if any. */
export function relationshipOf(
  layout: Pick<ObjectLayout, 'relationships'>,
  key: string,
): { field: FieldDef; extFieldName?: string } | undefined {
  // Asked for every column of every row a save carries: one look-up in the object's lookups by
  // relationship name (store.ts, ObjectLayout), never a walk of its fields.
  const [relName, extFieldName] = key.split('.');
  if (!relName) return undefined;
  const field = layout.relationships.get(relName.toLowerCase());
  if (field === undefined) return undefined;
  return extFieldName === undefined ? { field } : { field, extFieldName };
}

/** REST's relationship object: `{ attributes?: { type }, <one external id field>: value }`. */
function parseRelationshipObject(
  field: FieldDef,
  raw: unknown,
): { targetName: string | undefined; extName: string; value: unknown } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RecordError(
      'INVALID_FIELD',
      `${field.relationshipName}: a relationship must be an object naming one external id field`,
      [field.name],
    );
  }
  const entries = Object.entries(raw as Rec).filter(([k]) => k !== 'attributes');
  const attributes = (raw as Rec).attributes as { type?: string } | undefined;
  if (entries.length !== 1 || !entries[0]) {
    throw new RecordError(
      'INVALID_FIELD',
      `${field.relationshipName}: a relationship must name exactly one external id field`,
      [field.name],
    );
  }
  const [extName, value] = entries[0];
  return { targetName: attributes?.type || undefined, extName, value };
}

/**
 * `Contact__r: { Cliniko_Patient_Id__c: "42" }` (REST) or the column `Contact__r.Cliniko_Patient_Id__c`
 * (Bulk) -> the parent's id. null clears the lookup.
 */
export function resolveReference(
  core: OrgCore,
  userId: string,
  field: FieldDef,
  extFieldName: string | undefined,
  raw: unknown,
): string | null {
  let targetName = field.referenceTo?.[0] ?? '';
  let extName = extFieldName;
  let value: unknown = raw;
  if (extName === undefined) {
    if (raw === null) return null;
    const parsed = parseRelationshipObject(field, raw);
    if (parsed.targetName) targetName = parsed.targetName;
    extName = parsed.extName;
    value = parsed.value;
  }
  if (value === null || value === '') return null;
  const target = core.schema.objects.get(targetName.toLowerCase());
  if (!target || !(field.referenceTo ?? []).some((t) => t.toLowerCase() === targetName.toLowerCase())) {
    throw new RecordError(
      'INVALID_FIELD',
      `${field.relationshipName}: ${targetName} is not a valid type for this relationship`,
      [field.name],
    );
  }
  const extField = extName === undefined ? undefined : core.security.visibleField(userId, target, extName);
  if (!extField || !(extField.externalId || extField.idLookup)) {
    throw new RecordError(
      'INVALID_FIELD',
      `Field ${extName ?? ''} does not exist or is not an external id field on ${target.name}`,
      [field.name],
    );
  }
  return uniqueParent(core, target, extField, value);
}

function uniqueParent(core: OrgCore, target: ObjectDef, extField: FieldDef, value: unknown): string {
  const matches = core.store.matchByField(target, extField, asText(value));
  if (matches.length === 0) {
    throw new RecordError(
      'INVALID_FIELD',
      `Foreign key external ID: ${asText(value)} not found for field ${extField.name} in entity ${target.name}`,
      [],
    );
  }
  if (matches.length > 1) {
    throw new RecordError(
      'INVALID_FIELD',
      `Foreign key external ID: ${asText(value)} matches more than one record for field ${extField.name} in entity ${target.name}`,
      [],
    );
  }
  return String(matches[0]?.Id);
}

/** An id written to a lookup: well formed, and a live record of a type the lookup allows. */
export function checkReference(core: OrgCore, field: FieldDef, value: string): string {
  const full = to18(value);
  if (!full)
    throw new RecordError('MALFORMED_ID', `${field.label}: id value of incorrect type: ${value}`, [
      field.name,
    ]);
  const hit = core.store.byId(full);
  const allowed = (field.referenceTo ?? []).map((t) => t.toLowerCase());
  if (!hit || !allowed.includes(hit.object.name.toLowerCase()) || hit.record.IsDeleted === true) {
    throw new RecordError(
      'INVALID_CROSS_REFERENCE_KEY',
      `${field.label}: id value of incorrect type: ${value}`,
      [field.name],
    );
  }
  // The parent's own id string (the same characters as `full`): a million lookups share it.
  return String(hit.record.Id);
}
