import { randomUUID } from 'node:crypto';
import { SyncError } from '../../errors.js';
import type { QuarantineInput } from '../../store/index.js';
import { processContact } from './contact.js';
import { consentChanges, contactQuery, eachPage, overwrittenEdits } from './queries.js';
import {
  FORWARD_PATIENT_STREAM,
  RECORD_FAILURES,
  REVERSE_STREAM,
  timeOf,
  type Contact,
  type Outcome,
  type PollerContext,
  type ReverseResult,
} from './types.js';

type Tally = Omit<ReverseResult, 'runId' | 'watermark' | 'consentOptOuts'> & {
  consentOptOuts: { email: number; sms: number };
};

/** One poll's moving parts. */
interface PollState {
  readonly runId: string;
  readonly tally: { -readonly [K in keyof Tally]: Tally[K] };
  /** The watermark (ms), NaN before the first. */
  watermark: number;
  /** A record failed: the watermark stays before it so the next poll retries it. */
  blocked: boolean;
  readonly handled: Set<string>;
  /** How far the forward sync has read patients (Cliniko's updated_at); see the `deferred` outcome. */
  readonly forwardCursor: number | undefined;
}

/** One poll: every Contact a person changed since the watermark, oldest first, a page at a time. */
export async function poll(ctx: PollerContext): Promise<ReverseResult> {
  const { store } = ctx.deps;
  const stored = await store.getWatermark(REVERSE_STREAM);
  const watermark = stored ? timeOf(stored.cursor) : Number.NaN;
  const since = Number.isNaN(watermark) ? null : watermark - ctx.overlapMs;
  // Forget what the overlap can no longer return.
  for (const [id, at] of ctx.seen) if (since !== null && at < since) ctx.seen.delete(id);
  const forward = await store.getWatermark(FORWARD_PATIENT_STREAM);
  const forwardAt = forward ? timeOf(forward.cursor) : Number.NaN;
  const state: PollState = {
    runId: `writeback-${randomUUID()}`,
    tally: {
      read: 0,
      writtenBack: 0,
      unchanged: 0,
      clinikoNewer: 0,
      deferred: 0,
      inactive: 0,
      quarantined: 0,
      failed: 0,
      consentOptOuts: { email: 0, sms: 0 },
    },
    watermark,
    blocked: false,
    handled: new Set(),
    forwardCursor: Number.isNaN(forwardAt) ? undefined : forwardAt,
  };
  await eachPage(ctx, contactQuery(ctx, since), async (records) => {
    const contacts = newestPerContact(ctx, records);
    // Read after the page, so an edit the page shows has its history row by now.
    await processBatch(ctx, state, contacts, await consentChanges(ctx, [...contacts.keys()], since));
  });
  const overwritten = await overwrittenEdits(ctx, since, state.handled);
  if (overwritten.contacts.size > 0) await processBatch(ctx, state, overwritten.contacts, overwritten.fields);
  const result: ReverseResult = {
    runId: state.runId,
    ...state.tally,
    watermark: Number.isNaN(state.watermark) ? null : new Date(state.watermark).toISOString(),
  };
  ctx.log.info({ ...result }, 'write-back poll finished');
  return result;
}

/** The page's Contacts not handled by an earlier poll (the overlap), each at its latest edit. */
function newestPerContact(ctx: PollerContext, records: readonly Contact[]): Map<string, Contact> {
  const contacts = new Map<string, Contact>();
  for (const record of records) {
    const id = record.Id;
    const at = timeOf(record.LastModifiedDate);
    if (typeof id !== 'string' || Number.isNaN(at)) continue;
    if (ctx.seen.get(id) === at) continue;
    const earlier = contacts.get(id);
    if (!earlier || timeOf(earlier.LastModifiedDate) <= at) contacts.set(id, record);
  }
  return contacts;
}

