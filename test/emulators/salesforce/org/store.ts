/**
 * Record storage: one table per object, an id index (an 18-character id names its table), a value
 * index for external id and unique fields, id and auto-number counters, and a journal that makes a
 * batch transactional (rollback restores every record the batch touched, in reverse order); snapshots
 * of the business data.
 */
import { makeId, STANDARD_KEY_PREFIXES, to18 } from '../ids.js';
import type { FieldDef, ObjectDef, Schema } from '../schema.js';
import { asText, formatDateTime } from '../values.js';
import type { Clock } from './clock.js';
import { compactRecord, expandRecord, ValuePool } from './compact.js';
import type { OrgSnapshot, Rec } from './types.js';

interface Journal {
  saved: Map<string, { table: string; prev: Rec | undefined }>;
}

type ValueMap = Map<string, string | Set<string>>;

/**
 * What every save of an object needs of its fields, worked out once per schema (a deploy clears them,
 * `addMissingTables`): a backfill saves millions of records, and walking a Contact's 68 fields for
 * each (its indexed, required, unique, auto-numbered, history-tracked and lookup fields) cost a fifth
 * of a save.
 */
export interface ObjectLayout {
  readonly table: Map<string, Rec>;
  readonly object: ObjectDef;
  /** External id and unique fields, each with its value index. */
  readonly indexed: ReadonlyArray<{ readonly field: FieldDef; readonly byValue: ValueMap }>;
  readonly required: readonly FieldDef[];
  readonly unique: readonly FieldDef[];
  readonly autoNumbered: readonly FieldDef[];
  readonly tracked: readonly FieldDef[];
  /** Fields by their API name as written (`FirstName`): a record's keys, without lower-casing them. */
  readonly byName: ReadonlyMap<string, FieldDef>;
  /** Lookups by lower-cased relationship name (`contact__r`). */
  readonly relationships: ReadonlyMap<string, FieldDef>;
  /** A new record's fields before its values: null, or a checkbox's default. */
  readonly blank: Readonly<Rec>;
}

export class RecordStore {
  private readonly tables = new Map<string, Map<string, Rec>>();
  /**
   * An id's key prefix names its table (history objects share 017, so a few tables at most), so no map
   * from every id to its table is kept: that cost ~110 bytes a record. `strays` holds the ids whose
   * prefix is not their object's own (rows a snapshot or setup gave such an id).
   */
  private prefixTables = new Map<string, string[]>();
  private readonly strays = new Map<string, string>();
  /**
   * `object.field` (lower-cased) -> normalised value -> id, or ids when several records share the value
   * (a Set only then: a Set per value would cost ~100 bytes for each of a million external ids).
   */
  private readonly valueIndex = new Map<string, ValueMap>();
  private readonly layouts = new Map<ObjectDef, ObjectLayout>();
  private readonly pool = new ValuePool();
  private readonly counters = new Map<string, number>();
  private readonly autoNumbers = new Map<string, number>();
  private journal: Journal | undefined;
  /** CreatedById / LastModifiedById of system rows, once the admin user exists. */
  systemUserId: string | undefined;

  constructor(
    private readonly schema: Schema,
    private readonly clock: Clock,
    /** Called after every write to an object (security caches watch PermissionSetAssignment). */
    private readonly onWrite: (objectName: string) => void,
  ) {
    for (const object of schema.objects.values()) this.tables.set(object.name.toLowerCase(), new Map());
    this.indexPrefixes();
  }

  private indexPrefixes(): void {
    const byPrefix = new Map<string, string[]>();
    for (const object of this.schema.objects.values()) {
      const list = byPrefix.get(object.keyPrefix) ?? [];
      list.push(object.name.toLowerCase());
      byPrefix.set(object.keyPrefix, list);
    }
    this.prefixTables = byPrefix;
  }

  private ownsPrefix(tableKey: string, id: string): boolean {
    return this.prefixTables.get(id.slice(0, 3))?.includes(tableKey) === true;
  }

