import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulatorEnv } from '../support/harness.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { addDays, localDate, startOfLocalDay } from '../../sync-service/src/journey/time.js';
import { createLogger } from '../../sync-service/src/logger.js';
import type { RunSummary } from '../../sync-service/src/sync/cycle/runner.js';
import { createSyncService, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

/**
 * The patient journey end to end over loopback HTTP: a new patient's life in the emulated clinic
 * (booked, attended, missed, cancelled, drifted away, lapsed, came back) is synced through the real
 * runner into the Salesforce emulator, and the org must show the Contact's stage, one
 * Journey_Transition__c per trigger occurrence and one Patient_Journey_Event__e per transition.
 *
 * The Cliniko emulator's clock is frozen and moved by the test; the service reads "now" from it, so
 * day counts (14 days to drop-off risk, 45 to lapse) are the emulated clinic's. The clock starts at
 * wall time (rounded to the minute) because the emulator's HTTP `Date` header, which the runner takes
 * as its read signpost, is always wall time (see the report on a clock set in the past).
 */
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let service: SyncService;
let dir: string;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 6,
    seed: 23,
    controls: true,
    now: new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString(),
    frozenClock: true,
  });
  salesforce = await startSalesforceEmulator({});
  dir = mkdtempSync(join(tmpdir(), 'journey-e2e-'));
  const config = loadConfig({
    ...emulatorEnv(cliniko, salesforce, dir),
  });
  service = await createSyncService(config, createLogger({ level: 'silent' }), {
    worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 5_000 },
    now: () => Date.parse(cliniko.controls.now()),
  });
});