/** Writes one batch back, then records its quarantine and moves the watermark, together. */
async function processBatch(
  ctx: PollerContext,
  state: PollState,
  contacts: ReadonlyMap<string, Contact>,
  humanFields: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<void> {
  const quarantine: QuarantineInput[] = [];
  let batchMax = Number.NaN;
  const blockedBefore = state.blocked;
  let blockedHere = false;
  for (const [id, contact] of contacts) {
    state.tally.read += 1;
    state.handled.add(id);
    const at = timeOf(contact.LastModifiedDate);
    const outcome = await handleContact(
      ctx,
      state,
      id,
      contact,
      humanFields.get(id) ?? new Set(),
      quarantine,
    );
    count(state.tally, outcome);
    if (outcome.kind === 'failed' || outcome.kind === 'deferred') {
      // Always lower the bound: an overwritten edit (second batch) may be older than records the
      // first batch already moved past.
      batchMax = Number.isNaN(batchMax) ? at - 1 : Math.min(batchMax, at - 1);
      state.blocked = true;
      blockedHere = true;
      continue;
    }
    ctx.seen.set(id, at);
    if (!state.blocked) batchMax = Number.isNaN(batchMax) ? at : Math.max(batchMax, at);
  }
  // A record that failed here holds the watermark before it, even if that moves it back (re-reading
  // what was handled is harmless: Cliniko already holds those values); never past an earlier hold.
  const target = blockedHere && blockedBefore ? Math.min(state.watermark, batchMax) : batchMax;
  const { watermark } = state;
  const advance =
    !Number.isNaN(target) &&
    (Number.isNaN(watermark) || target > watermark || (blockedHere && target < watermark));
  if (advance) state.watermark = target;
  if (advance || quarantine.length > 0) {
    await ctx.deps.store.commitBatch({
      stream: REVERSE_STREAM,
      ...(advance ? { watermark: new Date(state.watermark).toISOString() } : {}),
      quarantine,
      now: ctx.deps.now(),
    });
  }
}

/** One Contact's outcome; a failure no retry cures is quarantined, any other is retried next poll. */
async function handleContact(
  ctx: PollerContext,
  state: PollState,
  id: string,
  contact: Contact,
  humanConsent: ReadonlySet<string>,
  quarantine: QuarantineInput[],
): Promise<Outcome> {
  try {
    return await processContact(ctx, contact, humanConsent, state.runId, quarantine, state.forwardCursor);
  } catch (err) {
    const error = err instanceof SyncError ? err : undefined;
    const patientId = contact.Cliniko_Patient_Id__c;
    if (error && RECORD_FAILURES.has(error.code) && typeof patientId === 'string') {
      // A failure that no retry can cure (the patient is gone from Cliniko, fails its schema, the
      // id is not a Cliniko id, the patch is refused locally) would hold the watermark before this
      // Contact forever and block every later write-back: quarantine it and carry on.
      quarantine.push({
        resource: 'salesforce:Contact',
        recordId: patientId,
        field: error.record?.field ?? '(record)',
        reason: `write-back of Contact ${id}: ${error.code}: ${error.message}`,
        payload: JSON.stringify({ contact }),
        runId: state.runId,
      });
      ctx.log.warn({ contactId: id, code: error.code }, 'write-back cannot succeed; quarantined');
      return { kind: 'quarantined' };
    }
    ctx.log.warn(
      { contactId: id, code: error?.code ?? 'INTERNAL', message: error?.message ?? String(err) },
      'write-back failed; retried next poll',
    );
    return { kind: 'failed' };
  }
}

function count(tally: PollState['tally'], outcome: Outcome): void {
  if (outcome.kind === 'written') {
    tally.writtenBack += 1;
    for (const c of outcome.optOuts) tally.consentOptOuts[c] += 1;
  } else if (outcome.kind === 'unchanged') tally.unchanged += 1;
  else if (outcome.kind === 'cliniko-newer') tally.clinikoNewer += 1;
  else if (outcome.kind === 'inactive') tally.inactive += 1;
  else if (outcome.kind === 'failed') tally.failed += 1;
  else if (outcome.kind === 'deferred') tally.deferred += 1;
  else tally.quarantined += 1;
}
