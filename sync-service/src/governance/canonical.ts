import { hash } from 'node:crypto';

/**
 * The one canonical JSON of the service (issue #14: there used to be two, and they encoded dates
 * differently). Everything that is hashed goes through `canonicalJson`: runtime payloads and audit
 * entries (`payloadSha256`, the audit chain) and the data map a sign-off covers (`canonicalDataMapJson`).
 *
 * Encoding, the same at every depth:
 *  - object keys sorted by UTF-16 code unit (never locale order), no whitespace;
 *  - members whose value is `undefined` dropped; `undefined` inside a list written `null`
 *    (both as `JSON.stringify` does);
 *  - strings and numbers written by `JSON.stringify` (non-ASCII kept as is, lone surrogates escaped,
 *    `12.50` -> `12.5`, `-0` -> `0`, `1e21` -> `1e+21`);
 *  - a `Date` written as its full ISO-8601 instant (`toISOString`), so two instants never collide;
 *  - non-finite numbers, functions, symbols and bigints refused with an error naming the path: they
 *    have no JSON form, and silently writing `null` would hide a bug.
 *
 * The data map's form (docs/data-map.md, "Canonical form") is this encoding applied to a normalised
 * document; the normalisation is the map's own business (see `canonicalDataMapJson`). Pure: no I/O.
 */
export function canonicalJson(value: unknown, where = 'value'): string {
  if (isInCanonicalOrder(value)) return JSON.stringify(value);
  const path: Array<string | number> = [where];
  const ordered = inCanonicalOrder(value, path);
  return ordered === INTEGER_KEYS ? encode(value, [where]) : JSON.stringify(ordered);
}

/**
 * The same text as `encode`, made by `JSON.stringify` over a copy whose objects have their keys
 * inserted in sorted order (issue #16: joining the text member by member was about a fifth of what a
 * backfill allocated, three times a record). `JSON.stringify` writes an object's keys in insertion
 * order, except integer-like keys (`"10"`), which it writes first in numeric order: a value with one
 * anywhere (or an own `__proto__`, which assigning would not copy) is encoded by `encode` instead
 * (`INTEGER_KEYS`). The checks are `encode`'s, with its errors.
 * `canonicalJsonByParts` keeps the member-by-member encoder for the tests to compare against.
 */
function inCanonicalOrder(value: unknown, path: Array<string | number>): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`${pathText(path)}: non-finite number ${String(value)} has no JSON form`);
      return value;
    case 'object': {
      if (Array.isArray(value)) {
        const list: unknown[] = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (item === undefined) {
            list[i] = null;
            continue;
          }
          const ordered = orderedMember(item, i, path);
          if (ordered === INTEGER_KEYS) return INTEGER_KEYS;
          list[i] = ordered;
        }
        return list;
      }
      if (value instanceof Date) return value.toISOString();
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(obj).sort()) {
        if (key === '__proto__' || INTEGER_LIKE.test(key)) return INTEGER_KEYS;
        const member = obj[key];
        if (member === undefined) continue;
        const ordered = orderedMember(member, key, path);
        if (ordered === INTEGER_KEYS) return INTEGER_KEYS;
        out[key] = ordered;
      }
      return out;
    }
    default:
      throw new TypeError(`${pathText(path)}: a ${typeof value} has no JSON form`);
  }
}

/**
 * True when `JSON.stringify(value)` is already the canonical text (issue #16: a payload read back from
 * its canonical text, or an audit entry built in key order, is then written without a sorted copy):
 * plain objects (no prototype but Object's or none) whose keys are in strictly ascending code-unit
 * order, none integer-like or `__proto__`, and plain lists, down to strings, booleans, `null` and
 * finite numbers (`undefined` members and list items are written as `encode` writes them). Anything
 * else (a Date, a class instance, a boxed value, a key out of order, a value with no JSON form) is
 * false, and goes the general way with its checks and errors. Stops at the first such thing.
 */
export function isInCanonicalOrder(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      const prototype: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype || Object.hasOwn(value, 'toJSON')) return false;
        for (const item of value as unknown[])
          if (item !== undefined && !isInCanonicalOrder(item)) return false;
        return true;
      }
      if (prototype !== Object.prototype && prototype !== null) return false;
      let previous: string | undefined;
      for (const key of Object.keys(value)) {
        if (previous !== undefined && !(previous < key)) return false;
        if (key === '__proto__' || INTEGER_LIKE.test(key)) return false;
        const member = (value as Record<string, unknown>)[key];
        if (member !== undefined && !isInCanonicalOrder(member)) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

/** A member in canonical order, its step on the path while it is ordered (for an error's text). */
function orderedMember(member: unknown, step: string | number, path: Array<string | number>): unknown {
  path.push(step);
  const ordered = inCanonicalOrder(member, path);
  path.pop();
  return ordered;
}

/** A key `JSON.stringify` would move to the front (an array index: 0 to 2^32 - 2, no leading zero). */
const INTEGER_LIKE = /^(?:0|[1-9]\d{0,9})$/;
const INTEGER_KEYS = Symbol('integer-like keys');

/** The member-by-member encoder: what `canonicalJson` must always equal (canonical.test.ts). */
export function canonicalJsonByParts(value: unknown, where = 'value'): string {
  return encode(value, [where]);
}

/**
 * `path` is where `value` sits, as steps from the root (a key, or a list position), pushed and popped
 * around each member: the text of a path is built only for an error (issue #16: building it for every
 * member was a sizeable share of hashing a backfill's audit entries).
 */
function encode(value: unknown, path: Array<string | number>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new TypeError(`${pathText(path)}: non-finite number ${String(value)} has no JSON form`);
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return encodeList(value, path);
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      return encodeObject(value as Record<string, unknown>, path);
    default:
      throw new TypeError(`${pathText(path)}: a ${typeof value} has no JSON form`);
  }
}

