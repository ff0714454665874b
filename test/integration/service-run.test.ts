import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import type { HealthReport } from '../../sync-service/src/http/health.js';
import { HEALTH_PROBE_CALLS_PER_MINUTE } from '../../sync-service/src/runtime/health.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { startService, type RunningService } from '../../sync-service/src/runtime/start.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv } from '../support/harness.js';

/**
 * The long-running service as `npm run sync -- run` wires it (startService): real config, sync service,
 * scheduler and admin API on loopback, against both emulators. One scheduled cycle runs, /health reports
 * real probes, the admin API answers over HTTP, and close() shuts everything down.
 */
const VIEWER = 'viewer-token-for-the-service-test';
const OPERATOR = 'operator-token-for-the-service-test';

let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let running: RunningService | undefined;
let dir: string;

beforeAll(async () => {
  cliniko = await startClinikoEmulator({ patients: 12, seed: 5, now: new Date().toISOString() });
  salesforce = await startSalesforceEmulator({});
  dir = mkdtempSync(join(tmpdir(), 'service-run-'));
  const config = loadConfig({
    SYNC_MODE: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    ...emulatorEnv(cliniko, salesforce, dir),
    SYNC_POLL_INTERVAL_SECONDS: '3600',
    ADMIN_TOKENS: `viewer:${VIEWER},operator:${OPERATOR}`,
  });
  running = await startService(config, createLogger({ level: 'silent' }), {
    service: { worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 5_000 } },
    processMetrics: false,
  });
}, 60_000);

afterAll(async () => {
  await running?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get<T>(path: string, token?: string): Promise<{ status: number; body: T; text: string }> {
  const response = await fetch(`${running!.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as T) : (text as T);
  return { status: response.status, body: json, text };
}

interface RunView {
  id: string;
  mode: string;
  status: string;
  finishedAt: string | null;
}

async function waitForFinishedRuns(count: number): Promise<RunView[]> {
  for (let i = 0; i < 600; i += 1) {
    const { body } = await get<{ runs: RunView[] }>('/runs', VIEWER);
    const finished = body.runs.filter((r) => r.finishedAt !== null);
    if (finished.length >= count && running!.scheduler.running() === undefined) return body.runs;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${count} runs finished in time`);
}

describe('the service process wiring (startService)', () => {
  it('runs the scheduled cycle at start and reports healthy with real probes', async () => {
    const runs = await waitForFinishedRuns(1);
    expect(runs[0]).toMatchObject({ mode: 'incremental', status: 'succeeded' });
    expect([...salesforce.org.records('Contact')].length).toBeGreaterThan(0);

    const health = await get<HealthReport>('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(health.body.services.cliniko.status).toBe('ok');
    expect(health.body.services.salesforce.status).toBe('ok');
    expect(health.body.services.database.status).toBe('ok');
    expect(health.body.services.jobQueue).toEqual({ status: 'ok', pending: 0, failed: 0 });
    expect(health.body.services.scheduler.status).toBe('ok');
    // The adaptive poll plans the next cycle at the budget's pace (4 requests a cycle within 10 % of 180
    // a minute: 13.3 s after the first began), well inside the longest wait (SYNC_POLL_INTERVAL_SECONDS,
    // 3600).
    const next = Date.parse(health.body.services.scheduler.nextRun ?? '');
    expect(next).toBeLessThanOrEqual(Date.now() + 13_334);
    expect(next).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers 120 /health calls spending at most the bound of Salesforce and Cliniko calls', async () => {
    const sfBefore = salesforce.org.api.used;
    const clinikoBefore = cliniko.requestLog().length;
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 5)).then(() => get<HealthReport>('/health')),
      ),
    );
    for (const a of answers) expect(a.body.services.salesforce.status).toBe('ok');
    const sfSpent = salesforce.org.api.used - sfBefore;
    const clinikoSpent = cliniko.requestLog().length - clinikoBefore;
    // Well under a minute passed: at most one minute's bound each (the issue measured 76 and 120).
    expect(sfSpent).toBeLessThanOrEqual(HEALTH_PROBE_CALLS_PER_MINUTE);
    expect(clinikoSpent).toBeLessThanOrEqual(HEALTH_PROBE_CALLS_PER_MINUTE);
    // Control: the meters do move when the probe's own request is made directly.
    await running!.service.salesforce.connection.limits();
    await running!.service.cliniko.checkConnection();
    expect(salesforce.org.api.used - sfBefore).toBe(sfSpent + 1);
    expect(cliniko.requestLog().length - clinikoBefore).toBe(clinikoSpent + 1);
  });

  it('serves metrics from the real run and accepts a manual run from an operator', async () => {
    const metrics = await get<string>('/metrics', VIEWER);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/cliniko_sync_records_total\{object="Contact",outcome="written"\} [1-9]/);
    expect(metrics.text).toMatch(/cliniko_sync_cliniko_requests_total [1-9]/);
    expect(metrics.text).toMatch(/cliniko_sync_stream_lag_seconds\{stream="patients"\} \d/);

    const unauthorised = await fetch(`${running!.url}/sync/run`, { method: 'POST' });
    expect(unauthorised.status).toBe(401);
    const triggered = await fetch(`${running!.url}/sync/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(triggered.status).toBe(202);
    const { runId } = (await triggered.json()) as { runId: string };
    expect(runId).toMatch(/^run-/);
    const runs = await waitForFinishedRuns(2);
    // Nothing changed in Cliniko: the manual run finds nothing to write.
    expect(runs.find((r) => r.id === runId)).toMatchObject({ mode: 'incremental', status: 'succeeded' });
  });

  it('closes cleanly: scheduler stopped, port released', async () => {
    const url = running!.url;
    await running!.close();
    expect(running!.scheduler.nextRun()).toBeNull();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    running = undefined;
  });
});
