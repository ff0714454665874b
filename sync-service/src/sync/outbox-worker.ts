import { randomUUID } from 'node:crypto';
import { SyncError } from '../errors.js';
import { buildAuditEntry, type AuditEntry, type ChainHead } from '../governance/audit.js';
import type { Logger } from '../logger.js';
import type { SalesforceWriter, WriteResult } from '../salesforce/writer.js';
import type { AuditHead, AuditRow, CompletedWrite, OutboxItem, Store } from '../store/index.js';
import { UPSERT_KEYS } from './objects.js';
import { catalogueCode } from '../salesforce/classify.js';

/**
 * Drains the durable outbox into Salesforce. Items are leased (so several instances can drain one
 * PostgreSQL store without writing an item twice), grouped by object, written in collections of 200 or
 * one Bulk 2.0 job for large volumes, and every result is classified:
 * - success: the item leaves the outbox, its payload hash becomes the record's state, and an audit entry
 *   is chained on, all in one transaction;
 * - retryable (lock, 5xx, time-out, expired session, API limit): retried after 1 s, 2 s, 4 s, 8 s and 16 s
 *   (plus jitter); a sixth failure dead-letters it;
 * - permanent (validation, FLS, picklist, length...): dead-lettered at once with the code, the message
 *   and the record's key, replayable once the cause is fixed.
 */
export interface OutboxWorkerOptions {
  /** Delays before retries 1..n, in ms. Default 1, 2, 4, 8, 16 seconds. */
  readonly retryDelaysMs?: readonly number[];
  /** Up to this much random delay is added to each retry. */
  readonly jitterMs?: number;
  /** Above this many items of one object in a claim, use Bulk API 2.0. Default 2,000. */
  readonly bulkThreshold?: number;
  /** Stop writing once this share of the daily API allowance is used. Default 0.9. */
  readonly apiShare?: number;
  readonly claimLimit?: number;
  readonly leaseMs?: number;
  /** Longest a drain waits for retries that are not yet due. Default 60 s. */
  readonly maxWaitMs?: number;
  /** Who the audit log names for writes made by the service. */
  readonly actor?: string;
  readonly owner?: string;
  /** Console hook: told of each durable write, for the live progress display (runtime/progress.ts). */
  readonly onWritten?: (object: string, count: number) => void;
}

export interface DrainResult {
  readonly written: number;
  readonly created: number;
  readonly updated: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Items still waiting (not yet due, or the drain paused). */
  readonly pending: number;
  /** Why the drain stopped early, if it did. */
  readonly paused: 'api-limit' | null;
  readonly writtenByObject: Readonly<Record<string, number>>;
  readonly deadLetteredByObject: Readonly<Record<string, number>>;
}

