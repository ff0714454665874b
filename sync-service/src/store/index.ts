import type { DatabaseConfig } from '../config/index.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { PayloadCipher, Store } from './types.js';

export type * from './types.js';
export { SqliteStore } from './sqlite.js';
export { PostgresStore } from './postgres.js';

/** Opens the configured store (not yet migrated: call `migrate()`). */
export function createStore(database: DatabaseConfig, cipher: PayloadCipher): Store {
  return database.kind === 'postgres'
    ? new PostgresStore(database.url, cipher)
    : new SqliteStore(database.path, cipher);
}
export { holdBlockKey } from './contact-holds.js';

/**
 * Whether the store applies calls in the order they are made, so that a read sent after a write sees
 * it even before the write's promise settles: SQLite (one connection, used by one thread at a time),
 * not PostgreSQL (a pool may answer a later call from another connection first).
 */
export function appliesCallsInOrder(store: Pick<Store, 'kind'>): boolean {
  return store.kind === 'sqlite';
}
