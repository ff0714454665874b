import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appointmentEventKey,
  appointmentEventPayload,
  dueUpcoming,
  lifecycleKinds,
  reminderMoments,
  upcomingOffsetsFor,
  type AppointmentEventKind,
} from './appointment-events.js';
import { DEFAULT_JOURNEY_CONFIG, parseJourneyConfig } from './config.js';
import { appt, bne } from './test-support.js';
import type { Appointment } from './types.js';

const HOUR = 3_600_000;
const GO_LIVE = Date.parse(bne('2026-03-01', '08:00'));

/** A booking made after go-live, starting on 2026-03-05 at 09:00 Brisbane. */
function booked(overrides: Partial<Appointment> = {}): Appointment {
  return {
    ...appt({ id: '700', start: bne('2026-03-05'), created: bne('2026-03-02') }),
    practitioner_name: 'Dr Example',
    clinic_name: 'Example Clinic',
    ...overrides,
  };
}

describe('lifecycle kinds (previous facts vs current facts)', () => {
  const cases: Array<[string, Appointment | undefined, Appointment, AppointmentEventKind[]]> = [
    ['a new booking after go-live', undefined, booked(), ['booked']],
    [
      'an unseen appointment created before go-live (backfill history)',
      undefined,
      booked({ created_at: bne('2026-02-20') }),
      [],
    ],
    ['nothing changed', booked(), booked(), []],
    ['start moved', booked(), booked({ starts_at: bne('2026-03-06') }), ['rescheduled']],
    [
      'the same instant written in another zone is not a reschedule',
      booked(),
      booked({ starts_at: '2026-03-04T23:00:00Z' }),
      [],
    ],
    ['cancelled', booked(), booked({ cancelled_at: bne('2026-03-03') }), ['cancelled']],
    [
      'moved and cancelled in one poll: cancelled only',
      booked(),
      booked({ starts_at: bne('2026-03-06'), cancelled_at: bne('2026-03-03') }),
      ['cancelled'],
    ],
    ['did not arrive', booked(), booked({ did_not_arrive: true }), ['did_not_arrive']],
    ['arrived', booked(), booked({ patient_arrived: true }), ['attended']],
    [
      'marked DNA, then corrected to arrived',
      booked({ did_not_arrive: true }),
      booked({ did_not_arrive: true, patient_arrived: true }),
      ['attended'],
    ],
    [
      'booked and cancelled between two polls',
      undefined,
      booked({ cancelled_at: bne('2026-03-03') }),
      ['booked', 'cancelled'],
    ],
    ['deleted', booked(), booked({ deleted_at: bne('2026-03-03') }), []],
    [
      'archived, then changed',
      booked({ archived_at: bne('2026-03-03') }),
      booked({ archived_at: bne('2026-03-03'), patient_arrived: true }),
      [],
    ],
    [
      'already arrived, still arrived',
      booked({ patient_arrived: true }),
      booked({ patient_arrived: true }),
      [],
    ],
  ];
  it.each(cases)('%s', (_name, previous, current, expected) => {
    expect(lifecycleKinds(previous, current, GO_LIVE)).toEqual(expected);
  });

  it('control: the go-live guard is what silences old history (a go-live before it announces it)', () => {
    const old = booked({ created_at: bne('2026-02-20') });
    expect(lifecycleKinds(undefined, old, GO_LIVE)).toEqual([]);
    expect(lifecycleKinds(undefined, old, Date.parse(bne('2026-02-01')))).toEqual(['booked']);
  });

  it('property: no change announces nothing, and every kind announced differs from "upcoming"', () => {
    const arb = fc.record({
      startH: fc.integer({ min: 0, max: 500 }),
      cancelled: fc.boolean(),
      arrived: fc.boolean(),
      dna: fc.boolean(),
      deleted: fc.boolean(),
    });
    const build = (v: {
      startH: number;
      cancelled: boolean;
      arrived: boolean;
      dna: boolean;
      deleted: boolean;
    }) =>
      booked({
        starts_at: new Date(GO_LIVE + v.startH * HOUR).toISOString(),
        cancelled_at: v.cancelled ? bne('2026-03-03') : null,
        patient_arrived: v.arrived,
        did_not_arrive: v.dna,
        deleted_at: v.deleted ? bne('2026-03-03') : null,
      });
    fc.assert(
      fc.property(arb, arb, (p, c) => {
        const previous = build(p);
        const current = build(c);
        expect(lifecycleKinds(current, current, GO_LIVE)).toEqual([]);
        const kinds = lifecycleKinds(previous, current, GO_LIVE);
        expect(kinds).not.toContain('upcoming');
        expect(kinds).not.toContain('booked');
        expect(new Set(kinds).size).toBe(kinds.length);
        // At most one outcome kind, and it matches the current outcome.
        const outcomes = kinds.filter((k) => k !== 'rescheduled');
        expect(outcomes.length).toBeLessThanOrEqual(1);
        if (outcomes[0] === 'cancelled') expect(current.cancelled_at).toBeTruthy();
        if (outcomes[0] === 'attended') expect(current.patient_arrived && !current.cancelled_at).toBe(true);
      }),
    );
  });
});

