import type { UpsertResult } from 'jsforce';
import {
  VERIFICATION_KEY_FIELD,
  VERIFICATION_OBJECT,
  verificationRecord,
  type VerificationResult,
} from '../../governance/audit-verification.js';
import {
  QUARTER_KEY_FIELD,
  QUARTER_OBJECT,
  quarterOf,
  quarterSummaryRecord,
  createQuarterTally,
  type QuarterSummary,
} from '../../governance/quarter-summary.js';
import { walkAuditLog } from '../common/audit-log.js';
import { readAnchorsFrom, verifyAuditTrail } from '../common/audit-verify.js';
import { describeError } from '../common/run-record.js';
import type { ReconcileContext } from './context.js';

/**
 * The two records the quarterly governance review reads that the nightly pass keeps current (issue #17,
 * items 3 and 5): the audit verification (`Audit_Verification__c`, Source `nightly`, the same check as
 * `npm run sync -- audit verify`) and the quarter's counts (`Quarter_Summary__c`, upserted on the UTC
 * quarter). Both are written through jsforce directly, like the consent snapshot: they are reports
 * about the audit log, so they are not themselves audited writes (which would change the counts they
 * report). Neither step throws: a failure is reported and makes the pass `partial`.
 */

export interface NightlyVerification {
  readonly result: VerificationResult | null;
  readonly firstFailingSeq: number | null;
  readonly detail: string;
  readonly recordId: string | null;
  readonly error: string | null;
}

export interface NightlyQuarter {
  readonly summary: QuarterSummary | null;
  readonly recordId: string | null;
  readonly error: string | null;
}

/** Every dead letter is read to count the quarter's; the store answers oldest first. */
const DEAD_LETTER_LIMIT = 1_000_000;
/** The store's own cap on one quarantine listing (newest last-seen first). */
const QUARANTINE_LIMIT = 1000;

export async function writeReviewRecords(
  ctx: ReconcileContext,
  runId: string,
): Promise<{ verification: NightlyVerification; quarter: NightlyQuarter }> {
  const { store, connection } = ctx.deps;
  // Anchors first, then the log: an anchor is written only after the entries it names are durable, so
  // a run appending (and anchoring) between the two reads cannot look like a truncated log.
  const anchors = await readAnchorsFrom(connection);
  // Walked once, never held whole (the log grows with every write, issue #16): the chain, the anchors
  // and the quarter's tally all come from that one walk.
  const tally = createQuarterTally(quarterOf(new Date(ctx.deps.now())));
  let tallied = true;
  const outcome = await verifyAuditTrail(
    (visit) => walkAuditLog(store, visit),
    anchors,
    () => undefined,
    (entry) => {
      // An entry the tally cannot read (a row edited out of shape) must not stop the verification,
      // which reports it; the quarter is then not written.
      try {
        tally.push(entry);
      } catch {
        tallied = false;
      }
    },
  );
  const verification = await recordVerification(ctx, runId, outcome);
  let quarter: NightlyQuarter;
  try {
    if (!tallied) throw new Error('an audit entry could not be tallied for the quarter');
    const [deadLetters, quarantine] = await Promise.all([
      store.listDeadLetters({ limit: DEAD_LETTER_LIMIT, includeReplayed: true }),
      store.listQuarantine({ limit: QUARANTINE_LIMIT }),
    ]);
    const summary = tally.finish({
      deadLetters,
      quarantines: quarantine.items,
      quarantinesComplete: quarantine.items.length >= quarantine.total,
    });
    quarter = await upsertQuarter(ctx, summary);
  } catch (err) {
    quarter = { summary: null, recordId: null, error: `${QUARTER_OBJECT}: ${describeError(err)}` };
  }
  if (quarter.error) ctx.log.warn({ runId, error: quarter.error }, 'quarter summary not written');
  return { verification, quarter };
}

async function recordVerification(
  ctx: ReconcileContext,
  runId: string,
  outcome: Awaited<ReturnType<typeof verifyAuditTrail>>,
): Promise<NightlyVerification> {
  if (outcome.result === 'Broken') {
    ctx.log.error({ runId, firstFailingSeq: outcome.firstFailingSeq }, 'audit verification failed');
  }
  const record = verificationRecord(outcome, new Date(ctx.deps.now()), runId, 'nightly');
  const base = { result: outcome.result, firstFailingSeq: outcome.firstFailingSeq, detail: outcome.detail };
  try {
    const created = await ctx.deps.connection.sobject(VERIFICATION_OBJECT).create(record);
    if (created.success) return { ...base, recordId: created.id, error: null };
    const why = created.errors.map((e) => e.errorCode).join('; ');
    return {
      ...base,
      recordId: null,
      error: `${VERIFICATION_OBJECT} ${record[VERIFICATION_KEY_FIELD] as string}: ${why}`,
    };
  } catch (err) {
    ctx.log.warn({ runId, err }, 'audit verification not recorded');
    return { ...base, recordId: null, error: `${VERIFICATION_OBJECT}: ${describeError(err)}` };
  }
}

async function upsertQuarter(ctx: ReconcileContext, summary: QuarterSummary): Promise<NightlyQuarter> {
  const record = quarterSummaryRecord(summary, new Date(ctx.deps.now()));
  const result: UpsertResult = await ctx.deps.connection
    .sobject(QUARTER_OBJECT)
    .upsert(record, QUARTER_KEY_FIELD);
  if (result.success) return { summary, recordId: result.id ?? null, error: null };
  const why = result.errors.map((e) => e.errorCode).join('; ');
  return { summary, recordId: null, error: `${QUARTER_OBJECT} ${summary.quarter}: ${why}` };
}
