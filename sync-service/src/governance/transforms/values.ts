import { TransformError, type SourceValues } from './types.js';

/**
 * Value helpers shared by the transforms: scalar coercions that throw `TransformError` naming the
 * problem, never the value. Pure.
 */

/** The value of a single-source entry (the projector passes only the fields the entry lists). */
export function only(input: SourceValues): unknown {
  const values = Object.values(input);
  return values[0];
}

export function isAbsent(value: unknown): value is undefined {
  return value === undefined;
}

export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

export function asText(value: unknown, what: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TransformError(`${what} is not text`);
}

export function trimmedOrNull(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Cliniko ids are strings holding 64-bit integers; never parse them as numbers. */
export const ID_PATTERN = /^\d{1,20}$/;

/** The id at the end of a Cliniko `links.self` URL, e.g. `.../v1/patients/123` -> `123`. */
export function idFromLink(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'object') throw new TransformError('link is not an object with links.self');
  const self = (value as { links?: { self?: unknown } }).links?.self;
  if (self === undefined || self === null) return null;
  if (typeof self !== 'string') throw new TransformError('links.self is not a URL');
  let path: string;
  try {
    path = new URL(self).pathname;
  } catch {
    throw new TransformError('links.self is not a URL');
  }
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!ID_PATTERN.test(last)) throw new TransformError('links.self does not end in a Cliniko id');
  return last;
}

export const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function validDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function dateValue(value: unknown): string | null | undefined {
  const text = asText(value, 'date');
  if (text === undefined || text === null) return text;
  if (!validDate(text)) throw new TransformError('date is not YYYY-MM-DD');
  return text;
}

export function dateTimeValue(value: unknown): string | null | undefined {
  const text = asText(value, 'date-time');
  if (text === undefined || text === null) return text;
  if (!ISO_DATETIME.test(text) || Number.isNaN(Date.parse(text))) {
    throw new TransformError('date-time is not ISO 8601 with a zone');
  }
  // Salesforce accepts ISO 8601; normalise to UTC milliseconds so equal instants compare equal.
  return new Date(text).toISOString();
}

/** Money arrives as a decimal string; Salesforce Currency(16,2) takes a number. */
export function moneyValue(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  const text = typeof value === 'number' ? String(value) : value;
  const m = typeof text === 'string' ? /^(-?)(\d{1,14})(?:\.(\d+))?$/.exec(text.trim()) : null;
  if (m === null) throw new TransformError('amount is not a decimal number');
  // Round half away from zero on the decimal digits themselves: binary floating point would turn
  // 1.005 into 1.00 (1.005 * 100 = 100.49999...).
  const [, sign = '', whole = '0', fraction = ''] = m;
  let cents = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  if ((fraction[2] ?? '0') >= '5') cents += 1n;
  const amount = Number(cents) / 100;
  return sign === '-' && amount !== 0 ? -amount : amount;
}

export function integerValue(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new TransformError('value is not a whole number');
  return n;
}

export function booleanOrNull(value: unknown, what: string): boolean | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'boolean') throw new TransformError(`${what} is not true/false`);
  return value;
}

/** Single-field inverses write the one source field the entry names. */
export function single(fields: readonly string[], value: unknown): SourceValues {
  const [field] = fields;
  if (field === undefined || fields.length !== 1)
    throw new TransformError('inverse needs exactly one source field');
  return { [field]: value };
}