  /** Gives every object of the schema a table (a metadata deploy added objects); keeps existing ones. */
  addMissingTables(): void {
    this.layouts.clear();
    for (const object of this.schema.objects.values()) {
      const key = object.name.toLowerCase();
      if (!this.tables.has(key)) this.tables.set(key, new Map());
    }
    this.indexPrefixes();
  }

  table(objectName: string): Map<string, Rec> {
    const t = this.tables.get(objectName.toLowerCase());
    if (!t) throw new Error(`no table for ${objectName}`);
    return t;
  }

  private lastNow = '';
  private lastNowMs = Number.NaN;

  /**
   * The org clock's time as Salesforce writes it (CreatedDate, SystemModstamp), as one string while the
   * millisecond lasts: the records of one request share it instead of holding a copy each, and it is
   * formatted once.
   */
  now(): string {
    const ms = this.clock.now().getTime();
    if (ms !== this.lastNowMs) {
      this.lastNowMs = ms;
      this.lastNow = formatDateTime(new Date(ms));
    }
    return this.lastNow;
  }

  nextId(objectName: string): string {
    const object = this.schema.objects.get(objectName.toLowerCase());
    const prefix = object?.keyPrefix ?? STANDARD_KEY_PREFIXES[objectName] ?? '000';
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return makeId(prefix, n);
  }

  autoNumber(object: ObjectDef, field: FieldDef): string {
    const key = `${object.name}.${field.name}`;
    const n = (this.autoNumbers.get(key) ?? 0) + 1;
    this.autoNumbers.set(key, n);
    return (field.autoNumberFormat ?? '{0}').replace(/\{(0+)\}/, (_m, zeros: string) =>
      String(n).padStart(zeros.length, '0'),
    );
  }

  /** The object's layout (ObjectLayout), worked out on first use after a schema change. */
  layoutOf(object: ObjectDef): ObjectLayout {
    const known = this.layouts.get(object);
    if (known !== undefined) return known;
    const fields = [...object.fields.values()];
    const layout: ObjectLayout = {
      table: this.table(object.name),
      object,
      byName: new Map(fields.map((f) => [f.name, f])),
      indexed: fields
        .filter((f) => f.externalId || f.unique)
        .map((field) => ({ field, byValue: this.valueMap(object, field) })),
      required: fields.filter((f) => f.required),
      unique: fields.filter((f) => f.unique),
      autoNumbered: fields.filter((f) => f.autoNumberFormat),
      tracked: fields.filter((f) => f.trackHistory),
      relationships: lookupsByRelationship(fields),
      // Built whole (Object.fromEntries) so that it is a fast object, and so are its copies.
      blank: Object.fromEntries(
        fields.map((f) => [
          f.name,
          f.type === 'boolean' ? (typeof f.defaultValue === 'boolean' ? f.defaultValue : false) : null,
        ]),
      ),
    };
    this.layouts.set(object, layout);
    return layout;
  }

  private valueMap(object: ObjectDef, field: FieldDef): ValueMap {
    const key = `${object.name}.${field.name}`.toLowerCase();
    let byValue = this.valueIndex.get(key);
    if (!byValue) this.valueIndex.set(key, (byValue = new Map<string, string | Set<string>>()));
    return byValue;
  }

  private normalise(field: FieldDef, value: unknown): string {
    const s = typeof value === 'string' ? value : JSON.stringify(value);
    if (field.caseSensitive) return s;
    const lower = s.toLowerCase();
    // The stored value itself when lower-casing changes nothing (numbers, most ids): one string, not two.
    return lower === s ? s : lower;
  }

  private unindex(layout: ObjectLayout, record: Rec): void {
    for (const { field, byValue } of layout.indexed) {
      const v = record[field.name];
      if (v === null || v === undefined) continue;
      const normalised = this.normalise(field, v);
      const ids = byValue.get(normalised);
      if (ids === undefined) continue;
      if (typeof ids === 'string') {
        if (ids === record.Id) byValue.delete(normalised);
        continue;
      }
      ids.delete(String(record.Id));
      if (ids.size === 1) byValue.set(normalised, [...ids][0] ?? '');
      else if (ids.size === 0) byValue.delete(normalised);
    }
  }

