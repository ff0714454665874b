import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PostgresStore,
  SqliteStore,
  type AuditHead,
  type AuditRow,
  type OutboxItem,
  type PayloadCipher,
  type Store,
} from '../../sync-service/src/store/index.js';
import { verifyAuditChain, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { walkAuditLog } from '../../sync-service/src/sync/common/audit-log.js';
import { auditRowsFor } from '../../sync-service/src/sync/outbox/audit.js';
import { openThreadedSqlite } from '../../sync-service/src/runtime/threaded-store.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * One behavioural contract, run against both adapters. A test cipher (byte-wise XOR with a marker)
 * is enough to prove that payloads pass through the cipher on the way in and out; the AES-GCM cipher
 * has its own tests.
 */
const MARKER = 0x5a;
const testCipher: PayloadCipher = {
  encrypt: (plaintext) => Uint8Array.from(Buffer.from(`enc:${plaintext}`, 'utf8'), (b) => b ^ MARKER),
  decrypt: (ciphertext) => {
    const text = Buffer.from(Uint8Array.from(ciphertext, (b) => b ^ MARKER)).toString('utf8');
    if (!text.startsWith('enc:')) throw new Error('not encrypted by the test cipher');
    return text.slice(4);
  },
};

interface Harness {
  store: Store;
  /** A second store on the same database (another instance). */
  other: () => Store;
  /** Raw payload bytes of every outbox, dead-letter, quarantine and reference-list row, as text. */
  rawPayloads: () => Promise<string>;
  cleanup: () => Promise<void>;
  /**
   * Makes the database refuse, inside the store's own transaction, any insert into `table` whose
   * `column` equals `value` (a trigger): a batch that fails part-way. Returns the undo.
   */
  refuse: (table: 'outbox' | 'facts', column: string, value: string) => Promise<() => Promise<void>>;
}

let pgServer: TestPostgres | undefined;

const REFUSAL = 'refused by the test trigger';

function sqliteRefusal(path: string): Harness['refuse'] {
  return (table, column, value) => {
    const db = new DatabaseSync(path);
    try {
      db.exec(
        `CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${table} WHEN NEW.${column} = '${value}' ` +
          `BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`,
      );
    } finally {
      db.close();
    }
    return Promise.resolve(() => {
      const undo = new DatabaseSync(path);
      try {
        undo.exec(`DROP TRIGGER refuse_${table}`);
      } finally {
        undo.close();
      }
      return Promise.resolve();
    });
  };
}

/** A store on a new SQLite file, and others on the same file (closed with it). */
function sqliteHarness(open: (path: string) => Store): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
  const path = join(dir, 'sync.db');
  const store = open(path);
  const others: Store[] = [];
  return Promise.resolve({
    store,
    other: () => {
      const another = open(path);
      others.push(another);
      return another;
    },
    rawPayloads: () => Promise.resolve(rawSqlitePayloads(path)),
    refuse: sqliteRefusal(path),
    cleanup: async () => {
      for (const another of others) await another.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

function rawSqlitePayloads(path: string): string {
  const db = new DatabaseSync(path);
  try {
    const rows = [
      ...db.prepare('SELECT payload FROM outbox').all(),
      ...db.prepare('SELECT payload FROM dead_letters').all(),
      ...db.prepare('SELECT payload FROM quarantine').all(),
      ...db.prepare('SELECT lists AS payload FROM reference_lists').all(),
    ] as Array<{ payload: Uint8Array }>;
    return rows.map((r) => Buffer.from(r.payload).toString('latin1')).join('\n');
  } finally {
    db.close();
  }
}

const adapters: Array<[string, () => Promise<Harness>]> = [
  ['sqlite', () => sqliteHarness((path) => new SqliteStore(path, testCipher))],
  [
    // The running service's SQLite store: the same file on a thread of its own, with the keyring's
    // AES-GCM cipher (runtime/threaded-store.ts).
    'sqlite on its own thread',
    () => sqliteHarness((path) => openThreadedSqlite(path, { active: Buffer.alloc(32, 7), retired: [] })),
  ],
  [
    'postgres',
    async () => {
      pgServer ??= await startTestPostgres();
      const { poolConfig } = await pgServer.newSchema();
      const store = new PostgresStore(poolConfig, testCipher);
      const others: Store[] = [];
      return {
        store,
        other: () => {
          const s = new PostgresStore(poolConfig, testCipher);
          others.push(s);
          return s;
        },
        rawPayloads: async () => {
          const client = new pg.Client(poolConfig);
          await client.connect();
          try {
            const result = await client.query<{ payload: Buffer }>(
              `SELECT payload FROM outbox UNION ALL SELECT payload FROM dead_letters UNION ALL SELECT payload FROM quarantine
               UNION ALL SELECT lists FROM reference_lists`,
            );
            return result.rows.map((r) => r.payload.toString('latin1')).join('\n');
          } finally {
            await client.end();
          }
        },
        refuse: async (table, column, value) => {
          const sql = async (text: string): Promise<void> => {
            const client = new pg.Client(poolConfig);
            await client.connect();
            try {
              await client.query(text);
            } finally {
              await client.end();
            }
          };
          await sql(
            `CREATE FUNCTION refuse_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ` +
              `IF NEW.${column} = '${value}' THEN RAISE EXCEPTION '${REFUSAL}'; END IF; RETURN NEW; END $$;` +
              `CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_${table}()`,
          );
          return () => sql(`DROP TRIGGER refuse_${table} ON ${table}; DROP FUNCTION refuse_${table}()`);
        },
        cleanup: async () => {
          for (const o of others) await o.close();
          await store.close();
        },
      };
    },
  ],
];

afterAll(async () => {
  await pgServer?.stop();
});

function auditRows(items: Array<{ object: string; externalId: string }>, now: number) {
  return (previous: AuditHead | null): AuditRow[] => {
    let prevHash = previous?.hash ?? null;
    return items.map((item, i) => {
      const hash = `h-${item.object}-${item.externalId}-${now}-${i}-${prevHash ?? 'root'}`;
      const row = {
        hash,
        prevHash,
        object: item.object,
        externalId: item.externalId,
        createdAt: now,
        entry: '{}',
      };
      prevHash = hash;
      return row;
    });
  };
}

/** The completed writes of claimed items, as the worker reports them (Salesforce ids made up). */
const writesOf = (items: readonly OutboxItem[]) =>
  items.map((i) => ({
    outboxId: i.id,
    object: i.object,
    externalId: i.externalId,
    payloadHash: i.payloadHash,
    salesforceId: `003${i.externalId}`,
  }));

describe.each(adapters)('Store conformance: %s', (_name, open) => {
  let h: Harness;
  let store: Store;
  const T0 = 1_800_000_000_000;

  beforeEach(async () => {
    h = await open();
    store = h.store;
    await store.migrate();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('migrates idempotently and answers ping', async () => {
    await store.migrate();
    expect(await store.ping()).toBe(true);
  });

  it('commits outbox items, quarantine, journey state and the watermark together', async () => {
    await store.commitBatch({
      stream: 'patients',
      watermark: '2026-11-22T01:00:00Z',
      outbox: [
        {
          object: 'Contact',
          externalId: '100',
          operation: 'upsert',
          payload: '{"LastName":"A"}',
          payloadHash: 'a',
          runId: 'r1',
        },
      ],
      quarantine: [
        {
          resource: 'patients',
          recordId: '200',
          field: 'email',
          reason: 'invalid email',
          payload: '{"id":"200"}',
          runId: 'r1',
        },
      ],
      journeyStates: [{ patientId: '100', state: '{"stage":"Lead"}' }],
      now: T0,
    });
    expect(await store.getWatermark('patients')).toEqual({
      stream: 'patients',
      cursor: '2026-11-22T01:00:00Z',
      settled: null,
      updatedAt: T0,
    });
    expect((await store.outboxStats(T0)).pending).toBe(1);
    expect((await store.listQuarantinePayloads()).map((q) => [q.recordId, q.field, q.payload])).toEqual([
      ['200', 'email', '{"id":"200"}'],
    ]);
    expect((await store.getJourneyState('100'))?.state).toBe('{"stage":"Lead"}');
    expect((await store.getJourneyStates(['9', '100', '200'])).map((row) => row.state)).toEqual([
      '{"stage":"Lead"}',
    ]);
    expect(await store.getJourneyStates([])).toEqual([]);
    expect(await store.listWatermarks()).toHaveLength(1);
  });

  it('keeps the settled point with the cursor, and leaves it alone when a batch gives none (migration 8)', async () => {
    await store.commitBatch({ stream: 'patients', watermark: 'C1', settled: 'U1', now: T0 });
    expect(await store.getWatermark('patients')).toMatchObject({ cursor: 'C1', settled: 'U1' });
    await store.commitBatch({ stream: 'patients', watermark: 'C2', now: T0 + 1 });
    expect(await store.getWatermark('patients')).toMatchObject({ cursor: 'C2', settled: 'U1' });
    // Control: a batch that gives one replaces it.
    await store.commitBatch({ stream: 'patients', watermark: 'C3', settled: 'U3', now: T0 + 2 });
    expect(await store.listWatermarks()).toEqual([
      { stream: 'patients', cursor: 'C3', settled: 'U3', updatedAt: T0 + 2 },
    ]);
  });

  it('rolls the whole batch back when any part fails, leaving the watermark where it was', async () => {
    await store.commitBatch({ stream: 'patients', watermark: 'W1', now: T0 });
    // The database refuses the second item inside the batch's transaction.
    const undo = await h.refuse('outbox', 'payload_hash', 'y');
    const batch = {
      stream: 'patients',
      watermark: 'W2',
      outbox: [
        {
          object: 'Contact',
          externalId: '1',
          operation: 'upsert' as const,
          payload: '{}',
          payloadHash: 'x',
          runId: 'r',
        },
        {
          object: 'Contact',
          externalId: '2',
          operation: 'upsert' as const,
          payload: '{}',
          payloadHash: 'y',
          runId: 'r',
        },
      ],
      now: T0 + 1,
    };
    await expect(store.commitBatch(batch)).rejects.toThrow(REFUSAL);
    expect((await store.getWatermark('patients'))?.cursor).toBe('W1');
    expect((await store.outboxStats(T0)).pending).toBe(0);
    // Control: the same batch, not refused, lands whole.
    await undo();
    await store.commitBatch(batch);
    expect((await store.getWatermark('patients'))?.cursor).toBe('W2');
    expect((await store.outboxStats(T0 + 1)).pending).toBe(2);
  });

  it('keeps one pending item per record, the newest payload winning', async () => {
    const base = { object: 'Contact', externalId: '7', operation: 'upsert' as const, runId: 'r' };
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'v1', payloadHash: 'h1' }],
      now: T0,
    });
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'v2', payloadHash: 'h2' }],
      now: T0 + 5,
    });
    const claimed = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 1000, now: T0 + 10 });
    expect(claimed.map((c) => [c.externalId, c.payload, c.payloadHash])).toEqual([['7', 'v2', 'h2']]);
  });

  it('claims only the named keys of one object when asked (the other slots of claimed records)', async () => {
    const item = (object: string, externalId: string) => ({
      object,
      externalId,
      operation: 'upsert' as const,
      payload: `p-${externalId}`,
      payloadHash: `h-${object}-${externalId}`,
      runId: 'r',
    });
    await store.commitBatch({
      stream: 's',
      outbox: [
        item('Contact', '7'),
        item('Contact', '7#journey'),
        item('Contact', '8'),
        item('Care_Plan__c', '7#progress'),
      ],
      now: T0,
    });
    const slots = await store.claimOutbox({
      owner: 'w',
      limit: 10,
      leaseMs: 1000,
      now: T0,
      objects: ['Contact'],
      externalIds: ['7#journey', '7#progress', '8#journey'],
    });
    expect(slots.map((c) => c.externalId)).toEqual(['7#journey']);
    // Control: an unfiltered claim takes the rest (the slot is already leased).
    const rest = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 1000, now: T0 });
    expect(rest.map((c) => `${c.object}:${c.externalId}`).sort()).toEqual([
      'Care_Plan__c:7#progress',
      'Contact:7',
      'Contact:8',
    ]);
  });

  it('never leases one item to two owners, and re-leases after expiry', async () => {
    const outbox = Array.from({ length: 50 }, (_, i) => ({
      object: 'Contact',
      externalId: String(i),
      operation: 'upsert' as const,
      payload: `p${i}`,
      payloadHash: `h${i}`,
      runId: 'r',
    }));
    await store.commitBatch({ stream: 's', outbox, now: T0 });
    const other = h.other();
    const [a, b] = await Promise.all([
      store.claimOutbox({ owner: 'a', limit: 30, leaseMs: 60_000, now: T0 }),
      other.claimOutbox({ owner: 'b', limit: 30, leaseMs: 60_000, now: T0 }),
    ]);
    const ids = [...a, ...b].map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(50);
    expect(await store.claimOutbox({ owner: 'c', limit: 100, leaseMs: 60_000, now: T0 + 1 })).toHaveLength(0);
    expect(
      await store.claimOutbox({ owner: 'c', limit: 100, leaseMs: 60_000, now: T0 + 60_000 }),
    ).toHaveLength(50);
  });

  it('completes writes: removes items, records state and appends a linked audit chain', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: ['1', '2'].map((id) => ({
        object: 'Contact',
        externalId: id,
        operation: 'upsert' as const,
        payload: id,
        payloadHash: `h${id}`,
        runId: 'r',
      })),
      now: T0,
    });
    const items = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 1000, now: T0 });
    await store.completeWrites(writesOf(items), auditRows(items, T0), T0);
    expect((await store.outboxStats(T0)).pending).toBe(0);
    const states = await store.getRecordStates('Contact', ['1', '2', '3']);
    expect([...states.keys()].sort()).toEqual(['1', '2']);
    expect(states.get('1')).toMatchObject({ salesforceId: '0031', payloadHash: 'h1' });
    const audit = await store.listAudit();
    expect(audit).toHaveLength(2);
    expect(audit[0]!.prevHash).toBeNull();
    expect(audit[1]!.prevHash).toBe(audit[0]!.hash);
    // A second batch chains onto the last row.
    await store.commitBatch({
      stream: 's',
      outbox: [
        {
          object: 'Contact',
          externalId: '1',
          operation: 'upsert',
          payload: 'x',
          payloadHash: 'h1b',
          runId: 'r',
        },
      ],
      now: T0 + 1,
    });
    const [again] = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 1000, now: T0 + 1 });
    await store.completeWrites(
      [{ outboxId: again!.id, object: 'Contact', externalId: '1', payloadHash: 'h1b', salesforceId: null }],
      auditRows([again!], T0 + 1),
      T0 + 1,
    );
    const chain = await store.listAudit();
    expect(chain[2]!.prevHash).toBe(chain[1]!.hash);
    expect((await store.getRecordStates('Contact', ['1'])).get('1')?.salesforceId).toBe('0031');
    expect((await store.listAudit({ externalId: '1' })).map((r) => r.seq)).toEqual([
      chain[0]!.seq,
      chain[2]!.seq,
    ]);
    expect((await store.lastAuditRow())?.hash).toBe(chain[2]!.hash);
  });

  it('does not audit twice a batch another owner took over and completed (a frozen holder resuming)', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: ['1', '2'].map((id) => ({
        object: 'Contact',
        externalId: id,
        operation: 'upsert' as const,
        payload: id,
        payloadHash: `h${id}`,
        runId: 'r',
      })),
      now: T0,
    });
    const frozen = await store.claimOutbox({ owner: 'a/1', limit: 10, leaseMs: 30_000, now: T0 });
    const other = h.other();
    const taken = await other.claimOutbox({ owner: 'b/1', limit: 10, leaseMs: 30_000, now: T0 + 30_000 });
    expect(taken).toHaveLength(2);
    await other.completeWrites(writesOf(taken), auditRows(taken, T0 + 31_000), T0 + 31_000);
    expect(await store.listAudit()).toHaveLength(2);
    // The frozen holder resumes and completes the same writes: nothing changes.
    await store.completeWrites(writesOf(frozen), auditRows(frozen, T0 + 32_000), T0 + 32_000);
    expect(await store.listAudit()).toHaveLength(2);
    // One more item of this store's own, queued and claimed.
    const queueOwn = async (id: string, at: number) => {
      await store.commitBatch({
        stream: 's',
        outbox: [
          {
            object: 'Contact',
            externalId: id,
            operation: 'upsert',
            payload: id,
            payloadHash: `h${id}`,
            runId: 'r',
          },
        ],
        now: at,
      });
      return (await store.claimOutbox({ owner: 'a/1', limit: 10, leaseMs: 30_000, now: at }))[0]!;
    };
    // Control: a batch that is not entirely someone else's is completed and audited as before.
    const third = await queueOwn('3', T0 + 33_000);
    await store.completeWrites(
      writesOf([...frozen, third]),
      auditRows([...frozen, third], T0 + 34_000),
      T0 + 34_000,
    );
    expect(await store.listAudit()).toHaveLength(5);
    expect((await store.outboxStats(T0 + 35_000)).pending).toBe(0);
    // The same with the batch's first item still queued (the check that answers without reading
    // every write): completed and audited too.
    const fourth = await queueOwn('4', T0 + 36_000);
    await store.completeWrites(
      writesOf([fourth, ...frozen]),
      auditRows([fourth, ...frozen], T0 + 37_000),
      T0 + 37_000,
    );
    expect(await store.listAudit()).toHaveLength(8);
    expect((await store.outboxStats(T0 + 38_000)).pending).toBe(0);
  });

  it('never loses a change that arrives while the previous payload is in flight', async () => {
    const base = { object: 'Contact', externalId: '9', operation: 'upsert' as const, runId: 'r' };
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'old', payloadHash: 'h-old' }],
      now: T0,
    });
    const [inFlight] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 });
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'new', payloadHash: 'h-new' }],
      now: T0 + 1,
    });
    await store.completeWrites(
      [
        {
          outboxId: inFlight!.id,
          object: 'Contact',
          externalId: '9',
          payloadHash: 'h-old',
          salesforceId: '003x',
        },
      ],
      () => [],
      T0 + 2,
    );
    const next = await store.claimOutbox({ owner: 'w', limit: 5, leaseMs: 60_000, now: T0 + 3 });
    expect(next.map((n) => n.payload)).toEqual(['new']);
  });

  it('tells which records have a payload waiting in the outbox, and its hash', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: ['1', '2'].map((id) => ({
        object: 'Contact',
        externalId: id,
        operation: 'upsert' as const,
        payload: id,
        payloadHash: `h${id}`,
        runId: 'r',
      })),
      now: T0,
    });
    const hashes = await store.pendingPayloadHashes('Contact', ['1', '2', '3']);
    expect([...hashes.entries()].sort()).toEqual([
      ['1', 'h1'],
      ['2', 'h2'],
    ]);
    expect((await store.pendingPayloadHashes('Care_Plan__c', ['1'])).size).toBe(0);
    expect((await store.pendingPayloadHashes('Contact', [])).size).toBe(0);
  });

  it('does not dead-letter or delay a newer payload when the one in flight fails', async () => {
    const base = { object: 'Contact', externalId: '11', operation: 'upsert' as const, runId: 'r' };
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'bad', payloadHash: 'h-bad' }],
      now: T0,
    });
    const [inFlight] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 });
    // The record is corrected in Cliniko while the rejected payload is in flight.
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'fixed', payloadHash: 'h-fixed' }],
      now: T0 + 1,
    });
    await store.deadLetter(
      inFlight!.id,
      {
        code: 'SALESFORCE_RECORD_REJECTED',
        message: 'Contact 11: rejected',
        upstreamCode: 'INVALID_EMAIL_ADDRESS',
        attempts: 1,
        payloadHash: 'h-bad',
      },
      T0 + 2,
    );
    expect(await store.listDeadLetters()).toHaveLength(0);
    const [next] = await store.claimOutbox({ owner: 'w', limit: 5, leaseMs: 60_000, now: T0 + 3 });
    expect(next).toMatchObject({ payload: 'fixed', attempts: 0 });

    // Same for a retryable failure: the newer payload keeps its own attempt count and is due now.
    await store.commitBatch({
      stream: 's',
      outbox: [{ ...base, payload: 'newest', payloadHash: 'h-newest' }],
      now: T0 + 4,
    });
    await store.retryLater(next!.id, {
      attempts: 1,
      nextAttemptAt: T0 + 60_000,
      errorCode: 'UNABLE_TO_LOCK_ROW',
      payloadHash: 'h-fixed',
    });
    const [again] = await store.claimOutbox({ owner: 'w', limit: 5, leaseMs: 60_000, now: T0 + 5 });
    expect(again).toMatchObject({ payload: 'newest', attempts: 0 });
  });

  it('schedules retries and dead-letters permanent failures, which can be replayed once', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: [
        {
          object: 'Contact',
          externalId: '5',
          operation: 'upsert',
          payload: '{"Email":"bad"}',
          payloadHash: 'h5',
          runId: 'r1',
        },
      ],
      now: T0,
    });
    const [item] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 });
    await store.retryLater(item!.id, {
      attempts: 1,
      nextAttemptAt: T0 + 2_000,
      errorCode: 'UNABLE_TO_LOCK_ROW',
    });
    expect(await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 + 1_999 })).toHaveLength(
      0,
    );
    const [retry] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 + 2_000 });
    expect(retry).toMatchObject({ attempts: 1, lastErrorCode: 'UNABLE_TO_LOCK_ROW' });
    expect((await store.outboxStats(T0)).retrying).toBe(1);

    await store.deadLetter(
      retry!.id,
      {
        code: 'SALESFORCE_RECORD_REJECTED',
        message: 'Contact 5: Email invalid',
        upstreamCode: 'INVALID_EMAIL_ADDRESS',
        attempts: 2,
      },
      T0 + 3_000,
    );
    expect((await store.outboxStats(T0)).pending).toBe(0);
    const [dead] = await store.listDeadLetters();
    expect(dead).toMatchObject({
      object: 'Contact',
      externalId: '5',
      payload: '{"Email":"bad"}',
      errorCode: 'SALESFORCE_RECORD_REJECTED',
      upstreamCode: 'INVALID_EMAIL_ADDRESS',
      attempts: 2,
      replayedAt: null,
    });
    expect(await store.getDeadLetter(dead!.id)).toEqual(dead);
    expect(await store.getDeadLetter('nope')).toBeUndefined();
    expect((await store.outboxStats(T0)).deadLettered).toBe(1);

    expect(await store.replayDeadLetter(dead!.id, T0 + 4_000, 'r2')).toBe(true);
    expect(await store.replayDeadLetter(dead!.id, T0 + 4_000, 'r2')).toBe(false);
    expect(await store.listDeadLetters()).toHaveLength(0);
    expect((await store.listDeadLetters({ includeReplayed: true }))[0]?.replayedAt).toBe(T0 + 4_000);
    const [replayed] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 + 4_000 });
    expect(replayed).toMatchObject({ externalId: '5', payload: '{"Email":"bad"}', attempts: 0, runId: 'r2' });
  });

  /** Queues one Contact payload and dead-letters it after `attempts` attempts (issue #15 helpers). */
  async function failContact(id: string, payload: string, attempts: number, at: number): Promise<void> {
    await store.commitBatch({
      stream: 'patients',
      outbox: [
        { object: 'Contact', externalId: id, operation: 'upsert', payload, payloadHash: payload, runId: 'r' },
      ],
      now: at,
    });
    const [item] = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: at });
    expect(item?.externalId).toBe(id);
    const moved = await store.deadLetter(
      item!.id,
      {
        code: 'SALESFORCE_UNAVAILABLE',
        message: `Contact ${id}: locked`,
        upstreamCode: 'UNABLE_TO_LOCK_ROW',
        attempts,
        payloadHash: payload,
      },
      at,
    );
    expect(moved).toBe(true);
  }

  it('keeps one open dead letter per record and slot, with its attempt history', async () => {
    await failContact('7', '{"Email":"a"}', 6, T0);
    await failContact('7', '{"Email":"b"}', 6, T0 + 1_000);
    await failContact('7#journey', '{"Stage":"x"}', 1, T0 + 1_500);
    await failContact('7', '{"Email":"c"}', 2, T0 + 2_000);
    const open = await store.listDeadLetters();
    // Control: another slot of the same record is its own letter.
    expect(open.map((d) => d.externalId).sort()).toEqual(['7', '7#journey']);
    const contact = open.find((d) => d.externalId === '7');
    expect(contact).toMatchObject({
      payload: '{"Email":"c"}',
      attempts: 2,
      totalAttempts: 14,
      occurrences: 3,
      firstFailedAt: T0,
      createdAt: T0 + 2_000,
    });
    expect((await store.outboxStats(T0)).deadLettered).toBe(2);

    // A replay carries the history into the outbox; failing again opens one new letter that keeps it.
    expect(await store.replayDeadLetter(contact!.id, T0 + 3_000, 'r-replay')).toBe(true);
    expect((await store.getDeadLetter(contact!.id))?.replayOutcome).toBe('requeued');
    const [again] = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 + 3_000 });
    expect(again).toMatchObject({ externalId: '7', attempts: 0, priorAttempts: 14 });
    await store.deadLetter(
      again!.id,
      {
        code: 'SALESFORCE_UNAVAILABLE',
        message: 'Contact 7: locked',
        upstreamCode: null,
        attempts: 6,
        payloadHash: again!.payloadHash,
      },
      T0 + 4_000,
    );
    const reopened = (await store.listDeadLetters()).find((d) => d.externalId === '7');
    expect(reopened).toMatchObject({ totalAttempts: 20, occurrences: 1, attempts: 6 });
    expect(reopened!.id).not.toBe(contact!.id);
  });

  it('a newer payload replacing a retrying one keeps the attempts as history', async () => {
    const queue = (payload: string, at: number) =>
      store.commitBatch({
        stream: 'patients',
        outbox: [
          {
            object: 'Contact',
            externalId: '8',
            operation: 'upsert',
            payload,
            payloadHash: payload,
            runId: 'r',
          },
        ],
        now: at,
      });
    await queue('{"v":1}', T0);
    const [first] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 });
    await store.retryLater(first!.id, { attempts: 3, nextAttemptAt: T0, errorCode: 'UNABLE_TO_LOCK_ROW' });
    await queue('{"v":2}', T0 + 1);
    const [second] = await store.claimOutbox({ owner: 'w', limit: 1, leaseMs: 60_000, now: T0 + 1 });
    expect(second).toMatchObject({ payload: '{"v":2}', attempts: 0, priorAttempts: 3 });
  });

  it('a replay never writes an older payload over a newer write', async () => {
    await failContact('9', '{"Email":"old"}', 6, T0);
    const [letter] = await store.listDeadLetters();
    // A newer payload was written after the letter's failure.
    await store.completeWrites(
      [
        {
          outboxId: '0',
          object: 'Contact',
          externalId: '9',
          payloadHash: '{"Email":"new"}',
          salesforceId: '003X',
        },
      ],
      () => [],
      T0 + 1_000,
    );
    expect(await store.replayDeadLetter(letter!.id, T0 + 2_000, 'r-replay')).toBe(true);
    expect((await store.getDeadLetter(letter!.id))?.replayOutcome).toMatch(/^dropped: a newer write/);
    expect(await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 + 2_000 })).toEqual([]);

    // Control: with no newer write, the same kind of letter is requeued.
    await failContact('10', '{"Email":"only"}', 6, T0 + 3_000);
    const ten = (await store.listDeadLetters()).find((d) => d.externalId === '10');
    expect(await store.replayDeadLetter(ten!.id, T0 + 4_000, 'r-replay')).toBe(true);
    expect((await store.getDeadLetter(ten!.id))?.replayOutcome).toBe('requeued');
    const [requeued] = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 + 4_000 });
    expect(requeued).toMatchObject({ externalId: '10', payload: '{"Email":"only"}' });

    // A newer payload waiting in the outbox also wins over the letter.
    await failContact('11', '{"Email":"old"}', 6, T0 + 5_000);
    const eleven = (await store.listDeadLetters()).find((d) => d.externalId === '11');
    await store.commitBatch({
      stream: 'patients',
      outbox: [
        {
          object: 'Contact',
          externalId: '11',
          operation: 'upsert',
          payload: '{"Email":"new"}',
          payloadHash: 'n',
          runId: 'r',
        },
      ],
      now: T0 + 6_000,
    });
    expect(await store.replayDeadLetter(eleven!.id, T0 + 7_000, 'r-replay')).toBe(true);
    expect((await store.getDeadLetter(eleven!.id))?.replayOutcome).toMatch(/^dropped: a newer payload/);
    expect(await store.openDeadLetterHashes('Contact', ['11', '12'])).toEqual(new Map());
  });

  it('blocked dependants are not claimed or pending, and are released when the parent is written', async () => {
    await store.commitBatch({
      stream: 'patients',
      quarantine: [
        {
          resource: 'patients',
          recordId: '20',
          field: 'Contact.Birthdate',
          reason: 'date out of range',
          payload: '{}',
          runId: 'r',
        },
      ],
      now: T0,
    });
    expect(await store.unwrittenFailedPatients(['20', '21'])).toEqual(new Set(['20']));
    await store.commitBatch({
      stream: 'individual_appointments',
      outbox: [
        {
          object: 'Cliniko_Appointment__c',
          externalId: 'a1',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'a1',
          runId: 'r',
          blockedBy: 'Contact:20',
        },
        {
          object: 'Cliniko_Appointment__c',
          externalId: 'a2',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'a2',
          runId: 'r',
        },
      ],
      now: T0,
    });
    const stats = await store.outboxStats(T0);
    expect([stats.pending, stats.blocked]).toEqual([1, 1]);
    expect(await store.listBlocked()).toEqual([
      { object: 'Cliniko_Appointment__c', externalId: 'a1', blockedBy: 'Contact:20' },
    ]);
    const claimed = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    expect(claimed.map((i) => i.externalId)).toEqual(['a2']);
    // Blocking a claimed item parks it too.
    await store.blockOutbox(claimed[0]!.id, 'Contact:20', 'a2');
    expect((await store.outboxStats(T0)).blocked).toBe(2);

    await store.completeWrites(
      [{ outboxId: '0', object: 'Contact', externalId: '20', payloadHash: 'c20', salesforceId: '003Y' }],
      () => [],
      T0 + 1_000,
    );
    expect(await store.unwrittenFailedPatients(['20'])).toEqual(new Set());
    expect((await store.outboxStats(T0 + 1_000)).blocked).toBe(0);
    const released = await store.claimOutbox({ owner: 'w2', limit: 10, leaseMs: 60_000, now: T0 + 1_000 });
    expect(released.map((i) => i.externalId).sort()).toEqual(['a1', 'a2']);
  });

  // ---- set statements (issue #16): a collection is a handful of statements, not four per row; the
  // edges the per-row statements handled one by one must come out the same for a whole list.

  const contacts = (ids: readonly string[], hash: (id: string) => string = (id) => `h${id}`) =>
    ids.map((id) => ({
      object: 'Contact',
      externalId: id,
      operation: 'upsert' as const,
      payload: `p${id}`,
      payloadHash: hash(id),
      runId: 'r',
    }));

  it('completes a collection whose one payload was replaced in flight: that item released, the rest removed', async () => {
    await store.commitBatch({ stream: 's', outbox: contacts(['1', '2', '3', '4', '5']), now: T0 });
    const claimed = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    expect(claimed).toHaveLength(5);
    await store.commitBatch({ stream: 's', outbox: contacts(['3'], () => 'h3-new'), now: T0 + 1 });
    // Control: while the collection is in flight every item is leased, so nothing can be claimed.
    expect(await store.claimOutbox({ owner: 'x', limit: 10, leaseMs: 60_000, now: T0 + 1 })).toEqual([]);

    await store.completeWrites(writesOf(claimed), auditRows(claimed, T0 + 2), T0 + 2);
    // Only the replaced item is left, and its lease is gone: the newer payload is written next.
    const next = await store.claimOutbox({ owner: 'x', limit: 10, leaseMs: 60_000, now: T0 + 3 });
    expect(next.map((i) => [i.externalId, i.payloadHash])).toEqual([['3', 'h3-new']]);
    expect(next[0]!.id).toBe(claimed.find((i) => i.externalId === '3')!.id);
    const states = await store.getRecordStates('Contact', ['1', '2', '3', '4', '5']);
    expect([...states.values()].map((s) => [s.externalId, s.payloadHash, s.salesforceId]).sort()).toEqual(
      ['1', '2', '3', '4', '5'].map((id) => [id, `h${id}`, `003${id}`]),
    );
    expect(await store.listAudit()).toHaveLength(5);
  });

  it('a collection releases the dependants of every parent it wrote, and only theirs', async () => {
    const child = (id: string, parent: string) => ({
      object: 'Cliniko_Appointment__c',
      externalId: id,
      operation: 'upsert' as const,
      payload: '{}',
      payloadHash: id,
      runId: 'r',
      blockedBy: `Contact:${parent}`,
    });
    await store.commitBatch({
      stream: 'individual_appointments',
      outbox: [child('a1', '20'), child('a2', '21'), child('a3', '20'), child('a4', '22')],
      now: T0,
    });
    await store.commitBatch({ stream: 'patients', outbox: contacts(['20', '21']), now: T0 });
    const parents = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    expect(parents.map((i) => i.externalId).sort()).toEqual(['20', '21']);
    expect((await store.outboxStats(T0)).blocked).toBe(4);

    await store.completeWrites(writesOf(parents), auditRows(parents, T0 + 1_000), T0 + 1_000);
    const released = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 + 1_000 });
    expect(released.map((i) => i.externalId).sort()).toEqual(['a1', 'a2', 'a3']);
    expect(released.every((i) => i.nextAttemptAt === T0 + 1_000 && i.lastErrorCode === null)).toBe(true);
    // Control: the dependant of a parent the collection did not write still waits.
    expect(await store.listBlocked()).toEqual([
      { object: 'Cliniko_Appointment__c', externalId: 'a4', blockedBy: 'Contact:22' },
    ]);
  });

  it('a collection supersedes the open dead letters of the records it wrote, whatever the clocks say', async () => {
    for (const id of ['31', '32', '33']) await failContact(id, `{"Email":"old${id}"}`, 6, T0 + 5_000);
    const letters = new Map((await store.listDeadLetters()).map((d) => [d.externalId, d.id]));
    // Newer payloads of 31 and 32 written by an instance whose clock is behind the letters' times.
    await store.commitBatch({ stream: 'patients', outbox: contacts(['31', '32']), now: T0 });
    const written = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    await store.completeWrites(writesOf(written), () => [], T0 + 1_000);

    for (const id of ['31', '32']) {
      expect(await store.replayDeadLetter(letters.get(id)!, T0 + 6_000, 'r-replay')).toBe(true);
      expect((await store.getDeadLetter(letters.get(id)!))?.replayOutcome).toBe(
        `dropped: a newer write of this record succeeded at ${new Date(T0 + 1_000).toISOString()}`,
      );
    }
    // Control: the letter of a record the collection did not write is requeued.
    expect(await store.replayDeadLetter(letters.get('33')!, T0 + 6_000, 'r-replay')).toBe(true);
    expect((await store.getDeadLetter(letters.get('33')!))?.replayOutcome).toBe('requeued');
  });

  it("appends a large collection's audit rows as one chain, in order, past any parameter limit", async () => {
    // 4,000 items: as per-row VALUES this batch would need 36,000 parameters (SQLite allows 32,766).
    const ids = Array.from({ length: 4_000 }, (_, i) => String(100_000 + i));
    await store.commitBatch({ stream: 's', outbox: contacts(ids), now: T0 });
    for (const half of [ids.slice(0, 2_500), ids.slice(2_500)]) {
      const items = await store.claimOutbox({
        owner: 'w',
        limit: 5_000,
        leaseMs: 60_000,
        now: T0,
        externalIds: half,
      });
      expect(items.map((i) => i.externalId)).toEqual(half);
      const done = items.map((item) => ({
        item,
        result: { key: item.externalId, success: true as const, id: null, created: true },
        fields: { LastName: item.externalId },
      }));
      await store.completeWrites(writesOf(items), auditRowsFor(done, { actor: 't', now: () => T0 }), T0);
    }
    expect((await store.outboxStats(T0)).pending).toBe(0);
    const entries: AuditEntry[] = [];
    const { rowProblem } = await walkAuditLog(store, (e) => entries.push(e));
    expect(rowProblem).toBeUndefined();
    expect(entries.map((e) => e.externalId)).toEqual(ids);
    expect(verifyAuditChain(entries)).toMatchObject({ ok: true, count: 4_000 });
    // Control: the same verification catches two rows out of order.
    const swapped = [...entries];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    expect(verifyAuditChain(swapped)).toMatchObject({ ok: false, index: 10 });
  });

  it('folds a key named twice in one list as two statements in a row would', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: [...contacts(['1', '2']), ...contacts(['1'], () => 'h1-later')],
      facts: [
        { resource: 'individual_appointments', id: 'a', patientId: '1', data: 'first' },
        { resource: 'individual_appointments', id: 'a', patientId: '2', data: 'later' },
      ],
      journeyStates: [
        { patientId: '1', state: 'first' },
        { patientId: '1', state: 'later' },
      ],
      announced: ['k', 'k'],
      now: T0,
    });
    // The later payload, at the earlier one's place in the claim order (its id).
    const items = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    expect(items.map((i) => [i.externalId, i.payloadHash])).toEqual([
      ['1', 'h1-later'],
      ['2', 'h2'],
    ]);
    expect(await store.getFacts('individual_appointments', ['a'])).toEqual([
      { resource: 'individual_appointments', id: 'a', patientId: '2', data: 'later' },
    ]);
    expect((await store.getJourneyState('1'))?.state).toBe('later');
    expect(await store.announcedEvents(['k'])).toEqual(new Set(['k']));
    // Two writes of one record: the later hash, and the Salesforce id the later one did not repeat.
    const [one, two] = items;
    await store.completeWrites(
      [
        {
          outboxId: one!.id,
          object: 'Contact',
          externalId: '1',
          payloadHash: 'h1-later',
          salesforceId: '003A',
        },
        { outboxId: two!.id, object: 'Contact', externalId: '1', payloadHash: 'h1-last', salesforceId: null },
      ],
      () => [],
      T0 + 1,
    );
    expect((await store.getRecordStates('Contact', ['1'])).get('1')).toMatchObject({
      payloadHash: 'h1-last',
      salesforceId: '003A',
    });
  });

  it("holds a patient's Contact (issue #19): parks its items, audits once, resolves and releases", async () => {
    await store.commitBatch({
      stream: 'patients',
      outbox: [
        {
          object: 'Contact',
          externalId: '30',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'c30',
          runId: 'r',
        },
        {
          object: 'Contact',
          externalId: '31',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'c31',
          runId: 'r',
        },
      ],
      now: T0,
    });
    const claimed = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 60_000, now: T0 });
    const item30 = claimed.find((i) => i.externalId === '30')!;
    const hold = {
      patientId: '30',
      kind: 'review' as const,
      object: 'Contact' as const,
      candidates: ['003A', '003B'],
      reason: 'two Contacts share the email',
    };
    const block = { outboxId: item30.id, payloadHash: 'c30' };
    expect(
      await store.holdContact(hold, block, auditRows([{ object: 'Contact', externalId: '30' }], T0), T0),
    ).toBe(true);
    // The same hold again (a newer payload parked behind it): not new, not audited again.
    expect(
      await store.holdContact(hold, block, auditRows([{ object: 'Contact', externalId: '30' }], T0), T0),
    ).toBe(false);
    expect((await store.listAudit({ externalId: '30' })).length).toBe(1);
    expect(await store.listBlocked()).toEqual([
      { object: 'Contact', externalId: '30', blockedBy: 'ContactHold:30' },
    ]);
    expect(await store.unwrittenFailedPatients(['30', '31'])).toEqual(new Set(['30']));
    expect(await store.listContactHolds({ open: true })).toEqual([
      { ...hold, createdAt: T0, resolvedAt: null, resolution: null, resolvedBy: null },
    ]);
    expect(await store.listContactHolds({ patientIds: ['31'] })).toEqual([]);

    const resolved = await store.resolveContactHold(
      '30',
      { resolution: 'link:003B', by: 'cli:admin' },
      auditRows([{ object: 'Contact', externalId: '30' }], T0 + 1),
      T0 + 1,
    );
    expect(resolved?.kind).toBe('review');
    expect(
      await store.resolveContactHold('30', { resolution: 'create', by: 'x' }, () => [], T0 + 2),
    ).toBeUndefined();
    expect(await store.listBlocked()).toEqual([]);
    expect(await store.unwrittenFailedPatients(['30'])).toEqual(new Set());
    expect(await store.listContactHolds({ open: true })).toEqual([]);
    expect(await store.listContactHolds({ patientIds: ['30'] })).toEqual([
      expect.objectContaining({ resolution: 'link:003B', resolvedBy: 'cli:admin', resolvedAt: T0 + 1 }),
    ]);
    const again = await store.claimOutbox({ owner: 'w2', limit: 10, leaseMs: 60_000, now: T0 + 70_000 });
    expect(again.map((i) => i.externalId).sort()).toEqual(['30', '31']);
  });

  it("a restore forgets the Contact's stored state so it is written again", async () => {
    await store.completeWrites(
      [{ outboxId: '0', object: 'Contact', externalId: '40', payloadHash: 'c40', salesforceId: '003X' }],
      () => [],
      T0,
    );
    const hold = {
      patientId: '40',
      kind: 'deleted' as const,
      object: 'Contact' as const,
      candidates: ['003X'],
      reason: 'deleted',
    };
    await store.holdContact(hold, null, () => [], T0);
    expect(await store.unwrittenFailedPatients(['40'])).toEqual(new Set(['40']));
    await store.resolveContactHold(
      '40',
      { resolution: 'restore', by: 'x', forget: ['40', '40#journey'] },
      () => [],
      T0 + 1,
    );
    expect((await store.getRecordStates('Contact', ['40'])).size).toBe(0);
    // Opening a hold again on a resolved patient starts a new one.
    expect(await store.holdContact(hold, null, () => [], T0 + 2)).toBe(true);
    expect((await store.listContactHolds({ open: true }))[0]).toMatchObject({
      createdAt: T0 + 2,
      resolvedAt: null,
    });
  });

  it('marks a platform event publish before the call; a certain failure clears the mark', async () => {
    await store.commitBatch({
      stream: 'journey',
      outbox: [
        {
          object: 'Patient_Journey_Event__e',
          externalId: 'k1',
          operation: 'publish',
          payload: '{}',
          payloadHash: 'e1',
          runId: 'r',
        },
        {
          object: 'Patient_Journey_Event__e',
          externalId: 'k2',
          operation: 'publish',
          payload: '{}',
          payloadHash: 'e2',
          runId: 'r',
        },
      ],
      now: T0,
    });
    const claimed = await store.claimOutbox({ owner: 'w', limit: 10, leaseMs: 1_000, now: T0 });
    expect(claimed.map((i) => i.publishStartedAt)).toEqual([null, null]);
    await store.markPublishing(
      claimed.map((i) => i.id),
      T0 + 1,
    );
    const k1 = claimed.find((i) => i.externalId === 'k1')!;
    await store.retryLater(k1.id, { attempts: 1, nextAttemptAt: T0, errorCode: 'UNKNOWN_EXCEPTION' });
    // The lease of k2's "crashed" worker runs out: claimed again, its mark says the publish was in doubt.
    const again = await store.claimOutbox({ owner: 'w2', limit: 10, leaseMs: 1_000, now: T0 + 2_000 });
    expect(again.map((i) => [i.externalId, i.publishStartedAt]).sort()).toEqual([
      ['k1', null],
      ['k2', T0 + 1],
    ]);
  });

  it('stores payloads encrypted at rest', async () => {
    const secret = 'Zoë O’Brien <zoe@example.com>';
    await store.commitBatch({
      stream: 's',
      outbox: [
        {
          object: 'Contact',
          externalId: '1',
          operation: 'upsert',
          payload: secret,
          payloadHash: 'h',
          runId: 'r',
        },
      ],
      quarantine: [
        { resource: 'patients', recordId: '2', field: 'email', reason: 'bad', payload: secret, runId: 'r' },
      ],
      now: T0,
    });
    const withoutLists = (await h.rawPayloads()).length;
    await store.saveReferenceLists('cliniko', T0, JSON.stringify({ practitioners: [['1', secret]] }));
    const raw = await h.rawPayloads();
    expect(withoutLists).toBeGreaterThan(0);
    expect(raw.length).toBeGreaterThan(withoutLists);
    expect(raw).not.toContain('zoe@example.com');
    expect(raw).not.toContain('enc:');
  });

  it('keeps the reference lists read last, for every instance; lists read earlier never replace them', async () => {
    expect(await store.getReferenceLists('cliniko')).toBeUndefined();
    await store.saveReferenceLists('cliniko', T0 + 10, '{"v":2}');
    await store.saveReferenceLists('cliniko', T0, '{"v":1}');
    const other = h.other();
    expect(await other.getReferenceLists('cliniko')).toEqual({ loadedAt: T0 + 10, lists: '{"v":2}' });
    await other.saveReferenceLists('cliniko', T0 + 10, '{"v":3}');
    await other.saveReferenceLists('cliniko', T0 + 20, '{"v":4}');
    expect(await store.getReferenceLists('cliniko')).toEqual({ loadedAt: T0 + 20, lists: '{"v":4}' });
    expect(await store.getReferenceLists('other')).toBeUndefined();
  });

  it('de-duplicates quarantine by record and field', async () => {
    const q = { resource: 'patients', recordId: '2', field: 'date_of_birth', payload: '{}', runId: 'r' };
    await store.commitBatch({ stream: 's', quarantine: [{ ...q, reason: 'first' }], now: T0 });
    await store.commitBatch({ stream: 's', quarantine: [{ ...q, reason: 'second' }], now: T0 + 1 });
    const items = await store.listQuarantinePayloads();
    expect(items.map((i) => i.reason)).toEqual(['second']);
    expect((await store.outboxStats(T0)).quarantined).toBe(1);
  });

  it('lists the quarantine for operators (newest first, first and last seen, no values) and releases it', async () => {
    const secret = 'canary-value-zoe@example.com';
    const q = (recordId: string, field: string) => ({
      resource: 'patients',
      recordId,
      field,
      reason: `${field} is invalid`,
      payload: secret,
      runId: 'r',
    });
    await store.commitBatch({ stream: 's', quarantine: [q('1', 'email'), q('2', 'date_of_birth')], now: T0 });
    await store.commitBatch({ stream: 's', quarantine: [q('3', 'email')], now: T0 + 1_000 });
    // Record 1 read again, still invalid: its last sighting moves, its first does not.
    await store.commitBatch({ stream: 's', quarantine: [q('1', 'email')], now: T0 + 2_000 });

    const listed = await store.listQuarantine({ limit: 2 });
    expect(listed.total).toBe(3);
    expect(listed.items).toEqual([
      {
        resource: 'patients',
        id: '1',
        field: 'email',
        reason: 'email is invalid',
        firstSeen: new Date(T0).toISOString(),
        lastSeen: new Date(T0 + 2_000).toISOString(),
      },
      {
        resource: 'patients',
        id: '3',
        field: 'email',
        reason: 'email is invalid',
        firstSeen: new Date(T0 + 1_000).toISOString(),
        lastSeen: new Date(T0 + 1_000).toISOString(),
      },
    ]);
    expect(JSON.stringify(await store.listQuarantine())).not.toContain(secret);
    expect((await store.listQuarantine()).items.map((i) => i.id)).toEqual(['1', '3', '2']);
    // Limits are clamped to 1..1000.
    expect((await store.listQuarantine({ limit: 0 })).items).toHaveLength(1);

    // Release is per resource and record: another resource's row with the same id stays.
    await store.commitBatch({
      stream: 's',
      quarantine: [{ ...q('1', 'starts_at'), resource: 'individual_appointments' }],
      now: T0 + 3_000,
    });
    expect(await store.releaseQuarantine('patients', ['1', '2', '99'])).toBe(2);
    expect((await store.listQuarantine()).items.map((i) => `${i.resource}/${i.id}`)).toEqual([
      'individual_appointments/1',
      'patients/3',
    ]);
    expect(await store.releaseQuarantine('patients', [])).toBe(0);
  });

  it('looks up record state for many ids and forgets on request', async () => {
    const ids = Array.from({ length: 1_200 }, (_, i) => String(1_000_000 + i));
    await store.commitBatch({
      stream: 's',
      outbox: ids.map((id) => ({
        object: 'Contact',
        externalId: id,
        operation: 'upsert' as const,
        payload: id,
        payloadHash: `h${id}`,
        runId: 'r',
      })),
      now: T0,
    });
    const items = await store.claimOutbox({ owner: 'w', limit: 2_000, leaseMs: 60_000, now: T0 });
    await store.completeWrites(
      items.map((i) => ({
        outboxId: i.id,
        object: 'Contact',
        externalId: i.externalId,
        payloadHash: i.payloadHash,
        salesforceId: null,
      })),
      () => [],
      T0,
    );
    expect((await store.getRecordStates('Contact', ids)).size).toBe(1_200);
    await store.forgetRecordStates('Contact', ids.slice(0, 10));
    expect((await store.listRecordStates('Contact')).length).toBe(1_190);
    expect((await store.getRecordStates('Care_Plan__c', ids)).size).toBe(0);
  });

  it('records runs newest first', async () => {
    await store.startRun({ id: 'run-1', mode: 'backfill', startedAt: T0, dataMapHash: 'abc' });
    await store.startRun({ id: 'run-2', mode: 'incremental', startedAt: T0 + 10, dataMapHash: 'abc' });
    await store.finishRun({
      id: 'run-1',
      status: 'partial',
      finishedAt: T0 + 5,
      counts: '{"Contact":{"written":3}}',
      error: null,
    });
    const runs = await store.listRuns();
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      ['run-2', 'running'],
      ['run-1', 'partial'],
    ]);
    expect(runs[1]).toMatchObject({
      finishedAt: T0 + 5,
      counts: '{"Contact":{"written":3}}',
      mode: 'backfill',
    });
  });

  it('prunes audit rows past retention and records the pruning in the chain', async () => {
    await store.commitBatch({
      stream: 's',
      outbox: ['1', '2'].map((id) => ({
        object: 'Contact',
        externalId: id,
        operation: 'upsert' as const,
        payload: id,
        payloadHash: id,
        runId: 'r',
      })),
      now: T0,
    });
    const items = await store.claimOutbox({ owner: 'w', limit: 5, leaseMs: 1000, now: T0 });
    await store.completeWrites([], auditRows([items[0]!], T0), T0);
    await store.completeWrites([], auditRows([items[1]!], T0 + 1_000), T0 + 1_000);
    const lastBefore = await store.lastAuditRow();
    const pruned = await store.pruneAudit(T0 + 500, (previous, count) => ({
      hash: `prune-${count}`,
      prevHash: previous?.hash ?? null,
      object: 'audit_log',
      externalId: 'retention',
      createdAt: T0 + 2_000,
      entry: JSON.stringify({ pruned: count }),
    }));
    expect(pruned).toBe(1);
    const rows = await store.listAudit();
    expect(rows.map((r) => r.hash)).toEqual([lastBefore!.hash, 'prune-1']);
    expect(rows[1]!.prevHash).toBe(lastBefore!.hash);
  });

  it('grants a named lease to one owner at a time', async () => {
    const other = h.other();
    expect(await store.acquireLease('stream:patients', 'a', 30_000, T0)).toBe(true);
    expect(await other.acquireLease('stream:patients', 'b', 30_000, T0 + 1)).toBe(false);
    expect(await store.acquireLease('stream:patients', 'a', 30_000, T0 + 2)).toBe(true);
    expect(await other.acquireLease('stream:patients', 'b', 30_000, T0 + 40_000)).toBe(true);
    await store.releaseLease('stream:patients', 'a');
    expect(await store.acquireLease('stream:patients', 'a', 30_000, T0 + 40_001)).toBe(false);
    await other.releaseLease('stream:patients', 'b');
    expect(await store.acquireLease('stream:patients', 'a', 30_000, T0 + 40_002)).toBe(true);
  });

  it('holds a lease that runs long enough without moving it, and extends one that ends sooner', async () => {
    const outbox = ['0', '1', '2'].map((id) => ({
      object: 'Contact',
      externalId: id,
      operation: 'upsert' as const,
      payload: `p${id}`,
      payloadHash: `h${id}`,
      runId: 'r',
    }));
    await store.commitBatch({ stream: 's', outbox, now: T0 });
    const [a, b, c] = await store.claimOutbox({ owner: 'w/1', limit: 3, leaseMs: 30_000, now: T0 });
    // Leases to T0 + 30 s. `a` and `b` need to be held past T0 + 20 s: held as they are; `c` past T0 + 40 s: moved.
    const ids = [a!.id, b!.id];
    expect([...(await store.holdOutboxItems('w/1', ids, T0 + 60_000, T0 + 20_000))].sort()).toEqual(
      ids.sort(),
    );
    expect(await store.holdOutboxItems('w/1', [c!.id], T0 + 60_000, T0 + 40_000)).toEqual(new Set([c!.id]));
    // At T0 + 35 s the leases left as they were have lapsed and are taken over; the one moved is not.
    const taken = await store.claimOutbox({ owner: 'w/2', limit: 10, leaseMs: 30_000, now: T0 + 35_000 });
    expect(taken.map((i) => i.id).sort()).toEqual(ids.sort());
    // Neither kind is held for an owner that does not hold it.
    expect(await store.holdOutboxItems('w/1', [a!.id, c!.id], T0 + 90_000, T0 + 20_000)).toEqual(
      new Set([c!.id]),
    );
  });

  it('renews, holds and releases leases by owner; reclaims by instance prefix', async () => {
    const outbox = Array.from({ length: 6 }, (_, i) => ({
      object: 'Contact',
      externalId: String(i),
      operation: 'upsert' as const,
      payload: `p${i}`,
      payloadHash: `h${i}`,
      runId: 'r',
    }));
    await store.commitBatch({ stream: 's', outbox, now: T0 });
    const other = h.other();
    const mine = await store.claimOutbox({ owner: 'host-a/1', limit: 3, leaseMs: 30_000, now: T0 });
    const theirs = await other.claimOutbox({ owner: 'host-b/1', limit: 3, leaseMs: 30_000, now: T0 });
    expect(await store.acquireLease('cycle', 'host-a/1', 30_000, T0)).toBe(true);
    expect(await other.acquireLease('stream:x', 'host-b/1', 30_000, T0)).toBe(true);

    // The heartbeat extends only what the owner holds: at T0 + 40 s a's items are still held, b's free.
    expect(
      await store.renewLeases('host-a/1', { outboxUntil: T0 + 60_000, namedUntil: T0 + 60_000 }),
    ).toEqual({ outbox: 3, named: 1 });
    const taken = await other.claimOutbox({
      owner: 'host-c/1',
      limit: 10,
      leaseMs: 30_000,
      now: T0 + 40_000,
    });
    expect(taken.map((i) => i.id).sort()).toEqual(theirs.map((i) => i.id).sort());
    expect(await other.acquireLease('cycle', 'host-c/1', 30_000, T0 + 40_000)).toBe(false);
    expect(await other.acquireLease('stream:x', 'host-c/1', 30_000, T0 + 40_000)).toBe(true);

    // Holding before a write: the items taken over are no longer b's; a still holds its own.
    const allIds = [...mine, ...theirs].map((i) => i.id);
    expect([...(await other.holdOutboxItems('host-b/1', allIds, T0 + 90_000))]).toEqual([]);
    expect([...(await store.holdOutboxItems('host-a/1', allIds, T0 + 90_000))].sort()).toEqual(
      mine.map((i) => i.id).sort(),
    );

    // A trimmed claim releases the items it names that its owner still holds, and nothing else.
    expect(await store.releaseLeases({ owner: 'host-a/1', ids: [mine[2]!.id, taken[0]!.id] })).toEqual({
      outbox: 1,
      named: 0,
    });
    const next = await other.claimOutbox({ owner: 'host-e/1', limit: 10, leaseMs: 30_000, now: T0 + 40_000 });
    expect(next.map((i) => i.id)).toEqual([mine[2]!.id]);
    expect(await other.releaseLeases({ owner: 'host-e/1', ids: [] })).toEqual({ outbox: 0, named: 0 });
    expect(await other.releaseLeases({ owner: 'host-e/1' })).toEqual({ outbox: 1, named: 0 });
    expect(await store.holdOutboxItems('host-a/1', [mine[2]!.id], T0 + 90_000)).toEqual(new Set());
    await store.claimOutbox({ owner: 'host-a/1', limit: 1, leaseMs: 30_000, now: T0 + 40_000 });

    // A closing process releases exactly its own; a restarted instance reclaims by its prefix.
    expect(await other.releaseLeases({ owner: 'host-c/1' })).toEqual({ outbox: 3, named: 1 });
    await other.claimOutbox({ owner: 'host-c/2', limit: 10, leaseMs: 30_000, now: T0 + 40_001 });
    expect(await store.releaseLeases({ ownerPrefix: 'host-a/' })).toEqual({ outbox: 3, named: 1 });
    expect(
      (await store.claimOutbox({ owner: 'host-a/2', limit: 10, leaseMs: 30_000, now: T0 + 40_002 }))
        .map((i) => i.id)
        .sort(),
    ).toEqual(mine.map((i) => i.id).sort());
    // '' reclaims every owner's (SQLite at start: no other process can hold them).
    expect(await store.releaseLeases({ ownerPrefix: '' })).toEqual({ outbox: 6, named: 0 });
    expect(
      await store.claimOutbox({ owner: 'host-d/1', limit: 10, leaseMs: 30_000, now: T0 + 40_003 }),
    ).toHaveLength(6);
  });

  it('keeps facts per patient, replacing a record and following a change of patient', async () => {
    await store.commitBatch({
      stream: 'individual_appointments',
      facts: [
        { resource: 'individual_appointments', id: 'a1', patientId: 'p1', data: '{"v":1}' },
        { resource: 'individual_appointments', id: 'a2', patientId: 'p2', data: '{"v":1}' },
        { resource: 'invoices', id: 'i1', patientId: 'p1', data: '{"total":"10.00"}' },
      ],
      now: T0,
    });
    await store.commitBatch({
      stream: 'individual_appointments',
      facts: [{ resource: 'individual_appointments', id: 'a2', patientId: 'p1', data: '{"v":2}' }],
      now: T0 + 1,
    });
    expect(await store.listFacts(['p1'])).toEqual([
      { resource: 'individual_appointments', id: 'a1', patientId: 'p1', data: '{"v":1}' },
      { resource: 'individual_appointments', id: 'a2', patientId: 'p1', data: '{"v":2}' },
      { resource: 'invoices', id: 'i1', patientId: 'p1', data: '{"total":"10.00"}' },
    ]);
    expect(await store.listFacts(['p2'])).toEqual([]);
    expect(await store.listFactPatientIds(null, 10)).toEqual(['p1']);
  });

  it('lists fact patients and queued journeys in keyset pages; a journey leaves the queue with its commit', async () => {
    await store.commitBatch({
      stream: 'patients',
      facts: ['p3', 'p1', 'p2'].map((p) => ({
        resource: 'invoices',
        id: `i-${p}`,
        patientId: p,
        data: '{}',
      })),
      journeyDue: ['p3', 'p1', 'p2', 'p1'],
      now: T0,
    });
    expect(await store.listFactPatientIds(null, 2)).toEqual(['p1', 'p2']);
    expect(await store.listFactPatientIds('p2', 2)).toEqual(['p3']);
    expect(await store.listJourneyDue(null, 2)).toEqual(['p1', 'p2']);
    // Queued again while queued: still once.
    await store.commitBatch({ stream: 'patients', journeyDue: ['p2', 'p4'], now: T0 + 1 });
    expect(await store.listJourneyDue('p1', 10)).toEqual(['p2', 'p3', 'p4']);
    await store.commitBatch({
      stream: 'journey',
      journeyStates: [{ patientId: 'p2', state: '{}' }],
      journeyDone: ['p1', 'p2'],
      now: T0 + 2,
    });
    expect(await store.listJourneyDue(null, 10)).toEqual(['p3', 'p4']);
    // Control: a batch without journeyDone leaves the queue as it is.
    await store.commitBatch({
      stream: 'journey',
      journeyStates: [{ patientId: 'p3', state: '{}' }],
      now: T0 + 3,
    });
    expect(await store.listJourneyDue(null, 10)).toEqual(['p3', 'p4']);
  });

  it('reads a journey chunk in one call: the listed patients, their facts and their states', async () => {
    await store.commitBatch({
      stream: 'patients',
      facts: [
        { resource: 'invoices', id: 'i1', patientId: 'p1', data: '{"total":"1.00"}' },
        { resource: 'invoices', id: 'i2', patientId: 'p2', data: '{"total":"2.00"}' },
        { resource: 'invoices', id: 'i3', patientId: 'p3', data: '{"total":"3.00"}' },
        { resource: 'individual_appointments', id: 'a2', patientId: 'p2', data: '{"v":2}' },
      ],
      journeyStates: [{ patientId: 'p2', state: '{"s":2}' }],
      journeyDue: ['p3', 'p2'],
      now: T0,
    });
    const queued = await store.readJourneyChunk('queued', null, 10);
    expect(queued.patientIds).toEqual(['p2', 'p3']);
    expect(queued.facts.map((f) => [f.patientId, f.id, f.data]).sort()).toEqual([
      ['p2', 'a2', '{"v":2}'],
      ['p2', 'i2', '{"total":"2.00"}'],
      ['p3', 'i3', '{"total":"3.00"}'],
    ]);
    expect(queued.states.map((r) => [r.patientId, r.state])).toEqual([['p2', '{"s":2}']]);
    // The same pages as the separate reads.
    expect((await store.readJourneyChunk('queued', 'p2', 10)).patientIds).toEqual(
      await store.listJourneyDue('p2', 10),
    );
    const all = await store.readJourneyChunk('all', 'p1', 1);
    expect(all.patientIds).toEqual(['p2']);
    expect(all.facts.map((f) => f.id).sort()).toEqual(['a2', 'i2']);
    expect(await store.readJourneyChunk('all', 'p3', 10)).toEqual({ patientIds: [], facts: [], states: [] });
  });

  it('reads facts by record id and by resource', async () => {
    await store.commitBatch({
      stream: 'individual_appointments',
      facts: [
        { resource: 'individual_appointments', id: 'a1', patientId: 'p1', data: '{"v":1}' },
        { resource: 'individual_appointments', id: 'a2', patientId: 'p2', data: '{"v":2}' },
        { resource: 'invoices', id: 'a1', patientId: 'p1', data: '{"total":"10.00"}' },
      ],
      now: T0,
    });
    expect(await store.getFacts('individual_appointments', ['a2', 'a9'])).toEqual([
      { resource: 'individual_appointments', id: 'a2', patientId: 'p2', data: '{"v":2}' },
    ]);
    expect(await store.getFacts('individual_appointments', [])).toEqual([]);
    expect((await store.listResourceFacts('individual_appointments', null, 10)).map((f) => f.id)).toEqual([
      'a1',
      'a2',
    ]);
    // Keyset pages: after an id, at most `limit`.
    expect((await store.listResourceFacts('individual_appointments', null, 1)).map((f) => f.id)).toEqual([
      'a1',
    ]);
    expect((await store.listResourceFacts('individual_appointments', 'a1', 1)).map((f) => f.id)).toEqual([
      'a2',
    ]);
    expect(await store.listResourceFacts('individual_appointments', 'a2', 1)).toEqual([]);
  });

  it('records announced event keys with the batch, once, and rolls them back with it', async () => {
    const item = (key: string, payload = '{}') => ({
      object: 'Appointment_Event__e',
      externalId: key,
      operation: 'publish' as const,
      payload,
      payloadHash: key,
      runId: 'r',
    });
    await store.commitBatch({
      stream: 'appointment-events',
      outbox: [item('a1:booked')],
      announced: ['a1:booked'],
      now: T0,
    });
    await store.commitBatch({ stream: 'appointment-events', announced: ['a1:booked'], now: T0 + 1 });
    expect(await store.announcedEvents(['a1:booked', 'a1:cancelled'])).toEqual(new Set(['a1:booked']));
    expect(await store.announcedEvents([])).toEqual(new Set());
    // A batch that fails keeps neither its outbox item nor its announced key (control: same call shape).
    const undo = await h.refuse('outbox', 'external_id', 'a1:cancelled');
    const cancelled = {
      stream: 'appointment-events',
      outbox: [item('a1:cancelled')],
      announced: ['a1:cancelled'],
      now: T0 + 2,
    };
    await expect(store.commitBatch(cancelled)).rejects.toThrow(REFUSAL);
    expect(await store.announcedEvents(['a1:cancelled'])).toEqual(new Set());
    await undo();
    await store.commitBatch(cancelled);
    expect(await store.announcedEvents(['a1:cancelled'])).toEqual(new Set(['a1:cancelled']));
  });

  it('sets a signpost once; a later value never moves it', async () => {
    expect(await store.getSignpost('go-live')).toBeUndefined();
    await store.commitBatch({ stream: 's', signposts: [{ name: 'go-live', at: T0 }], now: T0 });
    await store.commitBatch({ stream: 's', signposts: [{ name: 'go-live', at: T0 + 5 }], now: T0 + 5 });
    expect(await store.getSignpost('go-live')).toBe(T0);
  });

  it('keeps the reminder index: moments replaced per appointment, due ones earliest first', async () => {
    expect(await store.dueReminders(T0 + 10_000, 10)).toEqual([]);
    await store.commitBatch({
      stream: 'individual_appointments',
      reminders: [
        { appointmentId: 'a1', dueAt: [T0 + 300, T0 + 900] },
        { appointmentId: 'a2', dueAt: [T0 + 100] },
        { appointmentId: 'a3', dueAt: [T0 + 5_000] },
      ],
      now: T0,
    });
    expect(await store.dueReminders(T0 + 99, 10)).toEqual([]);
    expect(await store.dueReminders(T0 + 300, 10)).toEqual(['a2', 'a1']);
    // An appointment with two due moments is named once; the limit bounds the answer.
    expect(await store.dueReminders(T0 + 1_000, 10)).toEqual(['a2', 'a1']);
    expect(await store.dueReminders(T0 + 1_000, 1)).toEqual(['a2']);
    // A later write replaces an appointment's moments (a move), or forgets it (a cancellation).
    await store.commitBatch({
      stream: 'individual_appointments',
      reminders: [
        { appointmentId: 'a1', dueAt: [T0 + 2_000] },
        { appointmentId: 'a2', dueAt: [] },
      ],
      now: T0 + 1,
    });
    expect(await store.dueReminders(T0 + 1_000, 10)).toEqual([]);
    expect(await store.dueReminders(T0 + 10_000, 10)).toEqual(['a1', 'a3']);
  });

  it('rebuilds the reminder index in pages: the first clears it and its fingerprint, the last records one', async () => {
    expect(await store.remindersFingerprint()).toBeUndefined();
    await store.commitBatch({
      stream: 'individual_appointments',
      reminders: [{ appointmentId: 'old', dueAt: [T0] }],
      now: T0,
    });
    // A rebuild of one page.
    await store.commitBatch({
      stream: 'reminders-index',
      reminders: [{ appointmentId: 'new', dueAt: [T0 + 1] }],
      remindersCleared: true,
      remindersRebuilt: 'f1',
      now: T0,
    });
    expect(await store.remindersFingerprint()).toBe('f1');
    expect(await store.dueReminders(T0 + 10, 10)).toEqual(['new']);
    // A rebuild of two pages: between them the index counts as never built.
    await store.commitBatch({
      stream: 'reminders-index',
      reminders: [{ appointmentId: 'p1', dueAt: [T0 + 2] }],
      remindersCleared: true,
      now: T0 + 1,
    });
    expect(await store.remindersFingerprint()).toBeUndefined();
    expect(await store.dueReminders(T0 + 10, 10)).toEqual(['p1']);
    await store.commitBatch({
      stream: 'reminders-index',
      reminders: [{ appointmentId: 'p2', dueAt: [T0 + 3] }],
      remindersRebuilt: 'f2',
      now: T0 + 1,
    });
    expect(await store.remindersFingerprint()).toBe('f2');
    expect(await store.dueReminders(T0 + 10, 10)).toEqual(['p1', 'p2']);
    // A failing batch rebuilds nothing (control: the same call shape without the failure succeeds).
    const undo = await h.refuse('facts', 'id', 'x');
    const rebuild = (on: Store) =>
      on.commitBatch({
        stream: 'reminders-index',
        facts: [{ resource: 'individual_appointments', id: 'x', patientId: 'p', data: '{}' }],
        reminders: [{ appointmentId: 'x', dueAt: [T0 + 2] }],
        remindersCleared: true,
        remindersRebuilt: 'f3',
        now: T0 + 2,
      });
    await expect(rebuild(store)).rejects.toThrow(REFUSAL);
    expect(await store.remindersFingerprint()).toBe('f2');
    await undo();
    await rebuild(store);
    expect(await store.remindersFingerprint()).toBe('f3');
    expect(await store.dueReminders(T0 + 10, 10)).toEqual(['x']);
  });

  it('lists journey states', async () => {
    await store.commitBatch({
      stream: 'journey',
      journeyStates: [
        { patientId: '2', state: '{"s":2}' },
        { patientId: '1', state: '{"s":1}' },
      ],
      now: T0,
    });
    await store.commitBatch({
      stream: 'journey',
      journeyStates: [{ patientId: '1', state: '{"s":3}' }],
      now: T0 + 1,
    });
    expect((await store.listJourneyStates()).map((j) => [j.patientId, j.state])).toEqual([
      ['1', '{"s":3}'],
      ['2', '{"s":2}'],
    ]);
  });
});
