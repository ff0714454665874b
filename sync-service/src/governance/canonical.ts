import { createHash } from 'node:crypto';

/**
 * The canonical form of the data map that a sign-off covers (docs/data-map.md, "Canonical form").
 * Shared by the metadata generator (scripts/generate-metadata.ts, which writes the hash into
 * Data_Map_Signoff__mdt) and the service's sign-off gate, so that both always agree on one hash.
 *
 * Input is `entries` and `derived` exactly as parsed from the YAML (plain objects). The form:
 *  1. in each entry a `source` written as one field name becomes a one-element list, so
 *     `source: email` and `source: [email]` mean (and hash) the same;
 *  2. members whose value is `undefined` are dropped (a YAML key that is absent);
 *  3. object keys are sorted by UTF-16 code unit, at every depth; lists keep their order
 *     (the order of `source` matters: it is the order a transform reads its inputs in);
 *  4. `entries` are sorted by resource, then source list, then target (absent = empty), and
 *     `derived` by target; ties (identical keys, which validation rejects) fall back to the
 *     canonical JSON of the whole entry, so the result never depends on the order in the file;
 *  5. the document `{"derived":[...],"entries":[...]}` is serialised as JSON with no whitespace,
 *     and its sha256 is taken over the UTF-8 bytes, written as 64 lower-case hex digits.
 *
 * `version` and `signoff` are deliberately outside the hash: the sign-off records the hash.
 * Pure: no I/O.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function toJson(value: unknown, where: string): Json {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${where}: ${String(value)} has no JSON form`);
      return value;
    case 'object': {
      if (Array.isArray(value)) return value.map((v: unknown, i) => toJson(v, `${where}[${i}]`));
      // YAML may hand back a Date for an unquoted date; its canonical form is the calendar date.
      if (value instanceof Date) return value.toISOString().slice(0, 10);
      const out: { [key: string]: Json } = {};
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj).sort(compareCodeUnits)) {
        if (obj[key] !== undefined) out[key] = toJson(obj[key], `${where}.${key}`);
      }
      return out;
    }
    default:
      throw new TypeError(`${where}: a ${typeof value} has no JSON form`);
  }
}

/** Plain code-unit order (what `Array.prototype.sort` does by default), independent of locale. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object keys in code-unit order and no whitespace. */
function serialise(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(serialise).join(',')}]`;
  const keys = Object.keys(value).sort(compareCodeUnits);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${serialise(value[k] as Json)}`).join(',')}}`;
}

function asRecord(value: Json): Record<string, Json> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function sortKey(entry: Json, keys: readonly string[]): string {
  const record = asRecord(entry);
  // Each part is JSON-encoded so that a separator inside a value cannot make two keys collide.
  return keys.map((k) => serialise(record?.[k] ?? '')).join('\u0000');
}

function canonicalList(list: readonly unknown[], name: string, keys: readonly string[]): Json[] {
  return list
    .map((item, index) => {
      const json = toJson(item, `${name}[${index}]`);
      const record = asRecord(json);
      if (record !== undefined && typeof record.source === 'string') record.source = [record.source];
      return json;
    })
    .map((json) => ({ json, key: sortKey(json, keys), text: serialise(json) }))
    .sort((a, b) => compareCodeUnits(a.key, b.key) || compareCodeUnits(a.text, b.text))
    .map((item) => item.json);
}

/** The canonical JSON text of a data map's `entries` and `derived` lists (see the rules above). */
export function canonicalDataMapJson(entries: readonly unknown[], derived: readonly unknown[] = []): string {
  return serialise({
    derived: canonicalList(derived, 'derived', ['target']),
    entries: canonicalList(entries, 'entries', ['resource', 'source', 'target']),
  });
}

/** sha256 (lower-case hex) of `canonicalDataMapJson(entries, derived)`: the value a sign-off records. */
export function dataMapSha256(entries: readonly unknown[], derived: readonly unknown[] = []): string {
  return createHash('sha256').update(canonicalDataMapJson(entries, derived), 'utf8').digest('hex');
}
