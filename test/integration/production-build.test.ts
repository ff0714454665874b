import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { parseStartCommand } from '../../scripts/lib/start-command.js';
import { emulatorEnv } from '../support/harness.js';

/**
 * `npm start` runs the compiled service (sync-service/dist, from `npm run build`), never tsx: the
 * process started exactly as the start script says serves /health and the console over the emulators
 * and stops cleanly on SIGTERM. .ci/run builds before the tests; a missing build is built here.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let child: ChildProcess | undefined;
let dir: string;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'sync-service/dist/server.js'))) {
    const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}\n${built.stderr}`);
  }
  cliniko = await startClinikoEmulator({
    patients: 5,
    seed: 2,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({});
  dir = await mkdtemp(path.join(tmpdir(), 'prod-build-'));
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await cliniko?.close();
  await salesforce?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the production build', () => {
  it('npm start is plain node on the compiled JavaScript', () => {
    // Plain node with the production heap bounds (issue #16; docs/benchmarks.md), never tsx.
    const start = parseStartCommand(pkg.scripts.start!);
    expect(`${start.command} ${start.args.join(' ')}`).toMatch(
      /^node --max-old-space-size=\d+ --max-semi-space-size=\d+ sync-service\/dist\/server\.js$/,
    );
    expect(pkg.scripts.build).toContain('tsc -p tsconfig.build.json');
  });

  it('serves /health and the console, and exits 0 on SIGTERM', async () => {
    const start = parseStartCommand(pkg.scripts.start!);
    expect(start.command).toBe('node');
    child = spawn(process.execPath, start.args, {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...start.env,
        ...emulatorEnv(cliniko, salesforce, dir),
        PORT: '0',
        LOG_LEVEL: 'info',
        ADMIN_TOKENS: 'viewer:production-build-test-token-000',
        SYNC_POLL_INTERVAL_SECONDS: '3600',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (b: Buffer) => (output += b.toString('utf8')));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString('utf8')));
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (!url) {
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (match) url = match[1];
      else if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`service did not start:\n${output}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
    const health = await fetch(`${url}/health`);
    expect([200, 503]).toContain(health.status);
    expect(((await health.json()) as { version: string }).version).toBe('0.1.0');
    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Sync console');
    expect((await fetch(`${url}/console/console.js`)).status).toBe(200);
    // The process runs the compiled file, and nothing of tsx is loaded.
    expect(output).not.toMatch(/tsx/);
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