function encodeList(list: readonly unknown[], path: Array<string | number>): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += ',';
    const item = list[i];
    if (item === undefined) {
      out += 'null';
      continue;
    }
    path.push(i);
    out += encode(item, path);
    path.pop();
  }
  return `${out}]`;
}

function encodeObject(obj: Record<string, unknown>, path: Array<string | number>): string {
  // The default sort compares UTF-16 code units, never locale order.
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const key of keys) {
    const member = obj[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ',';
    path.push(key);
    out += `${JSON.stringify(key)}:${encode(member, path)}`;
    path.pop();
  }
  return `${out}}`;
}

function pathText(path: ReadonlyArray<string | number>): string {
  return path
    .map((step, i) => (i === 0 ? String(step) : typeof step === 'number' ? `[${step}]` : `.${step}`))
    .join('');
}

/** Plain code-unit order (what `Array.prototype.sort` does by default), independent of locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 of UTF-8 text, as 64 lower-case hex digits. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** sha256 of the canonical JSON of a value: the payload fingerprint used by audit and change detection. */
export function payloadSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

// ---------------------------------------------------------------------------------------------------
// The data map's canonical document: what a sign-off covers (docs/data-map.md, "Canonical form").
// Shared by the metadata generator (scripts/generate-metadata.ts, which writes the hash into
// Data_Map_Signoff__mdt) and the service's sign-off gate, so both always agree on one hash.
//
// Input is `entries` and `derived` exactly as parsed from the YAML (plain objects). Normalisation,
// before the encoding above:
//  1. in each entry a `source` written as one field name becomes a one-element list, so
//     `source: email` and `source: [email]` mean (and hash) the same;
//  2. a date YAML hands back as a `Date` (an unquoted `2025-01-31` under the YAML 1.1 schema) becomes
//     its calendar date `"2025-01-31"`, the text the clinic wrote; every signed map was hashed so;
//  3. `entries` are sorted by resource, then source list, then target (absent = empty), and
//     `derived` by target; ties (identical keys, which validation rejects) fall back to the
//     canonical JSON of the whole entry, so the result never depends on the order in the file;
//  4. the document `{"derived":[...],"entries":[...]}` is encoded by `canonicalJson`, and its
//     sha256 taken over the UTF-8 bytes.
// `version` and `signoff` are deliberately outside the hash: the sign-off records the hash.
// ---------------------------------------------------------------------------------------------------

/** Rule 2: YAML dates become calendar-date strings, at any depth; everything else is kept. */
function calendarDates(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (Array.isArray(value)) return value.map(calendarDates);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(obj).map((k) => [k, calendarDates(obj[k])]));
  }
  return value;
}

function normaliseEntry(item: unknown): unknown {
  const value = calendarDates(item);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  return typeof record.source === 'string' ? { ...record, source: [record.source] } : record;
}

function sortKey(entry: unknown, keys: readonly string[]): string {
  const record =
    entry !== null && typeof entry === 'object' && !Array.isArray(entry)
      ? (entry as Record<string, unknown>)
      : {};
  // Each part is JSON-encoded so that a separator inside a value cannot make two keys collide.
  return keys.map((k) => canonicalJson(record[k] ?? '')).join('\u0000');
}

function canonicalList(list: readonly unknown[], name: string, keys: readonly string[]): string {
  const items = list
    .map((item, index) => {
      const json = normaliseEntry(item);
      return { key: sortKey(json, keys), text: canonicalJson(json, `${name}[${index}]`) };
    })
    .sort((a, b) => compareCodeUnits(a.key, b.key) || compareCodeUnits(a.text, b.text));
  return `[${items.map((item) => item.text).join(',')}]`;
}

/** The canonical JSON text of a data map's `entries` and `derived` lists (see the rules above). */
export function canonicalDataMapJson(entries: readonly unknown[], derived: readonly unknown[] = []): string {
  const derivedJson = canonicalList(derived, 'derived', ['target']);
  const entriesJson = canonicalList(entries, 'entries', ['resource', 'source', 'target']);
  return `{"derived":${derivedJson},"entries":${entriesJson}}`;
}

/** sha256 (lower-case hex) of `canonicalDataMapJson(entries, derived)`: the value a sign-off records. */
export function dataMapSha256(entries: readonly unknown[], derived: readonly unknown[] = []): string {
  return sha256Hex(canonicalDataMapJson(entries, derived));
}
