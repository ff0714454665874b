import type { Connection } from 'jsforce';
import { createChainWalk, type AuditEntry } from '../../governance/audit.js';
import { ANCHOR_OBJECT, verifyAgainstAnchors, type AuditAnchor } from '../../governance/audit-anchor.js';
import type { VerificationOutcome } from '../../governance/audit-verification.js';
import { describeError } from './run-record.js';

/**
 * The one audit verification: the local hash chain re-walked, then checked against every
 * Audit_Anchor__c in Salesforce. `npm run sync -- audit verify` and the nightly reconciliation both run
 * it, so the governance review's "last verification" means the same thing whoever ran it. Each finding
 * is also a line for a person (`report`); lines hold sequences, counts and reasons, never an entry's
 * content.
 */

export type AnchorRead =
  | { readonly ok: true; readonly anchors: readonly AuditAnchor[] }
  /** `unavailable`: no credentials or no connection; `invalid`: an anchor record that is not one. */
  | { readonly ok: false; readonly kind: 'unavailable' | 'invalid'; readonly reason: string };

/**
 * The audit log as walked from the store, entry by entry (common/audit-log.ts walkAuditLog): never held
 * whole (issue #16).
 */
export type ReadLog = (visit: (entry: AuditEntry) => void) => Promise<{
  readonly count: number;
  readonly rowProblem: { readonly seq: number; readonly reason: string } | undefined;
}>;

const SOQL = `SELECT Sequence__c, Head_Hash__c FROM ${ANCHOR_OBJECT} ORDER BY Sequence__c`;

class InvalidAnchor extends Error {}

/** Every anchor in Salesforce, or why they could not be read. */
export async function readAnchorsFrom(connection: Connection): Promise<AnchorRead> {
  try {
    const anchors: AuditAnchor[] = [];
    let result = await connection.query<Record<string, unknown>>(SOQL);
    for (;;) {
      for (const record of result.records) anchors.push(anchorOf(record, anchors.length));
      if (result.done || !result.nextRecordsUrl) break;
      result = await connection.queryMore<Record<string, unknown>>(result.nextRecordsUrl);
    }
    return { ok: true, anchors };
  } catch (err) {
    if (err instanceof InvalidAnchor) return { ok: false, kind: 'invalid', reason: err.message };
    return {
      ok: false,
      kind: 'unavailable',
      reason: `the anchors could not be read from Salesforce (${describeError(err)})`,
    };
  }
}

function anchorOf(record: Record<string, unknown>, index: number): AuditAnchor {
  const seq = record.Sequence__c;
  const hash = record.Head_Hash__c;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new InvalidAnchor(`${ANCHOR_OBJECT} record ${index + 1}: Sequence__c is not a whole number ≥ 1`);
  }
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new InvalidAnchor(`${ANCHOR_OBJECT} record ${index + 1}: Head_Hash__c is not a sha256 hex hash`);
  }
  return { seq, hash };
}

/**
 * One walk of the log: the chain is verified and, when it holds, checked against `anchors` (read from
 * Salesforce before the walk: an anchor is written only after the entries it names are durable, so a
 * run appending and anchoring meanwhile cannot look like a truncation). `alsoVisit` sees every entry of
 * the same walk (the nightly pass tallies the quarter with it). `report` receives each finding as a
 * line; the outcome is what Audit_Verification__c records.
 */
export async function verifyAuditTrail(
  log: ReadLog,
  anchors: AnchorRead,
  report: (line: string) => void,
  alsoVisit?: (entry: AuditEntry) => void,
): Promise<VerificationOutcome> {
  const walk = createChainWalk();
  const witnesses = createWitnesses(anchors.ok ? anchors.anchors : []);
  const { count, rowProblem } = await log((entry) => {
    walk.push(entry);
    witnesses.push(entry);
    alsoVisit?.(entry);
  });
  const first = witnesses.first();
  const counts = { entriesChecked: count, anchorsChecked: 0, headSeq: witnesses.last()?.seq ?? null };
  if (rowProblem !== undefined) {
    const detail = `audit log BROKEN at seq ${rowProblem.seq}: ${rowProblem.reason}`;
    report(detail);
    return { result: 'Broken', firstFailingSeq: rowProblem.seq, ...counts, detail };
  }
  const result = walk.finish();
  if (!result.ok) {
    const detail = `audit log BROKEN at entry ${result.index + 1} of ${count} (seq ${result.seq ?? '?'}): ${result.reason}`;
    report(detail);
    return { result: 'Broken', firstFailingSeq: result.seq ?? null, ...counts, detail };
  }
  report(
    result.head === undefined || first === undefined
      ? 'audit log is empty'
      : `audit log intact: ${result.count} entries, seq ${first.seq}..${result.head.seq}, head ${result.head.hash}`,
  );
  return checkAnchors(witnesses.kept(), anchors, counts, report);
}

/**
 * What the anchor check reads of the log, gathered as it is walked: the first and last entries, those
 * at the anchors' seqs and the prune entries, in log order (verifyAgainstAnchors needs no other).
 */
function createWitnesses(anchors: readonly AuditAnchor[]) {
  const seqs = new Set(anchors.map((a) => a.seq));
  const kept: AuditEntry[] = [];
  let last: AuditEntry | undefined;
  return {
    push(entry: AuditEntry): void {
      if (kept.length === 0 || seqs.has(entry.seq) || entry.prune !== null) kept.push(entry);
      last = entry;
    },
    first: (): AuditEntry | undefined => kept[0],
    last: (): AuditEntry | undefined => last,
    kept(): AuditEntry[] {
      return last !== undefined && kept.at(-1) !== last ? [...kept, last] : kept;
    },
  };
}

/** The local chain (already intact) against every anchor read from Salesforce. */
function checkAnchors(
  entries: readonly AuditEntry[],
  read: AnchorRead,
  counts: Pick<VerificationOutcome, 'entriesChecked' | 'anchorsChecked' | 'headSeq'>,
  report: (line: string) => void,
): VerificationOutcome {
  if (!read.ok) {
    if (read.kind === 'invalid') {
      const detail = `audit anchors BROKEN: ${read.reason}`;
      report(detail);
      return { result: 'Broken', firstFailingSeq: null, ...counts, detail };
    }
    const detail = `audit anchors NOT checked: ${read.reason}; only the local chain was verified`;
    report(detail);
    return { result: 'Local Only', firstFailingSeq: null, ...counts, detail };
  }
  const anchored = verifyAgainstAnchors(entries, read.anchors);
  if (!anchored.ok) {
    const detail = `audit log does NOT match its Salesforce anchors, first failing seq ${anchored.seq}: ${anchored.reason}`;
    report(detail);
    return {
      result: 'Broken',
      firstFailingSeq: anchored.seq,
      ...counts,
      anchorsChecked: read.anchors.length,
      detail,
    };
  }
  const detail =
    anchored.latest === undefined
      ? 'audit anchors: none in Salesforce yet (a run that writes something anchors the head)'
      : `audit anchors match: ${anchored.checked} checked against Salesforce${anchored.pruned > 0 ? `, ${anchored.pruned} at pruned seqs` : ''}, latest seq ${anchored.latest.seq}`;
  report(detail);
  return { result: 'Intact', firstFailingSeq: null, ...counts, anchorsChecked: anchored.checked, detail };
}
