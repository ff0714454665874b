import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE_SQL, migrationSql, pendingMigrations } from './migrations.js';
import { SqliteStore } from './sqlite.js';

/**
 * Migration 4 (issue #15) on a store that already holds several open dead letters for one record (what
 * the old code left behind): the newest stays open with its history, the older ones are closed with a
 * reason, and the one-open-letter index then holds.
 */
const identity = {
  encrypt: (t: string) => Buffer.from(t),
  decrypt: (b: Uint8Array) => Buffer.from(b).toString(),
};
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('migration 4: dead letter history', () => {
  it('keeps the newest open letter per record and closes the older duplicates', async () => {
    dir = mkdtempSync(join(tmpdir(), 'migration-4-'));
    const path = join(dir, 'sync.db');
    const db = new DatabaseSync(path);
    db.exec(MIGRATIONS_TABLE_SQL);
    for (const m of pendingMigrations(new Set()).filter((m) => m.version <= 3)) {
      db.exec(migrationSql('sqlite', m.sql));
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(
        m.version,
        m.name,
      );
    }
    const insert = db.prepare(
      `INSERT INTO dead_letters (object, external_id, operation, payload, payload_hash, error_code, error_message, attempts, run_id, created_at)
       VALUES (?, ?, 'upsert', ?, 'h', 'SALESFORCE_UNAVAILABLE', 'locked', 6, 'r', ?)`,
    );
    insert.run('Contact', '1', Buffer.from('{}'), 1_000);
    insert.run('Contact', '1', Buffer.from('{}'), 2_000);
    insert.run('Contact', '1', Buffer.from('{}'), 3_000);
    insert.run('Contact', '2', Buffer.from('{}'), 1_500); // control: a single letter stays as it was
    db.close();

    const store = new SqliteStore(path, identity);
    try {
      await store.migrate();
      const open = await store.listDeadLetters();
      expect(open.map((d) => [d.externalId, d.createdAt, d.totalAttempts])).toEqual([
        ['1', 3_000, 6],
        ['2', 1_500, 6],
      ]);
      const closed = (await store.listDeadLetters({ includeReplayed: true })).filter(
        (d) => d.replayedAt !== null,
      );
      expect(closed).toHaveLength(2);
      expect(closed.every((d) => d.replayOutcome?.startsWith('dropped: a newer dead letter'))).toBe(true);
    } finally {
      await store.close();
    }
  });
});
