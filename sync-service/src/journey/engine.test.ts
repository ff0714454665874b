import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOURNEY_CONFIG } from './config.js';
import { appt, bne, PATIENT, run } from './test-support.js';
import { calendarDaysBetween } from './time.js';
import { STAGES, TRIGGER_LABELS, type Appointment, type JourneyResult, type Stage } from './types.js';

const WEEKLY = ['2026-03-02', '2026-03-09', '2026-03-16'].map((d, i, all) =>
  appt({
    id: String(100 + i),
    start: bne(d),
    ...(i > 0 ? { created: bne(all[i - 1] as string, '09:30') } : {}),
    type: i === 0 ? 'Initial Appointment' : 'Standard Consultation',
    outcome: 'arrived',
  }),
);

describe('outputs and persisted state', () => {
  it('emits Journey_Transition__c records and platform events with the data-model names', () => {
    const result = run(WEEKLY, bne('2026-03-30', '02:00'));
    const t5 = result.transitions.find((t) => t.Trigger__c === 'T5 Drop-Off Risk');
    expect(t5).toEqual({
      Transition_Key__c: `${PATIENT}:T5:102`,
      Contact__r: { Cliniko_Patient_Id__c: PATIENT },
      Trigger__c: 'T5 Drop-Off Risk',
      From_Stage__c: 'In Care',
      To_Stage__c: 'Drop-Off Risk',
      Occurred_At__c: '2026-03-29T14:00:00.000Z',
    });
    expect(result.events.find((e) => e.Transition_Key__c === t5?.Transition_Key__c)).toEqual({
      Cliniko_Patient_Id__c: PATIENT,
      Transition_Key__c: `${PATIENT}:T5:102`,
      Trigger__c: 'T5 Drop-Off Risk',
      From_Stage__c: 'In Care',
      To_Stage__c: 'Drop-Off Risk',
      Occurred_At__c: '2026-03-29T14:00:00.000Z',
      Funding_Source__c: 'Private',
    });
    expect(result.state).toEqual({
      version: 1,
      stage: 'Drop-Off Risk',
      since: '2026-03-29T14:00:00.000Z',
      fired: [`${PATIENT}:T1:100`, `${PATIENT}:T2:100`, `${PATIENT}:T5:102`, `${PATIENT}:T9:102`],
    });
  });

  it('a daily pass with the stored state fires each occurrence once', () => {
    const day1 = run(WEEKLY, bne('2026-03-30', '02:00'));
    const day2 = run(WEEKLY, bne('2026-03-31', '02:00'), { previousState: day1.state });
    expect(day2.transitions).toEqual([]);
    expect(day2.events).toEqual([]);
    expect(day2.state).toEqual(day1.state);
    const lapse = run(WEEKLY, bne('2026-04-30', '02:00'), { previousState: day2.state });
    expect(lapse.transitions.map((t) => t.Trigger__c)).toEqual(['T6 Lapsed']);
  });

  it('backfilled history is recorded but old events are not published (events.maxAgeDays)', () => {
    const result = run(WEEKLY, bne('2026-03-30', '02:00'));
    expect(result.transitions.map((t) => t.Trigger__c)).toEqual([
      'T1 New Initial Consult Booked',
      'T2 First Appointment Attended',
      'T9 Maintenance Reminder',
      'T5 Drop-Off Risk',
    ]);
    // T1 (16 Feb), T2 (2 Mar) and T9 (22 Mar) are more than 7 days old on 30 March.
    expect(result.events.map((e) => e.Trigger__c)).toEqual(['T5 Drop-Off Risk']);
  });

  it('a key fired before is never emitted again, even if history changes under it', () => {
    const first = run(WEEKLY, bne('2026-03-30', '02:00'));
    // The last visit is deleted in Cliniko: the gap is now measured from visit 101 instead.
    const edited = WEEKLY.map((a) => (a.id === '102' ? { ...a, deleted_at: bne('2026-03-31') } : a));
    const after = run(edited, bne('2026-03-31', '03:00'), { previousState: first.state });
    expect(after.transitions.map((t) => t.Transition_Key__c)).not.toContain(`${PATIENT}:T5:102`);
    expect(after.state.fired).toContain(`${PATIENT}:T5:102`);
  });
});

// ---------- property tests ----------

const DAY = 86_400_000;
const BASE = Date.parse('2026-01-01T00:00:00Z');
const ZONES = ['Australia/Sydney', 'Australia/Adelaide', 'Australia/Brisbane', 'Australia/Perth'];
const TYPES = [
  'Initial Appointment',
  'Workcover Initial',
  'TAC Initial',
  'Paediatric New Patient',
  'Standard Consultation',
  'Adjustment',
];

