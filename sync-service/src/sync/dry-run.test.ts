import { describe, expect, it } from 'vitest';
import {
  currentValuesQuery,
  diffRecord,
  flattenFields,
  formatPreview,
  sameValue,
  soqlString,
  valueAt,
  type DesiredRecord,
} from './dry-run.js';

const desired = (fields: Record<string, unknown>): DesiredRecord => ({
  object: 'Contact',
  externalIdField: 'Cliniko_Patient_Id__c',
  externalId: '1100',
  fields,
});

describe('flattenFields / valueAt', () => {
  it('turns a lookup by external id into the path SOQL reads it back by', () => {
    expect(
      flattenFields({ Contact__r: { Cliniko_Patient_Id__c: '7' }, Contact__c: undefined, Name: 'x' }),
    ).toEqual({ 'Contact__r.Cliniko_Patient_Id__c': '7', Contact__c: undefined, Name: 'x' });
    expect(
      valueAt(
        { Contact__r: { attributes: {}, Cliniko_Patient_Id__c: '7' } },
        'Contact__r.Cliniko_Patient_Id__c',
      ),
    ).toBe('7');
    expect(valueAt({ Contact__r: null }, 'Contact__r.Cliniko_Patient_Id__c')).toBeNull();
    expect(valueAt({}, 'Email')).toBeNull();
  });
});

describe('sameValue', () => {
  it('compares meaning, not the spelling Salesforce answers with', () => {
    expect(sameValue('12.50', 12.5)).toBe(true);
    expect(sameValue(3, '3')).toBe(true);
    expect(sameValue('2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000+0000')).toBe(true);
    expect(sameValue('2026-01-02T03:04:05Z', '2026-01-02T03:04:06.000+0000')).toBe(false);
    expect(sameValue('2026-01-02', '2026-01-02')).toBe(true);
    expect(sameValue(null, '')).toBe(true);
    expect(sameValue('', null)).toBe(true);
    expect(sameValue(null, false)).toBe(true); // writing null to a checkbox stores false
    expect(sameValue(false, null)).toBe(false);
    expect(sameValue(true, false)).toBe(false);
    expect(sameValue('Email;SMS', 'SMS;Email')).toBe(true);
    expect(sameValue('a@example.com', 'A@example.com')).toBe(false);
    expect(sameValue('x', null)).toBe(false);
  });
});

describe('diffRecord', () => {
  it('reports a record Salesforce does not have as a create of its non-empty fields', () => {
    const p = diffRecord(desired({ LastName: 'Doe', Email: 'a@example.com', Phone: null }), undefined);
    expect(p.action).toBe('create');
    expect(p.changes.map((c) => [c.field, c.kind])).toEqual([
      ['LastName', 'set'],
      ['Email', 'set'],
    ]);
  });

  it('reports set, changed and cleared fields, and nothing for equal ones', () => {
    const p = diffRecord(
      desired({
        LastName: 'Doe',
        Email: 'new@example.com',
        Phone: null,
        MobilePhone: '0400',
        Birthdate: '1990-01-01',
      }),
      {
        LastName: 'Doe',
        Email: 'old@example.com',
        Phone: '02 9999',
        MobilePhone: null,
        Birthdate: '1990-01-01',
      },
    );
    expect(p.action).toBe('update');
    expect(p.changes.map((c) => [c.field, c.kind])).toEqual([
      ['Email', 'changed'],
      ['Phone', 'cleared'],
      ['MobilePhone', 'set'],
    ]);
  });

  it('is unchanged when Salesforce already holds every value', () => {
    const p = diffRecord(desired({ 'Contact__r.Cliniko_Patient_Id__c': '7', Amount__c: '10.00' }), {
      Contact__r: { Cliniko_Patient_Id__c: '7' },
      Amount__c: 10,
    });
    expect(p).toMatchObject({ action: 'unchanged', changes: [] });
  });
});

describe('formatPreview', () => {
  const update = diffRecord(desired({ Email: 'new@example.com' }), { Email: 'old@example.com' });

  it('prints field names and kinds, never values, by default', () => {
    expect(formatPreview(update)).toBe('UPDATE Contact 1100: Email: changed');
    expect(formatPreview(diffRecord(desired({ LastName: 'Doe' }), undefined))).toBe(
      'CREATE Contact 1100: LastName',
    );
    expect(formatPreview(diffRecord(desired({ Email: 'x' }), { Email: 'x' }))).toBeUndefined();
  });

  it('prints values only when asked, cut to a readable length', () => {
    expect(formatPreview(update, true)).toBe(
      'UPDATE Contact 1100: Email: changed "old@example.com" -> "new@example.com"',
    );
    const long = formatPreview(diffRecord(desired({ Notes__c: 'x'.repeat(200) }), undefined), true)!;
    expect(long.length).toBeLessThan(120);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('currentValuesQuery', () => {
  it('selects only the target fields and escapes the external ids', () => {
    expect(soqlString("o'brien\\x")).toBe("'o\\'brien\\\\x'");
    expect(currentValuesQuery('Contact', 'Cliniko_Patient_Id__c', ['Email', 'Id'], ['1', "2'"])).toBe(
      "SELECT Id, Cliniko_Patient_Id__c, Email FROM Contact WHERE Cliniko_Patient_Id__c IN ('1', '2\\'')",
    );
  });
});
