import { describe, expect, it } from 'vitest';
import { SyncError } from '../../errors.js';
import { payloadSha256 } from '../../governance/canonical.js';
import type { BatchCommit } from '../../store/index.js';
import { describeError, newRunId, recordRunSummary, runSummaryItem } from './run-record.js';

describe('run recording shared by the cycle and the reconciliation', () => {
  it('names a run by its prefix, UTC start to the second and 8 random hex digits', () => {
    const at = Date.parse('2026-11-22T02:30:05.123Z');
    const id = newRunId('reconcile', at);
    expect(id).toMatch(/^reconcile-20261122023005-[0-9a-f]{8}$/);
    // Control: two runs started in the same second still differ.
    expect(newRunId('reconcile', at)).not.toBe(id);
  });

  it('describes a catalogued error by its code, anything else by its message', () => {
    expect(describeError(new SyncError('SALESFORCE_UNAVAILABLE', 'down'))).toBe(
      'SALESFORCE_UNAVAILABLE: down',
    );
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('a string thrown')).toBe('unknown error');
  });

  it('queues the Sync_Run__c summary keyed on the run id, then drains', async () => {
    const commits: BatchCommit[] = [];
    let drains = 0;
    const input = {
      runId: 'run-1',
      mode: 'reconcile' as const,
      startedAt: '2026-11-22T02:30:00.000Z',
      finishedAt: '2026-11-22T02:31:00.000Z',
      counts: { Contact: { read: 2, written: 1, skipped: 1, quarantined: 0, deadLettered: 0 } },
      dataMapSha256: 'a'.repeat(64),
    };
    await recordRunSummary(
      {
        store: {
          commitBatch: (b) => Promise.resolve(void commits.push(b)),
          lastAuditRow: () => Promise.resolve(undefined),
        },
        worker: { drain: () => Promise.resolve(void (drains += 1)) },
        log: { warn: () => undefined },
      },
      input,
      42,
    );
    expect(commits).toHaveLength(1);
    const item = commits[0]?.outbox?.[0];
    expect(item).toMatchObject({
      object: 'Sync_Run__c',
      externalId: 'run-1',
      operation: 'upsert',
      runId: 'run-1',
    });
    expect(commits[0]?.now).toBe(42);
    expect(drains).toBe(1);
    const payload = JSON.parse(item?.payload ?? '{}') as Record<string, unknown>;
    expect(item?.payloadHash).toBe(payloadSha256(payload));
    expect(runSummaryItem(payload, 'run-1')).toEqual(item);
  });

  it('leaves the summary queued when the drain fails, and says so', async () => {
    const warned: string[] = [];
    await expect(
      recordRunSummary(
        {
          store: { commitBatch: () => Promise.resolve(), lastAuditRow: () => Promise.resolve(undefined) },
          worker: { drain: () => Promise.reject(new Error('store gone')) },
          log: { warn: (_obj: unknown, msg?: string) => void warned.push(msg ?? '') },
        },
        {
          runId: 'run-2',
          mode: 'incremental',
          startedAt: '2026-11-22T02:30:00.000Z',
          counts: {},
          dataMapSha256: 'a'.repeat(64),
        },
        1,
      ),
    ).resolves.toBeUndefined();
    expect(warned).toEqual(['run summary not written yet']);
  });

  it('queues the audit anchor after the summary when the log has a head, and none for an empty log', async () => {
    const commits: BatchCommit[] = [];
    const hash = 'b'.repeat(64);
    const deps = (head: boolean) => ({
      store: {
        commitBatch: (b: BatchCommit) => Promise.resolve(void commits.push(b)),
        lastAuditRow: () =>
          Promise.resolve(
            head
              ? {
                  seq: 7,
                  hash,
                  prevHash: 'c'.repeat(64),
                  object: 'Contact',
                  externalId: '1',
                  createdAt: 1,
                  entry: JSON.stringify({ seq: 7, hash }),
                }
              : undefined,
          ),
      },
      worker: { drain: () => Promise.resolve() },
      log: { warn: () => undefined },
    });
    const input = {
      runId: 'run-3',
      mode: 'incremental' as const,
      startedAt: '2026-11-22T02:30:00.000Z',
      counts: {},
      dataMapSha256: 'a'.repeat(64),
    };
    await recordRunSummary(deps(true), input, Date.parse('2026-11-22T02:31:00.000Z'));
    await recordRunSummary(deps(false), input, 1);
    expect(commits[0]?.outbox?.map((i) => i.object)).toEqual(['Sync_Run__c', 'Audit_Anchor__c']);
    const anchor = commits[0]?.outbox?.[1];
    expect(anchor).toMatchObject({ externalId: 'run-3', operation: 'upsert', runId: 'run-3' });
    expect(JSON.parse(anchor?.payload ?? '{}')).toEqual({
      Anchor_Key__c: 'run-3',
      Sequence__c: 7,
      Head_Hash__c: hash,
      Run_Id__c: 'run-3',
      Anchored_At__c: '2026-11-22T02:31:00.000Z',
    });
    // Control: an empty log has no head to anchor.
    expect(commits[1]?.outbox?.map((i) => i.object)).toEqual(['Sync_Run__c']);
  });
});
