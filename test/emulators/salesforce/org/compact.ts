/**
 * How records are held in memory, so that an org of a million records fits in a few hundred MB.
 *
 * A stored record keeps only its non-null fields: a Contact has 68 fields of which a synced one fills
 * about 30, and a null costs a slot in every record. Readers treat a missing field as null (the REST
 * view, SOQL, history and the indexes all read `record[f] ?? null` or test for null and undefined);
 * the org's public face hands out `expandRecord`'s full view, every field present, null where empty,
 * in the schema's field order, which is what the org held before.
 *
 * The stored object is built by `Object.fromEntries`, which gives V8 a fast (shape-based) object. A
 * record built field by field with computed keys (`next[f.name] = ...`) falls into dictionary mode
 * after about 16 properties: a hash table of ~3 KB for a Contact instead of ~0.3 KB of slots.
 *
 * Repeated values are shared: 'Booked' parsed from a million request bodies is one string, not a
 * million. A text field's values are pooled while the field has shown at most `TEXT_POOL_LIMIT`
 * distinct values (a picklist, an appointment type, a clinic, a practitioner's name); beyond that the
 * field's pool is dropped, so that unique values (e-mail addresses, auto numbers) never cost an entry.
 */
import type { FieldDef, ObjectDef } from '../schema.js';
import type { ObjectLayout } from './store.js';
import type { Rec } from './types.js';

export const TEXT_POOL_LIMIT = 256;
const TEXT_POOLED = new Set(['string', 'picklist', 'multipicklist', 'textarea', 'url', 'phone', 'email']);

export class ValuePool {
  /** Per field: its pool, or `false` once the field has shown too many distinct values. */
  private readonly pools = new Map<FieldDef, Map<string, string> | false>();

  /** The one shared copy of a repeated text value; any other value as it is. */
  intern(field: FieldDef | undefined, value: unknown): unknown {
    if (typeof value !== 'string' || !field || !TEXT_POOLED.has(field.type)) return value;
    let pool = this.pools.get(field);
    if (pool === false) return value;
    if (pool === undefined) this.pools.set(field, (pool = new Map()));
    const shared = pool.get(value);
    if (shared !== undefined) return shared;
    if (pool.size >= TEXT_POOL_LIMIT) {
      this.pools.set(field, false);
      return value;
    }
    pool.set(value, value);
    return value;
  }
}

/** The record as stored: its non-null fields only, as a fast object, repeated text shared. */
export function compactRecord(
  layout: Pick<ObjectLayout, 'object' | 'byName'>,
  record: Rec,
  pool: ValuePool,
): Rec {
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === null || value === undefined) continue;
    const field = layout.byName.get(key) ?? layout.object.fields.get(key.toLowerCase());
    entries.push([key, pool.intern(field, value)]);
  }
  return Object.fromEntries<unknown>(entries);
}

/** The full view of a stored record: every field of the object (null when empty), in schema order. */
export function expandRecord(object: ObjectDef, record: Readonly<Rec>): Rec {
  const out: Rec = {};
  for (const f of object.fields.values()) out[f.name] = record[f.name] ?? null;
  for (const key of Object.keys(record)) if (!(key in out)) out[key] = record[key];
  return out;
}
