import { describe, expect, it } from 'vitest';
import { DEFAULT_JOURNEY_CONFIG, parseJourneyConfig } from './config.js';
import { dropOffAfterDays, maintenanceAfterDays } from './replay.js';
import { appt, bne, PATIENT, run, triggers } from './test-support.js';
import type { Appointment } from './types.js';

/**
 * Attended visits on the given Brisbane dates; the first (an initial consult) is booked 14 days
 * ahead, each later one at the end of the visit before it, as front desks do.
 */
function attendedOn(dates: string[], firstType = 'Initial Appointment'): Appointment[] {
  return dates.map((d, i) =>
    appt({
      start: bne(d),
      ...(i > 0 ? { created: bne(dates[i - 1] as string, '09:30') } : {}),
      type: i === 0 ? firstType : 'Standard Consultation',
      outcome: 'arrived',
    }),
  );
}

const WEEKLY = ['2026-03-02', '2026-03-09', '2026-03-16'];
const FORTNIGHTLY = ['2026-03-02', '2026-03-16', '2026-03-30'];
const EVERY_10_DAYS = ['2026-03-01', '2026-03-11', '2026-03-21'];
const EVERY_28_DAYS = ['2026-01-05', '2026-02-02', '2026-03-02'];

describe('T1 new initial consult booked', () => {
  it.each(DEFAULT_JOURNEY_CONFIG.initialConsultTypes)(
    'a first-ever booking of "%s" -> New Patient Booked',
    (type) => {
      const first = appt({ start: bne('2026-03-10'), created: bne('2026-03-01', '10:00'), type });
      const result = run([first], bne('2026-03-02'));
      expect(result.timeline).toEqual([
        {
          key: `${PATIENT}:T1:${first.id}`,
          trigger: 'T1',
          appointmentId: first.id,
          from: 'Lead',
          to: 'New Patient Booked',
          occurredAt: '2026-03-01T00:00:00.000Z',
        },
      ]);
      expect(result.contact.Journey_Stage__c).toBe('New Patient Booked');
      expect(result.contact.Journey_Stage_Since__c).toBe('2026-03-01T00:00:00.000Z');
      expect(result.contact.Next_Appointment_Date__c).toBe('2026-03-10');
    },
  );

  it.each([
    ['Paediatric New Patient', 'excluded type'],
    ['initial appointment', 'wrong letter case (names match exactly)'],
    ['Initial Appointment ', 'trailing space'],
    ['Standard Consultation', 'not an initial consult type'],
  ])('"%s" (%s) does not fire T1; the patient stays a Lead', (type) => {
    const result = run([appt({ start: bne('2026-03-10'), type })], bne('2026-03-05'));
    expect(triggers(result)).toEqual([]);
    expect(result.contact.Journey_Stage__c).toBe('Lead');
  });

  it('an initial consult that is not the first-ever booking does not fire T1', () => {
    const earlier = appt({
      start: bne('2026-03-05'),
      created: bne('2026-03-01'),
      type: 'Paediatric New Patient',
    });
    const initial = appt({
      start: bne('2026-03-10'),
      created: bne('2026-03-02'),
      type: 'Initial Appointment',
    });
    expect(triggers(run([earlier, initial], bne('2026-03-03')))).toEqual([]);
  });

  it('a patient with no appointments is a Lead with no stage date', () => {
    const result = run([], bne('2026-03-03'));
    expect(result.contact.Journey_Stage__c).toBe('Lead');
    expect(result.contact.Journey_Stage_Since__c).toBeNull();
    expect(result.transitions).toEqual([]);
  });
});

