/**
 * The running service's SQLite store on a thread of its own (sync-service/src/runtime/threaded-store.ts):
 * what the thread adds to the store's contract (store-conformance.test.ts runs that contract against it).
 * Audit rows are built on the service's thread onto the head it expects; the oracle for the chain is
 * the governance verification over the rows as stored, read back through a plain connection to the
 * file, with a chain forked on purpose as the control.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../sync-service/src/errors.js';
import {
  buildAuditEntry,
  verifyAuditChain,
  type AuditEntry,
} from '../../sync-service/src/governance/audit.js';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { openThreadedSqlite } from '../../sync-service/src/runtime/threaded-store.js';
import { SqliteStore, type Store } from '../../sync-service/src/store/index.js';
import { appendEntry, chainHeadOf, walkAuditLog } from '../../sync-service/src/sync/common/audit-log.js';

const KEY = Buffer.alloc(32, 9);
const T0 = 1_800_000_000_000;

const entryInput = (externalId: string) => ({
  timestamp: new Date(T0).toISOString(),
  actor: 'test',
  sourceSystem: 'sync-service' as const,
  object: 'Contact',
  externalId,
  operation: 'update' as const,
  changedFields: ['Email'],
  payload: { n: externalId },
  runId: 'r',
});

let dir: string;
let path: string;
const opened: Store[] = [];
const open = (): Store => {
  const store = openThreadedSqlite(path, { active: KEY, retired: [] });
  opened.push(store);
  return store;
};
/** The same file through a plain connection on this thread (another writer, and the oracle's reader). */
const plain = (): Store => {
  const store = new SqliteStore(path, keyringCipher(createKeyring(KEY)));
  opened.push(store);
  return store;
};

async function storedChain(): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  const { rowProblem } = await walkAuditLog(plain(), (e) => entries.push(e));
  expect(rowProblem).toBeUndefined();
  return entries;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'threaded-store-'));
  path = join(dir, 'sync.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the SQLite store on its own thread', () => {
  it('chains audit rows built ahead, in call order, when another writer appends meanwhile', async () => {
    const store = open();
    await store.migrate();
    const other = plain();
    // Forty appends made at once, and another connection appending between them: the rows of some
    // calls were built onto a head that moved, are refused whole and built again.
    const calls = Array.from({ length: 40 }, (_, i) =>
      store.completeWrites([], appendEntry(entryInput(`t${i}`), T0), T0),
    );
    for (let i = 0; i < 5; i++) await other.completeWrites([], appendEntry(entryInput(`o${i}`), T0), T0);
    await Promise.all(calls);
    const entries = await storedChain();
    expect(entries).toHaveLength(45);
    expect(verifyAuditChain(entries)).toMatchObject({ ok: true, count: 45 });
    // The thread's own calls kept their order.
    const own = entries.map((e) => e.externalId).filter((id) => id.startsWith('t'));
    expect(own).toEqual(Array.from({ length: 40 }, (_, i) => `t${i}`));
  });

  it('control: a row built onto a stale head and stored unchecked forks the chain, and the oracle says so', async () => {
    const store = open();
    await store.migrate();
    await store.completeWrites([], appendEntry(entryInput('a'), T0), T0);
    const stale = (await storedChain()).at(-1)!;
    await store.completeWrites([], appendEntry(entryInput('b'), T0), T0);
    // What the thread refuses: rows chained onto the head as it was before 'b'.
    const forked = buildAuditEntry(entryInput('c'), { seq: stale.seq, hash: stale.hash });
    await plain().completeWrites(
      [],
      () => [
        {
          hash: forked.hash,
          prevHash: forked.previousHash,
          object: 'Contact',
          externalId: 'c',
          createdAt: T0,
          entry: JSON.stringify(forked),
        },
      ],
      T0,
    );
    expect(verifyAuditChain(await storedChain())).toMatchObject({ ok: false });
  });

  it('runs a callback that needs what only the transaction knows (a prune and its count) on this thread', async () => {
    const store = open();
    await store.migrate();
    for (const id of ['a', 'b']) await store.completeWrites([], appendEntry(entryInput(id), T0), T0);
    await store.completeWrites([], appendEntry(entryInput('c'), T0 + 5), T0 + 5);
    const head = (await storedChain()).at(-1)!.hash;
    let seen: { previous: string | undefined; pruned: number } | undefined;
    const pruned = await store.pruneAudit(T0 + 1, (previous, count) => {
      seen = { previous: previous?.hash, pruned: count };
      const entry = buildAuditEntry({ ...entryInput('-'), object: 'audit-log' }, chainHeadOf(previous));
      return {
        hash: entry.hash,
        prevHash: entry.previousHash,
        object: 'audit-log',
        externalId: '-',
        createdAt: T0 + 2,
        entry: JSON.stringify(entry),
      };
    });
    expect(pruned).toBe(2);
    expect(seen).toEqual({ previous: head, pruned: 2 });
  });

  it('hands errors back with their codes: the database’s, and a callback’s, each rolling its call back', async () => {
    const store = open();
    await store.migrate();
    for (const id of ['a', 'b']) await store.completeWrites([], appendEntry(entryInput(id), T0), T0);
    // The database refuses inside the store's transaction (a trigger made through another connection).
    const db = new DatabaseSync(path);
    db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON facts BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    );
    db.close();
    const batch = {
      stream: 's',
      facts: [{ resource: 'patients', id: '1', patientId: '1', data: '{}' }],
      now: T0,
    };
    await expect(store.commitBatch(batch)).rejects.toMatchObject({
      code: 'ERR_SQLITE_ERROR',
      message: expect.stringContaining('refused by the test') as unknown,
    });
    // A callback failing on this thread fails the call inside its transaction: nothing pruned.
    await expect(
      store.pruneAudit(T0 + 1, () => {
        throw new SyncError('AUDIT_CHAIN_BROKEN', 'the prune entry could not be built');
      }),
    ).rejects.toMatchObject({ name: 'SyncError', code: 'AUDIT_CHAIN_BROKEN' });
    expect(await storedChain()).toHaveLength(2);
    // Control: the calls succeed once nothing refuses them.
    const undo = new DatabaseSync(path);
    undo.exec('DROP TRIGGER refuse');
    undo.close();
    await store.commitBatch(batch);
    expect(await store.getFacts('patients', ['1'])).toHaveLength(1);
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
