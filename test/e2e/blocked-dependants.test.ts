import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #15 over both emulators: a new patient whose name carries a right-to-left override (item 5) is
 * quarantined naming the record and field, never the value; its appointments and journey records wait
 * as "blocked by Contact:<id>" instead of being retried six times and dead-lettered as
 * SALESFORCE_UNAVAILABLE (item 1); once the name is corrected the next cycle writes the Contact and
 * releases them. Control: another new patient's appointment, with a clean name, is written at once.
 */
let h: SyncHarness;

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 6, seed: 21 } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
});

afterAll(async () => {
  await h?.close();
});

function newPatientWithAppointment(lastName: string): { patientId: string; appointmentId: string } {
  const patient = h.cliniko.controls.createPatient({ first_name: 'Blocked', last_name: lastName }) as {
    id: string;
  };
  const startsAt = new Date(Date.parse(h.cliniko.controls.now()) + 3 * 86_400_000).toISOString();
  const appointment = h.cliniko.controls.book({ patient_id: patient.id, starts_at: startsAt }) as {
    id: string;
  };
  return { patientId: patient.id, appointmentId: appointment.id };
}

const appointmentIn = (id: string) =>
  activeRecords(h.salesforce, 'Cliniko_Appointment__c').find((r) => r.Cliniko_Appointment_Id__c === id);

describe('dependants of a quarantined patient', () => {
  it('wait blocked by the patient, then are written when the patient is', async () => {
    const bidi = 'Evil\u202eTxt';
    const blocked = newPatientWithAppointment(bidi);
    const clean = newPatientWithAppointment('Clean');

    const first = await h.service.runner.runCycle('incremental');
    expect(first.drain?.deadLettered ?? 0).toBe(0);
    const quarantined = (await h.service.store.listQuarantine()).items.filter(
      (q) => q.id === blocked.patientId,
    );
    expect(quarantined).toEqual([
      expect.objectContaining({ resource: 'patients', field: 'Contact.LastName' }),
    ]);
    expect(quarantined[0]!.reason).toMatch(/bidirectional control character \(U\+202E\)/);
    expect(JSON.stringify(quarantined)).not.toContain(bidi);
    expect(await h.service.store.listDeadLetters()).toEqual([]);
    const waiting = await h.service.store.listBlocked();
    expect(waiting.length).toBeGreaterThan(0);
    expect(new Set(waiting.map((b) => b.blockedBy))).toEqual(new Set([`Contact:${blocked.patientId}`]));
    expect(waiting.map((b) => b.externalId)).toContain(blocked.appointmentId);
    expect(appointmentIn(blocked.appointmentId)).toBeUndefined();
    // Control: the clean patient's appointment did not wait.
    expect(appointmentIn(clean.appointmentId)).toBeDefined();
    expect((await h.service.store.outboxStats(Date.now())).pending).toBe(0);

    h.cliniko.controls.updatePatient(blocked.patientId, { last_name: 'Fixed' });
    const second = await h.service.runner.runCycle('incremental');
    expect(second.drain?.deadLettered ?? 0).toBe(0);
    expect(await h.service.store.listBlocked()).toEqual([]);
    const contact = activeRecords(h.salesforce, 'Contact').find(
      (r) => r.Cliniko_Patient_Id__c === blocked.patientId,
    );
    expect(contact?.LastName).toBe('Fixed');
    expect(appointmentIn(blocked.appointmentId)?.Contact__c).toBe(contact?.Id);
  });
});
