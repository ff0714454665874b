import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { DatabaseConfig } from '../config/index.js';

/**
 * A real round trip to the configured database (`SELECT 1`), for /health: resolves true when it
 * answers. SQLite: the file is opened
 * (and its folder created) as the store will open it. PostgreSQL: one short-lived connection.
 */
export function createDatabaseProbe(database: DatabaseConfig): () => Promise<boolean> {
  if (database.kind === 'sqlite') {
    return () => {
      if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
      const db = new DatabaseSync(database.path);
      try {
        const row = db.prepare('SELECT 1 AS one').get() as { one: number } | undefined;
        return Promise.resolve(row?.one === 1);
      } finally {
        db.close();
      }
    };
  }
  return async () => {
    const client = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      const result = await client.query<{ one: number }>('SELECT 1 AS one');
      return result.rows[0]?.one === 1;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}
