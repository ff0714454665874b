import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadDataMap } from '../../governance/data-map.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { DEFAULT_JOURNEY_CONFIG, parseJourneyConfig, type Appointment } from '../../journey/index.js';
import { createLogger } from '../../logger.js';
import { SqliteStore, type FactInput } from '../../store/index.js';
import { createOutboxWorker } from '../outbox/worker.js';
import { ev, fakeCliniko, fakeWriter, manualClock, type ScriptedRead } from '../test-fakes.js';
import { APPOINTMENTS, GO_LIVE } from './appointment-events.js';
import { indexRows, REBUILD_PAGE } from './reminders.js';
import { createSyncRunner } from './runner.js';

/**
 * The reminder job's cost (issue #19): it reads the reminder index and decrypts only the appointments
 * with a moment due, never every stored appointment, and makes no Cliniko request. Measured by
 * counting the store cipher's decryptions of appointment facts; the control is the index rebuild,
 * which does read them all (the counter sees a full read when there is one).
 */

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const STORED = 2_000;
const logger = createLogger({ level: 'silent' });
const dataMap = loadDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);

let store: SqliteStore;
/** Appointment facts decrypted since the last reset (outbox payloads and other rows are not counted). */
let factReads = 0;

beforeEach(async () => {
  factReads = 0;
  store = new SqliteStore(':memory:', {
    encrypt: (plaintext) => Buffer.from(plaintext, 'utf8'),
    decrypt: (ciphertext) => {
      const text = Buffer.from(ciphertext).toString('utf8');
      if (text.includes('"starts_at"')) factReads += 1;
      return text;
    },
  });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
});

function appointment(id: string, startMs: number): FactInput {
  const a: Appointment = {
    id,
    starts_at: new Date(startMs).toISOString(),
    ends_at: null,
    created_at: new Date(T0 - 30 * 24 * HOUR).toISOString(),
    appointment_type_name: 'Standard Follow Up',
    patient_arrived: false,
    did_not_arrive: false,
    cancelled_at: null,
    deleted_at: null,
    archived_at: null,
    business_id: '1',
    patient_case_id: null,
    practitioner_name: 'Dr Example',
    clinic_name: 'Example Clinic',
  };
  return { resource: APPOINTMENTS, id, patientId: `p${id}`, data: JSON.stringify(a) };
}

const GO_LIVE_AT = T0 - HOUR;

/**
 * STORED appointments, all but three in the past. The three start 10, 30 and 50 h after T0; with the
 * default offsets (48 h, 2 h) their moments are T0 - 38 h and T0 + 8 h, T0 - 18 h and T0 + 28 h,
 * T0 + 2 h and T0 + 48 h. Go-live is T0 - 1 h, so the two moments before it are owed nothing.
 */
async function seed(): Promise<void> {
  const facts = Array.from({ length: STORED - 3 }, (_, i) => appointment(`${i}`, T0 - (i + 1) * HOUR));
  facts.push(appointment('a10', T0 + 10 * HOUR), appointment('a30', T0 + 30 * HOUR));
  facts.push(appointment('a50', T0 + 50 * HOUR));
  await store.commitBatch({
    stream: APPOINTMENTS,
    facts,
    reminders: indexRows(DEFAULT_JOURNEY_CONFIG, facts, T0),
    signposts: [{ name: GO_LIVE, at: GO_LIVE_AT }],
    now: T0,
  });
}

const clinic = (): ScriptedRead => [
  ev.record('businesses', {
    id: '1',
    display_name: 'Example Clinic',
    time_zone_identifier: 'Australia/Sydney',
  }),
  ev.end('businesses', true),
];

