import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordError } from './errors.js';
import type { FieldDef } from './schema.js';
import { coerceValue, parseDateTime } from './values.js';

function textField(length: number, extra: Partial<FieldDef> = {}): FieldDef {
  return {
    name: 'Home_Clinic__c',
    label: 'Home Clinic',
    type: 'string',
    length,
    custom: true,
    nillable: true,
    required: false,
    createable: true,
    updateable: true,
    defaultedOnCreate: false,
    externalId: false,
    unique: false,
    caseSensitive: false,
    idLookup: false,
    restrictedPicklist: false,
    trackHistory: false,
    calculated: false,
    permissionable: true,
    ...extra,
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return error instanceof RecordError ? error.statusCode : 'not a RecordError';
  }
}

describe('coerceValue', () => {
  it('accepts text up to the field length and rejects longer text with STRING_TOO_LONG naming the field', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.string({ minLength: 1, maxLength: 400 }),
        (length, s) => {
          const code = codeOf(() => coerceValue(textField(length), s));
          expect(code).toBe(s.length > length ? 'STRING_TOO_LONG' : undefined);
        },
      ),
    );
    let caught: unknown;
    try {
      coerceValue(textField(3), 'abcd');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RecordError);
    expect((caught as RecordError).fields).toEqual(['Home_Clinic__c']);
    expect((caught as RecordError).message).toBe('Home Clinic: data value too large: abcd (max length=3)');
  });

  it('enforces restricted picklists and leaves unrestricted ones open', () => {
    const values = ['Lead', 'Lapsed'].map((v) => ({ value: v, label: v, default: false }));
    const restricted = textField(255, { type: 'picklist', picklistValues: values, restrictedPicklist: true });
    expect(coerceValue(restricted, 'Lead')).toBe('Lead');
    expect(codeOf(() => coerceValue(restricted, 'lead'))).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(coerceValue({ ...restricted, restrictedPicklist: false }, 'Other')).toBe('Other');
    expect(coerceValue(restricted, null)).toBeNull();
  });

  it('parses numbers, checkboxes, dates and datetimes the way the REST API and Bulk CSV send them', () => {
    const number = textField(0, { type: 'double', precision: 6, scale: 0 });
    expect(coerceValue(number, '42')).toBe(42);
    expect(codeOf(() => coerceValue(number, 1_234_567))).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect(codeOf(() => coerceValue(number, 'abc'))).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    const checkbox = textField(0, { type: 'boolean' });
    expect(coerceValue(checkbox, 'true')).toBe(true);
    expect(coerceValue(checkbox, null)).toBe(false);
    const date = textField(0, { type: 'date' });
    expect(coerceValue(date, '2026-02-28')).toBe('2026-02-28');
    expect(codeOf(() => coerceValue(date, '2026-02-30'))).toBe('INVALID_TYPE_ON_FIELD_IN_RECORD');
    const datetime = textField(0, { type: 'datetime' });
    expect(coerceValue(datetime, '2026-11-22T12:00:00+1100')).toBe('2026-11-22T01:00:00.000+0000');
    expect(parseDateTime('yesterday')).toBeUndefined();
  });

  it('checks email addresses', () => {
    const email = textField(80, { type: 'email', name: 'Email', label: 'Email' });
    expect(coerceValue(email, 'a.b+c@clinic.example.org')).toBe('a.b+c@clinic.example.org');
    for (const bad of ['plain', 'a@b', '@clinic.org', 'a b@clinic.org']) {
      expect(codeOf(() => coerceValue(email, bad))).toBe('INVALID_EMAIL_ADDRESS');
    }
  });
});
