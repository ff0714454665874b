import { describe, expect, it } from 'vitest';
import { sameSalesforceValue as sameScalar, sameFieldValue as sameValue } from '../common/value-equality.js';

describe('reconciliation value comparison', () => {
  it('compares meaning, not Salesforce spelling', () => {
    expect(sameScalar('12.50', 12.5)).toBe(true);
    expect(sameScalar(3, 3)).toBe(true);
    expect(sameScalar('2026-11-22T02:30:00Z', '2026-11-22T02:30:00.000+0000')).toBe(true);
    expect(sameScalar('2026-11-22T02:30:00Z', '2026-11-22T13:30:00.000+1100')).toBe(true);
    expect(sameScalar('2026-11-22', '2026-11-22')).toBe(true);
    expect(sameScalar(null, undefined)).toBe(true);
    expect(sameScalar(null, '')).toBe(true);
    // Salesforce has no empty checkbox: an unticked one reads false.
    expect(sameScalar(null, false)).toBe(true);
  });

  it('finds real differences', () => {
    expect(sameScalar('12.50', 12.49)).toBe(false);
    expect(sameScalar('2026-11-22T02:30:00Z', '2026-11-22T02:31:00.000+0000')).toBe(false);
    expect(sameScalar(true, false)).toBe(false);
    expect(sameScalar(false, null)).toBe(false);
    expect(sameScalar('Ann', 'ann')).toBe(false);
    expect(sameScalar('Ann', null)).toBe(false);
    expect(sameScalar(null, 'Ann')).toBe(false);
    // Text that looks like a number stays text: a leading zero matters in a phone number.
    expect(sameScalar('0412', '412')).toBe(false);
  });

  it('compares a lookup written by external id through the relationship', () => {
    const row = { Contact__r: { attributes: { type: 'Contact' }, Cliniko_Patient_Id__c: '42' } };
    expect(sameValue({ Cliniko_Patient_Id__c: '42' }, row, 'Contact__r')).toBe(true);
    expect(sameValue({ Cliniko_Patient_Id__c: '43' }, row, 'Contact__r')).toBe(false);
    expect(sameValue({ Cliniko_Patient_Id__c: '42' }, { Contact__r: null }, 'Contact__r')).toBe(false);
    expect(sameValue(null, { Contact__c: null }, 'Contact__c')).toBe(true);
    expect(sameValue(null, { Contact__c: '003000000000001AAA' }, 'Contact__c')).toBe(false);
  });
});