function setup(journeyConfig = DEFAULT_JOURNEY_CONFIG, appointmentsRead?: () => ScriptedRead) {
  const clock = manualClock(T0);
  const cliniko = fakeCliniko(
    appointmentsRead ? { individualAppointments: appointmentsRead, businesses: clinic } : {},
  );
  const sf = fakeWriter();
  const worker = createOutboxWorker(
    { store, writer: sf.writer, logger, now: clock.now, sleep: clock.sleep },
    { retryDelaysMs: [1_000], jitterMs: 0, maxWaitMs: 0 },
  );
  const runner = createSyncRunner({
    store,
    cliniko: cliniko.client,
    worker,
    dataMap,
    dataMapHash: 'test-map',
    journeyConfig,
    clinicTimezone: 'Australia/Sydney',
    logger,
    now: clock.now,
  });
  const published = () =>
    sf.calls
      .filter((c) => c.object === 'Appointment_Event__e')
      .flatMap((c) => c.records.map((r) => String(r.Event_Key__c)));
  return { runner, cliniko, clock, published };
}

const sec = (ms: number) => Math.floor(ms / 1000);

describe('the reminder job reads only what is due', () => {
  it('decrypts the due appointments alone, after one rebuild, and asks Cliniko nothing', async () => {
    await seed();
    const { runner, cliniko, clock, published } = setup();
    // The first job rebuilds the index (never built with this configuration): the one full read. Then
    // a10 and a30 have a moment due (before go-live): read, owed nothing, their past moments consumed.
    const first = await runner.runReminders();
    expect(factReads).toBe(STORED + 2);
    expect(published()).toEqual([]);
    expect(first.runId).toBe('-');
    expect(await store.listRuns({ limit: 5 })).toEqual([]);

    // An idle minute: one indexed query, nothing decrypted.
    factReads = 0;
    await clock.sleep(60_000);
    expect((await runner.runReminders()).runId).toBe('-');
    expect(factReads).toBe(0);

    // T0 + 8 h: a10's 2 h moment and a50's 48 h moment are due; a30 (next at T0 + 28 h) is not read.
    factReads = 0;
    await clock.sleep(T0 + 8 * HOUR + 30_000 - clock.now());
    const summary = await runner.runReminders();
    expect(factReads).toBe(2);
    expect(summary).toMatchObject({ mode: 'reminders', status: 'succeeded', clinikoRequests: 0 });
    expect(published().sort()).toEqual(
      [`a10:upcoming:2:${sec(T0 + 10 * HOUR)}`, `a50:upcoming:48:${sec(T0 + 50 * HOUR)}`].sort(),
    );
    expect((await store.listRuns({ limit: 5 })).map((r) => r.mode)).toEqual(['reminders']);

    // Again at once: nothing due, nothing read, nothing published twice.
    factReads = 0;
    await runner.runReminders();
    expect(factReads).toBe(0);
    expect(published()).toHaveLength(2);
    expect(cliniko.reads).toEqual([]);
  });

  it('rebuilds in keyset pages, and a rebuild cut short leaves no fingerprint, so the next job starts it again', async () => {
    await seed();
    const pages: number[] = [];
    const list = store.listResourceFacts.bind(store);
    vi.spyOn(store, 'listResourceFacts').mockImplementation(
      async (resource: string, after: string | null, limit: number) => {
        const got = await list(resource, after, limit);
        pages.push(got.length);
        return got;
      },
    );
    // A power cut after the rebuild's first page: its second commit fails.
    const commit = store.commitBatch.bind(store);
    let rebuildCommits = 0;
    store.commitBatch = (batch) =>
      batch.stream === 'reminders-index' && ++rebuildCommits === 2
        ? Promise.reject(new Error('power cut'))
        : commit(batch);
    await setup()
      .runner.runReminders()
      .catch(() => undefined);
    expect(await store.remindersFingerprint()).toBeUndefined();
    store.commitBatch = commit;
    pages.length = 0;
    const { runner, clock, published } = setup();
    await runner.runReminders();
    expect(await store.remindersFingerprint()).toBeDefined();
    expect(Math.max(...pages)).toBeLessThanOrEqual(REBUILD_PAGE);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(STORED);
    // The index is whole again: a50, on the page the power cut lost, is owed its 48 h event at T0 + 2 h.
    await clock.sleep(2 * HOUR + 30_000);
    await runner.runReminders();
    expect(published()).toContain(`a50:upcoming:48:${sec(T0 + 50 * HOUR)}`);
  });

  it('lets the event loop through between its pages (the SQLite store answers synchronously)', async () => {
    await seed();
    let pagesRead = 0;
    const list = store.listResourceFacts.bind(store);
    vi.spyOn(store, 'listResourceFacts').mockImplementation(
      async (resource: string, after: string | null, limit: number) => {
        pagesRead += 1;
        return list(resource, after, limit);
      },
    );
    let ranAfter: number | undefined;
    setImmediate(() => (ranAfter = pagesRead));
    await setup().runner.runReminders();
    expect(pagesRead).toBe(STORED / REBUILD_PAGE + 1);
    // Fails if the pages run back to back: the callback would run after the last one, or after none.
    expect(ranAfter).toBe(1);
  });

  it('after a first backfill into an empty store, the job has no index to rebuild: the pages made it whole', async () => {
    const link = (path: string) => ({ links: { self: `https://api.au1.cliniko.com/v1/${path}` } });
    const raw = (id: string, startMs: number) => ({
      id,
      patient: link(`patients/${Number(id) + 100_000}`),
      starts_at: new Date(startMs).toISOString(),
      ends_at: new Date(startMs + HOUR / 2).toISOString(),
      created_at: new Date(T0 - 30 * 24 * HOUR).toISOString(),
      updated_at: new Date(T0 - HOUR).toISOString(),
      appointment_type: link('appointment_types/1'),
      business: link('businesses/1'),
      practitioner: link('practitioners/1'),
    });
    const records = Array.from({ length: 300 }, (_, i) => raw(`${i + 1}`, T0 - (i + 1) * HOUR));
    records.push(raw('9001', T0 + 10 * HOUR));
    const read = (): ScriptedRead => [
      ...records.map((r) => ev.record('individual_appointments', r)),
      ev.page('individual_appointments', { serverDate: new Date(T0).toISOString() }, records.length),
      ev.end('individual_appointments', true, new Date(T0).toISOString()),
    ];
    const { runner, clock } = setup(DEFAULT_JOURNEY_CONFIG, read);
    expect((await runner.runCycle('backfill')).status).toBe('succeeded');
    expect((await store.listResourceFacts(APPOINTMENTS, null, 1_000)).length).toBe(records.length);
    factReads = 0;
    await clock.sleep(60_000);
    await runner.runReminders();
    // No full read: fails if the cycle does not record the empty index as current (the job then
    // rebuilds from all 301 stored appointments, as the control below shows the counter would see).
    // 9001 alone is read: its 48 h moment (T0 - 38 h) had passed when its page was indexed, so it is
    // due now, owed nothing (before go-live), and consumed.
    expect(factReads).toBe(1);
    expect(await store.remindersFingerprint()).toBeDefined();
    factReads = 0;
    await runner.runReminders();
    expect(factReads).toBe(0);
    // The pages' rows are the index: 9001's 2 h moment (T0 + 8 h) comes due and is read alone.
    await clock.sleep(T0 + 8 * HOUR + 30_000 - clock.now());
    await runner.runReminders();
    expect(factReads).toBe(1);
  });

  it('control: other offsets rebuild the index from every stored appointment (the counter sees it)', async () => {
    await seed();
    await setup().runner.runReminders();
    factReads = 0;
    const config = parseJourneyConfig({
      ...DEFAULT_JOURNEY_CONFIG,
      appointmentEvents: { upcomingOffsetsHours: [24], clinics: {} },
    });
    const { runner, clock, published } = setup(config);
    await runner.runReminders();
    expect(factReads).toBeGreaterThanOrEqual(STORED);
    // The rebuilt index follows the new offsets: a30's 24 h moment (T0 + 6 h) is owed at its time.
    factReads = 0;
    await clock.sleep(6 * HOUR + 30_000);
    await runner.runReminders();
    expect(published()).toContain(`a30:upcoming:24:${sec(T0 + 30 * HOUR)}`);
    expect(factReads).toBeLessThan(STORED);
  });
});