describe('upcoming events (the clock, from stored facts)', () => {
  const start = Date.parse(bne('2026-03-05'));
  const a = booked();

  it('is due at each offset, the latest due offset only, until the start', () => {
    expect(dueUpcoming(a, [48, 2], start - 49 * HOUR, GO_LIVE)).toBeUndefined();
    expect(dueUpcoming(a, [48, 2], start - 48 * HOUR, GO_LIVE)).toEqual({
      offsetHours: 48,
      dueMs: start - 48 * HOUR,
    });
    expect(dueUpcoming(a, [48, 2], start - 3 * HOUR, GO_LIVE)?.offsetHours).toBe(48);
    expect(dueUpcoming(a, [48, 2], start - 1 * HOUR, GO_LIVE)).toEqual({
      offsetHours: 2,
      dueMs: start - 2 * HOUR,
    });
    expect(dueUpcoming(a, [48, 2], start, GO_LIVE)).toBeUndefined();
  });

  it('never for a moment before go-live or before the booking was made', () => {
    const lateBooking = booked({ created_at: new Date(start - 24 * HOUR).toISOString() });
    expect(dueUpcoming(lateBooking, [48], start - 12 * HOUR, GO_LIVE)).toBeUndefined();
    expect(dueUpcoming(lateBooking, [48, 2], start - 1 * HOUR, GO_LIVE)?.offsetHours).toBe(2);
    expect(dueUpcoming(a, [48], start - 1 * HOUR, start - 40 * HOUR)).toBeUndefined();
  });

  it('never for a cancelled, marked or deleted appointment', () => {
    const at = start - 1 * HOUR;
    expect(dueUpcoming(booked({ cancelled_at: bne('2026-03-03') }), [2], at, GO_LIVE)).toBeUndefined();
    expect(dueUpcoming(booked({ did_not_arrive: true }), [2], at, GO_LIVE)).toBeUndefined();
    expect(dueUpcoming(booked({ patient_arrived: true }), [2], at, GO_LIVE)).toBeUndefined();
    expect(dueUpcoming(booked({ deleted_at: bne('2026-03-03') }), [2], at, GO_LIVE)).toBeUndefined();
    // Control: the same appointment, still booked, is due.
    expect(dueUpcoming(booked(), [2], at, GO_LIVE)?.offsetHours).toBe(2);
  });

  it('property: a due moment lies in [max(go-live, booking), now] and before the start', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 2160 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: -3000, max: 3000 }),
        (offsets, nowH) => {
          const now = start + nowH * HOUR;
          const due = dueUpcoming(a, offsets, now, GO_LIVE);
          if (!due) return;
          expect(offsets).toContain(due.offsetHours);
          expect(due.dueMs).toBeLessThanOrEqual(now);
          expect(due.dueMs).toBeGreaterThanOrEqual(Math.max(GO_LIVE, Date.parse(a.created_at)));
          expect(now).toBeLessThan(start);
          for (const h of offsets) {
            const m = start - h * HOUR;
            if (m <= now && m >= Math.max(GO_LIVE, Date.parse(a.created_at)))
              expect(m).toBeLessThanOrEqual(due.dueMs);
          }
        },
      ),
    );
  });

  it('the reminder index holds each moment from the booking until the start', () => {
    expect(reminderMoments(a, [2, 48], start - 72 * HOUR)).toEqual([start - 48 * HOUR, start - 2 * HOUR]);
    // Past moments stay (a down service, an appointment first seen inside its window)...
    expect(reminderMoments(a, [48, 2], start - 1 * HOUR)).toEqual([start - 48 * HOUR, start - 2 * HOUR]);
    // ...but not once the appointment has started, nor before the booking was made.
    expect(reminderMoments(a, [48, 2], start)).toEqual([]);
    const lateBooking = booked({ created_at: new Date(start - 24 * HOUR).toISOString() });
    expect(reminderMoments(lateBooking, [48, 2], start - 12 * HOUR)).toEqual([start - 2 * HOUR]);
    for (const gone of [
      booked({ cancelled_at: bne('2026-03-03') }),
      booked({ did_not_arrive: true }),
      booked({ patient_arrived: true }),
      booked({ archived_at: bne('2026-03-03') }),
    ])
      expect(reminderMoments(gone, [48, 2], start - 72 * HOUR)).toEqual([]);
  });

  it('property: the index misses no due reminder (every due moment was in it whenever it was written)', () => {
    // Hours relative to the start: booked up to 200 h ahead, written any time from the booking, read
    // (now) any time after the write, go-live any time before the booking or after it.
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: -250, max: 50 }),
        (offsets, bookedH, writtenAfterH, nowAfterH, goLiveH) => {
          const appointment = booked({ created_at: new Date(start - bookedH * HOUR).toISOString() });
          const written = start - bookedH * HOUR + writtenAfterH * HOUR;
          const now = written + nowAfterH * HOUR;
          const due = dueUpcoming(appointment, offsets, now, start + goLiveH * HOUR);
          if (!due) return;
          expect(reminderMoments(appointment, offsets, written)).toContain(due.dueMs);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('offsets per clinic override the default', () => {
    const config = parseJourneyConfig({
      ...DEFAULT_JOURNEY_CONFIG,
      appointmentEvents: {
        upcomingOffsetsHours: [48, 2],
        clinics: { 'Late Clinic': { upcomingOffsetsHours: [24] } },
      },
    });
    expect(upcomingOffsetsFor(config, 'Late Clinic')).toEqual([24]);
    expect(upcomingOffsetsFor(config, 'Example Clinic')).toEqual([48, 2]);
    expect(upcomingOffsetsFor(config, null)).toEqual([48, 2]);
  });

  it('rejects repeated, fractional or out-of-range offsets, naming the key', () => {
    for (const bad of [[2, 2], [1.5], [0], [3000]]) {
      expect(() =>
        parseJourneyConfig({ ...DEFAULT_JOURNEY_CONFIG, appointmentEvents: { upcomingOffsetsHours: bad } }),
      ).toThrow(/appointmentEvents\.upcomingOffsetsHours/);
    }
  });
});