describe('T2 first appointment attended, In Care', () => {
  it('the first arrival -> Started Care; later arrivals fire no T2', () => {
    const visits = attendedOn(['2026-03-02', '2026-03-09']);
    const result = run(visits, bne('2026-03-09', '12:00'));
    expect(triggers(result)).toEqual(['T1', 'T2']);
    const t2 = result.timeline[1];
    expect(t2).toMatchObject({
      from: 'New Patient Booked',
      to: 'Started Care',
      appointmentId: visits[0]?.id,
    });
    expect(t2?.occurredAt).toBe('2026-03-01T23:00:00.000Z');
  });

  it('a second visit with a future booking -> In Care (a stage without a trigger of its own)', () => {
    const visits = attendedOn(['2026-03-02', '2026-03-09']);
    const next = appt({ start: bne('2026-03-16'), created: bne('2026-03-09', '09:30') });
    const result = run([...visits, next], bne('2026-03-10'));
    expect(result.contact.Journey_Stage__c).toBe('In Care');
    expect(result.contact.Journey_Stage_Since__c).toBe(new Date(bne('2026-03-09', '09:30')).toISOString());
    expect(triggers(result)).toEqual(['T1', 'T2']);
  });

  it('one visit with a future booking stays Started Care', () => {
    const result = run(
      [...attendedOn(['2026-03-02']), appt({ start: bne('2026-03-09') })],
      bne('2026-03-03'),
    );
    expect(result.contact.Journey_Stage__c).toBe('Started Care');
  });

  it('an arrival flagged on an appointment that has not started yet is not counted', () => {
    const result = run(attendedOn(['2026-03-10']), bne('2026-03-05'));
    expect(result.contact.Appointments_Attended__c).toBe(0);
    expect(triggers(result)).toEqual(['T1']);
  });
});

describe('T3 no-show and T4 cancellation (events, stage unchanged)', () => {
  it('records a no-show at the appointment start', () => {
    const a = appt({ start: bne('2026-03-10'), type: 'Initial Appointment', outcome: 'dna' });
    const result = run([a], bne('2026-03-11'));
    expect(result.timeline.at(-1)).toMatchObject({
      trigger: 'T3',
      key: `${PATIENT}:T3:${a.id}`,
      from: 'New Patient Booked',
      to: 'New Patient Booked',
      occurredAt: '2026-03-09T23:00:00.000Z',
    });
  });

  it('records a cancellation at cancelled_at; a cancelled appointment is never a visit or a no-show', () => {
    const visits = attendedOn(['2026-03-02']);
    const c = appt({ start: bne('2026-03-09'), cancelledAt: bne('2026-03-05', '15:00'), outcome: 'arrived' });
    const result = run([...visits, c], bne('2026-03-10'));
    expect(result.timeline.at(-1)).toMatchObject({
      trigger: 'T4',
      from: 'Started Care',
      to: 'Started Care',
      occurredAt: '2026-03-05T05:00:00.000Z',
    });
    expect(result.contact.Appointments_Attended__c).toBe(1);
  });

  it('ignores deleted appointments entirely', () => {
    const result = run(
      [appt({ start: bne('2026-03-10'), type: 'Initial Appointment', deleted: true })],
      bne('2026-03-11'),
    );
    expect(result.timeline).toEqual([]);
  });
});