  private index(layout: ObjectLayout, record: Rec): void {
    if (record.IsDeleted === true) return;
    for (const { field, byValue } of layout.indexed) {
      const v = record[field.name];
      if (v === null || v === undefined) continue;
      const normalised = this.normalise(field, v);
      const id = String(record.Id);
      const ids = byValue.get(normalised);
      if (ids === undefined || ids === id) byValue.set(normalised, id);
      else if (typeof ids === 'string') byValue.set(normalised, new Set([ids, id]));
      else ids.add(id);
    }
  }

  /** Ids of the records indexed under a value, in the order they were indexed. */
  private indexed(object: ObjectDef, field: FieldDef, value: unknown): string[] {
    const byValue =
      this.layoutOf(object).indexed.find((entry) => entry.field === field)?.byValue ??
      this.valueIndex.get(`${object.name}.${field.name}`.toLowerCase());
    const ids = byValue?.get(this.normalise(field, value));
    return ids === undefined ? [] : typeof ids === 'string' ? [ids] : [...ids];
  }

  /**
   * Writes (or removes, with `next` undefined) one record, keeping indexes and the journal. The record
   * is stored compact (compact.ts): its non-null fields only; a stored record is never changed in place.
   */
  put(object: ObjectDef, id: string, next: Rec | undefined): void {
    const layout = this.layoutOf(object);
    const { table } = layout;
    const prev = table.get(id);
    if (this.journal && !this.journal.saved.has(id)) {
      this.journal.saved.set(id, { table: object.name, prev });
    }
    if (prev) this.unindex(layout, prev);
    if (next) {
      const stored = compactRecord(layout, next, this.pool);
      table.set(id, stored);
      if (!prev) {
        const tableKey = object.name.toLowerCase();
        if (!this.ownsPrefix(tableKey, id)) this.strays.set(id, tableKey);
      }
      this.index(layout, stored);
    } else {
      table.delete(id);
      this.strays.delete(id);
    }
    this.onWrite(object.name);
  }

  /** Removes a row outside the journal and without the write hook (permission set unassignment). */
  removeRaw(objectName: string, id: string): void {
    this.table(objectName).delete(id);
    this.strays.delete(id);
  }

  /** A row the org itself writes (setup data): every field present, audit fields by the admin. */
  insertSystem(objectName: string, values: Rec): void {
    const object = this.schema.objects.get(objectName.toLowerCase());
    if (!object) throw new Error(`unknown object ${objectName}`);
    const now = formatDateTime(this.clock.now());
    const record: Rec = {};
    for (const f of object.fields.values()) record[f.name] = f.type === 'boolean' ? false : null;
    Object.assign(record, { CreatedDate: now, LastModifiedDate: now, SystemModstamp: now }, values);
    for (const key of Object.keys(record)) if (!object.fields.has(key.toLowerCase())) delete record[key];
    if (object.fields.has('createdbyid') && record.CreatedById === null && this.systemUserId)
      record.CreatedById = this.systemUserId;
    if (object.fields.has('lastmodifiedbyid') && record.LastModifiedById === null && this.systemUserId)
      record.LastModifiedById = this.systemUserId;
    this.put(object, String(record.Id), record);
  }

  /** Runs `work` in a transaction; rolls back when it throws or `shouldCommit` says no. Nests. */
  transaction<T>(work: () => T, shouldCommit: (result: T) => boolean): T {
    const outer = this.journal;
    this.journal = { saved: new Map() };
    try {
      const result = work();
      if (!shouldCommit(result)) this.rollback();
      return result;
    } catch (error) {
      this.rollback();
      throw error;
    } finally {
      this.journal = outer;
    }
  }

