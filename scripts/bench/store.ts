/**
 * (c) Store throughput, kept from the first benchmark: the outbox path of one drain without
 * Salesforce, on SQLite and (when a PostgreSQL is available) on PostgreSQL. Runs in the benchmark's
 * own process through tsx; it measures the store's statements, not the service's footprint.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { PostgresStore, SqliteStore, type Store } from '../../sync-service/src/store/index.js';
import { auditRowsFor } from '../../sync-service/src/sync/outbox/audit.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { startTestPostgres } from '../../test/support/postgres.js';

export interface StoreBenchOptions {
  readonly storeItems: number;
  readonly postgres: boolean;
  readonly bounded: <T>(label: string, work: Promise<T>) => Promise<T>;
}

export interface StoreResult {
  readonly store: 'sqlite' | 'postgres';
  readonly items: number;
  readonly commitMs: number;
  readonly claimMs: number;
  readonly completeMs: number;
  readonly itemsPerSecond: number;
  /**
   * CPU of this process (the store's client side; for PostgreSQL not the server's) per phase: less
   * moved than the times by other work on the machine, though still by up to 2x on a loaded machine.
   */
  readonly cpuMs: { readonly commit: number; readonly claim: number; readonly complete: number };
  readonly error?: string;
}

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * The outbox path of one drain without Salesforce: the items are committed in pages of 100 (as a
 * stream's pages are), claimed 200 at a time (a collection), and completed with a chained audit row
 * each, as the worker does.
 */
async function benchStore(
  kind: StoreResult['store'],
  store: Store,
  storeItems: number,
): Promise<StoreResult> {
  await store.migrate();
  const runId = `bench-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  const payload = JSON.stringify({ LastName: 'Bench', Email: 'bench@example.com', Phone: '0400 000 000' });
  const cpu = { commit: 0, claim: 0, complete: 0 };
  let cpuFrom = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < storeItems; i += 100) {
    const outbox = [];
    for (let j = i; j < Math.min(i + 100, storeItems); j += 1) {
      outbox.push({
        object: 'Contact',
        externalId: String(1_000_000 + j),
        operation: 'upsert' as const,
        payload,
        payloadHash: randomBytes(32).toString('hex'),
        runId,
      });
    }
    await store.commitBatch({ stream: 'bench', outbox, now });
  }
  const commitMs = performance.now() - t0;
  cpu.commit = cpuNow() - cpuFrom;
  let claimMs = 0;
  let completeMs = 0;
  let done = 0;
  for (;;) {
    const c0 = performance.now();
    cpuFrom = cpuNow();
    const items = await store.claimOutbox({ owner: 'bench', limit: 200, leaseMs: 60_000, now: Date.now() });
    claimMs += performance.now() - c0;
    cpu.claim += cpuNow() - cpuFrom;
    if (items.length === 0) break;
    const w0 = performance.now();
    cpuFrom = cpuNow();
    await store.completeWrites(
      items.map((item) => ({
        outboxId: item.id,
        object: item.object,
        externalId: item.externalId,
        payloadHash: item.payloadHash,
        salesforceId: null,
      })),
      // The worker's own audit callback, so the bench measures the chain the product writes.
      auditRowsFor(
        items.map((item) => ({
          item,
          result: { key: item.externalId, success: true, id: null, created: true },
          fields: JSON.parse(item.payload) as Record<string, unknown>,
        })),
        { actor: 'bench', now: Date.now },
      ),
      Date.now(),
    );
    completeMs += performance.now() - w0;
    cpu.complete += cpuNow() - cpuFrom;
    done += items.length;
  }
  if (done !== storeItems) throw new Error(`${kind}: drained ${done} of ${storeItems} items`);
  const totalMs = commitMs + claimMs + completeMs;
  return {
    store: kind,
    items: storeItems,
    commitMs: Math.round(commitMs),
    claimMs: Math.round(claimMs),
    completeMs: Math.round(completeMs),
    itemsPerSecond: Math.round(storeItems / (totalMs / 1000)),
    cpuMs: {
      commit: Math.round(cpu.commit),
      claim: Math.round(cpu.claim),
      complete: Math.round(cpu.complete),
    },
  };
}

function postgresAvailable(wanted: boolean): boolean {
  if (!wanted) return false;
  if (process.env.DATABASE_URL_TEST) return true;
  try {
    // The same search the throwaway script does: pg_ctl on PATH or under /usr/lib/postgresql.
    execFileSync('bash', ['-c', 'command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl'], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

export async function benchStores(options: StoreBenchOptions): Promise<StoreResult[]> {
  const { storeItems, bounded } = options;
  const cipher = keyringCipher(createKeyring(randomBytes(32), []));
  const results: StoreResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sync-bench-store-'));
  const sqlite = new SqliteStore(join(dir, 'bench.db'), cipher);
  try {
    results.push(await bounded('store sqlite', benchStore('sqlite', sqlite, storeItems)));
  } catch (err) {
    results.push(failedStore('sqlite', err, storeItems));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (postgresAvailable(options.postgres)) {
    let pgServer: Awaited<ReturnType<typeof startTestPostgres>> | undefined;
    let store: PostgresStore | undefined;
    try {
      pgServer = await startTestPostgres();
      const schema = await pgServer.newSchema();
      store = new PostgresStore(schema.poolConfig, cipher);
      results.push(await bounded('store postgres', benchStore('postgres', store, storeItems)));
    } catch (err) {
      results.push(failedStore('postgres', err, storeItems));
    } finally {
      await store?.close();
      await pgServer?.stop();
    }
  }
  return results;
}

function failedStore(store: StoreResult['store'], err: unknown, storeItems: number): StoreResult {
  return {
    store,
    items: storeItems,
    commitMs: 0,
    claimMs: 0,
    completeMs: 0,
    itemsPerSecond: 0,
    cpuMs: { commit: 0, claim: 0, complete: 0 },
    error: err instanceof Error ? err.message : String(err),
  };
}