describe('T5 drop-off risk (schedule-aware) and T6 lapsed: day boundaries', () => {
  it.each([
    ['weekly, day 13', WEEKLY, '2026-03-29', '23:59', 'In Care', []],
    ['weekly, day 14', WEEKLY, '2026-03-30', '00:00', 'Drop-Off Risk', ['T5']],
    ['fortnightly, day 20', FORTNIGHTLY, '2026-04-19', '23:59', 'In Care', []],
    ['fortnightly, day 21', FORTNIGHTLY, '2026-04-20', '00:00', 'Drop-Off Risk', ['T5']],
    ['every 28 days, day 41', EVERY_28_DAYS, '2026-04-12', '23:59', 'In Care', []],
    ['every 28 days, day 42', EVERY_28_DAYS, '2026-04-13', '00:00', 'Drop-Off Risk', ['T5']],
    ['weekly, day 44', WEEKLY, '2026-04-29', '23:59', 'Drop-Off Risk', ['T5']],
    ['weekly, day 45', WEEKLY, '2026-04-30', '00:00', 'Lapsed', ['T5', 'T6']],
  ])('%s', (_label, dates, day, time, stage, gapTriggers) => {
    const result = run(attendedOn(dates), bne(day, time));
    expect(result.contact.Journey_Stage__c).toBe(stage);
    expect(triggers(result).filter((t) => t === 'T5' || t === 'T6')).toEqual(gapTriggers);
  });

  it('fires at local midnight of the threshold day, keyed by the last visit', () => {
    const visits = attendedOn(WEEKLY);
    const result = run(visits, bne('2026-05-10'));
    const last = visits.at(-1)?.id;
    expect(result.timeline.filter((t) => t.trigger === 'T5' || t.trigger === 'T6')).toEqual([
      {
        key: `${PATIENT}:T5:${last}`,
        trigger: 'T5',
        appointmentId: last,
        from: 'In Care',
        to: 'Drop-Off Risk',
        occurredAt: '2026-03-29T14:00:00.000Z',
      },
      {
        key: `${PATIENT}:T6:${last}`,
        trigger: 'T6',
        appointmentId: last,
        from: 'Drop-Off Risk',
        to: 'Lapsed',
        occurredAt: '2026-04-29T14:00:00.000Z',
      },
    ]);
  });

  it('a single visit with no re-booking uses singleVisitDays (14)', () => {
    expect(triggers(run(attendedOn(['2026-03-02']), bne('2026-03-15', '23:59')))).toEqual(['T1', 'T2']);
    expect(triggers(run(attendedOn(['2026-03-02']), bne('2026-03-16', '00:00')))).toEqual(['T1', 'T2', 'T5']);
  });

  it('never fires while a future booking stands', () => {
    const far = appt({ start: bne('2026-06-01'), created: bne('2026-03-16', '09:30') });
    const result = run([...attendedOn(WEEKLY), far], bne('2026-05-20'));
    expect(triggers(result)).toEqual(['T1', 'T2']);
    expect(result.contact.Journey_Stage__c).toBe('In Care');
  });

  it('fires when a standing booking is cancelled after the threshold passed', () => {
    const booked = appt({
      start: bne('2026-06-01'),
      created: bne('2026-03-16', '09:30'),
      cancelledAt: bne('2026-04-10', '11:00'),
    });
    const result = run([...attendedOn(WEEKLY), booked], bne('2026-04-11'));
    const gap = result.timeline.filter((t) => ['T4', 'T5', 'T9'].includes(t.trigger));
    expect(gap.map((t) => [t.trigger, t.occurredAt])).toEqual([
      ['T4', '2026-04-10T01:00:00.000Z'],
      ['T9', '2026-04-10T01:00:00.000Z'],
      ['T5', '2026-04-10T01:00:00.000Z'],
    ]);
  });
});

describe('an unmarked appointment', () => {
  it('holds off the gap triggers until it starts, then counts as no visit', () => {
    const unmarked = appt({ start: bne('2026-04-20'), created: bne('2026-03-16', '09:30') });
    const result = run([...attendedOn(WEEKLY), unmarked], bne('2026-04-21'));
    expect(result.timeline.slice(-2).map((t) => [t.trigger, t.occurredAt])).toEqual([
      ['T9', '2026-04-19T23:00:00.000Z'],
      ['T5', '2026-04-19T23:00:00.000Z'],
    ]);
    expect(result.contact.Appointments_Attended__c).toBe(3);
  });
});

describe('T9 maintenance reminder at 80% of the average interval', () => {
  it.each([
    ['day 7 of a 10-day schedule', '2026-03-28', '23:59', false],
    ['day 8 of a 10-day schedule (80%)', '2026-03-29', '00:00', true],
  ])('%s', (_label, day, time, fired) => {
    const result = run(attendedOn(EVERY_10_DAYS), bne(day, time));
    expect(triggers(result).includes('T9')).toBe(fired);
    expect(result.contact.Journey_Stage__c).toBe('In Care');
  });

  it('does not change the stage and fires once per gap', () => {
    const visits = attendedOn(EVERY_10_DAYS);
    const result = run(visits, bne('2026-05-30'));
    const t9 = result.timeline.filter((t) => t.trigger === 'T9');
    expect(t9).toHaveLength(1);
    expect(t9[0]).toMatchObject({
      from: 'In Care',
      to: 'In Care',
      key: `${PATIENT}:T9:${visits.at(-1)?.id}`,
    });
  });

  it('needs two visits (an average interval)', () => {
    expect(triggers(run(attendedOn(['2026-03-02']), bne('2026-03-12')))).toEqual(['T1', 'T2']);
  });
});

