import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSyncService, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv } from '../support/harness.js';

/**
 * The reference lists kept in the store (issue #16): a service that restarts while the lists it read
 * are fresh (under 10 minutes old) serves them and asks Cliniko for none of them; once they are older,
 * or on an empty store (the control), it reads them at its first cycle. Counted at the Cliniko
 * emulator's request log, by path, never from the service's own summary.
 */

const REFERENCE_PATHS = ['businesses', 'practitioners', 'practitioners/inactive', 'appointment_types'];

let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
const dirs: string[] = [];
const running = new Set<SyncService>();

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 5,
    seed: 23,
    controls: true,
    now: new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString(),
    frozenClock: true,
  });
  salesforce = await startSalesforceEmulator({});
});

afterAll(async () => {
  for (const service of running) await service.close();
  await cliniko?.close();
  await salesforce?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function storeDir(): Config {
  const dir = mkdtempSync(join(tmpdir(), 'reference-lists-'));
  dirs.push(dir);
  return loadConfig({ ...emulatorEnv(cliniko, salesforce, dir) });
}

async function start(config: Config): Promise<SyncService> {
  const service = await createSyncService(config, createLogger({ level: 'silent' }), {
    worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 5_000 },
    now: () => Date.parse(cliniko.controls.now()),
  });
  running.add(service);
  return service;
}

async function stop(service: SyncService): Promise<void> {
  running.delete(service);
  await service.close();
}

/** The list paths Cliniko served during `work`, one entry per request. */
async function pathsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const from = cliniko.requestLog().length;
  await work();
  return cliniko
    .requestLog()
    .slice(from)
    .map((entry) => new URL(entry.url, 'http://cliniko.invalid').pathname.replace(/^\/v1\//, ''));
}

const referenceReads = (paths: readonly string[]) => paths.filter((p) => REFERENCE_PATHS.includes(p));

describe('reference lists across a restart', () => {
  it('a restart within 10 minutes reads none of them; after 10 minutes, or on an empty store (control), it reads them', async () => {
    const config = storeDir();
    const first = await start(config);
    const backfill = await pathsDuring(() => first.runner.runCycle('backfill'));
    expect(referenceReads(backfill).sort()).toEqual([...REFERENCE_PATHS].sort());
    await stop(first);

    cliniko.controls.setClock({ advanceSeconds: 9 * 60 });
    const restarted = await start(config);
    const cycle = await pathsDuring(() => restarted.runner.runCycle('incremental'));
    expect(referenceReads(cycle)).toEqual([]);
    // It did poll: one request per data stream at least.
    expect(cycle.filter((p) => p === 'patients').length).toBeGreaterThan(0);
    await stop(restarted);

    // Control: a service on an empty store, at the same instant, reads every list.
    const fresh = await start(storeDir());
    const control = await pathsDuring(() => fresh.runner.runCycle('incremental'));
    expect(referenceReads(control).sort()).toEqual([...REFERENCE_PATHS].sort());
    await stop(fresh);

    // Past their age (read 10 minutes ago on the first store): read again at the restart.
    cliniko.controls.setClock({ advanceSeconds: 60 });
    const later = await start(config);
    const stale = await pathsDuring(() => later.runner.runCycle('incremental'));
    expect(referenceReads(stale).sort()).toEqual([...REFERENCE_PATHS].sort());
    await stop(later);
  });
});
