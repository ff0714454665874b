import type { MatchPreview } from '../match/preview.js';
import { soqlString } from '../common/soql.js';
import { isBlank, sameSalesforceValue, type FieldTypes } from '../common/value-equality.js';

export type ChangeKind = 'set' | 'changed' | 'cleared';

export interface FieldChange {
  /** Field API name; a lookup written by external id appears as `Contact__r.Cliniko_Patient_Id__c`. */
  readonly field: string;
  readonly kind: ChangeKind;
  /** The values, for `--show-values` only: they may hold patient data. */
  readonly before: unknown;
  readonly after: unknown;
}

export interface RecordPreview {
  readonly object: string;
  readonly externalIdField: string;
  readonly externalId: string;
  /**
   * `drift`: Salesforce differs, but Cliniko has not changed since the sync last wrote this record (its
   * payload hash is the stored one), so a sync skips it; the nightly reconciliation repairs it.
   */
  readonly action: 'create' | 'update' | 'drift' | 'unchanged';
  /** A Contact create only: what matching existing records would do instead (sync/match/preview.ts). */
  readonly match?: MatchPreview;
  /** For a create, every field the sync would set (non-empty values); for an update, the differences. */
  readonly changes: readonly FieldChange[];
}

export interface DesiredRecord {
  readonly object: string;
  readonly externalIdField: string;
  readonly externalId: string;
  /** Flattened (see flattenFields), without the external id field. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The hash the runner's change detection computes for this payload, when known. */
  readonly payloadHash?: string;
}

/** A record the sync would quarantine instead of writing: the reason names fields, never values. */
export interface PreviewProblem {
  readonly resource: string;
  readonly recordId: string;
  readonly reason: string;
}

// What a sync would write, compared with what Salesforce holds (pure).

/**
 * `Contact__r: { Cliniko_Patient_Id__c: '1' }` (a lookup written by external id) becomes
 * `'Contact__r.Cliniko_Patient_Id__c': '1'`, the path SOQL reads it back by. Other fields are unchanged.
 */
export function flattenFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (field.endsWith('__r') && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        if (key !== 'attributes') out[`${field}.${key}`] = inner;
      }
    } else {
      out[field] = value;
    }
  }
  return out;
}

/** The value at a dotted path of a queried record (`Contact__r.Cliniko_Patient_Id__c`). */
export function valueAt(record: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return null;
    current = (current as Record<string, unknown>)[part];
  }
  return current ?? null;
}

/**
 * Field-by-field difference between what a sync would write and what Salesforce holds (`current`
 * undefined: no record with that external id, so the sync would create one). Values are compared with
 * the Salesforce value equality the reconciliation uses, by each field's metadata type (`types`:
 * `Object.Field` -> type; a field without one is judged by the shape of Salesforce's answer).
 */
export function diffRecord(
  desired: DesiredRecord,
  current: Readonly<Record<string, unknown>> | undefined,
  types: FieldTypes = new Map(),
): RecordPreview {
  const base = {
    object: desired.object,
    externalIdField: desired.externalIdField,
    externalId: desired.externalId,
  };
  const changes: FieldChange[] = [];
  if (current === undefined) {
    for (const [field, after] of Object.entries(desired.fields)) {
      if (!isBlank(after)) changes.push({ field, kind: 'set', before: null, after });
    }
    return { ...base, action: 'create', changes };
  }
  for (const [field, after] of Object.entries(desired.fields)) {
    const before = valueAt(current, field);
    if (sameSalesforceValue(after, before, types.get(`${desired.object}.${field}`))) continue;
    const kind: ChangeKind = isBlank(before) ? 'set' : isBlank(after) ? 'cleared' : 'changed';
    changes.push({ field, kind, before, after });
  }
  return { ...base, action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

/** The query reading the current values of these records; only the fields a sync would write. */
export function currentValuesQuery(
  object: string,
  externalIdField: string,
  fields: Iterable<string>,
  externalIds: readonly string[],
): string {
  const select = [...new Set(['Id', externalIdField, ...fields])];
  return `SELECT ${select.join(', ')} FROM ${object} WHERE ${externalIdField} IN (${externalIds.map(soqlString).join(', ')})`;
}
