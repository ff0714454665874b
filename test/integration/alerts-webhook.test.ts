import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { readFile, writeFile } from 'node:fs/promises';
import { alertRefusedDataMap } from '../../sync-service/src/runtime/foreground.js';
import { startService, type RunningService } from '../../sync-service/src/runtime/start.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv, FAST_RETRIES } from '../support/harness.js';

/**
 * The alert webhook end to end: the real service over both emulators posts to a receiver on loopback
 * when a dead letter appears, stays quiet while it persists, and posts the resolution once it is
 * replayed and written. Bodies name counts and keys, never the patient's details.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const received: Array<Record<string, unknown>> = [];
let receiver: Server;
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let running: RunningService;
let dir: string;
let patientId: string;
let hook: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], ...(JSON.parse(body) as object) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  cliniko = await startClinikoEmulator({
    patients: 8,
    seed: 3,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({ controls: true });
  patientId = String(
    (cliniko.controls.createPatient({ first_name: 'Zebedee', last_name: 'Quarrington' }) as { id: string })
      .id,
  );
  salesforce.org.lockFaults.push({
    object: 'Contact',
    field: 'Cliniko_Patient_Id__c',
    value: patientId,
    times: 1_000,
  });
  dir = await mkdtemp(path.join(tmpdir(), 'alerts-test-'));
  const config = loadConfig({
    ...emulatorEnv(cliniko, salesforce, dir),
    PORT: '0',
    ADMIN_TOKENS: 'operator:alerts-test-token-of-24-chars-or-more',
    SYNC_POLL_INTERVAL_SECONDS: '3600',
    ALERT_WEBHOOK_URL: hook,
    ALERT_WEBHOOK_FORMAT: 'generic',
    ALERT_SOURCE_NAME: 'alerts-test',
  });
  running = await startService(config, createLogger({ level: 'silent' }), {
    service: { worker: FAST_RETRIES, rootDir: ROOT, now: () => Date.parse(cliniko.controls.now()) },
    scheduler: { runAtStart: false, journeyDailyAt: null },
    processMetrics: false,
  });
});

afterAll(async () => {
  await running?.close();
  await cliniko?.close();
  await salesforce?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runAndWait(mode: 'backfill' | 'incremental'): Promise<void> {
  const result = await running.scheduler.trigger(mode);
  if (!result.accepted) throw new Error(`run refused: ${result.reason}`);
  await result.done;
}

describe('alert webhook on loopback', () => {
  it('receives the dead-letter alert once, then its resolution', async () => {
    await running.operations.monitor.evaluate();
    expect(received).toEqual([]); // control: nothing holds before the run

    await runAndWait('backfill');
    await running.operations.monitor.evaluate();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      contentType: 'application/json',
      source: 'alerts-test',
      status: 'firing',
      key: 'dead-letters',
      severity: 'warning',
    });
    const details = received[0]!.details as { count: number; keys: string[] };
    expect(details.count).toBeGreaterThanOrEqual(1);
    expect(details.keys).toContain(`Contact ${patientId}`);

    // Still dead-lettered: de-duplicated, nothing new.
    await running.operations.monitor.evaluate();
    expect(received).toHaveLength(1);

    salesforce.org.lockFaults.length = 0;
    for (const letter of await running.service.store.listDeadLetters())
      expect(await running.service.store.replayDeadLetter(letter.id, Date.now(), 'replay-test')).toBe(true);
    await runAndWait('incremental');
    await running.operations.monitor.evaluate();
    expect(received.map((r) => [r.status, r.key])).toEqual([
      ['firing', 'dead-letters'],
      ['resolved', 'dead-letters'],
    ]);
    expect(received[1]).toHaveProperty('endsAt');
    // Counts and keys only: the patient's name is in no body.
    expect(JSON.stringify(received)).not.toMatch(/Zebedee|Quarrington/);
  });

  it('a data map refused at start is alerted before the process exits', async () => {
    const before = received.length;
    // An edited map whose sign-off no longer matches its content.
    const map = (await readFile(path.join(ROOT, 'config/data-map.yaml'), 'utf8')).replace(
      /sha256: '[0-9a-f]{64}'/,
      `sha256: '${'0'.repeat(64)}'`,
    );
    const edited = path.join(dir, 'data-map.yaml');
    await writeFile(edited, map);
    const config = loadConfig({
      ...emulatorEnv(cliniko, salesforce, dir),
      SYNC_DB_PATH: path.join(dir, 'refused.db'),
      PORT: '0',
      DATA_MAP_PATH: edited,
      ALERT_WEBHOOK_URL: hook,
      ALERT_WEBHOOK_FORMAT: 'slack',
      ALERT_SOURCE_NAME: 'alerts-test',
    });
    const failure = await startService(config, createLogger({ level: 'silent' }), {
      service: { rootDir: ROOT },
      scheduler: { runAtStart: false, journeyDailyAt: null },
      processMetrics: false,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toMatchObject({ code: 'DATA_MAP_NOT_SIGNED' });
    await alertRefusedDataMap(config, failure);
    expect(received.slice(before)).toEqual([
      {
        contentType: 'application/json',
        text: expect.stringMatching(
          /^:rotating_light: \[alerts-test\] CRITICAL data-map-refused: the service refused to start: /,
        ) as unknown,
      },
    ]);
    // Control: any other start failure sends nothing.
    await alertRefusedDataMap(config, new Error('port in use'));
    expect(received.length).toBe(before + 1);
  });
});
