/**
 * Field values: how the engine reads what the store holds (strings, numbers, Dates, whatever the core
 * chose), compares it the way Salesforce does, and writes it back in REST JSON types.
 */
import type { SoqlField, SoqlFieldType } from '../model.js';

/** Comparable form: numbers for numeric, date (UTC midnight ms) and datetime (ms) fields. */
export type Comparable = string | number | boolean | null;

const NUMERIC: ReadonlySet<SoqlFieldType> = new Set(['int', 'double', 'currency', 'percent']);
const ID_LIKE: ReadonlySet<SoqlFieldType> = new Set(['id', 'reference']);

export function isNumeric(type: SoqlFieldType): boolean {
  return NUMERIC.has(type);
}
export function isIdLike(type: SoqlFieldType): boolean {
  return ID_LIKE.has(type);
}
export function isTextual(type: SoqlFieldType): boolean {
  return !NUMERIC.has(type) && type !== 'boolean' && type !== 'date' && type !== 'datetime';
}

/** Accepts `Z`, `+0000`, `+00:00` and an optional fraction; returns epoch ms or NaN. */
export function parseDateTime(text: string): number {
  const normalised = text.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(normalised)) return NaN;
  return Date.parse(normalised);
}

/** `YYYY-MM-DD` -> UTC midnight ms, or NaN. */
export function parseDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function toMillis(raw: unknown, dateOnly: boolean): number | null {
  let ms: number;
  if (raw instanceof Date) ms = raw.getTime();
  else if (typeof raw === 'number') ms = raw;
  else if (typeof raw === 'string') {
    ms = parseDate(raw);
    if (Number.isNaN(ms)) ms = parseDateTime(raw);
  } else return null;
  if (Number.isNaN(ms)) return null;
  return dateOnly ? Math.floor(ms / 86_400_000) * 86_400_000 : ms;
}

/** The value as Salesforce compares it; strings keep their case here (comparisons fold it). */
export function comparable(type: SoqlFieldType, raw: unknown): Comparable {
  if (raw === null || raw === undefined || raw === '') return null;
  if (NUMERIC.has(type)) {
    const n = typeof raw === 'number' ? raw : Number(raw);
    return Number.isFinite(n) ? n : null;
  }
  if (type === 'boolean') return raw === true || raw === 'true' || raw === 'TRUE' || raw === 1;
  if (type === 'date') return toMillis(raw, true);
  if (type === 'datetime') return toMillis(raw, false);
  if (typeof raw === 'string') return raw;
  return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : JSON.stringify(raw);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** Salesforce's REST datetime form: `2026-11-22T01:02:03.000+0000`. */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${formatDate(ms)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `.${pad(d.getUTCMilliseconds(), 3)}+0000`
  );
}

/** The value as the REST API serialises it for a field of this type. */
export function restValue(field: SoqlField, raw: unknown): unknown {
  // History rows keep OldValue/NewValue typed (anyType in Salesforce) even though they are text here.
  if (isTextual(field.type) && (typeof raw === 'number' || typeof raw === 'boolean')) return raw;
  const value = comparable(field.type, raw);
  if (value === null) return null;
  if (field.type === 'date') return formatDate(value as number);
  if (field.type === 'datetime') return formatDateTime(value as number);
  return value;
}

/** Same value for Salesforce: text case-insensitively, ids on their case-sensitive 15-character stem. */
export function sameValue(type: SoqlFieldType, a: Comparable, b: Comparable): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (ID_LIKE.has(type))
      return a.slice(0, 15) === b.slice(0, 15) && (a.length !== 18 || b.length !== 18 || a === b);
    return a.toLowerCase() === b.toLowerCase();
  }
  return a === b;
}

/**
 * A bucket for `sameValue`: two values it calls equal always share a key (ids by their 15-character
 * form, strings folded to lower case), so `IN (...)` finds its candidates in a map instead of comparing
 * every row with every value.
 */
export function sameValueKey(type: SoqlFieldType, v: Exclude<Comparable, null>): string {
  if (typeof v === 'string') return ID_LIKE.has(type) ? `i${v.slice(0, 15)}` : `s${v.toLowerCase()}`;
  return `${typeof v}:${String(v)}`;
}

/** Ordering used by <, >, ORDER BY and MIN/MAX; nulls are handled by the callers. */
export function compareValues(a: Comparable, b: Comparable): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}
