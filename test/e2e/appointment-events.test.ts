import { DatabaseSync } from 'node:sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import type { RunSummary } from '../../sync-service/src/sync/cycle/runner.js';
import { createSyncService, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv } from '../support/harness.js';

/**
 * Appointment lifecycle events (issue #19) end to end over loopback HTTP: the Cliniko emulator's
 * clinic is backfilled (nothing is announced), then bookings, a reschedule, a cancellation, a no-show
 * and an arrival each publish one Appointment_Event__e with the contract's fields into the Salesforce
 * emulator; upcoming events come from the reminder job (not the cycle) at their offsets as the
 * emulated clock moves, with no Cliniko request (counted at the emulator); a moved appointment gets
 * its reminders again for its new start; a restarted service (a second instance on the same store)
 * announces nothing twice.
 *
 * Oracle: expected fields come from the emulator's own practice model (practitioner title and names,
 * business name, type name, start), not from the service's facts or payloads.
 */
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let service: SyncService;
let config: Config;
let dir: string;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVENT = 'Appointment_Event__e';

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 6,
    seed: 19,
    controls: true,
    now: new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString(),
    frozenClock: true,
  });
  salesforce = await startSalesforceEmulator({});
  dir = mkdtempSync(join(tmpdir(), 'appointment-events-'));
  config = loadConfig({ ...emulatorEnv(cliniko, salesforce, dir) });
  service = await startInstance();
});

