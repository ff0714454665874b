import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_TABLE_SQL, migrationSql, pendingMigrations } from './migrations.js';
import { SqliteStore } from './sqlite.js';

/** A store file with the migrations up to `version` applied, as an earlier release left it. */
function storeAt(version: number, name: string): { path: string; db: DatabaseSync } {
  dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const path = join(dir, 'sync.db');
  const db = new DatabaseSync(path);
  db.exec(MIGRATIONS_TABLE_SQL);
  for (const m of pendingMigrations(new Set()).filter((m) => m.version <= version)) {
    db.exec(migrationSql('sqlite', m.sql));
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(
      m.version,
      m.name,
    );
  }
  return { path, db };
}

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
    const { path, db } = storeAt(3, 'migration-4');
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

/**
 * Migration 13 (issue #16) rebuilds audit_log without the index on hash: every entry keeps its seq and
 * bytes, and the sequence goes on where it was (an entry's seq is never handed out twice, even the
 * last one's after it was deleted), so the chain and its anchors still verify.
 */
describe('migration 13: lean write indexes', () => {
  const columns = 'seq, hash, prev_hash, object, external_id, created_at, entry';
  const indexes = (db: DatabaseSync, table: string) =>
    db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name`)
      .all(table)
      .map((r) => `${String(r.name)}${r.sql === null ? '' : `: ${String(r.sql)}`}`);

  it('keeps every audit entry and the sequence, and drops only the unused indexes', async () => {
    const { path, db } = storeAt(12, 'migration-13');
    const insert = db.prepare(
      'INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (let i = 1; i <= 6; i++)
      insert.run(`h${i}`, i === 1 ? null : `h${i - 1}`, 'Contact', `${i}`, i, `{"n":${i}}`);
    db.prepare('DELETE FROM audit_log WHERE seq IN (1, 6)').run(); // a pruned head and a deleted tail
    const before = db.prepare(`SELECT ${columns} FROM audit_log ORDER BY seq`).all();
    expect(indexes(db, 'audit_log')).toContain('sqlite_autoindex_audit_log_1');
    db.close();

    const store = new SqliteStore(path, identity);
    await store.migrate();
    await store.close();

    const after = new DatabaseSync(path);
    try {
      expect(after.prepare(`SELECT ${columns} FROM audit_log ORDER BY seq`).all()).toEqual(before);
      expect(indexes(after, 'audit_log')).toEqual([
        'audit_external_id: CREATE INDEX audit_external_id ON audit_log (external_id, seq)',
      ]);
      const next = after
        .prepare(
          "INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry) VALUES ('h7', 'h5', 'Contact', '7', 7, '{}') RETURNING seq",
        )
        .get();
      // 7, not 6: the deleted tail's seq is not handed out again (a fresh table's sequence would).
      expect(next?.seq).toBe(7);
      expect(indexes(after, 'outbox').filter((n) => !n.startsWith('sqlite_autoindex'))).toEqual([
        'outbox_blocked_by: CREATE INDEX outbox_blocked_by ON outbox (blocked_by) WHERE blocked_by IS NOT NULL',
        'outbox_claim: CREATE INDEX outbox_claim ON outbox (priority, id)',
        'outbox_lease_owner: CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE lease_owner IS NOT NULL',
      ]);
    } finally {
      after.close();
    }
  });
});
