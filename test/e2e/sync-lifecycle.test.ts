import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Archives, merges and cancellations in Cliniko: nothing is deleted in Salesforce; the Contact says
 * what happened and drops out of marketing, and a merged patient's history follows the survivor.
 */
let h: SyncHarness;

const contactOf = (patientId: string) =>
  activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);

/** Active patients (not archived or merged) that have at least one appointment. */
function patientsWithHistory(): string[] {
  const withAppointments = new Set(h.cliniko.practice.appointments.map((a) => a.patient));
  return h.cliniko.practice.patients
    .filter((p) => p.archivedAt === null && p.mergedAt === null && withAppointments.has(p.idx))
    .map((p) => recordId('patient', p.idx));
}

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 30, seed: 9 } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
});

afterAll(async () => {
  await h?.close();
});

describe('patient lifecycle', () => {
  it('marks an archived patient Archived and suppresses marketing, without deleting anything', async () => {
    // A patient who consented to both, so only the archive can explain the opt-outs.
    const consenting = h.cliniko.practice.patients.find(
      (p) =>
        p.archivedAt === null &&
        p.mergedAt === null &&
        p.f.accepted_email_marketing === true &&
        p.f.accepted_sms_marketing === true,
    )!;
    const patientId = recordId('patient', consenting.idx);
    expect(contactOf(patientId)).toMatchObject({ HasOptedOutOfEmail: false, DoNotCall: false });
    const before = activeRecords(h.salesforce, 'Contact').length;
    h.cliniko.controls.archivePatient(patientId);
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect(contactOf(patientId)).toMatchObject({
      Cliniko_Status__c: 'Archived',
      HasOptedOutOfEmail: true,
      DoNotCall: true,
    });
    expect(activeRecords(h.salesforce, 'Contact')).toHaveLength(before);
  });

  it('marks a merged patient Merged, points it at the survivor and moves its history there', async () => {
    // A patient with both appointments and invoices in Salesforce, merged into another.
    const candidates = patientsWithHistory().slice(1);
    const fromId = candidates.find((id) => {
      const contact = contactOf(id);
      return activeRecords(h.salesforce, 'Cliniko_Invoice__c').some((i) => i.Contact__c === contact?.Id);
    });
    const intoId = candidates.find((id) => id !== fromId);
    const from = contactOf(fromId!)!;
    const into = contactOf(intoId!)!;
    const movedAppointments = activeRecords(h.salesforce, 'Cliniko_Appointment__c').filter(
      (a) => a.Contact__c === from.Id,
    );
    expect(movedAppointments.length).toBeGreaterThan(0);
    const invoicesBefore = activeRecords(h.salesforce, 'Cliniko_Invoice__c').filter(
      (i) => i.Contact__c === from.Id,
    );
    h.cliniko.controls.mergePatient(fromId!, intoId!);
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect(contactOf(fromId!)).toMatchObject({
      Cliniko_Status__c: 'Merged',
      Merged_Into__c: into.Id,
      HasOptedOutOfEmail: true,
      DoNotCall: true,
    });
    for (const appointment of movedAppointments) {
      const now = activeRecords(h.salesforce, 'Cliniko_Appointment__c').find((a) => a.Id === appointment.Id);
      expect(now?.Contact__c).toBe(into.Id);
    }
    const plansLeft = activeRecords(h.salesforce, 'Care_Plan__c').filter((p) => p.Contact__c === from.Id);
    expect(plansLeft).toHaveLength(0);
    // Invoices follow too, including those Cliniko did not touch in the merge.
    expect(invoicesBefore.length).toBeGreaterThan(0);
    const invoicesLeft = activeRecords(h.salesforce, 'Cliniko_Invoice__c').filter(
      (i) => i.Contact__c === from.Id,
    );
    expect(invoicesLeft).toHaveLength(0);
    // And a later quiet cycle does not move anything back.
    await h.service.runner.runCycle('incremental');
    expect(
      activeRecords(h.salesforce, 'Cliniko_Invoice__c').filter((i) => i.Contact__c === from.Id),
    ).toHaveLength(0);
  });

  it('shows a cancelled appointment as Cancelled, with when', async () => {
    const appointment = h.cliniko.practice.appointments.find(
      (a) => a.cancelledAt === null && a.deletedAt === null && a.startsAt > Date.now() / 1000,
    )!;
    const appointmentId = recordId('appointment', appointment.idx);
    h.cliniko.controls.cancel(appointmentId, 50, 'CANARY-should-never-leave');
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    const record = activeRecords(h.salesforce, 'Cliniko_Appointment__c').find(
      (a) => a.Cliniko_Appointment_Id__c === appointmentId,
    );
    expect(record?.Status__c).toBe('Cancelled');
    expect(typeof record?.Cancelled_At__c).toBe('string');
    expect(JSON.stringify(record)).not.toContain('CANARY-should-never-leave');
  });
});
