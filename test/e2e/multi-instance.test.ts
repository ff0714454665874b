import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { verifyAuditChain, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { PostgresStore } from '../../sync-service/src/store/index.js';
import { LEASE_MS } from '../../sync-service/src/sync/common/run-record.js';
import { createSyncService, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { startClinikoEmulator, recordId, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * Two service instances share one PostgreSQL database and run at the same time. Stream leases keep
 * them from reading the same stream at once and outbox leases (FOR UPDATE SKIP LOCKED) from writing the
 * same item twice: every record is written exactly once, the org ends exact, and the audit chain is one
 * unbroken line. Then as two real processes: one is frozen (SIGSTOP) while it holds leases mid-write;
 * the other takes its work over once the leases lapse (within one lease period), both did work, and
 * nothing is written twice, also after the frozen one resumes.
 */
let pgServer: TestPostgres;
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
const services: SyncService[] = [];

beforeAll(async () => {
  pgServer = await startTestPostgres();
  const { poolConfig } = await pgServer.newSchema();
  cliniko = await startClinikoEmulator({
    patients: 60,
    seed: 31,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({});
  const key = randomBytes(32).toString('base64');
  const schemaUrl = `${pgServer.url}?options=${encodeURIComponent(String(poolConfig.options))}`;
  for (let i = 0; i < 2; i++) {
    const config = loadConfig({
      SYNC_MODE: 'test',
      CLINIKO_API_KEY: cliniko.apiKey,
      CLINIKO_BASE_URL: cliniko.baseUrl,
      CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
      SALESFORCE_LOGIN_URL: salesforce.loginUrl,
      SALESFORCE_CLIENT_ID: salesforce.clientId,
      SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
      DATABASE_URL: schemaUrl,
      SYNC_ENCRYPTION_KEY: key,
      CLINIC_TIMEZONE: 'Australia/Sydney',
    });
    services.push(
      await createSyncService(config, createLogger({ level: 'silent' }), {
        worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 10_000, claimLimit: 50 },
        now: () => Date.parse(cliniko.controls.now()),
      }),
    );
  }
});

afterAll(async () => {
  for (const s of services) await s.close();
  await cliniko?.close();
  await salesforce?.close();
  await pgServer?.stop();
});

describe('two instances on one PostgreSQL store', () => {
  it('write every record exactly once and end exact', async () => {
    expect(services[0]!.store).toBeInstanceOf(PostgresStore);
    const [a, b] = await Promise.all(services.map((s) => s.runner.runCycle('incremental')));
    for (const run of [a!, b!]) expect(run.error).toBeNull();
    // Let both drain whatever the other enqueued, concurrently.
    await Promise.all(services.map((s) => s.worker.drain()));

    const audit = (await services[0]!.store.listAudit({ limit: 1_000_000 })).map(
      (r) => JSON.parse(r.entry) as AuditEntry,
    );
    expect(verifyAuditChain(audit)).toMatchObject({ ok: true });
    const writes = audit.filter((e) => e.operation === 'create' || e.operation === 'update');
    const keys = writes.map((e) => `${e.object}|${e.externalId}|${e.payloadSha256}`);
    expect(new Set(keys).size, 'no payload written twice').toBe(keys.length);
    expect((await services[0]!.store.outboxStats(Date.now())).pending).toBe(0);
    expect(activeRecords(salesforce, 'Contact')).toHaveLength(cliniko.practice.patients.length);
    await expectOrgMatchesProjection(services[0]!, salesforce);
  });

  it('share later changes without double writes', async () => {
    for (let i = 0; i < 10; i++)
      cliniko.controls.updatePatient(recordId('patient', i), { email: `multi${i}@example.com` });
    const before = (await services[0]!.store.listAudit({ limit: 1_000_000 })).length;
    await Promise.all(services.map((s) => s.runner.runCycle('incremental')));
    const after = (await services[0]!.store.listAudit({ limit: 1_000_000 })).map(
      (r) => JSON.parse(r.entry) as AuditEntry,
    );
    const contactWrites = after
      .slice(before)
      .filter((e) => e.object === 'Contact' && !e.externalId.includes('#'));
    expect(contactWrites.map((e) => e.externalId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => recordId('patient', i)).sort(),
    );
    expect(verifyAuditChain(after)).toMatchObject({ ok: true });
  });
});

/** The service (`run`) as its own node process and process group (tsx as an import hook, no wrapper). */
interface Instance {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}
const instances: Instance[] = [];

function startInstance(env: Record<string, string>): Instance {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'sync-service/src/cli/main.ts', 'run'], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const instance = { proc, exited, output: () => output };
  instances.push(instance);
  return instance;
}

function signalGroup(i: Instance, signal: NodeJS.Signals): void {
  try {
    process.kill(-i.proc.pid!, signal);
  } catch {
    // already gone
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // Before the instance has migrated the schema its tables do not exist yet: not yet, not a failure.
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a frozen lease holder (two processes on PostgreSQL)', () => {
  let db: pg.Client;
  let emuC: ClinikoEmulator;
  let emuS: SalesforceEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    const { poolConfig } = await pgServer.newSchema();
    db = new pg.Client({ connectionString: pgServer.url, options: String(poolConfig.options) });
    await db.connect();
    emuC = await startClinikoEmulator({ patients: 150, seed: 41, now: new Date().toISOString() });
    emuS = await startSalesforceEmulator({ controls: true });
    env = {
      HOST: '127.0.0.1',
      PORT: '0',
      CLINIKO_API_KEY: emuC.apiKey,
      CLINIKO_BASE_URL: emuC.baseUrl,
      CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
      SALESFORCE_LOGIN_URL: emuS.loginUrl,
      SALESFORCE_CLIENT_ID: emuS.clientId,
      SALESFORCE_CLIENT_SECRET: emuS.clientSecret,
      DATABASE_URL: `${pgServer.url}?options=${encodeURIComponent(String(poolConfig.options))}`,
      SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLINIC_TIMEZONE: 'Australia/Sydney',
      SYNC_POLL_INTERVAL_SECONDS: '5',
      // The repository's map and journey are signed with the published demo key: test mode accepts it.
      SYNC_MODE: 'test',
    };
  });

  afterAll(async () => {
    for (const i of instances) {
      signalGroup(i, 'SIGCONT');
      signalGroup(i, 'SIGKILL');
    }
    await db?.end();
    await emuC?.close();
    await emuS?.close();
  });

  async function latency(ms: number): Promise<void> {
    const body = ms > 0 ? { kind: 'latency', ms, times: -1 } : { kind: 'latency', ms: 0, times: 0 };
    const response = await fetch(`${emuS.loginUrl}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);
  const queued = () => count('SELECT COUNT(*) AS n FROM outbox');
  const audited = () => count('SELECT COUNT(*) AS n FROM audit_log');

  it('takes over within a lease period, both instances work, and nothing is written twice', async () => {
    await latency(250);
    const a = startInstance(env);
    // A holds claimed items and has already written some (its share of the work).
    const frozenOwner = await until(
      'instance A to hold leases after writing',
      async () => {
        const held = await db.query<{ owner: string }>(
          'SELECT DISTINCT lease_owner AS owner FROM outbox WHERE lease_owner IS NOT NULL',
        );
        return held.rows.length === 1 && (await audited()) > 0 ? held.rows[0]!.owner : undefined;
      },
      90_000,
    );
    signalGroup(a, 'SIGSTOP');
    const frozenAt = Date.now();
    const expiry = Number(
      (
        await db.query<{ at: string }>(
          `SELECT GREATEST(
             (SELECT MAX(lease_expires_at) FROM outbox WHERE lease_owner = $1),
             (SELECT MAX(expires_at) FROM leases WHERE owner = $1)) AS at`,
          [frozenOwner],
        )
      ).rows[0]!.at,
    );
    const writtenByA = await audited();
    const left = await queued();
    expect(left).toBeGreaterThan(0);

    await latency(0);
    const b = startInstance(env);
    // Control: while A's leases are live, B takes none of its items (they stay A's, nothing written).
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(Date.now()).toBeLessThan(expiry);
    expect(
      await count('SELECT COUNT(*) AS n FROM outbox WHERE lease_owner = $1', [frozenOwner]),
    ).toBeGreaterThan(0);
    expect(await audited()).toBe(writtenByA);

    // B writes A's items once they lapse: first progress within one lease period (+ B's poll interval).
    const firstProgressAt = await until(
      'instance B to take over',
      async () => ((await audited()) > writtenByA ? Date.now() : undefined),
      LEASE_MS + 30_000,
    );
    const emptyAt = await until(
      'the outbox to drain',
      async () => ((await queued()) === 0 ? Date.now() : undefined),
      60_000,
    );
    const blockedMs = firstProgressAt - frozenAt;
    console.error(
      `frozen holder: leases lapsed ${expiry - frozenAt} ms after the freeze; B's first write after ${blockedMs} ms, outbox empty after ${emptyAt - frozenAt} ms`,
    );
    // After the lapse B needs at most its poll interval (5 s) and one read of the practice.
    expect(firstProgressAt).toBeLessThanOrEqual(expiry + 5_000 + 15_000);
    expect(blockedMs).toBeLessThanOrEqual(LEASE_MS + 25_000);

    // Both instances wrote to Salesforce (each has its own session).
    const log = (await (await fetch(`${emuS.loginUrl}/__emulator/requests`)).json()) as Array<{
      method: string;
      url: string;
      headers: Record<string, unknown>;
    }>;
    const tokens = new Set(
      log
        .filter((e) => e.method !== 'GET' && e.url.includes('/composite/sobjects'))
        .map((e) => String(e.headers.authorization)),
    );
    expect(tokens.size, 'both instances wrote').toBe(2);

    // A resumes: what it had in flight was completed by B (not audited again); the rest is no longer its own.
    signalGroup(a, 'SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    signalGroup(a, 'SIGTERM');
    signalGroup(b, 'SIGTERM');
    expect(await a.exited, a.output().slice(-2000)).toBe(0);
    expect(await b.exited, b.output().slice(-2000)).toBe(0);

    const entries = (await db.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq')).rows.map(
      (r) => JSON.parse(r.entry) as AuditEntry,
    );
    expect(verifyAuditChain(entries)).toMatchObject({ ok: true });
    const writes = entries.filter((e) => e.operation === 'create' || e.operation === 'update');
    const keys = writes.map((e) => `${e.object}|${e.externalId}|${e.payloadSha256}`);
    expect(new Set(keys).size, 'no payload written twice').toBe(keys.length);
    expect(activeRecords(emuS, 'Contact')).toHaveLength(emuC.practice.patients.length);
    expect(await queued()).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM outbox WHERE lease_owner IS NOT NULL')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM leases')).toBe(0);
  }, 180_000);
});
