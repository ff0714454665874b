import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * Faults on both sides: Cliniko 429 storms, 5xx bursts, malformed JSON and dropped connections;
 * Salesforce row locks, 503s and an expired session. The final state must still be exact. A permanent
 * error (the integration user loses its permission set) dead-letters the writes with their code, and a
 * replay once access is restored writes them.
 */
let h: SyncHarness;

async function sfFault(body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${h.salesforce.loginUrl}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 30, seed: 5 }, salesforce: { controls: true } });
});

afterAll(async () => {
  await h?.close();
});

describe('sync under faults', () => {
  it('ends with the exact state through Cliniko and Salesforce faults', async () => {
    const c = h.cliniko.controls;
    c.injectFault({ path: '/v1/patients*', kind: '429', count: 4, resetSeconds: 1 });
    c.injectFault({ path: '/v1/individual_appointments*', kind: '503', count: 2 });
    c.injectFault({ path: '/v1/patient_cases*', kind: 'malformed', count: 1 });
    c.injectFault({ path: '/v1/invoices*', kind: 'drop', count: 1 });
    const locked = recordId('patient', 3);
    h.salesforce.org.lockFaults.push({
      object: 'Contact',
      field: 'Cliniko_Patient_Id__c',
      value: locked,
      times: 2,
    });
    await sfFault({ kind: 'http503', times: 2 });
    await sfFault({ kind: 'expireSessions' });

    const summary = await h.service.runner.runCycle('backfill');
    expect(summary.error).toBeNull();
    expect(summary.drain?.deadLettered).toBe(0);
    expect(summary.drain?.retried).toBeGreaterThan(0);
    expect(summary.status).toBe('succeeded');
    expect(h.service.cliniko.stats().retries).toBeGreaterThan(0);
    expect(h.service.salesforce.tokenRequests()).toBeGreaterThanOrEqual(2);
    expect(activeRecords(h.salesforce, 'Contact').some((r) => r.Cliniko_Patient_Id__c === locked)).toBe(true);
    await expectOrgMatchesProjection(h.service, h.salesforce);
  });

  it('dead-letters permanent failures with their code and replays them once the cause is fixed', async () => {
    const patientId = recordId('patient', 5);
    h.cliniko.controls.updatePatient(patientId, { email: 'after.fix@example.com' });
    const integration = h.salesforce.org.userByUsername(h.salesforce.username)!;
    expect(h.salesforce.org.unassignPermissionSet(integration.id, 'Cliniko_Sync_Integration')).toBe(true);

    const failed = await h.service.runner.runCycle('incremental');
    expect(failed.status).toBe('partial');
    const letters = await h.service.store.listDeadLetters();
    const contactLetter = letters.find((d) => d.object === 'Contact' && d.externalId === patientId);
    expect(contactLetter).toBeDefined();
    expect(contactLetter?.errorCode).toBe('SALESFORCE_RECORD_REJECTED');
    // INVALID_FIELD: the first call of a known Contact's write is the check that it still exists
    // (sync/match/, issue #19), whose query no longer sees Cliniko_Patient_Id__c.
    expect(contactLetter?.upstreamCode).toMatch(
      /^(NOT_FOUND|INSUFFICIENT_ACCESS_OR_READONLY|INVALID_FIELD_FOR_INSERT_UPDATE|INVALID_FIELD)$/,
    );
    expect(contactLetter?.errorMessage).toContain(patientId);

    h.salesforce.org.assignPermissionSet(integration.id, 'Cliniko_Sync_Integration');
    for (const letter of letters)
      expect(await h.service.store.replayDeadLetter(letter.id, Date.now(), 'replay-test')).toBe(true);
    const drain = await h.service.worker.drain();
    expect(drain.deadLettered).toBe(0);
    expect(drain.pending).toBe(0);
    expect(await h.service.store.listDeadLetters()).toHaveLength(0);
    const contact = activeRecords(h.salesforce, 'Contact').find((r) => r.Cliniko_Patient_Id__c === patientId);
    expect(contact?.Email).toBe('after.fix@example.com');
  });

  it('records a run as failed, not running forever, when the outbox drain itself fails', async () => {
    h.cliniko.controls.updatePatient(recordId('patient', 6), { email: 'drain.fails@example.com' });
    const claim = vi
      .spyOn(h.service.store, 'claimOutbox')
      .mockRejectedValueOnce(new Error('database is locked'));
    try {
      const summary = await h.service.runner.runCycle('incremental');
      expect(summary.status).toBe('failed');
      expect(summary.error).toContain('database is locked');
      const [run] = await h.service.store.listRuns({ limit: 1 });
      expect(run).toMatchObject({ id: summary.runId, status: 'failed' });
    } finally {
      claim.mockRestore();
    }
    // The change stayed in the outbox and is written by the next drain.
    const drain = await h.service.worker.drain();
    expect(drain.pending).toBe(0);
    expect(drain.deadLettered).toBe(0);
  });

  it('leaves the watermark where the read began when the list never stopped moving', async () => {
    const before = await h.service.store.getWatermark('patients');
    expect(before).toBeDefined();
    const later = (minutes: number) =>
      new Date(Date.parse(before!.cursor) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    // A read whose pages advanced the watermark, but whose rows kept shifting for every pass: a row may
    // have slid past the reader, so nothing it read may move the watermark.
    async function* moving() {
      await Promise.resolve();
      yield {
        kind: 'page' as const,
        resource: 'patients',
        path: '/patients',
        pass: 3,
        pageNumber: 1,
        items: 0,
        totalEntries: 0,
        maxUpdatedAt: later(30),
        serverDate: later(60),
      };
      yield {
        kind: 'end' as const,
        resource: 'patients',
        complete: false,
        passes: 3,
        pages: 1,
        records: 0,
        duplicates: 0,
        quarantined: 0,
        maxUpdatedAt: later(30),
        startedAt: later(60),
      };
    }
    const read = vi.spyOn(h.service.cliniko.streams.patients, 'read').mockImplementationOnce(moving);
    try {
      await h.service.runner.runCycle('incremental');
    } finally {
      read.mockRestore();
    }
    expect((await h.service.store.getWatermark('patients'))?.cursor).toBe(before!.cursor);
  });

  it('a record changed back while its previous change waits for a retry ends with the current value', async () => {
    const patientId = recordId('patient', 7);
    const current = activeRecords(h.salesforce, 'Contact').find((r) => r.Cliniko_Patient_Id__c === patientId);
    expect(typeof current?.Email).toBe('string');
    // A change (here: an older email) was enqueued and is waiting for its retry...
    const store = h.service.store;
    const stale = { Cliniko_Patient_Id__c: patientId, Email: 'stale.change@example.com' };
    await store.commitBatch({
      stream: 'test',
      outbox: [
        {
          object: 'Contact',
          externalId: patientId,
          operation: 'upsert',
          payload: JSON.stringify(stale),
          payloadHash: 'stale-hash',
          runId: 'test',
        },
      ],
      now: Date.now(),
    });
    const claimed = await store.claimOutbox({ owner: 'test', limit: 10, leaseMs: 60_000, now: Date.now() });
    expect(claimed.map((c) => c.externalId)).toEqual([patientId]);
    await store.retryLater(claimed[0]!.id, {
      attempts: 1,
      nextAttemptAt: Date.now() + 3_600_000,
      errorCode: 'UNABLE_TO_LOCK_ROW',
    });
    // ...when the record is changed back in Cliniko to what Salesforce last received.
    h.cliniko.controls.updatePatient(patientId, { email: current!.Email as string });
    const summary = await h.service.runner.runCycle('incremental');
    expect(summary.drain?.pending).toBe(0);
    const after = activeRecords(h.salesforce, 'Contact').find((r) => r.Cliniko_Patient_Id__c === patientId);
    expect(after?.Email).toBe(current!.Email);
  });
});