describe('the payload', () => {
  it('carries the contract fields and nothing else', () => {
    const payload = appointmentEventPayload(
      booked({ appointment_type_name: 'Initial Appointment' }),
      {
        patientId: '42',
        kind: 'upcoming',
        occurredAtMs: GO_LIVE,
        offsetHours: 2,
        contactId: '003000000000001AAA',
      },
      DEFAULT_JOURNEY_CONFIG,
    );
    expect(payload).toEqual({
      Event_Key__c: `700:upcoming:2:${Date.parse('2026-03-04T23:00:00.000Z') / 1000}`,
      Kind__c: 'upcoming',
      Cliniko_Appointment_Id__c: '700',
      Cliniko_Patient_Id__c: '42',
      Contact_Id__c: '003000000000001AAA',
      Appointment_Type__c: 'Initial Appointment',
      Practitioner__c: 'Dr Example',
      Clinic__c: 'Example Clinic',
      Starts_At__c: '2026-03-04T23:00:00.000Z',
      Is_Initial_Consult__c: true,
      Offset_Hours__c: 2,
      Occurred_At__c: new Date(GO_LIVE).toISOString(),
    });
  });

  it('keys are per appointment and kind, and per start for reschedules and reminders, within Text(80)', () => {
    const a = booked();
    const startSec = Date.parse(a.starts_at) / 1000;
    expect(appointmentEventKey(a, 'cancelled')).toBe('700:cancelled');
    expect(appointmentEventKey(a, 'booked')).toBe('700:booked');
    expect(appointmentEventKey(a, 'upcoming', 48)).toBe(`700:upcoming:48:${startSec}`);
    expect(appointmentEventKey(a, 'rescheduled')).toBe(`700:rescheduled:${startSec}`);
    // The same instant written in another zone is the same key; another start is another key.
    expect(appointmentEventKey({ ...a, starts_at: '2026-03-04T23:00:00Z' }, 'upcoming', 48)).toBe(
      appointmentEventKey(a, 'upcoming', 48),
    );
    const moved = { ...a, starts_at: bne('2026-03-06') };
    expect(appointmentEventKey(moved, 'upcoming', 48)).not.toBe(appointmentEventKey(a, 'upcoming', 48));
    expect(appointmentEventKey(moved, 'rescheduled')).not.toBe(appointmentEventKey(a, 'rescheduled'));
    expect(appointmentEventKey(moved, 'cancelled')).toBe(appointmentEventKey(a, 'cancelled'));
    const longest = { id: '9'.repeat(20), starts_at: '2286-11-20T17:46:39Z' };
    expect(appointmentEventKey(longest, 'upcoming', 2160).length).toBeLessThanOrEqual(80);
    const other = appointmentEventPayload(
      booked(),
      { patientId: '42', kind: 'cancelled', occurredAtMs: GO_LIVE, contactId: null },
      DEFAULT_JOURNEY_CONFIG,
    );
    expect(other.Offset_Hours__c).toBeNull();
    expect(other.Is_Initial_Consult__c).toBe(false);
  });
});
