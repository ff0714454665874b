import { randomUUID } from 'node:crypto';
import { SyncError } from '../../errors.js';
import { ANCHOR_OBJECT, anchorKey, anchorPayload } from '../../governance/audit-anchor.js';
import type { ChainHead } from '../../governance/audit.js';
import { payloadSha256 } from '../../governance/canonical.js';
import { buildSyncRunPayload, type SyncRunInput } from '../../governance/sync-run.js';
import type { Logger } from '../../logger.js';
import type { OutboxInput, Store } from '../../store/index.js';
import { PRIORITY } from '../objects.js';
import { chainHeadOf } from './audit-log.js';

/**
 * Run recording shared by the use cases that write (the cycle, the reconciliation): run ids, the cycle
 * lease, the description of a failure, and the Sync_Run__c summary sent through the outbox. The
 * cycle (sync/cycle/) and the reconciliation (sync/reconcile/) both use them.
 */

/**
 * The cycle lease: on a shared PostgreSQL store one instance at a time runs a cycle or a reconciliation
 * (never both). A crashed holder's lease expires after LEASE_MS. SQLite serves one instance.
 */
export const CYCLE_LEASE = 'sync-cycle';
// Short, because the process renews every lease it holds while it lives (runtime/wiring.ts, the lease
// heartbeat, every LEASE_MS / 3): a dead or frozen instance's leases lapse within LEASE_MS.
export const LEASE_MS = 30_000;

/** `run-20261122023000-1a2b3c4d`: the prefix, the UTC start to the second, 8 random hex digits. */
export function newRunId(prefix: string, now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);
  return `${prefix}-${stamp}-${randomUUID().slice(0, 8)}`;
}

/**
 * A failure as a run records it: a catalogued error with its stable code, any other error by its
 * message (which never holds a value: see errors.ts), anything else thrown as `unknown error`.
 */
export function describeError(err: unknown): string {
  if (err instanceof SyncError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : 'unknown error';
}

/** The outbox item that writes a run's Sync_Run__c summary (keyed on the run id). */
export function runSummaryItem(payload: Record<string, unknown>, runId: string): OutboxInput {
  return {
    object: 'Sync_Run__c',
    externalId: runId,
    operation: 'upsert',
    payload: JSON.stringify(payload),
    payloadHash: payloadSha256(payload),
    runId,
    priority: PRIORITY.Sync_Run__c ?? 90,
  };
}

/**
 * The outbox item that anchors the audit chain's head in Salesforce (Audit_Anchor__c, insert-only;
 * keyed on the run id, see anchorKey). No patient data: a sequence, a hash,
 * the run id and the time.
 */
export function anchorItem(head: ChainHead, runId: string, now: number): OutboxInput {
  const payload = anchorPayload(head, runId, new Date(now).toISOString());
  return {
    object: ANCHOR_OBJECT,
    externalId: anchorKey(runId),
    operation: 'upsert',
    payload: JSON.stringify(payload),
    payloadHash: payloadSha256(payload),
    runId,
    priority: PRIORITY[ANCHOR_OBJECT] ?? 95,
  };
}

/** The store's newest audit entry as a chain head, or undefined for an empty log. */
export async function auditChainHead(store: Pick<Store, 'lastAuditRow'>): Promise<ChainHead | undefined> {
  const row = await store.lastAuditRow();
  return row === undefined ? undefined : chainHeadOf(row);
}

export interface RunRecordDeps {
  readonly store: Pick<Store, 'commitBatch' | 'lastAuditRow'>;
  readonly worker: { drain(): Promise<unknown> };
  readonly log: Pick<Logger, 'warn'>;
}

/**
 * Queues the run's Sync_Run__c summary and the audit anchor, and drains them. Called only for a run
 * that changed something, so the head anchored covers the run's own writes; the summary's and the
 * anchor's own audit entries are covered by the next run's anchor (an idle run anchors nothing, or every
 * anchor would append an entry and call for another). The queueing is durable or throws; a drain that
 * fails leaves both in the outbox for the next drain (logged, not thrown).
 */
export async function recordRunSummary(
  deps: RunRecordDeps,
  input: SyncRunInput,
  finished: number,
): Promise<void> {
  const payload = buildSyncRunPayload(input);
  const head = await auditChainHead(deps.store);
  await deps.store.commitBatch({
    stream: 'runs',
    outbox: [
      runSummaryItem(payload, input.runId),
      ...(head === undefined ? [] : [anchorItem(head, input.runId, finished)]),
    ],
    now: finished,
  });
  await deps.worker
    .drain()
    .catch((err: unknown) => deps.log.warn({ runId: input.runId, err }, 'run summary not written yet'));
}
