/**
 * `npm run bench [-- --patients N] [--freshness-seconds S] [--practice-age-seconds S] [--real-budget] [--no-store] [--no-postgres]
 *   [--emulator] [--no-build]`
 *
 * A benchmark, not a test: it measures and writes bench-results/latest.json (and a timestamped copy);
 * it asserts nothing about time. It measures the way issue #16's numbers were measured:
 *
 * - both emulators in their own processes (scripts/bench/emulators.ts), the service in its own, from
 *   the production build (`npm run build`; scripts/bench/service-worker.ts for the backfill and idle
 *   cycles, `node sync-service/dist/server.js` for freshness); the service's peak RSS is its VmHWM;
 * - counts at the emulators, compared with their minimums: Cliniko requests against ceil(n/100) per
 *   list endpoint read (n counted with the hidden rows revealed), Salesforce record writes against
 *   one per record (records created plus events published);
 * - (a) backfill with Cliniko's budget window shrunk to 1 s (unless --real-budget): the engine's speed;
 * - (b) an idle incremental cycle right after it: Cliniko requests and Salesforce writes;
 * - freshness: the production service under Cliniko's real limit, e-mail changes at random times,
 *   change -> visible on the Contact, p50 / p95; Cliniko requests over the window / 200 a minute;
 * - (c) store throughput (scripts/bench/store.ts), unless --no-store;
 * - (d) the Cliniko emulator's own benchmark with --emulator.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  salesforceDelta,
  startCliniko,
  startSalesforce,
  type ClinikoProcess,
  type SalesforceProcess,
} from './bench/emulators.js';
import { measureFreshness, type FreshnessResult } from './bench/freshness.js';
import { type Child, cpuSecondsOf, memoryOf, startChild } from './bench/processes.js';
import { benchStores, type StoreResult } from './bench/store.js';
import { parseStartCommand } from './lib/start-command.js';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '2000' },
    seed: { type: 'string', default: '7' },
    'freshness-seconds': { type: 'string', default: '150' },
    'change-gap-seconds': { type: 'string', default: '8' },
    'drain-seconds': { type: 'string', default: '90' },
    'practice-age-seconds': { type: 'string', default: '600' },
    'poll-seconds': { type: 'string' },
    'real-budget': { type: 'boolean', default: false },
    'no-store': { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'no-freshness': { type: 'boolean', default: false },
    'service-node-options': { type: 'string' },
    emulator: { type: 'boolean', default: false },
    'store-items': { type: 'string', default: '10000' },
    'max-minutes': { type: 'string', default: '30' },
    out: { type: 'string', default: 'bench-results' },
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

function nonNegativeInt(name: string, value: string): number {
  return value === '0' ? 0 : positiveInt(name, value);
}

const patients = positiveInt('patients', values.patients);
const seed = positiveInt('seed', values.seed);
const freshnessSeconds = positiveInt('freshness-seconds', values['freshness-seconds']);
const changeGapSeconds = positiveInt('change-gap-seconds', values['change-gap-seconds']);
const drainSeconds = positiveInt('drain-seconds', values['drain-seconds']);
const practiceAgeSeconds = nonNegativeInt('practice-age-seconds', values['practice-age-seconds']);
const maxMs = positiveInt('max-minutes', values['max-minutes']) * 60_000;
const storeItems = positiveInt('store-items', values['store-items']);
const pollSeconds =
  values['poll-seconds'] === undefined ? undefined : positiveInt('poll-seconds', values['poll-seconds']);

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The `q[]` filters that reveal every row of a list endpoint (the oracle of the request minimum). */
const REVEAL: Readonly<Record<string, readonly string[]>> = {
  patients: ['archived_at:*'],
  patient_cases: ['archived_at:*'],
  individual_appointments: ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'],
  attendees: ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'],
  invoices: ['archived_at:*', 'deleted_at:*'],
  invoice_items: ['archived_at:*'],
  appointment_types: ['archived_at:*'],
  businesses: ['archived_at:*'],
  practitioners: [],
  'practitioners/inactive': [],
};
const listPath = (path: string): string =>
  `/${path}?per_page=1&${(REVEAL[path] ?? []).map((f) => `q%5B%5D=${encodeURIComponent(f)}`).join('&')}`;