describe('T7 reactivation stops the funnels', () => {
  it.each([
    ['Drop-Off Risk', '2026-04-05'],
    ['Lapsed', '2026-05-05'],
  ])('a %s patient who books again -> Reactivated at the booking', (fromStage, bookingDay) => {
    const rebook = appt({ start: bne('2026-05-20'), created: bne(bookingDay, '10:00') });
    const result = run([...attendedOn(WEEKLY), rebook], bne(bookingDay, '12:00'));
    const t7 = result.timeline.at(-1);
    expect(t7).toMatchObject({
      trigger: 'T7',
      key: `${PATIENT}:T7:${rebook.id}`,
      from: fromStage,
      to: 'Reactivated',
      occurredAt: new Date(bne(bookingDay, '10:00')).toISOString(),
    });
    expect(result.contact.Journey_Stage__c).toBe('Reactivated');
    // The drop-off funnel stops at once: nothing else fires while the booking stands.
    expect(result.events.at(-1)?.Trigger__c).toBe('T7 Reactivated');
  });

  it('a reactivated patient who attends and books again -> In Care', () => {
    const back = appt({ start: bne('2026-05-20'), created: bne('2026-05-05', '10:00'), outcome: 'arrived' });
    const next = appt({ start: bne('2026-05-27'), created: bne('2026-05-20', '09:40') });
    const result = run([...attendedOn(WEEKLY), back, next], bne('2026-05-21'));
    expect(result.contact.Journey_Stage__c).toBe('In Care');
  });

  it('a reactivating booking that is cancelled starts a new gap measured from that booking', () => {
    const rebook = appt({
      start: bne('2026-05-20'),
      created: bne('2026-05-05', '10:00'),
      cancelledAt: bne('2026-05-06', '10:00'),
    });
    const result = run([...attendedOn(WEEKLY), rebook], bne('2026-05-19', '00:00'));
    const after = result.timeline.slice(-3);
    expect(after.map((t) => [t.trigger, t.key, t.to])).toEqual([
      ['T4', `${PATIENT}:T4:${rebook.id}`, 'Reactivated'],
      ['T9', `${PATIENT}:T9:${rebook.id}`, 'Reactivated'],
      ['T5', `${PATIENT}:T5:${rebook.id}`, 'Drop-Off Risk'],
    ]);
    // weekly average: T9 6 days and T5 14 days after the booking date 2026-05-05
    expect(after[1]?.occurredAt).toBe('2026-05-10T14:00:00.000Z');
    expect(after[2]?.occurredAt).toBe('2026-05-18T14:00:00.000Z');
  });
});

