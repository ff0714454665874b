/**
 * `npm run bench [-- --patients N] [--large] [--real-budget] [--no-postgres] [--emulator]`
 *
 * Benchmarks, not tests: they measure, print a table and write bench-results/<timestamp>.json; they
 * assert nothing about time. Everything runs on loopback in this process (both emulators, the real sync
 * service), so wall time and RSS include the emulators' own work.
 *
 * (a) a full backfill of the default synthetic practice at N patients (default 2,000; 20,000 more with
 *     --large) through both emulators into the Salesforce emulator, the service's store on SQLite;
 * (b) an idle incremental cycle (expected: 0 Salesforce writes) and a single-change cycle;
 * (c) store throughput: commitBatch + claimOutbox + completeWrites of 10,000 outbox items, on SQLite and,
 *     when a PostgreSQL is available (DATABASE_URL_TEST or installed server binaries), on PostgreSQL;
 * (d) the Cliniko emulator's own benchmark is scripts/bench-cliniko-emulator.ts; --emulator runs it
 *     (in its own process, as it asks) at the same size and keeps its output.
 *
 * By default the Cliniko request budget's window is shrunk to one second (180 requests per second
 * instead of per minute) so the numbers show the engine, not the budget; the Cliniko request count is
 * reported so the budget-bound time (requests / 180 per minute) can be read off. --real-budget keeps
 * production's 60-second window (a 2,000-patient backfill then takes minutes by design).
 *
 * Each section stops after --max-minutes (default 15) and is reported as timed out.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../sync-service/src/config/index.js';
import { createKeyring } from '../sync-service/src/governance/encryption.js';
import { createLogger } from '../sync-service/src/logger.js';
import { PostgresStore, SqliteStore, type Store } from '../sync-service/src/store/index.js';
import { auditRowsFor } from '../sync-service/src/sync/outbox/audit.js';
import { keyringCipher } from '../sync-service/src/runtime/cipher.js';
import type { RunSummary } from '../sync-service/src/sync/cycle/runner.js';
import { createSyncService } from '../sync-service/src/runtime/wiring.js';
import { recordId, startClinikoEmulator } from '../test/emulators/cliniko/index.js';
import { startSalesforceEmulator } from '../test/emulators/salesforce/server.js';
import { startTestPostgres } from '../test/support/postgres.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    large: { type: 'boolean', default: false },
    'real-budget': { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    emulator: { type: 'boolean', default: false },
    'store-items': { type: 'string', default: '10000' },
    'max-minutes': { type: 'string', default: '15' },
    seed: { type: 'string', default: '7' },
  },
  allowPositionals: false,
});

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

const sizes = [positiveInt('patients', values.patients)];
if (values.large && !sizes.includes(20_000)) sizes.push(20_000);
const storeItems = positiveInt('store-items', values['store-items']);
const maxMs = positiveInt('max-minutes', values['max-minutes']) * 60_000;
const seed = positiveInt('seed', values.seed);

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);

/** Samples RSS every 50 ms while a section runs: the section's peak, not the process's lifetime peak. */
function rssSampler() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

class TimedOut extends Error {}

/** Bounds a section in time; the caller closes what it started, which ends the abandoned work. */
async function bounded<T>(label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimedOut(`${label}: over ${maxMs / 60_000} minutes`)), maxMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const total = (summary: RunSummary, key: 'read' | 'written' | 'skipped' | 'quarantined') =>
  Object.values(summary.counts).reduce((n, c) => n + c[key], 0);

interface CycleResult {
  readonly size: number;
  readonly cycle: 'backfill' | 'idle incremental' | 'single change';
  readonly status: string;
  readonly wallMs: number;
  readonly recordsRead: number;
  readonly recordsWritten: number;
  readonly recordsPerSecond: number;
  readonly clinikoRequests: number;
  /** Requests the Salesforce emulator counted against the daily allowance (REST, Bulk, queries). */
  readonly salesforceApiCalls: number;
  /** Write calls the service's writer made (collections, Bulk jobs). */
  readonly salesforceWriteCalls: number;
  readonly peakRssMb: number;
  readonly error?: string;
}

