import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditOperation } from './audit.js';
import {
  quarterOf,
  quarterSummaryRecord,
  sourceOfRun,
  summariseQuarter,
  type QuarterInputs,
} from './quarter-summary.js';

type Entry = QuarterInputs['entries'][number];

let nextRecord = 0;
const entry = (
  timestamp: string,
  operation: AuditOperation,
  object: string,
  runId: string,
  externalId = String((nextRecord += 1)),
): Entry => ({ timestamp, operation, object, runId, externalId });

const Q2 = quarterOf(new Date('2026-05-14T10:00:00Z'));
const none: QuarterInputs = { entries: [], deadLetters: [], quarantines: [], quarantinesComplete: true };

describe('quarterOf (UTC calendar quarters)', () => {
  it('names the quarter and bounds it from the first instant to the next quarter', () => {
    expect(Q2).toEqual({
      quarter: '2026-Q2',
      startMs: Date.parse('2026-04-01T00:00:00Z'),
      endMs: Date.parse('2026-07-01T00:00:00Z'),
    });
    expect(quarterOf(new Date('2026-12-31T23:59:59.999Z')).quarter).toBe('2026-Q4');
    expect(quarterOf(new Date('2027-01-01T00:00:00Z')).quarter).toBe('2027-Q1');
    // Sydney's 1 April 09:00 is still 31 March in UTC: the quarter is UTC's, as documented.
    expect(quarterOf(new Date('2026-04-01T09:00:00+10:00')).quarter).toBe('2026-Q1');
  });

  it('holds every instant in exactly the quarter it names (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
        const q = quarterOf(new Date(ms));
        expect(ms).toBeGreaterThanOrEqual(q.startMs);
        expect(ms).toBeLessThan(q.endMs);
        expect(quarterOf(new Date(q.endMs)).startMs).toBe(q.endMs);
      }),
    );
  });
});

describe('sourceOfRun', () => {
  it('reads the source from the run id each writer gives its run', () => {
    expect(sourceOfRun('run-20260514100000-ab12cd34')).toBe('sync');
    expect(sourceOfRun('reconcile-20260514100000-ab12cd34')).toBe('reconciliation');
    expect(sourceOfRun('replay-1778752800000')).toBe('replay');
    expect(sourceOfRun('journey-2026-05-14-ab12cd34')).toBe('journey');
    expect(sourceOfRun('writeback-0b5e…')).toBe('write-back');
    // Control: an unknown run is counted as other, not dropped or guessed.
    expect(sourceOfRun('9f1c2d3e-uuid')).toBe('other');
  });
});