afterAll(async () => {
  await service?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ helpers

function startInstance(): Promise<SyncService> {
  return createSyncService(config, createLogger({ level: 'silent' }), {
    worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 5_000 },
    now: () => Date.parse(cliniko.controls.now()),
  });
}

const now = (): number => Date.parse(cliniko.controls.now());
const setClock = (ms: number): void => {
  cliniko.controls.setClock({ now: new Date(ms).toISOString() });
};

/** Salesforce writes datetimes as 2026-05-05T00:00:00.000+0000. */
function sfInstant(value: unknown): number {
  return Date.parse(String(value).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

/** Events published since `from` (the re-backfill's control event is set aside after its test). */
let from = 0;
function published(): Array<Record<string, unknown>> {
  return salesforce.org.events
    .filter((e) => e.object === EVENT)
    .slice(from)
    .map((e) => e.payload);
}

/** `<start>` in the keys that carry one (rescheduled, upcoming): epoch seconds. */
const sec = (ms: number): number => Math.floor(ms / 1000);

/** The emulator's request log position: requests the service made to Cliniko after it. */
const clinikoSeq = (): number => cliniko.requestLog().at(-1)?.seq ?? 0;
const clinikoRequestsSince = (seq: number): number => cliniko.requestLog().filter((r) => r.seq > seq).length;

/** One run of the scheduler's reminder job; it must not touch Cliniko. */
async function reminderJob(on = service): Promise<RunSummary> {
  const before = clinikoSeq();
  const summary = await on.runner.runReminders();
  expect(summary.error).toBeNull();
  expect(summary.mode).toBe('reminders');
  expect(summary.status).toBe('succeeded');
  expect(summary.clinikoRequests).toBe(0);
  expect(clinikoRequestsSince(before), 'Cliniko requests during the reminder job').toBe(0);
  return summary;
}

function keys(): string[] {
  return published()
    .map((p) => String(p.Event_Key__c))
    .sort();
}

function eventOf(key: string): Record<string, unknown> {
  const found = published().filter((p) => p.Event_Key__c === key);
  expect(found, `one event ${key}`).toHaveLength(1);
  return found[0] ?? {};
}

async function cycle(mode: 'incremental' | 'backfill' = 'incremental', on = service): Promise<RunSummary> {
  const summary = await on.runner.runCycle(mode);
  expect(summary.error).toBeNull();
  expect(summary.drain?.deadLettered ?? 0).toBe(0);
  expect(summary.status).toBe('succeeded');
  return summary;
}

function typeId(name: string): string {
  const idx = cliniko.practice.appointmentTypes.findIndex((t) => t.name === name && t.archivedAt === null);
  expect(idx, `appointment type ${name}`).toBeGreaterThanOrEqual(0);
  return recordId('appointmentType', idx);
}

function book(patientId: string, startsAt: number, type = 'Standard Follow Up'): string {
  return (
    cliniko.controls.book({
      patient_id: patientId,
      starts_at: new Date(startsAt).toISOString(),
      appointment_type_id: typeId(type),
    }) as { id: string }
  ).id;
}

/** What the emulated clinic says about an appointment, in the event's terms (the oracle). */
function expected(appointmentId: string, patientId: string): Record<string, unknown> {
  const pr = cliniko.practice;
  const a = pr.appointments.find((x) => recordId('appointment', x.idx) === appointmentId);
  expect(a, `appointment ${appointmentId}`).toBeDefined();
  const p = pr.practitioners[a?.practitioner ?? -1];
  const type = pr.appointmentTypes[a?.type ?? -1]?.name ?? null;
  return {
    Cliniko_Appointment_Id__c: appointmentId,
    Cliniko_Patient_Id__c: patientId,
    Appointment_Type__c: type,
    Practitioner__c: p ? `${p.title} ${p.firstName} ${p.lastName}` : null,
    Clinic__c: pr.businesses[a?.business ?? -1]?.name ?? null,
    Is_Initial_Consult__c: type === 'Initial Appointment' || type === 'Facebook Initial Appointment',
  };
}

function contactIdOf(patientId: string): string {
  const contact = [...salesforce.org.records('Contact')].find((c) => c.Cliniko_Patient_Id__c === patientId);
  expect(contact, `Contact of ${patientId}`).toBeDefined();
  return String(contact?.Id);
}

function appointmentRecord(appointmentId: string): Record<string, unknown> {
  const rec = [...salesforce.org.records('Cliniko_Appointment__c')].find(
    (r) => r.Cliniko_Appointment_Id__c === appointmentId,
  );
  expect(rec, `Cliniko_Appointment__c ${appointmentId}`).toBeDefined();
  return rec ?? {};
}

// ------------------------------------------------------------------ the story

describe('appointment lifecycle events end to end', () => {
  let patientId = '';
  let existingPatient = '';
  const ids = { initial: '', cancelled: '', noShow: '', attended: '', reminder: '' };
  let base = 0;

  it('a backfill records the practice and announces nothing, even as time passes', async () => {
    const existingAppointments = cliniko.practice.appointments.length;
    expect(existingAppointments).toBeGreaterThan(0);
    await cycle('backfill');
    await cycle('incremental');
    expect(published()).toEqual([]);
    // Go-live is the backfill's read signpost (Cliniko's wall-clock Date header): work after it.
    base = Math.max(now(), Date.now()) + 10 * 60_000;
    setClock(base);
    await cycle('incremental');
    expect(published()).toEqual([]);
  });

  it('a re-backfill after changes records them without announcing them', async () => {
    const seeded = cliniko.practice.appointments.find((a) => a.cancelledAt === null);
    expect(seeded, 'a standing seeded appointment').toBeDefined();
    const seededId = recordId('appointment', seeded?.idx ?? -1);
    const owner = recordId('patient', seeded?.patient ?? -1);
    cliniko.controls.cancel(seededId, 50, 'REBACKFILL-CANCEL-NOTE');
    const bookedDuringBackfill = book(owner, now() + 4 * DAY);
    setClock(now() + 60_000);
    await cycle('backfill');
    await cycle('incremental');
    expect(published()).toEqual([]);
    // Control: the same kind of change after the backfill is announced (the pipeline is live).
    cliniko.controls.cancel(bookedDuringBackfill, 50, 'REBACKFILL-CANCEL-NOTE');
    setClock(now() + 60_000);
    await cycle('incremental');
    expect(keys()).toEqual([`${bookedDuringBackfill}:cancelled`]);
    from += published().length;
  });

  it('each change announces its kind once, with the contract fields, and never a note or reason', async () => {
    setClock(now() + 60_000);
    patientId = (
      cliniko.controls.createPatient({ first_name: 'Event', last_name: 'Tester' }) as { id: string }
    ).id;
    existingPatient = [...salesforce.org.records('Contact')]
      .map((c) => String(c.Cliniko_Patient_Id__c))
      .find((id) => id !== patientId && id !== 'undefined') as string;
    expect(existingPatient).toBeTruthy();
    const bookedAt = now();
    ids.initial = book(patientId, bookedAt + 3 * DAY, 'Initial Appointment');
    ids.cancelled = book(patientId, bookedAt + 5 * DAY);
    ids.noShow = book(existingPatient, bookedAt - 2 * HOUR + 10 * DAY);
    ids.attended = book(existingPatient, bookedAt + 6 * DAY);
    await cycle();
    const bookedKeys = Object.values(ids)
      .filter(Boolean)
      .map((id) => `${id}:booked`)
      .sort();
    expect(keys()).toEqual(bookedKeys);
    const initial = eventOf(`${ids.initial}:booked`);
    expect(initial).toMatchObject({
      ...expected(ids.initial, patientId),
      Kind__c: 'booked',
      Is_Initial_Consult__c: true,
    });
    expect(sfInstant(initial.Starts_At__c)).toBe(bookedAt + 3 * DAY);
    expect(sfInstant(initial.Occurred_At__c)).toBe(bookedAt);
    expect(initial.Offset_Hours__c ?? null).toBeNull();
    // The existing patient's Contact was written by the backfill: its Id travels with the event.
    expect(eventOf(`${ids.attended}:booked`).Contact_Id__c).toBe(contactIdOf(existingPatient));
    expect(eventOf(`${ids.attended}:booked`)).toMatchObject(expected(ids.attended, existingPatient));
    expect(appointmentRecord(ids.initial).Last_Event__c).toBe('booked');

    setClock(now() + 60_000);
    const changedAt = now();
    cliniko.controls.reschedule(ids.initial, new Date(bookedAt + 4 * DAY).toISOString());
    cliniko.controls.cancel(ids.cancelled, 50, 'EVENT-CANCEL-NOTE-CANARY');
    cliniko.controls.markDidNotArrive(ids.noShow);
    cliniko.controls.markArrived(ids.attended);
    await cycle();
    const moved = `${ids.initial}:rescheduled:${sec(bookedAt + 4 * DAY)}`;
    expect(eventOf(moved)).toMatchObject({
      Kind__c: 'rescheduled',
      Contact_Id__c: contactIdOf(patientId),
    });
    expect(sfInstant(eventOf(moved).Starts_At__c)).toBe(bookedAt + 4 * DAY);
    const cancelled = eventOf(`${ids.cancelled}:cancelled`);
    expect(cancelled).toMatchObject({ ...expected(ids.cancelled, patientId), Kind__c: 'cancelled' });
    expect(sfInstant(cancelled.Occurred_At__c)).toBe(changedAt);
    expect(eventOf(`${ids.noShow}:did_not_arrive`)).toMatchObject({
      ...expected(ids.noShow, existingPatient),
      Kind__c: 'did_not_arrive',
    });
    expect(eventOf(`${ids.attended}:attended`)).toMatchObject({
      ...expected(ids.attended, existingPatient),
      Kind__c: 'attended',
    });
    for (const [id, kind] of [
      [ids.initial, 'rescheduled'],
      [ids.cancelled, 'cancelled'],
      [ids.noShow, 'did_not_arrive'],
      [ids.attended, 'attended'],
    ] as const) {
      expect(appointmentRecord(id).Last_Event__c).toBe(kind);
      expect(sfInstant(appointmentRecord(id).Last_Event_At__c)).toBe(changedAt);
    }
    // No note, reason or other free text: only the contract's fields, and the canary nowhere.
    const allowed = new Set([
      ...Object.keys(expected(ids.initial, patientId)),
      'Event_Key__c',
      'Kind__c',
      'Contact_Id__c',
      'Starts_At__c',
      'Offset_Hours__c',
      'Occurred_At__c',
      'CreatedDate',
      'CreatedById',
      'EventUuid',
    ]);
    for (const p of published()) {
      for (const field of Object.keys(p)) expect(allowed, field).toContain(field);
      expect(JSON.stringify(p)).not.toMatch(/CANCEL-NOTE|reason/i);
    }
    // Control: the canary is really in Cliniko's record of the cancellation.
    const raw = cliniko.practice.appointments.find((a) => recordId('appointment', a.idx) === ids.cancelled);
    expect(JSON.stringify(raw)).toContain('EVENT-CANCEL-NOTE-CANARY');

    // Nothing changed: nothing announced again.
    const before = keys();
    setClock(now() + 60_000);
    await cycle();
    expect(keys()).toEqual(before);
    // A second reschedule, to a new start, announces once more (the key carries the start)...
    cliniko.controls.reschedule(ids.initial, new Date(bookedAt + 4 * DAY + HOUR).toISOString());
    await cycle();
    const again = `${ids.initial}:rescheduled:${sec(bookedAt + 4 * DAY + HOUR)}`;
    expect(keys()).toEqual([...before, again].sort());
    expect(sfInstant(eventOf(again).Starts_At__c)).toBe(bookedAt + 4 * DAY + HOUR);
    // ...and a later cycle that sees the same start again announces nothing.
    setClock(now() + 60_000);
    cliniko.controls.touch('individual_appointments', [ids.initial]);
    await cycle();
    expect(keys()).toEqual([...before, again].sort());
  });

  it('upcoming events come from the reminder job at their offsets, with no Cliniko request', async () => {
    const start = now() + 3 * DAY;
    ids.reminder = book(patientId, start);
    await cycle();
    expect(keys()).toContain(`${ids.reminder}:booked`);
    const upcoming = () => keys().filter((k) => k.startsWith(`${ids.reminder}:upcoming`));

    setClock(start - 48 * HOUR - 60_000);
    await reminderJob();
    expect(upcoming()).toEqual([]);

    setClock(start - 48 * HOUR + 30_000);
    // The cycle no longer produces reminders (it reads Cliniko: the request count works)...
    const seq = clinikoSeq();
    await cycle();
    expect(clinikoRequestsSince(seq)).toBeGreaterThan(0);
    expect(upcoming()).toEqual([]);
    // ...the reminder job does, from stored facts.
    await reminderJob();
    const reminder48 = eventOf(`${ids.reminder}:upcoming:48:${sec(start)}`);
    expect(reminder48).toMatchObject({
      ...expected(ids.reminder, patientId),
      Kind__c: 'upcoming',
      Offset_Hours__c: 48,
    });
    expect(sfInstant(reminder48.Occurred_At__c)).toBe(start - 48 * HOUR);
    expect(sfInstant(reminder48.Starts_At__c)).toBe(start);
    expect(appointmentRecord(ids.reminder).Last_Event__c).toBe('upcoming');

    // A restart: a second instance on the same store, the first closed. Nothing fires twice.
    await service.close();
    service = await startInstance();
    const before = keys();
    await reminderJob();
    await cycle();
    await reminderJob();
    expect(keys()).toEqual(before);

    setClock(start - 2 * HOUR + 30_000);
    await reminderJob();
    expect(sfInstant(eventOf(`${ids.reminder}:upcoming:2:${sec(start)}`).Occurred_At__c)).toBe(
      start - 2 * HOUR,
    );
    // Cancelled, missed and attended appointments get no reminder.
    for (const id of [ids.cancelled, ids.noShow, ids.attended])
      expect(keys().filter((k) => k.startsWith(`${id}:upcoming`))).toEqual([]);
    await reminderJob();
    expect(upcoming()).toHaveLength(2);
  });

  it('a moved appointment gets its reminders again for its new start, once each', async () => {
    const first = now() + 3 * DAY;
    const id = book(patientId, first);
    await cycle();
    setClock(first - 48 * HOUR + 30_000);
    await reminderJob();
    expect(keys()).toContain(`${id}:upcoming:48:${sec(first)}`);
    // Moved three days later, after its 48-hour reminder went out.
    const second = first + 3 * DAY;
    cliniko.controls.reschedule(id, new Date(second).toISOString());
    await cycle();
    expect(keys()).toContain(`${id}:rescheduled:${sec(second)}`);
    // The old start's 2-hour moment passes: nothing for a start the appointment no longer has.
    setClock(first - 2 * HOUR + 30_000);
    await reminderJob();
    expect(keys().filter((k) => k.startsWith(`${id}:upcoming`))).toEqual([`${id}:upcoming:48:${sec(first)}`]);
    setClock(second - 48 * HOUR + 30_000);
    await reminderJob();
    setClock(second - 2 * HOUR + 30_000);
    await reminderJob();
    await reminderJob();
    expect(keys().filter((k) => k.startsWith(`${id}:`))).toEqual(
      [
        `${id}:booked`,
        `${id}:rescheduled:${sec(second)}`,
        `${id}:upcoming:48:${sec(first)}`,
        `${id}:upcoming:48:${sec(second)}`,
        `${id}:upcoming:2:${sec(second)}`,
      ].sort(),
    );
    expect(sfInstant(eventOf(`${id}:upcoming:2:${sec(second)}`).Starts_At__c)).toBe(second);
  });

  it('control: without the durable records the reminder job would announce again (the checks can fail)', async () => {
    const start = now() + 3 * DAY;
    const id = book(patientId, start);
    await cycle();
    setClock(start - 2 * HOUR + 30_000);
    await reminderJob();
    const key = `${id}:upcoming:2:${sec(start)}`;
    expect(published().filter((p) => p.Event_Key__c === key)).toHaveLength(1);
    const before = published().length;
    await service.close();
    const db = new DatabaseSync(join(dir, 'sync.db'));
    // The announced key and the written-event ledger gone: still nothing, since the index no longer
    // names the appointment (its due moments were consumed)...
    db.exec(`DELETE FROM announced_events WHERE event_key = '${key}'`);
    db.exec(`DELETE FROM record_state WHERE object = '${EVENT}' AND external_id = '${key}'`);
    db.close();
    service = await startInstance();
    await reminderJob();
    expect(published().length).toBe(before);
    // ...and once the index names it again (as a rewrite of its facts would), the job announces the
    // due reminder a second time: the duplicate the checks above would catch.
    await service.close();
    const again = new DatabaseSync(join(dir, 'sync.db'));
    again
      .prepare('INSERT INTO reminders_due (appointment_id, due_at) VALUES (?, ?)')
      .run(id, start - 2 * HOUR);
    again.close();
    service = await startInstance();
    await reminderJob();
    expect(published().length).toBe(before + 1);
    expect(published().filter((p) => p.Event_Key__c === key)).toHaveLength(2);
  });
});
