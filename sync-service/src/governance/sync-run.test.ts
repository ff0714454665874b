import { describe, expect, it } from 'vitest';
import { RunCounter, buildSyncRunPayload } from './sync-run.js';

const HASH = 'a'.repeat(64);

describe('buildSyncRunPayload', () => {
  it('sums outcomes, keeps per-object counts as JSON and marks a run with quarantines Partial', () => {
    const counter = new RunCounter();
    counter.add('patients', 'read', 10);
    counter.add('Contact', 'written', 7);
    counter.add('Contact', 'skipped', 2);
    counter.add('patients', 'quarantined');
    counter.add('Cliniko_Appointment__c', 'written', 3);
    const payload = buildSyncRunPayload({
      runId: 'run-2026-11-22T02:00:00Z',
      mode: 'incremental',
      startedAt: '2026-11-22T02:00:00Z',
      finishedAt: '2026-11-22T02:01:30Z',
      counts: counter.byObject(),
      dataMapSha256: HASH,
    });
    expect(payload).toEqual({
      Run_Id__c: 'run-2026-11-22T02:00:00Z',
      Mode__c: 'Incremental',
      Status__c: 'Partial',
      Started_At__c: '2026-11-22T02:00:00.000Z',
      Finished_At__c: '2026-11-22T02:01:30.000Z',
      Records_Read__c: 10,
      Records_Written__c: 10,
      Records_Skipped__c: 2,
      Records_Quarantined__c: 1,
      Records_Dead_Lettered__c: 0,
      Counts_By_Object__c:
        '{"Cliniko_Appointment__c":{"deadLettered":0,"quarantined":0,"read":0,"skipped":0,"written":3},' +
        '"Contact":{"deadLettered":0,"quarantined":0,"read":0,"skipped":2,"written":7},' +
        '"patients":{"deadLettered":0,"quarantined":1,"read":10,"skipped":0,"written":0}}',
      Data_Map_Hash__c: HASH,
    });
  });

  it('is Running without a finish time, Succeeded when clean, Failed when the run stopped', () => {
    const base = {
      runId: 'r1',
      mode: 'backfill' as const,
      startedAt: '2026-11-22T02:00:00Z',
      counts: {},
      dataMapSha256: HASH,
    };
    expect(buildSyncRunPayload(base)).toMatchObject({
      Status__c: 'Running',
      Finished_At__c: null,
      Mode__c: 'Backfill',
    });
    expect(buildSyncRunPayload({ ...base, finishedAt: '2026-11-22T02:05:00Z' }).Status__c).toBe('Succeeded');
    expect(buildSyncRunPayload({ ...base, finishedAt: '2026-11-22T02:05:00Z', failed: true }).Status__c).toBe(
      'Failed',
    );
    expect(() => buildSyncRunPayload({ ...base, runId: 'x'.repeat(41) })).toThrow(/1 to 40/);
  });

  it('RunCounter refuses negative or fractional counts', () => {
    expect(() => new RunCounter().add('Contact', 'written', -1)).toThrow(RangeError);
    expect(() => new RunCounter().add('Contact', 'written', 1.5)).toThrow(RangeError);
  });
});