describe('T8 first-appointment no-show -> Long-Term Lead Nurture', () => {
  const noShow = (): Appointment =>
    appt({
      start: bne('2026-03-02'),
      created: bne('2026-02-20'),
      type: 'Initial Appointment',
      outcome: 'dna',
    });

  it.each([
    ['day 9', '2026-03-10', false, 'New Patient Booked'],
    ['day 10', '2026-03-11', false, 'New Patient Booked'],
  ])('no booking: %s before midnight -> no T8 yet', (_l, day, fired, stage) => {
    const result = run([noShow()], bne(day, '23:59'));
    expect(triggers(result).includes('T8')).toBe(fired);
    expect(result.contact.Journey_Stage__c).toBe(stage);
  });

  it('no booking: fires at the start of day 10 after the no-show', () => {
    const a = noShow();
    const result = run([a], bne('2026-03-12', '00:00'));
    expect(result.timeline.at(-1)).toMatchObject({
      trigger: 'T8',
      key: `${PATIENT}:T8:${a.id}`,
      from: 'New Patient Booked',
      to: 'Long-Term Lead Nurture',
      occurredAt: '2026-03-11T14:00:00.000Z',
    });
  });

  it('re-booked on day 9: no T8, the patient stays New Patient Booked', () => {
    const rebook = appt({ start: bne('2026-03-14'), created: bne('2026-03-11', '10:00') });
    const result = run([noShow(), rebook], bne('2026-03-13'));
    expect(triggers(result)).toEqual(['T1', 'T3']);
    expect(result.contact.Journey_Stage__c).toBe('New Patient Booked');
  });

  it('re-booked on day 11: T8 on day 10, then T7 Reactivated at the booking', () => {
    const rebook = appt({ start: bne('2026-03-16'), created: bne('2026-03-13', '10:00') });
    const result = run([noShow(), rebook], bne('2026-03-14'));
    expect(result.timeline.map((t) => [t.trigger, t.from, t.to])).toEqual([
      ['T1', 'Lead', 'New Patient Booked'],
      ['T3', 'New Patient Booked', 'New Patient Booked'],
      ['T8', 'New Patient Booked', 'Long-Term Lead Nurture'],
      ['T7', 'Long-Term Lead Nurture', 'Reactivated'],
    ]);
  });

  it('does not apply to a patient who has attended before', () => {
    const visits = attendedOn(['2026-02-02']);
    const dna = appt({ start: bne('2026-02-09'), outcome: 'dna' });
    const result = run([...visits, dna], bne('2026-02-25'));
    expect(triggers(result)).not.toContain('T8');
  });
});

describe('schedule thresholds (exact arithmetic)', () => {
  it.each([
    [0, 0, 14, 'single visit'],
    [7, 1, 14, 'weekly'],
    [10, 1, 14, 'average exactly 10'],
    [21, 2, 21, 'average 10.5 -> fortnightly tier'],
    [17, 1, 21, 'average exactly 17'],
    [35, 2, 30, 'average 17.5 -> 1.5 x 17.5 = 26.25, clamped to 30'],
    [20, 1, 30, 'average 20 -> 30'],
    [25, 1, 38, 'average 25 -> 37.5 rounds half up to 38'],
    [28, 1, 42, 'average 28 -> 42'],
    [40, 1, 42, 'average 40 -> 60, clamped to 42'],
  ])('span %i days over %i gaps -> T5 after %i days (%s)', (span, gaps, days) => {
    expect(dropOffAfterDays(span, gaps, DEFAULT_JOURNEY_CONFIG)).toBe(days);
  });

  it.each([
    [10, 1, 8],
    [7, 1, 6],
    [14, 1, 12],
    [0, 1, 1],
    [30, 1, 24],
  ])('span %i over %i gaps -> T9 after %i days', (span, gaps, days) => {
    expect(maintenanceAfterDays(span, gaps, DEFAULT_JOURNEY_CONFIG)).toBe(days);
  });

  it('honours configured thresholds', () => {
    const yamlText = `
version: 1
initialConsultTypes: [Initial Appointment]
thresholds:
  dropOff:
    tiers: [{ maxAverageIntervalDays: 7, afterDays: 10 }]
    longer: { multiplier: 2, minDays: 20, maxDays: 25 }
    singleVisitDays: 5
  lapsedAfterDays: 30
  noShowNurtureDays: 3
  maintenanceReminderPercent: 50
`;
    const config = parseJourneyConfig(yamlText);
    expect(dropOffAfterDays(7, 1, config)).toBe(10);
    expect(dropOffAfterDays(8, 1, config)).toBe(20);
    expect(dropOffAfterDays(12, 1, config)).toBe(24);
    expect(maintenanceAfterDays(10, 1, config)).toBe(5);
    const result = run(attendedOn(WEEKLY), bne('2026-04-15', '00:00'), { config });
    expect(result.contact.Journey_Stage__c).toBe('Lapsed');
    expect(result.timeline.find((t) => t.trigger === 'T6')?.occurredAt).toBe('2026-04-14T14:00:00.000Z');
  });
});