export interface OutboxWorkerDeps {
  readonly store: Store;
  readonly writer: SalesforceWriter;
  readonly logger: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const DEFAULT_DELAYS = [1_000, 2_000, 4_000, 8_000, 16_000];

/** Where the payload says its record belongs to a patient (for `audit show --patient`). */
function patientOf(item: OutboxItem, fields: Record<string, unknown>): string | null {
  if (item.object === 'Contact') return item.externalId.split('#')[0] ?? null;
  const ref = fields.Contact__r as { Cliniko_Patient_Id__c?: unknown } | undefined;
  if (typeof ref?.Cliniko_Patient_Id__c === 'string') return ref.Cliniko_Patient_Id__c;
  return typeof fields.Cliniko_Patient_Id__c === 'string' ? fields.Cliniko_Patient_Id__c : null;
}

/** The outbox key may carry a slot (`123#journey`); Salesforce only knows the external id. */
function externalIdOf(item: OutboxItem): string {
  return item.externalId.split('#')[0] ?? item.externalId;
}

export function createOutboxWorker(deps: OutboxWorkerDeps, options: OutboxWorkerOptions = {}) {
  const log = deps.logger.child({ module: 'outbox' });
  const delays = options.retryDelaysMs ?? DEFAULT_DELAYS;
  const jitterMs = options.jitterMs ?? 250;
  const bulkThreshold = options.bulkThreshold ?? 2_000;
  const apiShare = options.apiShare ?? 0.9;
  const claimLimit = options.claimLimit ?? 2_000;
  // Longer than the longest single write (a Bulk 2.0 job is polled for up to 10 minutes), so another
  // instance never takes over items that are still being written.
  const leaseMs = options.leaseMs ?? 15 * 60_000;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const actor = options.actor ?? 'sync-service';
  const owner = options.owner ?? `worker-${randomUUID()}`;
  const random = deps.random ?? Math.random;

  function overAllowance(): boolean {
    const usage = deps.writer.apiUsage();
    return usage !== undefined && usage.max > 0 && usage.used / usage.max >= apiShare;
  }

  async function fail(item: OutboxItem, error: SyncError, tally: Tally): Promise<void> {
    const attempts = item.attempts + 1;
    if (error.retryable && attempts <= delays.length) {
      const delay =
        (delays[attempts - 1] ?? delays[delays.length - 1] ?? 1_000) + Math.floor(random() * jitterMs);
      await deps.store.retryLater(item.id, {
        attempts,
        nextAttemptAt: deps.now() + delay,
        errorCode: error.upstreamCode ?? error.code,
        payloadHash: item.payloadHash,
      });
      tally.retried += 1;
      return;
    }
    const moved = await deps.store.deadLetter(
      item.id,
      {
        code: error.code,
        message: error.message,
        upstreamCode: error.upstreamCode ?? null,
        attempts,
        payloadHash: item.payloadHash,
      },
      deps.now(),
    );
    // A newer payload replaced this one in flight: it stays queued and is written next.
    if (!moved) return;
    tally.deadLettered += 1;
    tally.deadByObject[item.object] = (tally.deadByObject[item.object] ?? 0) + 1;
    log.warn(
      {
        object: item.object,
        externalId: item.externalId,
        code: error.code,
        upstreamCode: error.upstreamCode,
        attempts,
      },
      'write dead-lettered',
    );
  }

  function recordError(item: OutboxItem, result: WriteResult): SyncError {
    const e = result.error;
    const upstream = e?.code ?? 'UNKNOWN_EXCEPTION';
    const fields = e?.fields.length ? ` (${e.fields.join(', ')})` : '';
    const message = `${item.object} ${externalIdOf(item)}${fields}: ${upstream}: ${e?.message ?? 'failed'}`;
    // A derived slot (`123#journey`) only adds fields to a record its base payload creates. Written
    // before the base (which may be waiting on a retry), it has no required fields: wait for the base.
    const waitsForBase = item.externalId.includes('#') && upstream === 'REQUIRED_FIELD_MISSING';
    const code = waitsForBase ? 'SALESFORCE_UNAVAILABLE' : catalogueCode(e?.kind ?? 'permanent', upstream);
    return new SyncError(code, message, {
      upstreamCode: upstream,
      record: {
        system: 'salesforce',
        object: item.object,
        id: externalIdOf(item),
        ...(e?.fields[0] ? { field: e.fields[0] } : {}),
      },
    });
  }

  function auditBuilder(
    done: Array<{ item: OutboxItem; result: WriteResult; fields: Record<string, unknown> }>,
  ) {
    return (previous: AuditHead | null): AuditRow[] => {
      let head: ChainHead | undefined = previous ? chainHeadOf(previous) : undefined;
      return done.map(({ item, result, fields }) => {
        const entry: AuditEntry = buildAuditEntry(
          {
            timestamp: new Date(deps.now()).toISOString(),
            actor,
            sourceSystem: 'cliniko',
            object: item.object,
            externalId: item.externalId,
            salesforceId: result.id,
            patientId: patientOf(item, fields),
            operation: result.created === true ? 'create' : 'update',
            changedFields: Object.keys(fields),
            payload: fields,
            runId: item.runId,
          },
          head,
        );
        head = { seq: entry.seq, hash: entry.hash };
        return {
          hash: entry.hash,
          prevHash: entry.previousHash,
          object: item.object,
          externalId: item.externalId,
          createdAt: deps.now(),
          entry: JSON.stringify(entry),
        };
      });
    };
  }

  async function writeGroup(
    object: string,
    operation: OutboxItem['operation'],
    items: OutboxItem[],
    tally: Tally,
  ): Promise<void> {
    const payloads = items.map((item) => JSON.parse(item.payload) as Record<string, unknown>);
    let results: WriteResult[];
    try {
      if (operation === 'publish') {
        results = await deps.writer.publish(object, payloads);
      } else {
        const externalIdField = UPSERT_KEYS[object];
        if (!externalIdField)
          throw new SyncError('INTERNAL', `${object}: outbox payload without an external id`);
        results = await deps.writer.upsert(object, externalIdField, payloads, {
          bulk: items.length > bulkThreshold,
        });
      }
    } catch (err) {
      const error =
        err instanceof SyncError
          ? err
          : new SyncError('INTERNAL', `${object}: ${String(err)}`, { cause: err });
      log.warn(
        { object, items: items.length, code: error.code, upstreamCode: error.upstreamCode },
        'write call failed',
      );
      for (const item of items) {
        // Name the record in what the operator sees; keep the call's code and retryability.
        const perItem = new SyncError(error.code, `${object} ${externalIdOf(item)}: ${error.message}`, {
          ...(error.upstreamCode ? { upstreamCode: error.upstreamCode } : {}),
          record: { system: 'salesforce', object, id: externalIdOf(item) },
          retryable: error.retryable,
          cause: error,
        });
        await fail(item, perItem, tally);
      }
      if (error.code === 'SALESFORCE_REQUEST_LIMIT') tally.paused = 'api-limit';
      return;
    }
    const done: Array<{ item: OutboxItem; result: WriteResult; fields: Record<string, unknown> }> = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const result = results[i] ?? { key: item.externalId, success: false, id: null, created: null };
      if (result.success) done.push({ item, result, fields: payloads[i]! });
      else {
        const error = recordError(item, result);
        await fail(item, error, tally);
        if (error.code === 'SALESFORCE_REQUEST_LIMIT') tally.paused = 'api-limit';
      }
    }
    if (done.length === 0) return;
    const writes: CompletedWrite[] = done.map(({ item, result }) => ({
      outboxId: item.id,
      object: item.object,
      externalId: item.externalId,
      payloadHash: item.payloadHash,
      salesforceId: result.id,
    }));
    await deps.store.completeWrites(writes, auditBuilder(done), deps.now());
    for (const { item, result } of done) {
      tally.written += 1;
      if (result.created === true) tally.created += 1;
      else tally.updated += 1;
      tally.writtenByObject[item.object] = (tally.writtenByObject[item.object] ?? 0) + 1;
      options.onWritten?.(item.object, 1); // console hook: progress
    }
  }