  private rollback(): void {
    const journal = this.journal;
    if (!journal) return;
    this.journal = undefined;
    for (const [id, { table, prev }] of [...journal.saved].reverse()) {
      const object = this.schema.objects.get(table.toLowerCase());
      if (object) this.put(object, id, prev);
    }
    this.journal = journal;
    journal.saved.clear();
  }

  findRecords(objectName: string, predicate: (r: Rec) => boolean): Rec[] {
    return [...this.table(objectName).values()].filter(predicate);
  }

  byId(id: string): { object: ObjectDef; record: Rec } | undefined {
    const full = to18(id);
    if (!full) return undefined;
    const stray = this.strays.get(full);
    for (const table of stray === undefined ? (this.prefixTables.get(full.slice(0, 3)) ?? []) : [stray]) {
      const record = this.tables.get(table)?.get(full);
      const object = this.schema.objects.get(table);
      if (record && object) return { object, record };
    }
    return undefined;
  }

  /** Live (not deleted) records whose `field` equals `value` (case rules of the field). */
  matchByField(object: ObjectDef, field: FieldDef, value: unknown): Rec[] {
    if (field.name === 'Id') {
      const hit = typeof value === 'string' ? this.byId(value) : undefined;
      return hit && hit.object === object && hit.record.IsDeleted !== true ? [hit.record] : [];
    }
    const table = this.table(object.name);
    if (field.externalId || field.unique) {
      return this.indexed(object, field, value)
        .map((id) => table.get(id))
        .filter((r): r is Rec => r !== undefined);
    }
    const wanted = this.normalise(field, value);
    return [...table.values()].filter(
      (r) =>
        r.IsDeleted !== true &&
        r[field.name] !== null &&
        r[field.name] !== undefined &&
        this.normalise(field, r[field.name]) === wanted,
    );
  }

  /** Business data (standard, custom and history objects) and id counters, for a snapshot file. */
  snapshot(): OrgSnapshot {
    const tables: Record<string, Rec[]> = {};
    for (const object of this.schema.objects.values()) {
      if (!['standard', 'custom', 'history'].includes(object.category)) continue;
      const rows = [...this.table(object.name).values()].map((r) => expandRecord(object, r));
      if (rows.length > 0) tables[object.name] = rows;
    }
    return {
      version: 1,
      tables,
      counters: Object.fromEntries(this.counters),
      autoNumbers: Object.fromEntries(this.autoNumbers),
    };
  }

  /**
   * Loads a snapshot taken by snapshot(). Objects or fields that no longer exist in force-app are
   * reported, not silently dropped: the caller decides whether a schema change invalidates the file.
   */
  restore(snapshot: OrgSnapshot): void {
    if (snapshot.version !== 1)
      throw new Error(`snapshot version ${String(snapshot.version)} is not supported`);
    for (const [objectName, rows] of Object.entries(snapshot.tables)) {
      const object = this.schema.objects.get(objectName.toLowerCase());
      if (!object) throw new Error(`snapshot holds ${objectName}, which the project no longer defines`);
      for (const row of rows) {
        const unknown = Object.keys(row).filter((k) => !object.fields.has(k.toLowerCase()));
        if (unknown.length > 0)
          throw new Error(
            `snapshot record ${objectName} ${asText(row.Id)}: unknown fields ${unknown.join(', ')}`,
          );
        this.put(object, asText(row.Id), { ...row });
      }
    }
    for (const [prefix, n] of Object.entries(snapshot.counters))
      this.counters.set(prefix, Math.max(n, this.counters.get(prefix) ?? 0));
    for (const [key, n] of Object.entries(snapshot.autoNumbers)) this.autoNumbers.set(key, n);
  }
}

/** An object's lookups by lower-cased relationship name; the first in field order when two share one. */
function lookupsByRelationship(fields: readonly FieldDef[]): Map<string, FieldDef> {
  const byName = new Map<string, FieldDef>();
  for (const f of fields) {
    const name = f.type === 'reference' ? f.relationshipName?.toLowerCase() : undefined;
    if (name !== undefined && !byName.has(name)) byName.set(name, f);
  }
  return byName;
}
