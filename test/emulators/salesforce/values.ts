/**
 * Coercion and validation of one field value, with Salesforce's per-record error codes and messages
 * (`STRING_TOO_LONG`, `INVALID_EMAIL_ADDRESS`, `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`, ...).
 * Values arrive typed from JSON (REST) or as strings (Bulk CSV); both are accepted where Salesforce
 * accepts them. Stored values use the REST wire formats: datetimes as `2026-11-22T02:05:00.000+0000`.
 */
import { RecordError } from './errors.js';
import type { FieldDef } from './schema.js';

// Close to what Salesforce accepts: a dotted domain and the RFC 5322 local-part characters.
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A scalar as text for messages and comparisons (objects as JSON, never `[object Object]`). */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? '';
}

export function formatDateTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

export function parseDateTime(value: string): Date | undefined {
  const m = DATETIME.exec(value);
  if (!m) return undefined;
  const zone = m[4] === undefined ? 'Z' : m[4] === 'Z' ? 'Z' : m[4].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const seconds = m[3] === undefined ? ':00' : m[3].replace(/(\.\d{3})\d+$/, '$1');
  const ms = Date.parse(`${m[1]}T${m[2]}${seconds}${zone}`);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export function isValidDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function notOfType(field: FieldDef, value: unknown): RecordError {
  return new RecordError(
    'INVALID_TYPE_ON_FIELD_IN_RECORD',
    `${field.label}: value not of required type: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
    [field.name],
  );
}

/**
 * Returns the value to store, or throws a RecordError. `null` clears the field (checkboxes become false,
 * as in Salesforce). Reference values are checked for shape here; existence is checked by the caller.
 */
export function coerceValue(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return field.type === 'boolean' ? false : null;
  switch (field.type) {
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const lower = value.toLowerCase();
        if (lower === 'true' || lower === '1') return true;
        if (lower === 'false' || lower === '0') return false;
      }
      throw notOfType(field, value);
    }
    case 'int':
    case 'double':
    case 'currency':
    case 'percent': {
      return coerceNumber(field, value);
    }
    case 'date': {
      if (typeof value !== 'string' || !isValidDate(value)) throw notOfType(field, value);
      return value;
    }
    case 'datetime': {
      const d = typeof value === 'string' ? parseDateTime(value) : undefined;
      if (!d) throw notOfType(field, value);
      return formatDateTime(d);
    }
    case 'reference':
    case 'id': {
      if (typeof value !== 'string') throw notOfType(field, value);
      return value;
    }
    default: {
      return coerceText(field, value);
    }
  }
}

/** Numbers: finite, rounded to the field's scale, within its precision. */
function coerceNumber(field: FieldDef, value: unknown): number {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n)) throw notOfType(field, value);
  const scale = field.scale ?? 0;
  const rounded = Number(n.toFixed(scale));
  const integerDigits = Math.trunc(Math.abs(rounded)).toString().length;
  if (field.precision !== undefined && integerDigits > field.precision - scale && Math.trunc(rounded) !== 0) {
    throw new RecordError(
      'NUMBER_OUTSIDE_VALID_RANGE',
      `${field.label}: value outside of valid range on numeric field: ${asText(value)}`,
      [field.name],
    );
  }
  return field.type === 'int' ? Math.trunc(rounded) : rounded;
}

/** Text types: length, e-mail shape, restricted picklist values; '' stores null. */
function coerceText(field: FieldDef, value: unknown): string | null {
  if (typeof value === 'object') throw notOfType(field, value);
  const s = asText(value);
  if (s === '') return null;
  if (field.length !== undefined && s.length > field.length) {
    throw new RecordError(
      'STRING_TOO_LONG',
      `${field.label}: data value too large: ${s.length > 50 ? s.slice(0, 50) + '...' : s} (max length=${field.length})`,
      [field.name],
    );
  }
  if (field.type === 'email' && !EMAIL.test(s)) {
    throw new RecordError('INVALID_EMAIL_ADDRESS', `${field.label}: invalid email address: ${s}`, [
      field.name,
    ]);
  }
  if ((field.type === 'picklist' || field.type === 'multipicklist') && field.restrictedPicklist) {
    const allowed = new Set((field.picklistValues ?? []).map((p) => p.value));
    const chosen = field.type === 'multipicklist' ? s.split(';') : [s];
    const bad = chosen.find((c) => !allowed.has(c));
    if (bad !== undefined) {
      throw new RecordError(
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `${field.label}: bad value for restricted picklist field: ${bad}`,
        [field.name],
      );
    }
  }
  return s;
}

/** Salesforce's history `DataType` for a field type. */
export function historyDataType(field: FieldDef): string {
  const map: Record<string, string> = {
    string: 'Text',
    textarea: 'TextArea',
    email: 'Email',
    phone: 'Phone',
    url: 'Url',
    picklist: 'Picklist',
    multipicklist: 'MultiselectPicklist',
    boolean: 'Boolean',
    int: 'Double',
    double: 'Double',
    currency: 'Currency',
    percent: 'Percent',
    date: 'Date',
    datetime: 'DateTime',
    reference: 'EntityId',
    id: 'EntityId',
  };
  return map[field.type] ?? 'Text';
}
