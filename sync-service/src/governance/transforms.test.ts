import { describe, expect, it } from 'vitest';
import {
  TRANSFORMS,
  TransformError,
  idFromLink,
  normalisePhone,
  type ProjectionContext,
} from './transforms.js';

function apply(name: string, input: Record<string, unknown>, context: ProjectionContext = {}): unknown {
  const def = TRANSFORMS.get(name);
  if (def === undefined) throw new Error(`no transform ${name}`);
  return def.apply(input, context);
}

function inverse(name: string, value: unknown, current: Record<string, unknown>, fields: string[]): unknown {
  const def = TRANSFORMS.get(name);
  if (def?.inverse === undefined) throw new Error(`no inverse for ${name}`);
  return def.inverse(value, current, fields);
}

const link = (path: string): unknown => ({ links: { self: `https://api.au1.cliniko.com/v1/${path}` } });

describe('normalisePhone', () => {
  it.each([
    ['0412 345 678', '+61412345678'],
    ['(02) 9876 5432', '+61298765432'],
    ['03-9123-4567', '+61391234567'],
    ['+61 412 345 678', '+61412345678'],
    ['61412345678', '+61412345678'],
    ['412345678', '+61412345678'],
    ['0011 44 20 7946 0958', '+442079460958'],
    ['+44 20 7946 0958', '+442079460958'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalisePhone(raw)).toBe(expected);
  });

  it('keeps a number it cannot place as written (tidied), rather than guessing a country', () => {
    expect(normalisePhone('  1300  123 456 ')).toBe('1300 123 456');
    expect(normalisePhone('9876 5432')).toBe('9876 5432');
  });

  it('returns null for a number without digits', () => {
    expect(normalisePhone(' - ')).toBeNull();
  });

  it('uses another calling code for national numbers when told to', () => {
    expect(normalisePhone('021 123 4567', '64')).toBe('+64211234567');
  });
});

describe('phone selection', () => {
  const phones = [
    { number: '(03) 9000 1111', phone_type: 'Home', normalized_number: '61390001111' },
    { number: '0400 000 001', phone_type: 'Mobile' },
    { number: '0400 000 002', phone_type: 'Mobile' },
    { number: '(03) 9000 9999', phone_type: 'Fax' },
    { number: '(03) 9000 2222', phone_type: 'Other' },
  ];

  it('takes the first number of each type, normalised', () => {
    expect(apply('phone-mobile', { patient_phone_numbers: phones })).toBe('+61400000001');
    expect(apply('phone-home', { patient_phone_numbers: phones })).toBe('+61390001111');
  });

  it('falls back from Work to Other for Phone and never uses a fax number', () => {
    expect(apply('phone-work', { patient_phone_numbers: phones })).toBe('+61390002222');
    expect(apply('phone-work', { patient_phone_numbers: [phones[3]] })).toBeNull();
  });

  it('clears the field when the type is missing or the list is null, and leaves it when the key is absent', () => {
    expect(apply('phone-home', { patient_phone_numbers: [phones[1]] })).toBeNull();
    expect(apply('phone-mobile', { patient_phone_numbers: null })).toBeNull();
    expect(apply('phone-mobile', {})).toBeUndefined();
  });

  it('rejects a malformed list with a message that names the position, not the value', () => {
    expect(() => apply('phone-mobile', { patient_phone_numbers: [{ number: 'SECRET' }] })).toThrow(
      /patient_phone_numbers\[0\] lacks number or phone_type/,
    );
    let message = '';
    try {
      apply('phone-mobile', { patient_phone_numbers: [{ number: 'SECRET' }] });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/lacks number or phone_type/);
    expect(message).not.toContain('SECRET');
  });

  it('writes a changed mobile back in place of the first mobile, keeping the other numbers and their order', () => {
    const patch = inverse('phone-mobile', '0411 111 111', { patient_phone_numbers: phones }, [
      'patient_phone_numbers',
    ]);
    expect(patch).toEqual({
      patient_phone_numbers: [
        { number: '(03) 9000 1111', phone_type: 'Home' },
        { number: '0411 111 111', phone_type: 'Mobile' },
        { number: '0400 000 002', phone_type: 'Mobile' },
        { number: '(03) 9000 9999', phone_type: 'Fax' },
        { number: '(03) 9000 2222', phone_type: 'Other' },
      ],
    });
  });

  it('keeps Cliniko spelling when the number only differs in format, and removes a cleared number', () => {
    const same = inverse('phone-home', '+61390001111', { patient_phone_numbers: [phones[0]] }, [
      'patient_phone_numbers',
    ]);
    expect(same).toEqual({ patient_phone_numbers: [{ number: '(03) 9000 1111', phone_type: 'Home' }] });
    const cleared = inverse('phone-home', null, { patient_phone_numbers: [phones[0], phones[1]] }, [
      'patient_phone_numbers',
    ]);
    expect(cleared).toEqual({ patient_phone_numbers: [{ number: '0400 000 001', phone_type: 'Mobile' }] });
    const added = inverse('phone-work', '0390003333', { patient_phone_numbers: [phones[1]] }, [
      'patient_phone_numbers',
    ]);
    expect(added).toEqual({
      patient_phone_numbers: [
        { number: '0400 000 001', phone_type: 'Mobile' },
        { number: '0390003333', phone_type: 'Work' },
      ],
    });
  });
});

