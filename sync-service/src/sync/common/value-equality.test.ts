import { describe, expect, it } from 'vitest';
import { parseDataMap } from '../../governance/data-map.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { fieldTypesOf, sameFieldValue, sameSalesforceValue, valueKind } from './value-equality.js';

/**
 * Each row: what a sync would write, what Salesforce answers, the field's metadata type (undefined: not
 * in the data map, judged by the shape of the answer), the expected verdict, and the rule deciding it
 * (the sources are linked in value-equality.ts's header).
 */
type Row = readonly [
  expected: unknown,
  actual: unknown,
  type: string | undefined,
  same: boolean,
  rule: string,
];

const TABLE: readonly Row[] = [
  // The three cases the dry run and the reconciliation used to answer differently (issue 14).
  ['0412', '412', 'Phone', false, 'DisplayType: a phone is stored as given; the client formats it'],
  ['0412', '412', 'Text', false, 'text is stored as given'],
  ['0412', '412', undefined, false, 'two strings from an untyped field are text'],
  ['Email;SMS', 'SMS;Email', 'MultiselectPicklist', true, 'Multi-select: a set of selected items'],
  ['Email;SMS', 'SMS;Email', 'Picklist', false, 'a single picklist holds one value, stored as given'],
  ['Email;SMS', 'SMS;Email', 'Text', false, 'text is stored as given'],
  ['Email;SMS', 'SMS;Email', undefined, false, 'two strings from an untyped field are text'],
  ['12.50', 12.5, 'Currency', true, 'Primitive: currency travels as a double'],
  ['12.50', 12.5, 'Number', true, 'Primitive: number travels as a double'],
  ['12.50', '12.5', 'Currency', true, 'Primitive: currency travels as a double'],
  ['12.50', 12.5, undefined, true, 'a JSON number answers for a number field'],
  ['12.50', '12.5', 'Text', false, 'text is stored as given'],
  ['12.50', 12.49, 'Currency', false, 'a different amount'],
  [15, 15, 'Percent', true, 'Primitive: percent travels as a double'],
  [3, '3', undefined, true, 'a number written to text is stored as its decimal text'],
  // Multi-select: selections, not spelling.
  ['A;B;C', 'C;A;B', 'MultiselectPicklist', true, 'Multi-select: a set of selected items'],
  ['A;B', 'A;B;C', 'MultiselectPicklist', false, 'Multi-select: one more item selected'],
  // Dates and datetimes.
  ['2026-11-22', '2026-11-22', 'Date', true, 'Primitive: a date has no time'],
  ['2026-11-22', '2026-11-23', 'Date', false, 'a different day'],
  ['2026-11-22T02:30:00Z', '2026-11-22T02:30:00.000+0000', 'DateTime', true, 'Primitive: UTC timestamp'],
  ['2026-11-22T02:30:00Z', '2026-11-22T13:30:00.000+1100', 'DateTime', true, 'the same instant'],
  ['2026-11-22T02:30:00.400Z', '2026-11-22T02:30:00.000+0000', 'DateTime', true, 'Primitive: one second'],
  ['2026-11-22T02:30:00Z', '2026-11-22T02:31:00.000+0000', 'DateTime', false, 'a different minute'],
  ['2026-11-22T02:30:00Z', '2026-11-22T02:30:01.000+0000', 'DateTime', false, 'a different second'],
  ['2026-11-22T02:30:00Z', '2026-11-22T02:30:00.000+0000', undefined, true, 'ISO on both sides'],
  // Checkboxes.
  [true, true, 'Checkbox', true, 'Primitive: boolean'],
  [true, false, 'Checkbox', false, 'Primitive: boolean'],
  [null, false, 'Checkbox', true, 'Primitive: a checkbox is never blank; null writes false'],
  [false, null, 'Checkbox', false, 'a checkbox read as blank was not there to read'],
  [false, null, undefined, false, 'a checkbox read as blank was not there to read'],
  // Blank: the house rule (value-equality.ts explains why; no Salesforce page states it).
  [null, undefined, 'Text', true, 'house rule: blank'],
  [null, '', 'Text', true, 'house rule: an empty text is blank'],
  ['', null, 'Phone', true, 'house rule: an empty text is blank'],
  ['Ann', null, 'Text', false, 'a value against blank'],
  [null, 'Ann', 'Text', false, 'blank against a value'],
  // Text is compared exactly.
  ['Ann', 'ann', 'Text', false, 'text is stored as given'],
  ['a@example.com', 'A@example.com', 'Email', false, 'an email is stored as given'],
];

describe('Salesforce value equality (one rule for dry run and reconciliation)', () => {
  it.each(TABLE)('%j vs %j as %s -> %s (%s)', (expected, actual, type, same) => {
    expect(sameSalesforceValue(expected, actual, type)).toBe(same);
  });

  it('knows every type the package declares', () => {
    for (const type of ['Text', 'Phone', 'Email', 'Currency', 'Number', 'Percent', 'Date', 'DateTime']) {
      expect(valueKind(type)).toBeDefined();
    }
    expect(valueKind('Checkbox')).toBe('checkbox');
    expect(valueKind('MultiselectPicklist')).toBe('multi-select');
    expect(valueKind(undefined)).toBeUndefined();
  });

  it('compares a lookup written by external id through the relationship', () => {
    const row = { Contact__r: { attributes: { type: 'Contact' }, Cliniko_Patient_Id__c: '42' } };
    expect(sameFieldValue({ Cliniko_Patient_Id__c: '42' }, row, 'Contact__r')).toBe(true);
    expect(sameFieldValue({ Cliniko_Patient_Id__c: '43' }, row, 'Contact__r')).toBe(false);
    expect(sameFieldValue({ Cliniko_Patient_Id__c: '42' }, { Contact__r: null }, 'Contact__r')).toBe(false);
    expect(sameFieldValue('0412', { Phone: '412' }, 'Phone', 'Phone')).toBe(false);
  });

  it('takes each target type from the package metadata the data map was checked against', () => {
    const parsed = parseDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const types = fieldTypesOf(parsed.map);
    expect(types.get('Contact.FirstName')).toBe('Text');
    expect(types.get('Contact.Email')).toBe('Email');
    expect(types.get('Contact.Email_Marketing_Consent__c')).toBe('Checkbox');
    // Control: a field the map does not write has no type, so it is judged by shape.
    expect(types.get('Contact.Journey_Stage__c')).toBeUndefined();
  });
});
