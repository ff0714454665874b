import type { Dialect } from './migrations.js';

/**
 * Every difference between the two SQL dialects the statements meet, in one place. The statements
 * (statements.ts) are written once, in PostgreSQL's numbered placeholders (`$1`); the SQLite adapter
 * rewrites them to SQLite's numbered form (`?1`), which binds the same way (a number used twice binds
 * one value). Upserts (`ON CONFLICT ... DO UPDATE`), `RETURNING`, `INSERT ... SELECT`, `WITH` before
 * INSERT/UPDATE/DELETE, row values (`(a, b) IN (SELECT ...)`) and the JSON operator `->>` are spelled the
 * same in both (SQLite >= 3.45 for jsonb_each; Node 24 ships 3.5x).
 */
export interface SqlDialect {
  readonly name: Dialect;
  /** `column` is one of the values of list parameter `$n`. */
  inList(column: string, n: number): string;
  /** The value bound to a list parameter. */
  listParam(values: readonly string[]): unknown;
  /** `column` (an integer key, e.g. `outbox.id`) is one of list parameter `$n`, compared as integers. */
  inIds(column: string, n: number): string;
  /** The value bound to an id list parameter (ids as decimal text, as the store hands them out). */
  idsParam(ids: readonly string[]): unknown;
  /**
   * The rows of JSON array parameter `$n` (issue #16: one parameter carries a whole batch, so a batch is
   * one statement, not one per row): a FROM item `alias(value, ord)`, each element and its position
   * (for ORDER BY only: it counts from 1 in PostgreSQL, from 0 in SQLite). Fields are read as
   * `alias.value ->> 'field'` in both dialects (text, or NULL for null).
   */
  jsonRows(n: number, alias: string): string;
  /** Bytes from hex text: binary columns travel inside the JSON parameter as hex. */
  fromHex(expr: string): string;
  /**
   * Whether a list of rows is inserted by one statement over a JSON parameter (PostgreSQL: each
   * statement is a round trip) or by one prepared statement per row (SQLite: in process, measured the
   * cheaper form there; set-statements.ts).
   */
  readonly insertsAsSets: boolean;
  /**
   * `column`, kept from choosing an index for the term it is in (SQLite's unary `+`; PostgreSQL plans
   * from statistics and needs no hint).
   */
  noIndex(column: string): string;
  /** Row locks for a read that precedes a write in the same transaction (PostgreSQL only). */
  readonly forUpdate: string;
  /** Claim rows without waiting for another instance's claim (PostgreSQL only; SQLite has one writer). */
  readonly skipLocked: string;
}

export const POSTGRES: SqlDialect = {
  name: 'postgres',
  inList: (column, n) => `${column} = ANY($${n}::text[])`,
  listParam: (values) => [...values],
  inIds: (column, n) => `${column} = ANY($${n}::bigint[])`,
  idsParam: (ids) => ids.map(Number),
  jsonRows: (n, alias) => `jsonb_array_elements($${n}::jsonb) WITH ORDINALITY AS ${alias}(value, ord)`,
  fromHex: (expr) => `decode(${expr}, 'hex')`,
  insertsAsSets: true,
  noIndex: (column) => column,
  forUpdate: 'FOR UPDATE',
  skipLocked: 'FOR UPDATE SKIP LOCKED',
};

export const SQLITE: SqlDialect = {
  name: 'sqlite',
  // One parameter holding a JSON array, so a list of any length binds as one value.
  inList: (column, n) => `${column} IN (SELECT value FROM json_each($${n}))`,
  listParam: (values) => JSON.stringify(values),
  // Integers in the JSON array, so the comparison uses the integer primary key's index (comparing
  // `CAST(id AS TEXT)` instead scanned the whole outbox).
  inIds: (column, n) => `${column} IN (SELECT value FROM json_each($${n}))`,
  idsParam: (ids) => JSON.stringify(ids.map(Number)),
  // jsonb_each: the array is parsed once into SQLite's binary JSON, and `->>` reads each field from it
  // without parsing the element's text again (measured a third cheaper than json_each).
  jsonRows: (n, alias) => `(SELECT value, key AS ord FROM jsonb_each($${n})) AS ${alias}`,
  fromHex: (expr) => `unhex(${expr})`,
  insertsAsSets: false,
  noIndex: (column) => `+${column}`,
  forUpdate: '',
  skipLocked: '',
};

/** SQLite's spelling of numbered placeholders: `$3` -> `?3`. */
export function sqlitePlaceholders(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}