async function benchSync(
  patients: number,
): Promise<{ practice: Record<string, number>; cycles: CycleResult[] }> {
  const cliniko = await startClinikoEmulator({
    patients,
    seed,
    controls: true,
    now: new Date().toISOString(),
    rateLimitPerMinute: values['real-budget'] ? 200 : 1_000_000,
    requestLogLimit: 1_000,
  });
  const salesforce = await startSalesforceEmulator({ dailyApiLimit: 10_000_000 });
  const dir = mkdtempSync(join(tmpdir(), 'sync-bench-'));
  const practice = {
    patients: cliniko.practice.patients.length,
    appointments: cliniko.practice.appointments.length,
    invoices: cliniko.practice.invoices.length,
    cases: cliniko.practice.patientCases.length,
  };
  const config = loadConfig({
    SYNC_MODE: 'test',
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'bench@clinic.example',
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SYNC_DB_PATH: join(dir, 'sync.db'),
    SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLINIC_TIMEZONE: 'Australia/Sydney',
  });
  const service = await createSyncService(config, createLogger({ level: 'silent' }), {
    now: () => Date.parse(cliniko.controls.now()),
    ...(values['real-budget'] ? {} : { cliniko: { budgetWindowMs: 1_000 } }),
  });
  const cycles: CycleResult[] = [];
  const measure = async (cycle: CycleResult['cycle'], run: () => Promise<RunSummary>) => {
    const apiBefore = salesforce.org.api.used;
    const rss = rssSampler();
    const t0 = performance.now();
    try {
      const summary = await bounded(`${cycle} at ${patients}`, run());
      const wallMs = performance.now() - t0;
      const written = total(summary, 'written');
      cycles.push({
        size: patients,
        cycle,
        status: summary.status,
        wallMs: Math.round(wallMs),
        recordsRead: total(summary, 'read'),
        recordsWritten: written,
        recordsPerSecond: Math.round(written / (wallMs / 1000)),
        clinikoRequests: summary.clinikoRequests,
        salesforceApiCalls: salesforce.org.api.used - apiBefore,
        salesforceWriteCalls: summary.salesforceCalls,
        peakRssMb: mb(rss.stop()),
        ...(summary.error ? { error: summary.error } : {}),
      });
      return true;
    } catch (err) {
      cycles.push({
        size: patients,
        cycle,
        status: err instanceof TimedOut ? 'timed out' : 'error',
        wallMs: Math.round(performance.now() - t0),
        recordsRead: 0,
        recordsWritten: 0,
        recordsPerSecond: 0,
        clinikoRequests: 0,
        salesforceApiCalls: salesforce.org.api.used - apiBefore,
        salesforceWriteCalls: 0,
        peakRssMb: mb(rss.stop()),
        error: err instanceof Error ? err.message : String(err),
      });
      return false;
    }
  };
  try {
    if (await measure('backfill', () => service.runner.runCycle('backfill'))) {
      await measure('idle incremental', () => service.runner.runCycle('incremental'));
      const patient = cliniko.practice.patients.find((p) => p.archivedAt === null && p.mergedAt === null);
      if (patient) {
        cliniko.controls.updatePatient(recordId('patient', patient.idx), {
          email: 'bench.change@example.com',
        });
        await measure('single change', () => service.runner.runCycle('incremental'));
      }
    }
  } finally {
    await service.close().catch(() => undefined);
    await cliniko.close();
    await salesforce.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { practice, cycles };
}

interface StoreResult {
  readonly store: 'sqlite' | 'postgres';
  readonly items: number;
  readonly commitMs: number;
  readonly claimMs: number;
  readonly completeMs: number;
  readonly itemsPerSecond: number;
  readonly error?: string;
}

/**
 * The outbox path of one drain without Salesforce: the items are committed in pages of 100 (as a
 * stream's pages are), claimed 200 at a time (a collection), and completed with a chained audit row
 * each, as the worker does.
 */
async function benchStore(kind: StoreResult['store'], store: Store): Promise<StoreResult> {
  await store.migrate();
  const runId = `bench-${randomUUID().slice(0, 8)}`;
  const now = Date.now();
  const payload = JSON.stringify({ LastName: 'Bench', Email: 'bench@example.com', Phone: '0400 000 000' });
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
  let claimMs = 0;
  let completeMs = 0;
  let done = 0;
  for (;;) {
    const c0 = performance.now();
    const items = await store.claimOutbox({ owner: 'bench', limit: 200, leaseMs: 60_000, now: Date.now() });
    claimMs += performance.now() - c0;
    if (items.length === 0) break;
    const w0 = performance.now();
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
  };
}

function postgresAvailable(): boolean {
  if (values['no-postgres']) return false;
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

async function benchStores(): Promise<StoreResult[]> {
  const cipher = keyringCipher(createKeyring(randomBytes(32), []));
  const results: StoreResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sync-bench-store-'));
  const sqlite = new SqliteStore(join(dir, 'bench.db'), cipher);
  try {
    results.push(await bounded('store sqlite', benchStore('sqlite', sqlite)));
  } catch (err) {
    results.push(failedStore('sqlite', err));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (postgresAvailable()) {
    let pgServer: Awaited<ReturnType<typeof startTestPostgres>> | undefined;
    let store: PostgresStore | undefined;
    try {
      pgServer = await startTestPostgres();
      const schema = await pgServer.newSchema();
      store = new PostgresStore(schema.poolConfig, cipher);
      results.push(await bounded('store postgres', benchStore('postgres', store)));
    } catch (err) {
      results.push(failedStore('postgres', err));
    } finally {
      await store?.close();
      await pgServer?.stop();
    }
  }
  return results;
}

function failedStore(store: StoreResult['store'], err: unknown): StoreResult {
  return {
    store,
    items: storeItems,
    commitMs: 0,
    claimMs: 0,
    completeMs: 0,
    itemsPerSecond: 0,
    error: err instanceof Error ? err.message : String(err),
  };
}

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r, n) =>
      [
        r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
        ...(n === 0 ? ['\n' + widths.map((w) => '-'.repeat(w)).join('  ')] : []),
      ].join(''),
    )
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------

const startedAt = new Date();
const machine = {
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryMb: mb(totalmem()),
  loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
console.log(
  `bench: ${machine.cpus} CPUs (${machine.cpuModel}), load ${machine.loadAverageAtStart.join(' ')}, node ${machine.node}` +
    `; Cliniko budget window ${values['real-budget'] ? '60 s (production)' : '1 s (engine speed; see --real-budget)'}`,
);

const syncRuns: Array<{ patients: number; practice: Record<string, number>; cycles: CycleResult[] }> = [];
for (const patients of sizes) {
  console.log(`\n(a, b) sync at ${patients} patients...`);
  const { practice, cycles } = await benchSync(patients);
  syncRuns.push({ patients, practice, cycles });
  console.log(
    `practice: ${practice.patients} patients, ${practice.appointments} appointments, ${practice.invoices} invoices, ${practice.cases} cases`,
  );
  console.log(
    table(
      [
        'cycle',
        'status',
        'wall s',
        'read',
        'written',
        'written/s',
        'Cliniko req',
        'SF API calls',
        'SF writes',
        'peak RSS MB',
      ],
      cycles.map((c) => [
        c.cycle,
        c.status,
        (c.wallMs / 1000).toFixed(1),
        c.recordsRead,
        c.recordsWritten,
        c.recordsPerSecond,
        c.clinikoRequests,
        c.salesforceApiCalls,
        c.salesforceWriteCalls,
        c.peakRssMb,
      ]),
    ),
  );
  for (const c of cycles) if (c.error) console.log(`  ${c.cycle}: ${c.error}`);
}

console.log(
  `\n(c) store throughput, ${storeItems} outbox items (commit in pages of 100, claim 200, complete + audit)...`,
);
const stores = await benchStores();
console.log(
  table(
    ['store', 'items', 'commit ms', 'claim ms', 'complete ms', 'items/s'],
    stores.map((s) => [s.store, s.items, s.commitMs, s.claimMs, s.completeMs, s.itemsPerSecond]),
  ),
);
for (const s of stores) if (s.error) console.log(`  ${s.store}: ${s.error}`);
if (!stores.some((s) => s.store === 'postgres')) {
  console.log(
    '  postgres: skipped (no DATABASE_URL_TEST and no PostgreSQL server binaries, or --no-postgres)',
  );
}

let emulatorBench: string | undefined;
console.log('\n(d) Cliniko emulator benchmark: scripts/bench-cliniko-emulator.ts');
if (values.emulator) {
  const run = spawnSync(
    'node_modules/.bin/tsx',
    ['--expose-gc', 'scripts/bench-cliniko-emulator.ts', String(sizes[0])],
    { encoding: 'utf8', timeout: maxMs },
  );
  emulatorBench = `${run.stdout}${run.stderr}`;
  console.log(emulatorBench.trimEnd());
} else {
  console.log(
    `  not run (pass --emulator, or: node_modules/.bin/tsx --expose-gc scripts/bench-cliniko-emulator.ts ${sizes[0]})`,
  );
}

mkdirSync('bench-results', { recursive: true });
const file = join('bench-results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadAverageAtEnd: loadavg().map((n) => Number(n.toFixed(2))) },
      options: {
        sizes,
        realBudget: values['real-budget'],
        storeItems,
        seed,
      },
      sync: syncRuns,
      stores,
      ...(emulatorBench !== undefined ? { clinikoEmulatorBench: emulatorBench } : {}),
    },
    null,
    2,
  )}\n`,
);
console.log(`\nresults: ${file}`);
const failed =
  syncRuns.some((r) =>
    r.cycles.some((c) => c.status === 'error' || c.status === 'timed out' || c.status === 'failed'),
  ) || stores.some((s) => s.error !== undefined);
process.exit(failed ? 1 : 0);