describe('summariseQuarter', () => {
  it('counts creates and updates per object and source, write-backs, sign-offs, dead letters and quarantines', () => {
    // Arrange: a quarter's log with writes from three sources, a write-back and two sign-offs.
    const inputs: QuarterInputs = {
      entries: [
        entry('2026-04-02T01:00:00Z', 'create', 'Contact', 'run-1'),
        entry('2026-04-02T01:00:01Z', 'create', 'Contact', 'run-1'),
        entry('2026-04-03T01:00:00Z', 'update', 'Contact', 'run-2'),
        entry('2026-04-04T14:00:00Z', 'update', 'Contact', 'reconcile-1'),
        entry('2026-04-04T14:00:00Z', 'create', 'Cliniko_Appointment__c', 'run-2'),
        entry('2026-04-05T01:00:00Z', 'write-back', 'patients', 'writeback-1'),
        entry('2026-04-06T01:00:00Z', 'data-map-sign', 'data-map', 'uuid-1'),
        entry('2026-05-06T01:00:00Z', 'journey-sign', 'journey', 'uuid-2'),
        entry('2026-05-06T02:00:00Z', 'sync-pause', 'sync', '-'),
      ],
      deadLetters: [{ firstFailedAt: Date.parse('2026-04-10T00:00:00Z') }],
      quarantines: [{ firstSeen: '2026-06-30T23:59:59.000Z' }, { firstSeen: '2026-06-01T00:00:00.000Z' }],
      quarantinesComplete: true,
    };
    // Act
    const summary = summariseQuarter(inputs, Q2);
    // Assert
    expect(summary.counts).toEqual([
      { object: 'Cliniko_Appointment__c', source: 'sync', created: 1, updated: 0 },
      { object: 'Contact', source: 'reconciliation', created: 0, updated: 1 },
      { object: 'Contact', source: 'sync', created: 2, updated: 1 },
    ]);
    expect(summary).toMatchObject({
      quarter: '2026-Q2',
      writeBacks: 1,
      signOffs: 2,
      deadLetters: 1,
      quarantines: 2,
      auditEntries: 9,
    });
  });

  it('leaves out everything outside the quarter, at both edges (control: one instant inside is counted)', () => {
    const outside: QuarterInputs = {
      entries: [
        entry('2026-03-31T23:59:59.999Z', 'create', 'Contact', 'run-1'),
        entry('2026-07-01T00:00:00.000Z', 'update', 'Contact', 'run-1'),
        entry('2026-07-01T00:00:00.000Z', 'data-map-sign', 'data-map', 'x'),
      ],
      deadLetters: [{ firstFailedAt: Date.parse('2026-07-01T00:00:00Z') }],
      quarantines: [{ firstSeen: '2026-03-31T23:59:59.999Z' }],
      quarantinesComplete: true,
    };
    const summary = summariseQuarter(outside, Q2);
    expect(summary).toMatchObject({
      counts: [],
      signOffs: 0,
      deadLetters: 0,
      quarantines: 0,
      auditEntries: 0,
    });
    const inside = summariseQuarter(
      { ...none, entries: [entry('2026-04-01T00:00:00.000Z', 'create', 'Contact', 'run-1')] },
      Q2,
    );
    expect(inside.counts).toEqual([{ object: 'Contact', source: 'sync', created: 1, updated: 0 }]);
  });

  it('never loses or invents a write: the counts add up to the quarter’s creates and updates (property)', () => {
    const ops: AuditOperation[] = ['create', 'update', 'write-back', 'data-map-sign', 'prune'];
    const arbEntry = fc.record({
      timestamp: fc
        .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') })
        .map((ms) => new Date(ms).toISOString()),
      operation: fc.constantFrom(...ops),
      object: fc.constantFrom('Contact', 'Care_Plan__c', 'Cliniko_Invoice__c'),
      runId: fc.constantFrom('run-1', 'reconcile-1', 'replay-1', 'journey-1', 'other'),
      externalId: fc.uuid(),
    });
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 60 }), (entries) => {
        const summary = summariseQuarter({ ...none, entries }, Q2);
        const inQ = entries.filter((e) => {
          const ms = Date.parse(e.timestamp);
          return ms >= Q2.startMs && ms < Q2.endMs;
        });
        const sum = (k: 'created' | 'updated') => summary.counts.reduce((n, c) => n + c[k], 0);
        expect(sum('created')).toBe(inQ.filter((e) => e.operation === 'create').length);
        expect(sum('updated')).toBe(inQ.filter((e) => e.operation === 'update').length);
        expect(summary.auditEntries).toBe(inQ.length);
      }),
    );
  });

  it('counts one write of a record once, whatever slots it carried', () => {
    const at = '2026-04-02T01:00:00Z';
    const summary = summariseQuarter(
      {
        ...none,
        entries: [
          entry(at, 'create', 'Contact', 'run-1', '42'),
          entry(at, 'create', 'Contact', 'run-1', '42#journey'),
          // Controls: the same record written again later, and another record at the same instant.
          entry('2026-04-02T01:05:00Z', 'update', 'Contact', 'run-1', '42#journey'),
          entry(at, 'create', 'Contact', 'run-1', '43'),
        ],
      },
      Q2,
    );
    expect(summary.counts).toEqual([{ object: 'Contact', source: 'sync', created: 2, updated: 1 }]);
    expect(summary.auditEntries).toBe(4);
  });

  it('becomes a Quarter_Summary__c keyed on the quarter, with counts and no record ids', () => {
    const summary = summariseQuarter(
      { ...none, entries: [entry('2026-04-02T01:00:00Z', 'create', 'Contact', 'run-1')] },
      Q2,
    );
    expect(quarterSummaryRecord(summary, new Date('2026-05-14T10:00:00Z'))).toEqual({
      Quarter__c: '2026-Q2',
      Computed_At__c: '2026-05-14T10:00:00.000Z',
      Counts__c: '[{"object":"Contact","source":"sync","created":1,"updated":0}]',
      Write_Backs__c: 0,
      Sign_Offs__c: 0,
      Dead_Letters__c: 0,
      Quarantines__c: 0,
      Audit_Entries__c: 1,
    });
  });
});
