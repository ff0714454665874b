import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appt, run } from './test-support.js';
import { addDays, calendarDaysBetween, dayNumber, localDate, startOfLocalDay } from './time.js';
import type { Appointment } from './types.js';

/** Weekly attended visits at 09:00 local, the first an initial consult, each next booked at the visit. */
function weekly(dates: string[], offset: string): Appointment[] {
  return dates.map((d, i) =>
    appt({
      start: `${d}T09:00:00${offset}`,
      ...(i > 0 ? { created: `${dates[i - 1] as string}T09:30:00${offset}` } : {}),
      type: i === 0 ? 'Initial Appointment' : 'Standard Consultation',
      outcome: 'arrived',
      businessId: '77',
    }),
  );
}

describe('local calendar dates', () => {
  it('agrees with Intl for any instant and zone, across offset changes (the offset cache is exact)', () => {
    const zones = [
      'Australia/Sydney',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'America/St_Johns',
      'Europe/London',
      'Pacific/Chatham',
      'America/Santiago',
      'UTC',
    ];
    const formats = new Map(
      zones.map((z) => [
        z,
        new Intl.DateTimeFormat('en-CA', { timeZone: z, year: 'numeric', month: '2-digit', day: '2-digit' }),
      ]),
    );
    const intl = (ms: number, zone: string) => formats.get(zone)!.format(ms);
    fc.assert(
      fc.property(
        // 1900..2100, with extra weight on the hours around this year's transitions.
        fc.oneof(
          fc.integer({ min: -2_208_988_800_000, max: 4_102_444_800_000 }),
          fc.integer({ min: Date.parse('2026-04-04T15:00:00Z'), max: Date.parse('2026-04-04T17:00:00Z') }),
          fc.integer({ min: Date.parse('2026-10-03T15:00:00Z'), max: Date.parse('2026-10-03T17:00:00Z') }),
          // Santiago changes its clocks at local midnight: an offset off by an hour moves the date.
          fc.integer({ min: Date.parse('2026-09-06T02:00:00Z'), max: Date.parse('2026-09-06T06:00:00Z') }),
          fc.integer({ min: Date.parse('2026-04-05T01:00:00Z'), max: Date.parse('2026-04-05T05:00:00Z') }),
        ),
        fc.constantFrom(...zones),
        (ms, zone) => {
          expect(localDate(ms, zone)).toBe(intl(ms, zone));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['2026-04-04T13:30:00Z', 'Australia/Sydney', '2026-04-05'], // 00:30 AEDT, the morning DST ends
    ['2026-04-05T13:59:59Z', 'Australia/Sydney', '2026-04-05'], // 23:59:59 AEST
    ['2026-04-05T14:00:00Z', 'Australia/Sydney', '2026-04-06'],
    ['2026-10-03T15:00:00Z', 'Australia/Adelaide', '2026-10-04'], // 00:30 ACST, DST starts at 02:00
    ['2026-03-02T14:30:00Z', 'Australia/Brisbane', '2026-03-03'], // UTC date is a day behind
    ['2026-03-02T14:30:00Z', 'UTC', '2026-03-02'],
  ])('%s in %s is %s', (instant, zone, date) => {
    expect(localDate(Date.parse(instant), zone)).toBe(date);
  });

  it.each([
    ['2026-04-05', 'Australia/Sydney', '2026-04-04T13:00:00.000Z'], // starts in AEDT (+11), 25 hours long
    ['2026-04-06', 'Australia/Sydney', '2026-04-05T14:00:00.000Z'], // AEST (+10)
    ['2026-10-04', 'Australia/Sydney', '2026-10-03T14:00:00.000Z'], // 23 hours long
    ['2026-10-05', 'Australia/Sydney', '2026-10-04T13:00:00.000Z'],
    ['2026-04-05', 'Australia/Adelaide', '2026-04-04T13:30:00.000Z'],
    ['2026-10-05', 'Australia/Adelaide', '2026-10-04T13:30:00.000Z'],
    ['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'], // midnight does not exist: 01:00 -03
  ])('day %s in %s starts at %s', (date, zone, instant) => {
    expect(new Date(startOfLocalDay(date, zone)).toISOString()).toBe(instant);
  });

  it('counts calendar days across a 25-hour day, not 24-hour periods', () => {
    // 23:30 on Saturday 4 April to 00:30 on Monday 6 April (Sydney): two calendar days, 26 hours.
    const from = Date.parse('2026-04-04T12:30:00Z');
    const to = Date.parse('2026-04-05T14:30:00Z');
    expect(calendarDaysBetween(from, to, 'Australia/Sydney')).toBe(2);
  });

  it('startOfLocalDay is the first instant of its date in any zone (property)', () => {
    const zones = [
      'Australia/Sydney',
      'Australia/Adelaide',
      'Australia/Perth',
      'America/Santiago',
      'Pacific/Chatham',
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.constantFrom(...zones), (offset, zone) => {
        const date = addDays('2024-01-01', offset);
        const start = startOfLocalDay(date, zone);
        expect(localDate(start, zone)).toBe(date);
        expect(localDate(start - 1000, zone) < date).toBe(true);
        expect(dayNumber(addDays(date, 1)) - dayNumber(date)).toBe(1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('journey thresholds across daylight-saving changes', () => {
  it('Sydney, April (DST ends): T5 fires at local midnight of day 14, not 14 x 24 hours later', () => {
    const visits = weekly(['2026-03-09', '2026-03-16', '2026-03-23'], '+11:00');
    const zones = { '77': 'Australia/Sydney' };
    const before = run(visits, '2026-04-05T13:59:59Z', { businessTimeZones: zones });
    expect(before.timeZone).toBe('Australia/Sydney');
    expect(before.contact.Journey_Stage__c).toBe('In Care');
    const at = run(visits, '2026-04-05T14:00:00Z', { businessTimeZones: zones });
    expect(at.contact.Journey_Stage__c).toBe('Drop-Off Risk');
    expect(at.timeline.at(-1)).toMatchObject({ trigger: 'T5', occurredAt: '2026-04-05T14:00:00.000Z' });
  });

  it('Adelaide, October (DST starts): T5 fires at 00:00 ACDT on day 14', () => {
    const visits = weekly(['2026-09-11', '2026-09-18', '2026-09-25'], '+09:30');
    const zones = { '77': 'Australia/Adelaide' };
    expect(run(visits, '2026-10-08T13:29:59Z', { businessTimeZones: zones }).contact.Journey_Stage__c).toBe(
      'In Care',
    );
    const at = run(visits, '2026-10-08T13:30:00Z', { businessTimeZones: zones });
    expect(at.timeline.at(-1)).toMatchObject({ trigger: 'T5', occurredAt: '2026-10-08T13:30:00.000Z' });
  });

  it('Sydney, October: T6 lapses at local midnight of day 45 across the change', () => {
    const visits = weekly(['2026-08-10', '2026-08-17', '2026-08-24'], '+10:00');
    const zones = { '77': 'Australia/Sydney' };
    // 2026-08-24 + 45 days = 2026-10-08, which starts at 13:00Z (AEDT, +11)
    expect(run(visits, '2026-10-07T12:59:59Z', { businessTimeZones: zones }).contact.Journey_Stage__c).toBe(
      'Drop-Off Risk',
    );
    expect(run(visits, '2026-10-07T13:00:00Z', { businessTimeZones: zones }).contact.Journey_Stage__c).toBe(
      'Lapsed',
    );
  });

  it('uses the business zone for dates, and CLINIC_TIMEZONE when the business has none or an invalid one', () => {
    const a = appt({ start: '2026-03-02T15:30:00Z', outcome: 'arrived', businessId: '9' });
    // 15:30Z is 01:30 on 3 March in Sydney (+11) but 23:30 on 2 March in Perth (+8).
    expect(
      run([a], '2026-03-04T00:00:00Z', { businessTimeZones: { '9': 'Australia/Perth' } }).contact,
    ).toMatchObject({
      First_Appointment_Date__c: '2026-03-02',
    });
    const fallback = run([a], '2026-03-04T00:00:00Z', {
      businessTimeZones: { '9': 'Not/AZone' },
      fallbackTimeZone: 'Australia/Sydney',
    });
    expect(fallback.timeZone).toBe('Australia/Sydney');
    expect(fallback.contact.First_Appointment_Date__c).toBe('2026-03-03');
  });
});