const apptArb = fc.record({
  startDay: fc.integer({ min: 0, max: 200 }),
  minute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  // negative: typed in after the visit
  leadDays: fc.integer({ min: -2, max: 30 }),
  type: fc.constantFrom(...TYPES),
  outcome: fc.constantFrom('arrived', 'arrived', 'arrived', 'dna', 'unmarked', 'cancelled' as const),
  cancelLeadDays: fc.integer({ min: 0, max: 20 }),
  deleted: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

const historyArb = fc.array(apptArb, { maxLength: 20 }).map((specs) =>
  specs.map((s, i): Appointment => {
    const startMs = BASE + s.startDay * DAY + s.minute * 60_000;
    const createdMs = startMs - s.leadDays * DAY;
    return {
      id: String(9000 + i),
      starts_at: new Date(startMs).toISOString(),
      ends_at: new Date(startMs + 1_800_000).toISOString(),
      created_at: new Date(createdMs).toISOString(),
      appointment_type_name: s.type,
      patient_arrived: s.outcome === 'arrived',
      did_not_arrive: s.outcome === 'dna',
      cancelled_at:
        s.outcome === 'cancelled' ? new Date(startMs - s.cancelLeadDays * DAY).toISOString() : null,
      deleted_at: s.deleted ? new Date(startMs).toISOString() : null,
      archived_at: null,
      business_id: '1',
      patient_case_id: null,
    };
  }),
);

const scenarioArb = fc.record({
  appointments: historyArb,
  nowDay: fc.integer({ min: 0, max: 320 }),
  zone: fc.constantFrom(...ZONES),
});

function evaluate(
  appointments: Appointment[],
  nowMs: number,
  zone: string,
  previous?: JourneyResult,
): JourneyResult {
  return run(appointments, new Date(nowMs).toISOString(), {
    businessTimeZones: { '1': zone },
    ...(previous ? { previousState: previous.state } : {}),
  });
}

interface Live {
  a: Appointment;
  bookedMs: number;
  startMs: number;
  cancelledMs: number | null;
}

function live(appointments: Appointment[]): Live[] {
  return appointments
    .filter((a) => !a.deleted_at && !a.archived_at)
    .map((a) => {
      const startMs = Date.parse(a.starts_at);
      const bookedMs = Math.min(Date.parse(a.created_at), startMs);
      const cancelledMs = a.cancelled_at ? Math.max(Date.parse(a.cancelled_at), bookedMs) : null;
      return { a, bookedMs, startMs, cancelledMs };
    });
}

const FUNNELS: Stage[] = ['Lapsed', 'Drop-Off Risk', 'Long-Term Lead Nurture'];

/** Check one transition against the rule docs/journey.md gives for its trigger. */
function assertDocumentedCause(result: JourneyResult, appointments: Appointment[], zone: string): void {
  const all = live(appointments);
  const byId = new Map(all.map((l) => [l.a.id, l]));
  // Time-based triggers due at an instant fire before bookings made at that same instant.
  const futureBookingAt = (t: number): boolean =>
    all.some((l) => l.startMs > t && l.bookedMs < t && (l.cancelledMs === null || l.cancelledMs > t));
  const arrivedBy = (t: number): Live[] =>
    all.filter((l) => l.cancelledMs === null && l.a.patient_arrived && l.startMs <= t);
  const config = DEFAULT_JOURNEY_CONFIG;
  const firstBooking = [...all].sort(
    (x, y) => x.bookedMs - y.bookedMs || x.startMs - y.startMs || Number(x.a.id) - Number(y.a.id),
  )[0];

  for (const t of result.timeline) {
    const at = Date.parse(t.occurredAt);
    const anchor = byId.get(t.appointmentId);
    expect(anchor, `${t.key} names a live appointment`).toBeDefined();
    if (!anchor) return;
    expect(t.key).toBe(`${PATIENT}:${t.trigger}:${t.appointmentId}`);
    // Gaps run from the anchor's visit (T5, T6, T9) or no-show (T8), else from the booking that
    // reactivated the patient.
    const happened =
      anchor.cancelledMs === null &&
      anchor.startMs <= at &&
      (t.trigger === 'T8' ? anchor.a.did_not_arrive === true : anchor.a.patient_arrived === true);
    const gapDays = calendarDaysBetween(happened ? anchor.startMs : anchor.bookedMs, at, zone);
    switch (t.trigger) {
      case 'T1':
        expect(anchor).toBe(firstBooking);
        expect(config.initialConsultTypes).toContain(anchor.a.appointment_type_name);
        expect([t.from, t.to, at]).toEqual(['Lead', 'New Patient Booked', anchor.bookedMs]);
        break;
      case 'T2':
        expect(anchor.a.patient_arrived && anchor.cancelledMs === null).toBe(true);
        expect(arrivedBy(at).filter((l) => l.startMs < anchor.startMs)).toEqual([]);
        expect([t.to, at]).toEqual(['Started Care', anchor.startMs]);
        break;
      case 'T3':
        expect(anchor.a.did_not_arrive && !anchor.a.patient_arrived && anchor.cancelledMs === null).toBe(
          true,
        );
        expect([t.to, at]).toEqual([t.from, anchor.startMs]);
        break;
      case 'T4':
        expect([t.to, at]).toEqual([t.from, anchor.cancelledMs]);
        break;
      case 'T7':
        expect(FUNNELS).toContain(t.from);
        expect([t.to, at]).toEqual(['Reactivated', anchor.bookedMs]);
        break;
      case 'T5':
        expect(futureBookingAt(at)).toBe(false);
        expect(gapDays).toBeGreaterThanOrEqual(14);
        expect(t.to).toBe('Drop-Off Risk');
        break;
      case 'T6':
        expect(futureBookingAt(at)).toBe(false);
        expect(gapDays).toBeGreaterThanOrEqual(45);
        expect(t.to).toBe('Lapsed');
        break;
      case 'T8':
        expect(futureBookingAt(at)).toBe(false);
        expect(arrivedBy(at)).toEqual([]);
        expect(gapDays).toBeGreaterThanOrEqual(10);
        expect(t.to).toBe('Long-Term Lead Nurture');
        break;
      case 'T9':
        expect(futureBookingAt(at)).toBe(false);
        expect(arrivedBy(at).length).toBeGreaterThanOrEqual(2);
        expect(gapDays).toBeGreaterThanOrEqual(1);
        expect(t.to).toBe(t.from);
        break;
    }
  }
}

describe('journey properties', () => {
  it('replaying the same history twice yields the same result, and the stored state emits nothing twice', () => {
    fc.assert(
      fc.property(scenarioArb, ({ appointments, nowDay, zone }) => {
        const nowMs = BASE + nowDay * DAY;
        const first = evaluate(appointments, nowMs, zone);
        expect(evaluate(appointments, nowMs, zone)).toEqual(first);
        const again = evaluate(appointments, nowMs, zone, first);
        expect(again.transitions).toEqual([]);
        expect(again.events).toEqual([]);
        expect(again.timeline).toEqual(first.timeline);
        expect(again.contact).toEqual(first.contact);
      }),
      { numRuns: 150 },
    );
  });

  it('a daily pass emits exactly the transitions of one replay at the end, each once', () => {
    fc.assert(
      fc.property(scenarioArb, ({ appointments, nowDay, zone }) => {
        let previous: JourneyResult | undefined;
        const emitted: string[] = [];
        for (let day = 0; day <= nowDay; day += 3) {
          previous = evaluate(appointments, BASE + day * DAY + 2 * 3_600_000, zone, previous);
          emitted.push(...previous.transitions.map((t) => t.Transition_Key__c));
        }
        const endMs = BASE + nowDay * DAY + 2 * 3_600_000;
        const last = evaluate(appointments, endMs, zone, previous);
        emitted.push(...last.transitions.map((t) => t.Transition_Key__c));
        const once = evaluate(appointments, endMs, zone);
        expect(new Set(emitted).size).toBe(emitted.length);
        expect([...emitted].sort()).toEqual(once.timeline.map((t) => t.key).sort());
        expect(last.contact.Journey_Stage__c).toBe(once.contact.Journey_Stage__c);
      }),
      { numRuns: 40 },
    );
  });

  it('every transition has its documented cause', () => {
    fc.assert(
      fc.property(scenarioArb, ({ appointments, nowDay, zone }) => {
        const result = evaluate(appointments, BASE + nowDay * DAY, zone);
        assertDocumentedCause(result, appointments, zone);
        expect(new Set(result.timeline.map((t) => t.key)).size).toBe(result.timeline.length);
      }),
      { numRuns: 200 },
    );
  });

  it('the stage is always one of the eight, and transitions chain', () => {
    fc.assert(
      fc.property(scenarioArb, ({ appointments, nowDay, zone }) => {
        const result = evaluate(appointments, BASE + nowDay * DAY, zone);
        expect(STAGES).toContain(result.contact.Journey_Stage__c);
        expect(STAGES).toContain(result.state.stage);
        let stage: Stage = 'Lead';
        for (const t of result.timeline) {
          expect(STAGES).toContain(t.to);
          // In Care is entered without a trigger of its own, from Started Care or Reactivated.
          const settled = t.from === 'In Care' && (stage === 'Started Care' || stage === 'Reactivated');
          expect(t.from === stage || settled).toBe(true);
          stage = t.to;
        }
        const end = result.contact.Journey_Stage__c;
        expect(
          end === stage || (end === 'In Care' && (stage === 'Started Care' || stage === 'Reactivated')),
        ).toBe(true);
        for (const rec of result.transitions) expect(Object.values(TRIGGER_LABELS)).toContain(rec.Trigger__c);
      }),
      { numRuns: 200 },
    );
  });
});
