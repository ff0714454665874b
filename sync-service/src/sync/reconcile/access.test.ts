import { describe, expect, it } from 'vitest';
import { accessChanges } from './access.js';
import { columnsFor } from './compare.js';

const held = (userId: string, permissionSet: string, assignmentId = `0Pa${userId}`) => ({
  assignmentId,
  userId,
  username: `${userId}@example.com`,
  permissionSet,
});

describe('access changes between two snapshots', () => {
  it('records each assignment held now and not before, then each one no longer held', () => {
    const before = [held('u1', 'Cliniko_Sync_Marketing'), held('u2', 'Cliniko_Sync_Billing')];
    const now = [held('u1', 'Cliniko_Sync_Marketing', 'other-id'), held('u3', 'Cliniko_Sync_Billing')];
    expect(accessChanges(before, now)).toEqual([
      {
        changeKey: 'u3:Cliniko_Sync_Billing:assigned:0Pau3',
        changeType: 'Assigned',
        userId: 'u3',
        username: 'u3@example.com',
        permissionSet: 'Cliniko_Sync_Billing',
      },
      {
        changeKey: 'u2:Cliniko_Sync_Billing:removed:0Pau2',
        changeType: 'Removed',
        userId: 'u2',
        username: 'u2@example.com',
        permissionSet: 'Cliniko_Sync_Billing',
      },
    ]);
  });

  it('is quiet when nobody gained or lost a set (a re-created assignment is the same holding)', () => {
    const same = [held('u1', 'Cliniko_Sync_Marketing')];
    expect(accessChanges(same, [held('u1', 'Cliniko_Sync_Marketing', 'new-id')])).toEqual([]);
  });
});

describe('reconciliation columns', () => {
  it('reads the external id, the extras and every payload field, lookups through the relationship', () => {
    const expected = new Map([
      [
        '1',
        { Cliniko_Appointment_Id__c: '1', Status__c: 'Booked', Contact__r: { Cliniko_Patient_Id__c: '7' } },
      ],
      ['2', { Cliniko_Appointment_Id__c: '2', Starts_At__c: '2026-11-22T02:30:00Z' }],
    ]);
    expect(columnsFor('Cliniko_Appointment_Id__c', expected, ['LastModifiedDate'])).toEqual([
      'Cliniko_Appointment_Id__c',
      'LastModifiedDate',
      'Status__c',
      'Contact__r.Cliniko_Patient_Id__c',
      'Starts_At__c',
    ]);
  });
});