/** A seeded PRNG (mulberry32) so that the changes of two runs land on the same patients. */
function prng(seedValue: number): () => number {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cliniko requests after a mark, per list path, against ceil(rows / 100) each. */
async function clinikoCounts(cliniko: ClinikoProcess, since: number, until: number) {
  const requests = (await cliniko.requestsSince(since)).filter((r) => r.seq <= until);
  const byPath: Record<string, number> = {};
  for (const r of requests) {
    const path = (r.url.split('?')[0] ?? '').replace(/^\/v1\//, '');
    byPath[path] = (byPath[path] ?? 0) + 1;
  }
  let minimum = 0;
  const minimumByPath: Record<string, number> = {};
  for (const path of Object.keys(byPath)) {
    if (!(path in REVEAL)) continue; // a single-record read: no minimum, every such request is extra
    const total = Number((await cliniko.api(listPath(path))).total_entries);
    if (!Number.isInteger(total)) throw new Error(`Cliniko ${path}: no total_entries`);
    minimumByPath[path] = Math.max(1, Math.ceil(total / 100));
    minimum += minimumByPath[path];
  }
  return { requests: requests.length, minimum, byPath, minimumByPath };
}

async function within<T>(label: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label}: over ${maxMs / 60_000} minutes`)), maxMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Some active patients' ids, read before the measured phases begin. */
async function samplePatients(cliniko: ClinikoProcess, random: () => number): Promise<string[]> {
  const first = await cliniko.api('/patients?per_page=100');
  const pages = Math.max(1, Math.ceil(Number(first.total_entries) / 100));
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const page = 1 + Math.floor(random() * pages);
    const body = await cliniko.api(`/patients?per_page=100&page=${page}`);
    for (const p of body.patients as Array<{ id: string }>) ids.add(p.id);
  }
  return [...ids];
}

async function cycle(worker: Child, command: 'backfill' | 'incremental') {
  worker.send(command);
  const result = await within(
    command,
    worker.waitFor((m) => m.cycle === command, maxMs),
  );
  if (result.status === 'error' || result.status === 'failed')
    throw new Error(`${command} failed: ${String(result.error)}`);
  return result;
}

function build(): void {
  if (values['no-build']) return;
  console.log('npm run build ...');
  const run = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) throw new Error(`npm run build exited with ${String(run.status)}`);
}

/**
 * How `npm start` runs the service (package.json's start script: the allocator's settings and the
 * heap bounds), so the benchmark measures the service as production starts it, in both of its
 * processes.
 */
function startSettings(): { env: Readonly<Record<string, string>>; nodeOptions: string } {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
  const start = parseStartCommand(pkg.scripts.start);
  if (start.command !== 'node') throw new Error('npm start is expected to run node');
  return { env: start.env, nodeOptions: start.args.filter((part) => part.startsWith('--')).join(' ') };
}

function serviceEnv(
  cliniko: ClinikoProcess,
  salesforce: SalesforceProcess,
  dir: string,
  key: string,
): NodeJS.ProcessEnv {
  const start = startSettings();
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...start.env,
    NODE_ENV: 'production',
    NODE_OPTIONS: start.nodeOptions,
    SYNC_MODE: 'test',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: '0',
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'bench@clinic.example',
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SYNC_DB_PATH: join(dir, 'sync.db'),
    SYNC_ENCRYPTION_KEY: key,
    CLINIC_TIMEZONE: 'Australia/Sydney',
    ...(pollSeconds !== undefined ? { SYNC_POLL_INTERVAL_SECONDS: String(pollSeconds) } : {}),
  };
}

async function run() {
  build();
  const random = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'sync-bench-'));
  // The emulators hold the whole practice and org: give them room beyond V8's default heap limit.
  const emulatorEnv = { ...process.env, NODE_OPTIONS: '--max-old-space-size=12288' };
  // The practice as it stood --practice-age-seconds before the sync is switched on (default 10
  // minutes): the generator stamps thousands of records at its own instant (a booking that would lie
  // in the future is clamped to it), where a real practice's last minutes hold a handful of edits.
  // Generated at the backfill's own instant, those records fall inside the overlap window before the
  // backfill, which its first incremental cycle rechecks for late commits, as it must (cliniko/README.md,
  // "Watermarks"); --practice-age-seconds 0 measures that case. Cliniko's clock then runs at real time.
  const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const practiceNow = isoSeconds(Date.now() - practiceAgeSeconds * 1000);
  console.log(`starting the emulators (${patients} patients) ...`);
  const [cliniko, salesforce] = await Promise.all([
    startCliniko({ patients, seed, now: practiceNow, env: emulatorEnv }),
    startSalesforce(emulatorEnv),
  ]);
  await cliniko.control('POST', 'clock', { now: isoSeconds(Date.now()) });
  let worker: Child | undefined;
  try {
    const practice: Record<string, number> = {};
    for (const path of ['patients', 'individual_appointments', 'invoices', 'patient_cases'])
      practice[path] = Number((await cliniko.api(listPath(path))).total_entries);
    const patientIds = await samplePatients(cliniko, random);
    const env = serviceEnv(cliniko, salesforce, dir, randomBytes(32).toString('base64'));

    worker = startChild(process.execPath, ['scripts/bench/service-worker.ts'], {
      ...env,
      // For profiling the service (e.g. --cpu-prof, --heap-prof): passed to its node as NODE_OPTIONS.
      ...(values['service-node-options']
        ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${values['service-node-options']}`.trim() }
        : {}),
      LOG_LEVEL: 'silent',
      BENCH_BUDGET_WINDOW_MS: values['real-budget'] ? '60000' : '1000',
    });
    await worker.waitFor((m) => m.ready === true, 5 * 60_000);

    console.log('(a) backfill ...');
    const seq0 = await cliniko.seq();
    const sf0 = await salesforce.stats();
    const emulatorCpu = () => ({
      cliniko: cpuSecondsOf(cliniko.child.pid),
      salesforce: cpuSecondsOf(salesforce.child.pid),
    });
    const emulatorCpu0 = emulatorCpu();
    const backfill = await cycle(worker, 'backfill');
    const backfillMemory = memoryOf(worker.pid);
    const emulatorCpu1 = emulatorCpu();
    const seq1 = await cliniko.seq();
    const sf1 = await salesforce.stats();
    const clinikoBackfill = await clinikoCounts(cliniko, seq0, seq1);
    const sfBackfill = salesforceDelta(sf0, sf1);

    console.log('(b) idle incremental cycle ...');
    const seq2 = await cliniko.seq();
    const idle = await cycle(worker, 'incremental');
    const seq3 = await cliniko.seq();
    const sf2 = await salesforce.stats();
    const sfIdle = salesforceDelta(sf1, sf2);
    const workerCpuSeconds = cpuSecondsOf(worker.pid);
    worker.send('exit');
    // Its own exit, so that profiles asked for with --service-node-options are written.
    await worker.exitWithin(60_000);
    await worker.stop();

    // --no-freshness (for profiling the backfill): the freshness keys are then absent, not made up.
    const freshness: FreshnessResult | null = values['no-freshness']
      ? null
      : await within(
          'freshness',
          (console.log(
            `freshness: ${freshnessSeconds} s of changes, one every ${changeGapSeconds} s on average ...`,
          ),
          measureFreshness({
            cliniko,
            salesforce,
            serviceEnv: env,
            patientIds,
            windowSeconds: freshnessSeconds,
            meanGapSeconds: changeGapSeconds,
            drainSeconds,
            random,
          })),
        );

    const wallSeconds = Number(backfill.wallMs) / 1000;
    const cpuSeconds = Number(backfill.cpuMs) / 1000;
    return {
      patients,
      practice,
      backfill: {
        status: backfill.status,
        wallSeconds: round(wallSeconds),
        recordsWritten: sfBackfill.distinctRecords,
        recordsPerSecond: Math.round(sfBackfill.distinctRecords / wallSeconds),
        cpuSeconds: round(cpuSeconds),
        recordsPerCpuSecond: Math.round(sfBackfill.distinctRecords / cpuSeconds),
        serviceRssPeakMb: backfillMemory.peakMb,
        serviceRssAfterMb: backfillMemory.rssMb,
        serviceMemoryPeaksMb: backfill.memoryPeaksMb,
        clinikoRequests: clinikoBackfill.requests,
        clinikoRequestsMinimum: clinikoBackfill.minimum,
        clinikoRequestsRatio: round(clinikoBackfill.requests / clinikoBackfill.minimum, 3),
        clinikoRequestsByPath: clinikoBackfill.byPath,
        salesforceRecordWrites: sfBackfill.recordWrites,
        salesforceCallsRatio: round(sfBackfill.recordWrites / sfBackfill.distinctRecords, 3),
        salesforceWritesByObject: sfBackfill.writes,
        salesforceRecordsByObject: sfBackfill.records,
        salesforceWriteRequests: sfBackfill.writeRequests,
        salesforceApiCalls: sfBackfill.apiCalls,
        bulkJobs: sfBackfill.bulkJobs,
        serviceSummary: {
          clinikoRequests: backfill.clinikoRequests,
          salesforceCalls: backfill.salesforceCalls,
          counts: backfill.counts,
        },
      },
      idle: {
        status: idle.status,
        wallSeconds: round(Number(idle.wallMs) / 1000),
        clinikoRequests: seq3 - seq2,
        salesforceWrites: sfIdle.recordWrites,
        salesforceWritesByObject: sfIdle.writes,
        salesforceApiCalls: sfIdle.apiCalls,
      },
      serviceProcessCpuSeconds: round(workerCpuSeconds),
      freshness,
      emulators: {
        clinikoRssPeakMb: memoryOf(cliniko.child.pid).peakMb,
        // CPU the emulators used during the backfill: on a 2-core machine, what is left for the service.
        clinikoBackfillCpuSeconds: round(emulatorCpu1.cliniko - emulatorCpu0.cliniko),
        salesforceBackfillCpuSeconds: round(emulatorCpu1.salesforce - emulatorCpu0.salesforce),
        salesforceRssPeakMb: memoryOf(salesforce.child.pid).peakMb,
        salesforceHistoryRows: sf2.historyRows,
      },
    };
  } finally {
    await worker?.stop();
    await Promise.all([cliniko.child.stop(), salesforce.child.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

const startedAt = new Date();
const machine = {
  cpus: availableParallelism(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryMb: Math.round(totalmem() / 1024 / 1024),
  loadAverageAtStart: loadavg().map((n) => round(n)),
  node: process.version,
};
console.log(
  `bench: ${machine.cpus} CPUs, load ${machine.loadAverageAtStart.join(' ')}, node ${machine.node}, ${patients} patients`,
);
const result = await run();
console.log(
  JSON.stringify({ backfill: result.backfill, idle: result.idle, freshness: result.freshness }, null, 2),
);

let stores: StoreResult[] | undefined;
if (!values['no-store']) {
  console.log(`(c) store throughput, ${storeItems} outbox items ...`);
  stores = await benchStores({ storeItems, postgres: !values['no-postgres'], bounded: within });
  console.log(JSON.stringify(stores));
}

let emulatorBench: string | undefined;
if (values.emulator) {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', 'scripts/bench-cliniko-emulator.ts', String(patients)],
    { encoding: 'utf8', timeout: maxMs },
  );
  emulatorBench = `${out.stdout}${out.stderr}`;
  console.log(emulatorBench.trimEnd());
}

mkdirSync(values.out, { recursive: true });
const file = join(values.out, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadAverageAtEnd: loadavg().map((n) => round(n)) },
      options: {
        seed,
        realBudget: values['real-budget'],
        freshnessSeconds,
        changeGapSeconds,
        pollSeconds,
        practiceAgeSeconds,
      },
      ...result,
      ...(stores ? { stores } : {}),
      ...(emulatorBench !== undefined ? { clinikoEmulatorBench: emulatorBench } : {}),
    },
    null,
    2,
  )}\n`,
);
copyFileSync(file, join(values.out, 'latest.json'));
console.log(`\nresults: ${join(values.out, 'latest.json')} (and ${file})`);
