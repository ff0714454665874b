import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';
import type { PayloadCipher } from './types.js';

/** Payloads as they are: this test reads no payload. */
const PLAIN: PayloadCipher = {
  encrypt: (text) => Buffer.from(text, 'utf8'),
  decrypt: (bytes) => Buffer.from(bytes).toString('utf8'),
};

/**
 * Checkpoints are 10,000 WAL pages apart within a run (sqlite.ts): a run's end must still reach the
 * database file itself. The oracle is the file alone, copied without its WAL, as a power loss that kept
 * only what was synced to it would leave it, opened by a connection of its own.
 */
let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-durability-'));
  store = new SqliteStore(join(dir, 'sync.db'), PLAIN);
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The runs the database file holds without its WAL. */
function runsInFileAlone(): Array<{ id: string; status: string }> {
  const copy = join(dir, `copy-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(join(dir, 'sync.db'), copy);
  const db = new DatabaseSync(copy, { readOnly: true });
  try {
    // Right after the migrations the file alone may not hold the table yet (they are in the WAL too).
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'runs'").get() === undefined) return [];
    return db.prepare('SELECT id, status FROM runs ORDER BY id').all() as Array<{
      id: string;
      status: string;
    }>;
  } finally {
    db.close();
  }
}

describe('SQLite: a finished run is in the database file', () => {
  it('after finishRun, not only in the WAL (control: a run still in progress is in the WAL only)', async () => {
    await store.startRun({ id: 'run-1', mode: 'backfill', startedAt: 1, dataMapHash: 'h' });
    await store.commitBatch({
      stream: 'patients',
      outbox: [
        {
          object: 'Contact',
          externalId: '1',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'h1',
          runId: 'run-1',
        },
      ],
      now: 2,
    });
    // Control: committed, but in the WAL only.
    expect(runsInFileAlone()).toEqual([]);

    await store.finishRun({ id: 'run-1', status: 'succeeded', finishedAt: 3, counts: '{}', error: null });
    expect(runsInFileAlone()).toEqual([{ id: 'run-1', status: 'succeeded' }]);
  });
});