afterAll(async () => {
  await service?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

const now = (): number => Date.parse(cliniko.controls.now());
const setClock = (ms: number): void => {
  cliniko.controls.setClock({ now: new Date(ms).toISOString() });
};
/** Mutations happen a minute after the last read, as they would in a live clinic. */
const tick = (): void => {
  cliniko.controls.setClock({ advanceSeconds: 60 });
};

function recordsOf(object: string): Array<Record<string, unknown>> {
  return [...salesforce.org.records(object)].filter((r) => r.IsDeleted !== true);
}

function contactOf(patientId: string): Record<string, unknown> {
  const contact = recordsOf('Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
  expect(contact, `Contact for patient ${patientId}`).toBeDefined();
  return contact ?? {};
}

interface Step {
  key: string;
  trigger: string;
  from: string;
  to: string;
  occurredAt: number;
}

function transitionsOf(patientId: string): Step[] {
  return recordsOf('Journey_Transition__c')
    .filter((t) => String(t.Transition_Key__c).startsWith(`${patientId}:`))
    .map((t) => ({
      key: String(t.Transition_Key__c),
      trigger: String(t.Trigger__c),
      from: String(t.From_Stage__c),
      to: String(t.To_Stage__c),
      occurredAt: sfInstant(t.Occurred_At__c),
    }))
    .sort((a, b) => a.occurredAt - b.occurredAt);
}

function eventsOf(patientId: string): Step[] {
  return salesforce.org.events
    .filter((e) => e.object === 'Patient_Journey_Event__e' && e.payload.Cliniko_Patient_Id__c === patientId)
    .map((e) => ({
      key: String(e.payload.Transition_Key__c),
      trigger: String(e.payload.Trigger__c),
      from: String(e.payload.From_Stage__c),
      to: String(e.payload.To_Stage__c),
      occurredAt: sfInstant(e.payload.Occurred_At__c),
    }));
}

/** Salesforce writes datetimes as 2026-05-05T00:00:00.000+0000. */
function sfInstant(value: unknown): number {
  return Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function expectClean(summary: RunSummary): void {
  expect(summary.error).toBeNull();
  expect(summary.drain?.deadLettered ?? 0).toBe(0);
  expect(summary.status).toBe('succeeded');
}

async function cycle(): Promise<RunSummary> {
  const summary = await service.runner.runCycle('incremental');
  expectClean(summary);
  return summary;
}

async function daily(): Promise<RunSummary> {
  const summary = await service.runner.runJourneyDaily();
  expectClean(summary);
  return summary;
}

function typeId(name: string): string {
  const idx = cliniko.practice.appointmentTypes.findIndex((t) => t.name === name && t.archivedAt === null);
  expect(idx, `appointment type ${name}`).toBeGreaterThanOrEqual(0);
  return recordId('appointmentType', idx);
}

function book(patientId: string, startsAt: number, type = 'Standard Follow Up'): string {
  const appointment = cliniko.controls.book({
    patient_id: patientId,
    starts_at: new Date(startsAt).toISOString(),
    appointment_type_id: typeId(type),
  }) as { id: string };
  return appointment.id;
}

/** 09:00 on the clinic wall `days` calendar days after the local date of `fromMs`. */
function nineAm(fromMs: number, days: number, zone: string): number {
  return startOfLocalDay(addDays(localDate(fromMs, zone), days), zone) + 9 * HOUR;
}

// ------------------------------------------------------------------ the story

describe('patient journey end to end', () => {
  let patientId = '';
  let zone = '';
  let firstVisit = ''; // T1 booking, then T2 visit; the gap anchor for T5 and T6
  let noShow = '';
  let cancelled = '';
  let comeback = '';
  const steps: Step[] = [];
  // A second new patient who misses their first visit and never re-books (T8).
  let leadId = '';
  let leadVisit = '';
  const leadSteps: Step[] = [];

  it('backfills the practice and then sees a new patient book an initial consult (T1)', async () => {
    expectClean(await service.runner.runCycle('backfill'));

    tick();
    const created = cliniko.controls.createPatient({ first_name: 'Journey', last_name: 'Tester' }) as {
      id: string;
    };
    patientId = created.id;
    tick();
    const bookedAt = now();
    firstVisit = book(patientId, bookedAt + 2 * DAY, 'Initial Appointment');
    const appointment = cliniko.practice.appointments.find(
      (a) => recordId('appointment', a.idx) === firstVisit,
    );
    const business = cliniko.practice.businesses[appointment?.business ?? -1];
    expect(business).toBeDefined();
    zone = business?.timeZone ?? '';
    const lead = cliniko.controls.createPatient({ first_name: 'Missed', last_name: 'First' }) as {
      id: string;
    };
    leadId = lead.id;
    leadVisit = book(leadId, bookedAt + 2 * DAY, 'Facebook Initial Appointment');
    await cycle();
    expect(contactOf(leadId).Journey_Stage__c).toBe('New Patient Booked');
    leadSteps.push({
      key: `${leadId}:T1:${leadVisit}`,
      trigger: 'T1 New Initial Consult Booked',
      from: 'Lead',
      to: 'New Patient Booked',
      occurredAt: bookedAt,
    });
    expect(transitionsOf(leadId)).toEqual(leadSteps);

    expect(contactOf(patientId).Journey_Stage__c).toBe('New Patient Booked');
    steps.push({
      key: `${patientId}:T1:${firstVisit}`,
      trigger: 'T1 New Initial Consult Booked',
      from: 'Lead',
      to: 'New Patient Booked',
      occurredAt: bookedAt,
    });
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);
    const transition = recordsOf('Journey_Transition__c').find(
      (t) => t.Transition_Key__c === `${patientId}:T1:${firstVisit}`,
    );
    // The transition is related to the patient's Contact through the external-id reference.
    expect(transition?.Contact__c).toBe(contactOf(patientId).Id);
    const initial = recordsOf('Cliniko_Appointment__c').find(
      (a) => a.Cliniko_Appointment_Id__c === firstVisit,
    );
    expect(initial?.Is_Initial_Consult__c).toBe(true);
  });

  it('marks the first visit arrived: Started Care (T2) and the Contact aggregates', async () => {
    const appointment = cliniko.practice.appointments.find(
      (a) => recordId('appointment', a.idx) === firstVisit,
    );
    const startsAt = (appointment?.startsAt ?? 0) * 1000;
    setClock(startsAt + HOUR);
    cliniko.controls.markArrived(firstVisit);
    cliniko.controls.markDidNotArrive(leadVisit);
    await cycle();

    const contact = contactOf(patientId);
    expect(contact.Journey_Stage__c).toBe('Started Care');
    expect(Number(contact.Appointments_Attended__c)).toBe(1);
    expect(contact.Last_Appointment_Date__c).toBe(localDate(startsAt, zone));
    expect(contact.Last_Appointment_Type__c).toBe('Initial Appointment');
    expect(contact.Next_Appointment_Date__c ?? null).toBeNull();
    expect(contact.Funding_Source__c).toBe('Private');
    steps.push({
      key: `${patientId}:T2:${firstVisit}`,
      trigger: 'T2 First Appointment Attended',
      from: 'New Patient Booked',
      to: 'Started Care',
      occurredAt: startsAt,
    });
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);

    // The other new patient missed the same first visit: a no-show, still New Patient Booked.
    expect(contactOf(leadId).Journey_Stage__c).toBe('New Patient Booked');
    leadSteps.push({
      key: `${leadId}:T3:${leadVisit}`,
      trigger: 'T3 No-Show',
      from: 'New Patient Booked',
      to: 'New Patient Booked',
      occurredAt: startsAt,
    });
    expect(transitionsOf(leadId)).toEqual(leadSteps);
    expect(eventsOf(leadId)).toEqual(leadSteps);
  });

  it('records a no-show (T3) and a cancellation (T4) without changing the stage', async () => {
    tick();
    const followUp = nineAm(now(), 2, zone);
    noShow = book(patientId, followUp);
    await cycle();
    expect(contactOf(patientId).Next_Appointment_Date__c).toBe(localDate(followUp, zone));

    setClock(followUp + HOUR);
    cliniko.controls.markDidNotArrive(noShow);
    tick();
    cancelled = book(patientId, nineAm(now(), 3, zone));
    tick();
    cliniko.controls.cancel(cancelled);
    const cancelledAt = now();
    await cycle();

    const contact = contactOf(patientId);
    expect(contact.Journey_Stage__c).toBe('Started Care');
    expect(contact.Next_Appointment_Date__c ?? null).toBeNull();
    steps.push(
      {
        key: `${patientId}:T3:${noShow}`,
        trigger: 'T3 No-Show',
        from: 'Started Care',
        to: 'Started Care',
        occurredAt: followUp,
      },
      {
        key: `${patientId}:T4:${cancelled}`,
        trigger: 'T4 Appointment Cancelled',
        from: 'Started Care',
        to: 'Started Care',
        occurredAt: cancelledAt,
      },
    );
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);
  });

  it('flags drop-off risk (T5) at local midnight 14 days after the only visit, not a second before', async () => {
    const visit =
      (cliniko.practice.appointments.find((a) => recordId('appointment', a.idx) === firstVisit)?.startsAt ??
        0) * 1000;
    const day14 = startOfLocalDay(addDays(localDate(visit, zone), 14), zone);

    setClock(day14 - 1000);
    await daily();
    expect(contactOf(patientId).Journey_Stage__c).toBe('Started Care');
    expect(transitionsOf(patientId)).toEqual(steps);

    // By now the lead who missed their first visit has gone 10 days without a booking (T8).
    const missed =
      (cliniko.practice.appointments.find((a) => recordId('appointment', a.idx) === leadVisit)?.startsAt ??
        0) * 1000;
    expect(contactOf(leadId).Journey_Stage__c).toBe('Long-Term Lead Nurture');
    leadSteps.push({
      key: `${leadId}:T8:${leadVisit}`,
      trigger: 'T8 Long-Term Lead Nurture',
      from: 'New Patient Booked',
      to: 'Long-Term Lead Nurture',
      occurredAt: startOfLocalDay(addDays(localDate(missed, zone), 10), zone),
    });
    expect(transitionsOf(leadId)).toEqual(leadSteps);
    expect(eventsOf(leadId)).toEqual(leadSteps);

    setClock(day14);
    await daily();
    expect(contactOf(patientId).Journey_Stage__c).toBe('Drop-Off Risk');
    steps.push({
      key: `${patientId}:T5:${firstVisit}`,
      trigger: 'T5 Drop-Off Risk',
      from: 'Started Care',
      to: 'Drop-Off Risk',
      occurredAt: day14,
    });
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);
  });

  it('lapses the patient (T6) 45 days after the visit with no booking; a second daily pass emits nothing', async () => {
    const visit =
      (cliniko.practice.appointments.find((a) => recordId('appointment', a.idx) === firstVisit)?.startsAt ??
        0) * 1000;
    const day45 = startOfLocalDay(addDays(localDate(visit, zone), 45), zone);

    setClock(day45 - 1000);
    await daily();
    expect(contactOf(patientId).Journey_Stage__c).toBe('Drop-Off Risk');

    setClock(day45);
    await daily();
    expect(contactOf(patientId).Journey_Stage__c).toBe('Lapsed');
    expect(sfInstant(contactOf(patientId).Journey_Stage_Since__c)).toBe(day45);
    steps.push({
      key: `${patientId}:T6:${firstVisit}`,
      trigger: 'T6 Lapsed',
      from: 'Drop-Off Risk',
      to: 'Lapsed',
      occurredAt: day45,
    });
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);

    // Idempotent: the same pass again, and again an hour later, finds nothing new for anyone.
    const events = salesforce.org.events.length;
    const transitions = recordsOf('Journey_Transition__c').length;
    const calls = service.writer.calls();
    const again = await daily();
    setClock(day45 + HOUR);
    const later = await daily();
    expect(salesforce.org.events.length).toBe(events);
    expect(recordsOf('Journey_Transition__c')).toHaveLength(transitions);
    expect(service.writer.calls()).toBe(calls);
    for (const summary of [again, later]) {
      expect(summary.counts.Journey_Transition__c?.written ?? 0).toBe(0);
      expect(summary.counts.Patient_Journey_Event__e?.written ?? 0).toBe(0);
    }
  });

  it('reactivates the lapsed patient when they book again (T7)', async () => {
    tick();
    const bookedAt = now();
    const startsAt = nineAm(bookedAt, 3, zone);
    comeback = book(patientId, startsAt);
    await cycle();

    const contact = contactOf(patientId);
    expect(contact.Journey_Stage__c).toBe('Reactivated');
    expect(sfInstant(contact.Journey_Stage_Since__c)).toBe(bookedAt);
    expect(contact.Next_Appointment_Date__c).toBe(localDate(startsAt, zone));
    steps.push({
      key: `${patientId}:T7:${comeback}`,
      trigger: 'T7 Reactivated',
      from: 'Lapsed',
      to: 'Reactivated',
      occurredAt: bookedAt,
    });
    expect(transitionsOf(patientId)).toEqual(steps);
    expect(eventsOf(patientId)).toEqual(steps);
    // Every transition was published exactly once, in the order it happened.
    expect(new Set(eventsOf(patientId).map((e) => e.key)).size).toBe(steps.length);

    // Nothing changed since: a cycle and a daily pass leave the org as it is.
    const events = salesforce.org.events.length;
    const calls = service.writer.calls();
    await cycle();
    await daily();
    expect(salesforce.org.events.length).toBe(events);
    expect(service.writer.calls()).toBe(calls);
  });
});
