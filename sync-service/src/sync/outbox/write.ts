import { SyncError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { catalogueCode } from '../../salesforce/classify.js';
import type { SalesforceWriter, WriteResult } from '../../salesforce/writer.js';
import type { CompletedWrite, OutboxItem, Store } from '../../store/index.js';
import { UPSERT_KEYS } from '../objects.js';
import { parentKeyOf, patientOfParentKey } from '../common/parents.js';
import { auditRowsFor, type CompletedItem } from './audit.js';
import { externalIdOf, writeUnits } from './keys.js';
import type { ContactMatcher } from '../match/matcher.js';

/**
 * Writing one group of claimed items and classifying every result:
 * - success: the item leaves the outbox, its payload hash becomes the record's state, and an audit entry
 *   is chained on, all in one transaction;
 * - retryable (lock, 5xx, time-out, expired session, API limit): retried after the next delay (plus
 *   jitter) while delays remain, then dead-lettered;
 * - permanent (validation, FLS, picklist, length...): dead-lettered at once with the code, the message
 *   and the record's key, replayable once the cause is fixed.
 */
export interface WriteContext {
  readonly store: Store;
  readonly writer: SalesforceWriter;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly delays: readonly number[];
  readonly jitterMs: number;
  readonly bulkThreshold: number;
  readonly actor: string;
  /** Told of each durable write (the console's live progress). */
  readonly onWritten?: (object: string, count: number) => void;
  /** Screens Contact upserts: existing records matched, held patients parked (sync/match/, issue #19). */
  readonly matcher?: ContactMatcher;
}

/** What one drain did so far. */
export interface Tally {
  written: number;
  created: number;
  updated: number;
  retried: number;
  deadLettered: number;
  /** Items parked until their unwritten parent is written. */
  blocked: number;
  paused: 'api-limit' | null;
  writtenByObject: Record<string, number>;
  deadByObject: Record<string, number>;
}

export function emptyTally(): Tally {
  return {
    written: 0,
    created: 0,
    updated: 0,
    retried: 0,
    deadLettered: 0,
    blocked: 0,
    paused: null,
    writtenByObject: {},
    deadByObject: {},
  };
}

/**
 * Makes the accepted writes of a group durable (outbox, record state, audit), in one transaction. The
 * drain runs it while the next group's call is on the wire (worker.ts), one completion after another.
 */
export type Completion = () => Promise<void>;
const NOTHING: Completion = () => Promise.resolve();

/**
 * Writes one group to Salesforce and settles its failures; returns the completion of its accepted
 * writes, for the caller to run (in order with the other groups' completions).
 */
export async function writeGroup(
  ctx: WriteContext,
  object: string,
  operation: OutboxItem['operation'],
  claimed: OutboxItem[],
  tally: Tally,
  onSent?: () => void,
): Promise<Completion> {
  let items = operation === 'publish' ? await settleEvents(ctx, object, claimed, tally) : claimed;
  if (object === 'Contact' && operation === 'upsert' && ctx.matcher) {
    items = await screenContacts(ctx, ctx.matcher, items, tally);
  }
  if (items.length === 0) return NOTHING;
  if (operation === 'publish')
    await ctx.store.markPublishing(
      items.map((i) => i.id),
      ctx.now(),
    );
  const payloads = items.map((item) => JSON.parse(item.payload) as Record<string, unknown>);
  const fieldsOf = new Map(items.map((item, i) => [item, payloads[i]!]));
  // One write per Salesforce record: the slots of one record due together go as one payload.
  const units = writeUnits(operation, items, payloads);
  let results: WriteResult[];
  try {
    results = await callWriter(
      ctx,
      object,
      operation,
      units.map((u) => u.fields),
      onSent,
    );
  } catch (err) {
    await failWholeCall(ctx, object, items, err, tally);
    return NOTHING;
  }
  const done: CompletedItem[] = [];
  for (let u = 0; u < units.length; u++) {
    for (const item of units[u]!.items) {
      const result = results[u] ?? { key: item.externalId, success: false, id: null, created: null };
      // Each slot completes with its own payload (its hash and audit entry stay per slot).
      if (result.success) done.push({ item, result, fields: fieldsOf.get(item)! });
      else {
        const error = recordError(item, result);
        // Only a record's own rejection can be its missing parent; a whole-call failure never is.
        if (!(await blockOnParent(ctx, item, error, tally))) await fail(ctx, item, error, tally);
        if (error.code === 'SALESFORCE_REQUEST_LIMIT') tally.paused = 'api-limit';
      }
    }
  }
  return done.length > 0 ? () => complete(ctx, done, tally) : NOTHING;
}

/** The Contacts to upsert after matching (issue #19); held ones are parked, failed links retried. */
async function screenContacts(
  ctx: WriteContext,
  matcher: ContactMatcher,
  items: OutboxItem[],
  tally: Tally,
): Promise<OutboxItem[]> {
  let screened;
  try {
    screened = await matcher.screen(items);
  } catch (err) {
    await failWholeCall(ctx, 'Contact', items, err, tally);
    return [];
  }
  tally.blocked += screened.held;
  for (const { item, error } of screened.failed) await fail(ctx, item, error, tally);
  return screened.write;
}

/**
 * Platform events are published at most once per stable key (issue #15, item 3). The key is the
 * event's `Transition_Key__c`, which is also its outbox key; the store's record state for it is the
 * ledger of events published and recorded. Before publishing:
 * - an event whose key is in the ledger is completed without publishing (a replay, a re-derived event);
 * - an event whose previous publish was interrupted by a crash (the mark `markPublishing` commits before
 *   the call is still set, so the bus may have taken it) is not re-published blindly: it is
 *   dead-lettered as EVENT_PUBLISH_IN_DOUBT, for an operator to check and replay.
 * Returns the events to publish now.
 */
async function settleEvents(
  ctx: WriteContext,
  object: string,
  items: OutboxItem[],
  tally: Tally,
): Promise<OutboxItem[]> {
  const ledger = await ctx.store.getRecordStates(
    object,
    items.map((i) => i.externalId),
  );
  const published = items.filter((i) => ledger.has(i.externalId));
  if (published.length > 0) {
    const writes: CompletedWrite[] = published.map((i) => ({
      outboxId: i.id,
      object: i.object,
      externalId: i.externalId,
      payloadHash: i.payloadHash,
      salesforceId: ledger.get(i.externalId)?.salesforceId ?? null,
    }));
    await ctx.store.completeWrites(writes, () => [], ctx.now());
    ctx.log.info({ object, events: published.length }, 'events already published: not published again');
  }
  const out: OutboxItem[] = [];
  for (const item of items) {
    if (ledger.has(item.externalId)) continue;
    if (item.publishStartedAt === null) {
      out.push(item);
      continue;
    }
    const error = new SyncError(
      'EVENT_PUBLISH_IN_DOUBT',
      `${object} ${item.externalId}: a crash interrupted its publish; check the subscribers, then replay`,
      { record: { system: 'salesforce', object, id: item.externalId } },
    );
    await deadLetter(ctx, item, error, item.attempts + 1, tally);
  }
  return out;
}

/** One result per payload (per record), in order; Bulk API 2.0 above the threshold of records. */
function callWriter(
  ctx: WriteContext,
  object: string,
  operation: OutboxItem['operation'],
  payloads: Array<Record<string, unknown>>,
  onSent: (() => void) | undefined,
): Promise<WriteResult[]> {
  if (operation === 'publish') return ctx.writer.publish(object, payloads);
  const externalIdField = UPSERT_KEYS[object];
  if (!externalIdField) throw new SyncError('INTERNAL', `${object}: outbox payload without an external id`);
  return ctx.writer.upsert(object, externalIdField, payloads, {
    bulk: payloads.length > ctx.bulkThreshold,
    ...(onSent ? { onSent } : {}),
  });
}

/** The whole call failed (transport, session, limit): every item fails with the call's code and retryability. */
async function failWholeCall(
  ctx: WriteContext,
  object: string,
  items: readonly OutboxItem[],
  err: unknown,
  tally: Tally,
): Promise<void> {
  const error =
    err instanceof SyncError ? err : new SyncError('INTERNAL', `${object}: ${String(err)}`, { cause: err });
  ctx.log.warn(
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
    await fail(ctx, item, perItem, tally);
  }
  if (error.code === 'SALESFORCE_REQUEST_LIMIT') tally.paused = 'api-limit';
}

/** Accepted writes leave the outbox with their record state and chained audit rows, in one transaction. */
async function complete(ctx: WriteContext, done: readonly CompletedItem[], tally: Tally): Promise<void> {
  const writes: CompletedWrite[] = done.map(({ item, result }) => ({
    outboxId: item.id,
    object: item.object,
    externalId: item.externalId,
    payloadHash: item.payloadHash,
    salesforceId: result.id,
  }));
  await ctx.store.completeWrites(writes, auditRowsFor(done, { actor: ctx.actor, now: ctx.now }), ctx.now());
  for (const { item, result } of done) {
    tally.written += 1;
    if (result.created === true) tally.created += 1;
    else tally.updated += 1;
    tally.writtenByObject[item.object] = (tally.writtenByObject[item.object] ?? 0) + 1;
    ctx.onWritten?.(item.object, 1);
  }
}

/** A retryable failure with delays left is retried later; anything else is dead-lettered. */
async function fail(ctx: WriteContext, item: OutboxItem, error: SyncError, tally: Tally): Promise<void> {
  const attempts = item.attempts + 1;
  if (error.retryable && attempts <= ctx.delays.length) {
    const delay =
      (ctx.delays[attempts - 1] ?? ctx.delays[ctx.delays.length - 1] ?? 1_000) +
      Math.floor(ctx.random() * ctx.jitterMs);
    await ctx.store.retryLater(item.id, {
      attempts,
      nextAttemptAt: ctx.now() + delay,
      errorCode: error.upstreamCode ?? error.code,
      payloadHash: item.payloadHash,
    });
    tally.retried += 1;
    return;
  }
  await deadLetter(ctx, item, error, attempts, tally);
}

/**
 * A dependant of a patient that is quarantined or dead-lettered (so its Contact was never written)
 * waits for it, blocked, rather than spend its retries (issue #15). True when it was parked.
 */
async function blockOnParent(
  ctx: WriteContext,
  item: OutboxItem,
  error: SyncError,
  tally: Tally,
): Promise<boolean> {
  if (item.operation === 'patch-cliniko') return false;
  const parent = parentKeyOf(
    item.object,
    item.externalId,
    JSON.parse(item.payload) as Record<string, unknown>,
  );
  const patient = parent === null ? null : patientOfParentKey(parent);
  if (parent === null || patient === null) return false;
  if (!(await ctx.store.unwrittenFailedPatients([patient])).has(patient)) return false;
  await ctx.store.blockOutbox(item.id, parent, item.payloadHash);
  tally.blocked += 1;
  ctx.log.info(
    { object: item.object, externalId: item.externalId, blockedBy: parent, code: error.code },
    'write blocked by an unwritten parent',
  );
  return true;
}

async function deadLetter(
  ctx: WriteContext,
  item: OutboxItem,
  error: SyncError,
  attempts: number,
  tally: Tally,
): Promise<void> {
  const moved = await ctx.store.deadLetter(
    item.id,
    {
      code: error.code,
      message: error.message,
      upstreamCode: error.upstreamCode ?? null,
      attempts,
      payloadHash: item.payloadHash,
    },
    ctx.now(),
  );
  // A newer payload replaced this one in flight: it stays queued and is written next.
  if (!moved) return;
  tally.deadLettered += 1;
  tally.deadByObject[item.object] = (tally.deadByObject[item.object] ?? 0) + 1;
  ctx.log.warn(
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

/** The catalogue error for one record Salesforce rejected, naming the record and its fields. */
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
