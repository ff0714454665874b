import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorEnv } from '../support/harness.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

/**
 * `npm run sync -- run` as a real child process: it starts from the environment alone, serves /health,
 * and on SIGTERM waits for its work, closes and exits 0.
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

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm run sync -- run', () => {
  it('serves the admin API until SIGTERM, then exits 0', async () => {
    // One node process that loads tsx as a hook, not the tsx CLI: the CLI is a wrapper that, on
    // SIGTERM, gives its child 30 ms to acknowledge and then SIGKILLs it and exits 143 (seen on a
    // loaded machine).
    const proc = spawn(process.execPath, ['--import', 'tsx', 'sync-service/src/cli/main.ts', 'run'], {
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: '0',
        ...emulatorEnv(cliniko, salesforce, dir),
        SYNC_POLL_INTERVAL_SECONDS: '3600',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
