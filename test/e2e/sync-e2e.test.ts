import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { FAST_RETRIES, startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * The product's main job end to end over loopback HTTP: the Cliniko emulator's synthetic practice is
 * synced through the real Cliniko client, the data map, the journey engine, the encrypted SQLite store
 * and jsforce into the Salesforce emulator.
 */
let h: SyncHarness;

beforeAll(async () => {
  h = await startSyncHarness();
});

afterAll(async () => {
  await h?.close();
});

describe('sync end to end', () => {
  it('backfills the practice into the org', async () => {
    const summary = await h.service.runner.runCycle('backfill');
    expect(summary.error).toBeNull();
    expect(summary.drain?.deadLettered).toBe(0);
    expect(summary.status).toBe('succeeded');
    const patients = h.cliniko.practice.patients.length;
    expect(activeRecords(h.salesforce, 'Contact')).toHaveLength(patients);
    expect(activeRecords(h.salesforce, 'Cliniko_Appointment__c').length).toBeGreaterThan(0);
    expect(activeRecords(h.salesforce, 'Sync_Run__c')).toHaveLength(1);
    await expectOrgMatchesProjection(h.service, h.salesforce);
  });

  it('makes no Salesforce calls when nothing changed in Cliniko', async () => {
    const before = h.service.writer.calls();
    const summary = await h.service.runner.runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    expect(h.service.writer.calls() - before).toBe(0);
  });

  it('sends a single patient change on the next cycle with one collection call', async () => {
    const patient = h.cliniko.practice.patients.find((p) => p.archivedAt === null && p.f.email)!;
    const patientId = recordId('patient', patient.idx);
    h.cliniko.controls.updatePatient(patientId, { email: 'changed.address@example.com' });
    const before = h.service.writer.calls();
    const summary = await h.service.runner.runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    const contact = activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
    expect(contact?.Email).toBe('changed.address@example.com');
    // One collection upsert for the Contact, one for the run summary, one for the audit anchor (issue
    // #17: an upsert collection holds one object type, so the anchor cannot share the summary's call).
    expect(h.service.writer.calls() - before).toBe(3);
    expect(summary.salesforceCalls).toBe(3);
  });
});

describe('sync against a clinic whose clock is not the wall clock', () => {
  it("takes its bookmark from Cliniko's clock, so later changes are still read", async () => {
    const progress: Array<{ stream: string; records: number }> = [];
    const past = await startSyncHarness({
      cliniko: { patients: 10, seed: 3, now: '2025-06-02T04:00:00Z' },
      service: { worker: FAST_RETRIES, onProgress: (p) => progress.push(p) },
    });
    try {
      expect((await past.service.runner.runCycle('backfill')).status).toBe('succeeded');
      // Progress is reported per page and stream, with counts only.
      expect(progress.some((p) => p.stream === 'patients' && p.records > 0)).toBe(true);
      expect(JSON.stringify(progress)).not.toMatch(/@|first_name|email/);
      const [watermark] = await past.service.store.listWatermarks();
      expect(Date.parse(watermark!.cursor)).toBeLessThan(Date.parse('2025-06-03T00:00:00Z'));
      const patientId = recordId('patient', 2);
      past.cliniko.controls.updatePatient(patientId, { email: 'from.the.past@example.com' });
      expect((await past.service.runner.runCycle('incremental')).status).toBe('succeeded');
      const contact = activeRecords(past.salesforce, 'Contact').find(
        (c) => c.Cliniko_Patient_Id__c === patientId,
      );
      expect(contact?.Email).toBe('from.the.past@example.com');
    } finally {
      await past.close();
    }
  });
});

describe('large runs through Bulk API 2.0', () => {
  it('backfills through bulk ingest jobs above the threshold and ends exact', async () => {
    const bulk = await startSyncHarness({
      cliniko: { patients: 40, seed: 17 },
      salesforce: { controls: true },
      service: {
        worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 10_000, bulkThreshold: 20 },
      },
    });
    try {
      const summary = await bulk.service.runner.runCycle('backfill');
      expect(summary.status).toBe('succeeded');
      const log = (await (await fetch(`${bulk.salesforce.loginUrl}/__emulator/requests`)).json()) as Array<{
        method: string;
        url: string;
      }>;
      const jobsCreated = log.filter((e) => e.method === 'POST' && /\/jobs\/ingest\/?$/.test(e.url));
      expect(jobsCreated.length).toBeGreaterThanOrEqual(3);
      expect(activeRecords(bulk.salesforce, 'Contact')).toHaveLength(bulk.cliniko.practice.patients.length);
      await expectOrgMatchesProjection(bulk.service, bulk.salesforce);
      const second = await bulk.service.runner.runCycle('incremental');
      expect(second.salesforceCalls).toBe(0);
    } finally {
      await bulk.close();
    }
  });
});
