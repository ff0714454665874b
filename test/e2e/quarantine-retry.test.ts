import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * A record Cliniko serves in a shape the sync rejects is quarantined (listed without values); once it is
 * corrected in Cliniko, the next incremental cycle reads it again, writes it and releases its quarantine
 * row. Control: a second invalid record, not corrected, stays quarantined through the same cycle.
 */
let h: SyncHarness;

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 20, seed: 4 } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
});

afterAll(async () => {
  await h?.close();
});

describe('quarantine', () => {
  it('retries a quarantined record when it changes in Cliniko, and releases it once it passes', async () => {
    // Arrange: two patients whose date of birth Cliniko serves day-first (planted in the emulator: the
    // API itself refuses such a write).
    const [fixed, broken] = h.cliniko.practice.patients.filter(
      (p) => p.archivedAt === null && p.mergedAt === null,
    );
    const fixedId = recordId('patient', fixed!.idx);
    const brokenId = recordId('patient', broken!.idx);
    fixed!.f.date_of_birth = '30/02/1985';
    broken!.f.date_of_birth = '31/04/1990';
    h.cliniko.controls.touch('patients', [fixedId, brokenId]);
    const first = await h.service.runner.runCycle('incremental');
    expect(first.counts.patients?.quarantined).toBe(2);
    const listed = await h.service.store.listQuarantine();
    expect(listed.items.map((q) => [q.resource, q.id, q.field]).sort()).toEqual(
      [
        ['patients', brokenId, 'date_of_birth'],
        ['patients', fixedId, 'date_of_birth'],
      ].sort(),
    );
    expect(JSON.stringify(listed)).not.toContain('1985');

    // Act: the front desk corrects one of them.
    h.cliniko.controls.updatePatient(fixedId, { date_of_birth: '1985-02-28' });
    const second = await h.service.runner.runCycle('incremental');

    // Assert: written to Salesforce and out of the quarantine; the other one is still there.
    expect(second.status).toBe('succeeded');
    const contact = activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === fixedId);
    expect(contact?.Birthdate).toBe('1985-02-28');
    const after = await h.service.store.listQuarantine();
    expect(after.items.map((q) => q.id)).toEqual([brokenId]);
    expect(after.total).toBe(1);
  });
});
