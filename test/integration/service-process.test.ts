import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorEnv } from '../support/harness.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

/**
 * `npm run sync -- run` as a real child process: it starts from the environment alone, serves /health,
 * and on SIGTERM waits for its work, closes and exits 0. With writes slowed down by the Salesforce
 * emulator, a SIGTERM during a write leaves nothing leased, and a SIGKILL of the node process that does
 * the work leaves leases that the next start on the same SQLite file takes back at once.
 */
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  cliniko = await startClinikoEmulator({ patients: 5, seed: 3, now: new Date().toISOString() });
  salesforce = await startSalesforceEmulator({});
  dir = mkdtempSync(join(tmpdir(), 'service-process-'));
});

const groups: number[] = [];

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const pgid of groups) killGroup(pgid);
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run sync -- run', () => {
  it('serves the admin API until SIGTERM, then exits 0', async () => {
    const proc = spawn(
      process.execPath,
      // node itself with tsx as an import hook: the tsx CLI wrapper relays a SIGTERM by waiting 30 ms
      // for the child to acknowledge it and SIGKILLs the child (exit 143) when a loaded machine is
      // slower than that: the occasional failure this test used to have.
      ['--import', 'tsx', 'sync-service/src/cli/main.ts', 'run'],
      {
        env: {
          PATH: process.env.PATH,
          LOG_LEVEL: 'info',
          HOST: '127.0.0.1',
          PORT: '0',
          ...emulatorEnv(cliniko, salesforce, dir),
          SYNC_POLL_INTERVAL_SECONDS: '3600',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = proc;
    let output = '';
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i += 1) {
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
      if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(url, output).toBeDefined();
    const health = await fetch(`${url}/health`);
    expect([200, 503]).toContain(health.status);
    const body = (await health.json()) as { services: { database: { status: string } } };
    expect(body.services.database.status, JSON.stringify(body)).toBe('ok');

    proc.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/shutting down/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 60_000);
});

/** SIGKILL to a whole process group (no-op when it is gone); true while any member was alive. */
function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Worker {
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * The CLI run by node itself (tsx as an import hook, no wrapper process), in its own process group,
 * so the pid signalled is the process that does the work.
 */
function startCli(args: string[], env: Record<string, string>): Worker {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'sync-service/src/cli/main.ts', ...args], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  groups.push(proc.pid!);
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited, output: () => output };
}

/** Outbox items and named leases currently leased in the SQLite file, read beside the running process. */
function leased(dbPath: string): { items: number; named: number; latestExpiry: number; queued: number } {
  const db = new DatabaseSync(dbPath, { readOnly: true, timeout: 5_000 });
  try {
    const o = db
      .prepare(
        'SELECT COUNT(*) AS n, MAX(lease_expires_at) AS latest FROM outbox WHERE lease_owner IS NOT NULL',
      )
      .get() as { n: number; latest: number | null };
    const l = db.prepare('SELECT COUNT(*) AS n FROM leases').get() as { n: number };
    const all = db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
    return {
      items: Number(o.n),
      named: Number(l.n),
      latestExpiry: Number(o.latest ?? 0),
      queued: Number(all.n),
    };
  } finally {
    db.close();
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      value = undefined; // the file may not exist yet
    }
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('leases of a real process on SQLite', () => {
  let emuC: ClinikoEmulator;
  let emuS: SalesforceEmulator;
  let work: string;
  let env: Record<string, string>;
  let dbPath: string;

  beforeAll(async () => {
    emuC = await startClinikoEmulator({ patients: 150, seed: 8, now: new Date().toISOString() });
    emuS = await startSalesforceEmulator({ controls: true });
    work = mkdtempSync(join(tmpdir(), 'service-leases-'));
    env = {
      HOST: '127.0.0.1',
      PORT: '0',
      ...emulatorEnv(emuC, emuS, work),
      SYNC_POLL_INTERVAL_SECONDS: '3600',
    };
    dbPath = env.SYNC_DB_PATH!;
  });

  afterAll(async () => {
    await emuC?.close();
    await emuS?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Every Salesforce data request waits `ms` (or none with 0), so a write is in flight for a while. */
  async function slowSalesforce(ms: number): Promise<void> {
    const body = ms > 0 ? { kind: 'latency', ms, times: -1 } : { kind: 'latency', ms: 0, times: 0 };
    const response = await fetch(`${emuS.loginUrl}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  it('SIGTERM during a write: finishes or releases what it holds, exits 0, nothing left leased', async () => {
    await slowSalesforce(400);
    const w = startCli(['run'], env);
    // Caught while it holds claimed outbox items (the drain is writing through the slow org).
    const during = await until(
      'a lease',
      () => {
        const l = leased(dbPath);
        return l.items > 0 ? l : undefined;
      },
      60_000,
    );
    expect(during.items).toBeGreaterThan(0);
    const signalled = Date.now();
    process.kill(w.proc.pid!, 'SIGTERM');
    expect(await w.exited, w.output()).toBe(0);
    // It stopped after the write in flight rather than draining everything (bounded shutdown).
    expect(Date.now() - signalled).toBeLessThan(20_000);
    expect(w.output()).toMatch(/shutting down/);
    // Nothing of it survives (tsx's esbuild helper goes with it, a moment later).
    await until('the group to be gone', () => (groupAlive(w.proc.pid!) ? undefined : true), 5_000);
    // What it had claimed and not written is released (queued for the next start), not left leased.
    const after = leased(dbPath);
    expect(after).toMatchObject({ items: 0, named: 0 });
    expect(after.queued).toBeGreaterThan(0);
  }, 90_000);

  it('SIGKILL mid-write: the next start takes its leases back at once, not when they lapse', async () => {
    await slowSalesforce(400);
    // A backfill re-enqueues every record, so there is work to be caught holding.
    const w = startCli(['backfill'], env);
    const held = await until(
      'a lease',
      () => {
        const l = leased(dbPath);
        return l.items > 0 ? l : undefined;
      },
      60_000,
    );
    expect(killGroup(w.proc.pid!)).toBe(true);
    await w.exited;
    await until('the group to be gone', () => (groupAlive(w.proc.pid!) ? undefined : true), 5_000);
    // Control: the dead process's claims are still there, and would block a claim until they lapse.
    const left = leased(dbPath);
    expect(left.items).toBeGreaterThan(0);
    expect(left.latestExpiry).toBeGreaterThan(Date.now());
    expect(held.items).toBeGreaterThan(0);

    await slowSalesforce(0);
    const again = startCli(['once'], env);
    const code = await again.exited;
    const out = again.output();
    expect(out).toMatch(/took back the leases a previous process left/);
    expect(out).not.toMatch(/still queued/);
    expect(code, out).toBe(0);
    // Done before the dead process's leases would have lapsed: taken back, not waited out.
    expect(Date.now()).toBeLessThan(left.latestExpiry);
    expect(leased(dbPath)).toMatchObject({ items: 0, named: 0 });
  }, 120_000);
});