describe('address join', () => {
  it('joins the lines in field order with line breaks, skipping blanks', () => {
    expect(apply('address-join', { address_3: 'Unit 2', address_1: '1 Main St', address_2: '  ' })).toBe(
      '1 Main St\nUnit 2',
    );
  });

  it('clears the street when every line is empty, and leaves it when no line was sent', () => {
    expect(apply('address-join', { address_1: null, address_2: '', address_3: null })).toBeNull();
    expect(apply('address-join', {})).toBeUndefined();
  });

  it('splits a street back into the three lines, extra lines folded into the last', () => {
    const fields = ['address_1', 'address_2', 'address_3'];
    expect(inverse('address-join', '1 Main St\nUnit 2', {}, fields)).toEqual({
      address_1: '1 Main St',
      address_2: 'Unit 2',
      address_3: null,
    });
    expect(inverse('address-join', 'a\nb\nc\nd', {}, fields)).toEqual({
      address_1: 'a',
      address_2: 'b',
      address_3: 'c, d',
    });
  });
});

describe('consent and preferences', () => {
  it('boolean: only true is true; null (never answered) is false', () => {
    expect(apply('boolean', { accepted_email_marketing: true })).toBe(true);
    expect(apply('boolean', { accepted_email_marketing: false })).toBe(false);
    expect(apply('boolean', { accepted_email_marketing: null })).toBe(false);
    expect(() => apply('boolean', { accepted_email_marketing: 'yes' })).toThrow(TransformError);
  });

  it('consent-opt-out: opted out unless consent is true', () => {
    expect(apply('consent-opt-out', { accepted_sms_marketing: true })).toBe(false);
    expect(apply('consent-opt-out', { accepted_sms_marketing: false })).toBe(true);
    expect(apply('consent-opt-out', { accepted_sms_marketing: null })).toBe(true);
  });

  it('privacy-policy is a tri-state', () => {
    expect(apply('privacy-policy', { accepted_privacy_policy: true })).toBe('Accepted');
    expect(apply('privacy-policy', { accepted_privacy_policy: false })).toBe('Declined');
    expect(apply('privacy-policy', { accepted_privacy_policy: null })).toBe('No Response');
  });

  it('reminder-type keeps the four values and turns null into None', () => {
    for (const v of ['None', 'SMS', 'Email', 'SMS & Email'])
      expect(apply('reminder-type', { reminder_type: v })).toBe(v);
    expect(apply('reminder-type', { reminder_type: null })).toBe('None');
    expect(() => apply('reminder-type', { reminder_type: 'Pigeon' })).toThrow(/not one of/);
  });
});

