import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorEnv } from '../support/harness.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSyncService } from '../../sync-service/src/runtime/wiring.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * Crash safety: the service process is killed with SIGKILL at random points of a backfill, ten times,
 * then run to completion. Because the watermark only moves with durable outbox writes and every write
 * is an upsert by external id, the org must end exactly as the projection of Cliniko says, with no
 * duplicate records, and the audit chain must still verify.
 */
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let dir: string;
let env: Record<string, string>;

function runOnce(killAfterMs: number | undefined): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'sync-service/src/cli/main.ts', 'once'],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === null && code !== 0 && code !== 3)
        reject(new Error(`sync exited ${String(code)}: ${stderr}`));
      else resolve({ code, killed: signal === 'SIGKILL' });
    });
  });
}

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 150,
    seed: 23,
    controls: true,
    now: new Date().toISOString(),
  });
  // A little latency per Salesforce call stretches the backfill so kills land in every phase.
  salesforce = await startSalesforceEmulator({ controls: true });
  await fetch(`${salesforce.loginUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'latency', ms: 150 }),
  });
  dir = mkdtempSync(join(tmpdir(), 'sync-crash-'));
  env = {
    ...emulatorEnv(cliniko, salesforce, dir),
    LOG_LEVEL: 'silent',
  };
});

afterAll(async () => {
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it('ends exact and duplicate-free after ten SIGKILLs during a backfill', async () => {
    let killed = 0;
    let attempts = 0;
    // Each attempt first gives the clinic something new to send (so no attempt is idle), then kills the
    // process at a random point: start-up, reading, enqueueing, writing or recording the run.
    while (killed < 10 && attempts < 30) {
      attempts += 1;
      for (let i = 0; i < 20; i++) {
        const idx = Math.floor(Math.random() * cliniko.practice.patients.length);
        const patient = cliniko.practice.patients[idx]!;
        if (patient.archivedAt === null) {
          cliniko.controls.updatePatient(recordId('patient', idx), {
            email: `crash${attempts}.${i}@example.com`,
          });
        }
      }
      const result = await runOnce(400 + Math.floor(Math.random() * 2_000));
      if (result.killed) killed += 1;
    }
    expect(killed).toBe(10);
    const final = await runOnce(undefined);
    expect(final.code).toBe(0);

    // Inspect the result through the same store and map, in this process.
    const service = await createSyncService(loadConfig(env), createLogger({ level: 'silent' }));
    try {
      await expectOrgMatchesProjection(service, salesforce);
      const keys: Record<string, string> = {
        Contact: 'Cliniko_Patient_Id__c',
        Care_Plan__c: 'Cliniko_Case_Id__c',
        Cliniko_Appointment__c: 'Cliniko_Appointment_Id__c',
        Cliniko_Invoice__c: 'Cliniko_Invoice_Id__c',
        Journey_Transition__c: 'Transition_Key__c',
      };
      for (const [object, key] of Object.entries(keys)) {
        const values = activeRecords(salesforce, object).map((r) => r[key]);
        expect(new Set(values).size, `${object} has no duplicates`).toBe(values.length);
      }
      expect(activeRecords(salesforce, 'Contact')).toHaveLength(cliniko.practice.patients.length);
      const stats = await service.store.outboxStats(Date.now());
      expect(stats.pending).toBe(0);
      expect(stats.deadLettered).toBe(0);
      const entries = (await service.store.listAudit({ limit: 1_000_000 })).map(
        (r) => JSON.parse(r.entry) as AuditEntry,
      );
      expect(entries.length).toBeGreaterThan(0);
      expect(verifyAuditChain(entries)).toMatchObject({ ok: true });
    } finally {
      await service.close();
    }
  });
});