  /** Writes everything due now, then waits (up to maxWaitMs) for retries that come due, until empty. */
  async function drain(): Promise<DrainResult> {
    const tally: Tally = {
      written: 0,
      created: 0,
      updated: 0,
      retried: 0,
      deadLettered: 0,
      paused: null,
      writtenByObject: {},
      deadByObject: {},
    };
    const deadline = deps.now() + maxWaitMs;
    for (;;) {
      if (overAllowance()) {
        tally.paused = 'api-limit';
        break;
      }
      const items = await deps.store.claimOutbox({ owner, limit: claimLimit, leaseMs, now: deps.now() });
      if (items.length === 0) {
        const stats = await deps.store.outboxStats(deps.now());
        if (stats.pending === 0 || deps.now() >= deadline) break;
        // Something is waiting for its retry time (or leased by another instance): wait a little.
        await deps.sleep(Math.min(250, Math.max(10, deadline - deps.now())));
        continue;
      }
      for (const group of groupForWrite(items)) {
        await writeGroup(group.object, group.operation, group.items, tally);
        if (tally.paused) break;
      }
      if (tally.paused) break;
    }
    const stats = await deps.store.outboxStats(deps.now());
    return {
      written: tally.written,
      created: tally.created,
      updated: tally.updated,
      retried: tally.retried,
      deadLettered: tally.deadLettered,
      pending: stats.pending,
      paused: tally.paused,
      writtenByObject: tally.writtenByObject,
      deadLetteredByObject: tally.deadByObject,
    };
  }

  return { drain, owner };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;

interface Tally {
  written: number;
  created: number;
  updated: number;
  retried: number;
  deadLettered: number;
  paused: DrainResult['paused'];
  writtenByObject: Record<string, number>;
  deadByObject: Record<string, number>;
}

function chainHeadOf(previous: AuditHead): ChainHead {
  const parsed = JSON.parse(previous.entry) as { seq?: unknown };
  return { seq: typeof parsed.seq === 'number' ? parsed.seq : 0, hash: previous.hash };
}

/**
 * Groups claimed items by object and operation, in claim order (priority first), and splits a group
 * wherever the same Salesforce record would appear twice in one call (Salesforce rejects duplicate
 * external ids in one collection request).
 */
export function groupForWrite(
  items: readonly OutboxItem[],
): Array<{ object: string; operation: OutboxItem['operation']; items: OutboxItem[] }> {
  const groups: Array<{
    object: string;
    operation: OutboxItem['operation'];
    items: OutboxItem[];
    keys: Set<string>;
  }> = [];
  for (const item of items) {
    const key = externalIdOf(item);
    let group = groups.find(
      (g) => g.object === item.object && g.operation === item.operation && !g.keys.has(key),
    );
    if (!group) {
      group = { object: item.object, operation: item.operation, items: [], keys: new Set() };
      groups.push(group);
    }
    group.items.push(item);
    group.keys.add(key);
  }
  return groups.map(({ object, operation, items: list }) => ({ object, operation, items: list }));
}