describe('statuses', () => {
  const at = '2026-01-02T03:04:05Z';
  it('patient-status: deleted wins over merged over archived', () => {
    expect(apply('patient-status', { archived_at: null, merged_at: null, deleted_at: null })).toBe('Active');
    expect(apply('patient-status', { archived_at: at, merged_at: null, deleted_at: null })).toBe('Archived');
    expect(apply('patient-status', { archived_at: at, merged_at: at, deleted_at: null })).toBe('Merged');
    expect(apply('patient-status', { archived_at: at, merged_at: at, deleted_at: at })).toBe('Deleted');
  });

  it('appointment-status', () => {
    const base = { deleted_at: null, cancelled_at: null, did_not_arrive: false, patient_arrived: false };
    expect(apply('appointment-status', base)).toBe('Booked');
    expect(apply('appointment-status', { ...base, patient_arrived: true })).toBe('Arrived');
    expect(apply('appointment-status', { ...base, did_not_arrive: true })).toBe('Did Not Arrive');
    expect(apply('appointment-status', { ...base, cancelled_at: at })).toBe('Cancelled');
    expect(apply('appointment-status', { ...base, cancelled_at: at, deleted_at: at })).toBe('Deleted');
  });

  it('case-status: closed, expired before today, else open', () => {
    const today = { today: '2026-11-22' };
    expect(apply('case-status', { closed_at: at, expiry_date: null }, today)).toBe('Closed');
    expect(apply('case-status', { closed_at: null, expiry_date: '2026-11-21' }, today)).toBe('Expired');
    expect(apply('case-status', { closed_at: null, expiry_date: '2026-11-22' }, today)).toBe('Open');
    expect(apply('case-status', { closed_at: null, expiry_date: null })).toBe('Open');
    expect(() => apply('case-status', { closed_at: null, expiry_date: '2026-11-21' })).toThrow(/needs today/);
  });

  it('invoice-status maps Cliniko descriptions onto the package picklist', () => {
    expect(apply('invoice-status', { status_description: 'Open', deleted_at: null })).toBe(
      'Awaiting Payment',
    );
    expect(apply('invoice-status', { status_description: 'Paid', deleted_at: null })).toBe('Paid');
    expect(apply('invoice-status', { status_description: 'Closed', deleted_at: null })).toBe('Closed');
    expect(apply('invoice-status', { status_description: 'Open credit', deleted_at: null })).toBe('Paid');
    expect(apply('invoice-status', { status_description: null, deleted_at: null })).toBe('Draft');
    expect(apply('invoice-status', { status_description: 'Paid', deleted_at: at })).toBe('Cancelled');
    expect(() => apply('invoice-status', { status_description: 'Weird', deleted_at: null })).toThrow(
      TransformError,
    );
  });

  it('funding-source and referral-type', () => {
    expect(apply('funding-source', { referral_type: 'dva' })).toBe('DVA');
    expect(apply('funding-source', { referral_type: 'Work Cover' })).toBe('WorkCover');
    expect(apply('funding-source', { referral_type: 'something' })).toBe('Other');
    expect(apply('funding-source', { referral_type: null })).toBeNull();
    expect(apply('referral-type', { referral_type: 'medicare' })).toBe('Medicare');
  });
});

describe('values', () => {
  it('money: decimal strings to cents', () => {
    expect(apply('money', { total_amount: '120.50' })).toBe(120.5);
    expect(apply('money', { total_amount: '0.125' })).toBe(0.13);
    expect(apply('money', { total_amount: '1.005' })).toBe(1.01);
    expect(apply('money', { total_amount: '-2.345' })).toBe(-2.35);
    expect(apply('money', { total_amount: '123456789012.345' })).toBe(123456789012.35);
    expect(apply('money', { total_amount: '7' })).toBe(7);
    expect(apply('money', { total_amount: null })).toBeNull();
    expect(() => apply('money', { total_amount: '12,00' })).toThrow(/not a decimal/);
  });

  it('dates and date-times', () => {
    expect(apply('date', { date_of_birth: '1980-02-29' })).toBe('1980-02-29');
    expect(() => apply('date', { date_of_birth: '1981-02-29' })).toThrow(/YYYY-MM-DD/);
    expect(apply('datetime', { starts_at: '2026-11-22T10:00:00+10:00' })).toBe('2026-11-22T00:00:00.000Z');
    expect(() => apply('datetime', { starts_at: '2026-11-22 10:00' })).toThrow(/ISO 8601/);
  });

  it('id accepts Cliniko ids as strings only (64-bit ids do not fit a JS number)', () => {
    expect(apply('id', { id: '1152921504606846976' })).toBe('1152921504606846976');
    expect(() => apply('id', { id: 12 })).toThrow(/not a Cliniko id/);
  });

  it('email trims and lower-cases; text trims; integer checks', () => {
    expect(apply('email', { email: ' Jo@Example.COM ' })).toBe('jo@example.com');
    expect(() => apply('email', { email: 'not-an-email' })).toThrow(/not an email/);
    expect(apply('text', { number: 1042 })).toBe('1042');
    expect(apply('text', { city: '   ' })).toBeNull();
    expect(apply('integer', { max_sessions: 5 })).toBe(5);
    expect(() => apply('integer', { max_sessions: 5.5 })).toThrow(/whole number/);
  });
});

describe('links and names', () => {
  it('extracts the id from links.self', () => {
    expect(idFromLink(link('patients/123'))).toBe('123');
    expect(idFromLink(null)).toBeNull();
    expect(() => idFromLink({ links: { self: 'https://api.au1.cliniko.com/v1/patients/abc' } })).toThrow(
      /Cliniko id/,
    );
  });

  it('references become external-id references', () => {
    expect(apply('patient-ref', { patient: link('patients/77') })).toEqual({
      kind: 'external-id-reference',
      externalIdField: 'Cliniko_Patient_Id__c',
      id: '77',
    });
    expect(apply('case-ref', { patient_case: null })).toBeNull();
  });

  it('names come from the run context; an unknown id is an error, not a blank', () => {
    const context: ProjectionContext = { names: { businesses: new Map([['5', 'Fitzroy']]) } };
    expect(apply('business-name', { business: link('businesses/5') }, context)).toBe('Fitzroy');
    expect(() => apply('business-name', { business: link('businesses/6') }, context)).toThrow(
      /no business name/,
    );
  });
});
