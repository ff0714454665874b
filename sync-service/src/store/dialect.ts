import type { Dialect } from './migrations.js';

/**
 * Every difference between the two SQL dialects the statements meet, in one place. The statements
 * (statements.ts) are written once, in PostgreSQL's numbered placeholders (`$1`); the SQLite adapter
 * rewrites them to SQLite's numbered form (`?1`), which binds the same way (a number used twice binds
 * one value). Upserts (`ON CONFLICT ... DO UPDATE`), `RETURNING` and `INSERT ... SELECT` are spelled
 * the same in both (SQLite >= 3.35; Node 24 ships 3.5x).
 */
export interface SqlDialect {
  readonly name: Dialect;
  /** `column` is one of the values of list parameter `$n`. */
  inList(column: string, n: number): string;
  /** The value bound to a list parameter. */
  listParam(values: readonly string[]): unknown;
  /** Row locks for a read that precedes a write in the same transaction (PostgreSQL only). */
  readonly forUpdate: string;
  /** Claim rows without waiting for another instance's claim (PostgreSQL only; SQLite has one writer). */
  readonly skipLocked: string;
}

export const POSTGRES: SqlDialect = {
  name: 'postgres',
  inList: (column, n) => `${column} = ANY($${n}::text[])`,
  listParam: (values) => [...values],
  forUpdate: 'FOR UPDATE',
  skipLocked: 'FOR UPDATE SKIP LOCKED',
};

export const SQLITE: SqlDialect = {
  name: 'sqlite',
  // One parameter holding a JSON array, so a list of any length binds as one value.
  inList: (column, n) => `${column} IN (SELECT value FROM json_each($${n}))`,
  listParam: (values) => JSON.stringify(values),
  forUpdate: '',
  skipLocked: '',
};

/** SQLite's spelling of numbered placeholders: `$3` -> `?3`. */
export function sqlitePlaceholders(sql: string): string {
  return sql.replace(/\$(\d+)/g, '?$1');
}
