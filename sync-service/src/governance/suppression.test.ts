import { describe, expect, it } from 'vitest';
import { suppressInactiveMarketing } from './suppression.js';

describe('suppressInactiveMarketing', () => {
  const consenting = {
    Cliniko_Patient_Id__c: '1',
    HasOptedOutOfEmail: false,
    DoNotCall: false,
    Email_Marketing_Consent__c: true,
  };

  it.each(['Archived', 'Merged', 'Deleted'])(
    'opts a %s patient out of email and calls, keeping consent as Cliniko has it',
    (status) => {
      const out = suppressInactiveMarketing('Contact', { ...consenting, Cliniko_Status__c: status });
      expect(out).toMatchObject({
        HasOptedOutOfEmail: true,
        DoNotCall: true,
        Email_Marketing_Consent__c: true,
      });
    },
  );

  it('leaves active patients and other objects alone, and adds no field the map did not produce', () => {
    expect(suppressInactiveMarketing('Contact', { ...consenting, Cliniko_Status__c: 'Active' })).toEqual({
      ...consenting,
      Cliniko_Status__c: 'Active',
    });
    expect(
      suppressInactiveMarketing('Care_Plan__c', { Cliniko_Status__c: 'Archived', DoNotCall: false }),
    ).toEqual({
      Cliniko_Status__c: 'Archived',
      DoNotCall: false,
    });
    expect(suppressInactiveMarketing('Contact', { Cliniko_Status__c: 'Archived' })).toEqual({
      Cliniko_Status__c: 'Archived',
    });
  });
});
