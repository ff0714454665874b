import { describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import { parseJourneyInput } from './engine.js';
import { formatCents, toCents } from './money.js';
import { appt, bne, PATIENT, run } from './test-support.js';
import type { Invoice, PatientCase } from './types.js';

function patientCase(overrides: Partial<PatientCase> = {}): PatientCase {
  return {
    id: '300',
    issue_date: '2026-03-01',
    expiry_date: '2026-12-31',
    max_sessions: 10,
    closed: null,
    closed_at: null,
    include_cancelled_attendees: false,
    include_dna_attendees: false,
    referral_type: null,
    max_invoiceable_amount: '1500.00',
    archived_at: null,
    ...overrides,
  };
}

function invoice(overrides: Partial<Invoice> & { id: string }): Invoice {
  return {
    appointment_id: null,
    status: 'Paid',
    total_amount: '0.00',
    net_amount: null,
    amount_outstanding: null,
    deleted_at: null,
    archived_at: null,
    ...overrides,
  };
}

describe('money', () => {
  it.each([
    ['120.00', 12000n],
    ['0.1', 10n],
    ['-15.5', -1550n],
    ['7', 700n],
    ['1.005', 101n],
    ['1.004', 100n],
    [' 99999999999999.99 ', 9999999999999999n],
  ])('%s -> %s cents', (text, cents) => {
    expect(toCents(text)).toBe(cents);
  });

  it('formats cents with two places', () => {
    expect(formatCents(30n)).toBe('0.30');
    expect(formatCents(-1550n)).toBe('-15.50');
    expect(formatCents(123456789012345678n)).toBe('1234567890123456.78');
  });

  it('rejects text that is not a decimal', () => {
    expect(() => toCents('12,00')).toThrow(RangeError);
  });
});

describe('Contact aggregates', () => {
  const visits = [
    appt({ id: '1', start: bne('2026-03-02'), type: 'Initial Appointment', outcome: 'arrived' }),
    appt({ id: '2', start: bne('2026-03-09'), outcome: 'dna' }),
    appt({ id: '3', start: bne('2026-03-10'), type: 'Adjustment', outcome: 'arrived' }),
    appt({ id: '4', start: bne('2026-03-20'), outcome: 'arrived', cancelledAt: bne('2026-03-18') }),
    appt({ id: '5', start: bne('2026-03-23', '00:30'), type: 'Adjustment', outcome: 'arrived' }),
    appt({ id: '6', start: bne('2026-04-01'), type: 'Adjustment' }),
    appt({ id: '7', start: bne('2026-04-08'), cancelledAt: bne('2026-03-25') }),
  ];

  it('counts visits and reports clinic-local dates, the average interval and the last type', () => {
    const { contact } = run(visits, bne('2026-03-25'));
    expect(contact).toMatchObject({
      Cliniko_Patient_Id__c: PATIENT,
      Appointments_Attended__c: 3,
      First_Appointment_Date__c: '2026-03-02',
      // 00:30 local on 23 March is still 22 March in UTC; the clinic's date wins.
      Last_Appointment_Date__c: '2026-03-23',
      Next_Appointment_Date__c: '2026-04-01',
      // visits on 2, 10 and 23 March: (21 days / 2 gaps) = 10.5
      Average_Visit_Interval_Days__c: 10.5,
      Last_Appointment_Type__c: 'Adjustment',
    });
  });

  it('rounds the average to one decimal, half up', () => {
    const three = ['2026-03-01', '2026-03-05', '2026-03-11', '2026-03-12'].map((d) =>
      appt({ start: bne(d), outcome: 'arrived' }),
    );
    // 11 days / 3 gaps = 3.666... -> 3.7
    expect(run(three, bne('2026-03-13')).contact.Average_Visit_Interval_Days__c).toBe(3.7);
    expect(run(three.slice(0, 1), bne('2026-03-13')).contact.Average_Visit_Interval_Days__c).toBeNull();
  });

  it('sums invoices exactly and leaves out deleted and cancelled ones', () => {
    const invoices = [
      invoice({ id: 'i1', total_amount: '0.10', status: 'Paid' }),
      invoice({ id: 'i2', total_amount: '0.20', status: 'Open' }),
      invoice({ id: 'i3', total_amount: '100.00', status: 'Open', amount_outstanding: '40.05' }),
      invoice({ id: 'i4', total_amount: '999.99', deleted_at: '2026-03-01T00:00:00Z' }),
      invoice({ id: 'i5', total_amount: '50.00', status: 'Cancelled' }),
      invoice({ id: 'i6', total_amount: '10.00', status: 'Closed' }),
    ];
    const { contact } = run([], bne('2026-03-25'), { invoices });
    expect(contact.Lifetime_Invoiced__c).toBe('110.30');
    expect(contact.Unpaid_Balance__c).toBe('40.25');
  });

  it.each([
    [[{ type: 'Workcover Initial' }], [], 'WorkCover'],
    [[{ type: 'TAC Initial' }], [], 'TAC'],
    [[{ type: 'Initial Appointment' }], [], 'Private'],
    [[{ type: 'TAC Initial' }, { type: 'Initial Appointment' }], [], 'Private'],
    [[{ type: 'Workcover Initial' }, { type: 'Standard Consultation' }], [], 'WorkCover'],
    [[{ type: 'Workcover Initial' }], [{ referral_type: 'dva' }], 'DVA'],
    [[], [{ referral_type: 'Medicare' }], 'Medicare'],
    [[], [{ referral_type: 'NDIS' }], 'Other'],
    [[{ type: 'TAC Initial' }], [{ referral_type: 'dva', closed_at: '2026-03-01T00:00:00Z' }], 'TAC'],
  ])('funding source from %j and cases %j -> %s', (types, cases, expected) => {
    const appointments = types.map((t, i) =>
      appt({ start: bne(`2026-03-0${i + 2}`), type: t.type, outcome: 'arrived' }),
    );
    const patientCases = cases.map((c, i) => patientCase({ id: `c${i}`, ...c }));
    expect(run(appointments, bne('2026-03-20'), { patientCases }).contact.Funding_Source__c).toBe(expected);
  });
});

describe('care-plan progress', () => {
  const onCase = [
    appt({ id: '11', start: bne('2026-03-02'), outcome: 'arrived', caseId: '300' }),
    appt({ id: '12', start: bne('2026-03-09'), outcome: 'dna', caseId: '300' }),
    appt({ id: '13', start: bne('2026-03-16'), cancelledAt: bne('2026-03-15'), caseId: '300' }),
    appt({ id: '14', start: bne('2026-03-23'), outcome: 'arrived', caseId: '300' }),
    appt({ id: '15', start: bne('2026-04-06'), caseId: '300' }), // booked, still to come
    appt({ id: '16', start: bne('2026-03-12'), outcome: 'arrived', caseId: '999' }), // another case
    appt({ id: '17', start: bne('2026-03-13'), outcome: 'arrived', caseId: '300', deleted: true }),
  ];

  it.each([
    [false, false, 3],
    [true, false, 4],
    [false, true, 4],
    [true, true, 5],
  ])('include cancelled=%s, include DNA=%s -> %i sessions used', (cancelled, dna, used) => {
    const c = patientCase({ include_cancelled_attendees: cancelled, include_dna_attendees: dna });
    const [plan] = run(onCase, bne('2026-03-25'), { patientCases: [c] }).carePlans;
    expect(plan?.Sessions_Used__c).toBe(used);
    expect(plan?.Sessions_Remaining__c).toBe(10 - used);
    expect(plan?.Progress_Percent__c).toBe(used * 10);
  });

  it('reports every Care_Plan__c field, never the case name or notes', () => {
    const c = { ...patientCase({ referral_type: 'dva' }), name: 'Lower back - disc', notes: 'clinical' };
    const invoices = [
      invoice({ id: 'a', appointment_id: '11', total_amount: '85.50' }),
      invoice({ id: 'b', appointment_id: '14', total_amount: '85.50', status: 'Open' }),
      invoice({ id: 'c', appointment_id: '16', total_amount: '70.00' }),
    ];
    const result = run(onCase, bne('2026-03-25'), { patientCases: [c], invoices });
    expect(result.carePlans).toEqual([
      {
        Cliniko_Case_Id__c: '300',
        Contact__r: { Cliniko_Patient_Id__c: PATIENT },
        Status__c: 'Open',
        Sessions_Allowed__c: 10,
        Sessions_Used__c: 3,
        Sessions_Remaining__c: 7,
        Progress_Percent__c: 30,
        Issue_Date__c: '2026-03-01',
        Expiry_Date__c: '2026-12-31',
        Referral_Type__c: 'dva',
        Funding_Source__c: 'DVA',
        Billing_Limit__c: '1500.00',
        Amount_Invoiced__c: '171.00',
      },
    ]);
    expect(JSON.stringify(result)).not.toMatch(/disc|clinical/);
  });

  it.each([
    [{}, '2026-03-25', 'Open'],
    [{ expiry_date: '2026-03-25' }, '2026-03-25', 'Open'],
    [{ expiry_date: '2026-03-24' }, '2026-03-25', 'Expired'],
    [{ closed_at: '2026-03-20T00:00:00Z' }, '2026-03-25', 'Closed'],
    [{ closed: true }, '2026-03-25', 'Closed'],
    [{ archived_at: '2026-03-20T00:00:00Z', expiry_date: '2026-03-01' }, '2026-03-25', 'Closed'],
  ])('case %j on %s -> %s', (overrides, today, status) => {
    const [plan] = run([], bne(today), { patientCases: [patientCase(overrides)] }).carePlans;
    expect(plan?.Status__c).toBe(status);
  });

  it('caps progress at 100% and remaining at 0; no limit means no progress', () => {
    const capped = run(onCase, bne('2026-03-25'), { patientCases: [patientCase({ max_sessions: 2 })] })
      .carePlans[0];
    expect(capped).toMatchObject({ Sessions_Used__c: 3, Sessions_Remaining__c: 0, Progress_Percent__c: 100 });
    const thirds = run(onCase, bne('2026-03-25'), { patientCases: [patientCase({ max_sessions: 9 })] })
      .carePlans[0];
    expect(thirds?.Progress_Percent__c).toBe(33.33);
    const open = run(onCase, bne('2026-03-25'), { patientCases: [patientCase({ max_sessions: null })] })
      .carePlans[0];
    expect(open).toMatchObject({
      Sessions_Allowed__c: null,
      Sessions_Remaining__c: null,
      Progress_Percent__c: null,
    });
  });
});

describe('input validation', () => {
  it('names the record and the field, never the value', () => {
    const bad = { ...appt({ id: '4242', start: bne('2026-03-02') }), starts_at: 'next tuesday' };
    try {
      parseJourneyInput({
        patientId: '77',
        appointments: [bad],
        fallbackTimeZone: 'Australia/Sydney',
        now: bne('2026-03-03'),
      });
      expect.unreachable();
    } catch (err) {
      expect(isSyncError(err)).toBe(true);
      if (!isSyncError(err)) return;
      expect(err.code).toBe('CLINIKO_INVALID_RECORD');
      expect(err.record).toEqual({
        system: 'cliniko',
        object: 'individual_appointments',
        id: '4242',
        field: 'starts_at',
      });
      expect(err.message).toContain('individual_appointments 4242 of patient 77: starts_at');
      expect(err.message).not.toContain('next tuesday');
    }
  });

  it('names a bad invoice amount', () => {
    expect(() =>
      parseJourneyInput({
        patientId: '77',
        appointments: [],
        invoices: [{ id: '9', total_amount: '12,50' }],
        fallbackTimeZone: 'Australia/Sydney',
        now: bne('2026-03-03'),
      }),
    ).toThrow(/invoices 9 of patient 77: total_amount must be a decimal string/);
  });

  it('rejects an unknown fallback zone as a configuration problem', () => {
    expect(() =>
      parseJourneyInput({
        patientId: '77',
        appointments: [],
        fallbackTimeZone: 'Mars/Base',
        now: bne('2026-03-03'),
      }),
    ).toThrow(/CLINIC_TIMEZONE/);
  });
});
