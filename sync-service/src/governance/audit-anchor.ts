import type { AuditEntry, ChainHead } from './audit.js';

/**
 * Audit anchors: the chain head (sequence and hash) written to Salesforce after each run that wrote
 * something, in an insert-only `Audit_Anchor__c` record (the integration user may create, never edit or
 * delete). The local chain alone proves that no entry was changed in place; it cannot prove that the
 * newest entries were not removed, or that the whole chain was not recomputed after an edit. Checked
 * against every anchor, both are caught: an anchor beyond the local head means truncation, an anchor
 * whose hash differs from the local entry at its sequence means the chain was rewritten.
 *
 * Pure: the payload of an anchor and the check of a chain against anchors. Anchors hold no patient data
 * (a sequence number, a sha256, a run id, a time).
 */

export const ANCHOR_OBJECT = 'Audit_Anchor__c';
export const ANCHOR_KEY_FIELD = 'Anchor_Key__c';

/** One anchor as read back from Salesforce. */
export interface AuditAnchor {
  readonly seq: number;
  readonly hash: string;
}

/**
 * One anchor per run, keyed by its run id: a run queues its anchor once. Not keyed by sequence: two
 * instances (or a run and a reconciliation) may anchor the same head, and the second upsert of a
 * sequence would be an update, which the object refuses. Two anchors of one sequence carry one hash.
 */
export function anchorKey(runId: string): string {
  return runId;
}

/** The Audit_Anchor__c fields for a chain head. */
export function anchorPayload(
  head: ChainHead,
  runId: string,
  anchoredAt: string,
): Record<string, string | number> {
  if (!Number.isSafeInteger(head.seq) || head.seq < 1) throw new RangeError('an anchor needs a sequence ≥ 1');
  if (!/^[0-9a-f]{64}$/.test(head.hash)) throw new TypeError('an anchor needs a sha256 hex hash');
  if (runId.length < 1 || runId.length > 40)
    throw new RangeError('Anchor_Key__c (the run id) is 1 to 40 characters');
  return {
    [ANCHOR_KEY_FIELD]: anchorKey(runId),
    Sequence__c: head.seq,
    Head_Hash__c: head.hash,
    Run_Id__c: runId,
    Anchored_At__c: anchoredAt,
  };
}

export type AnchorVerification =
  | {
      readonly ok: true;
      /** Anchors compared with a local entry. */
      readonly checked: number;
      /** Anchors at sequences removed by a recorded prune (their entries are gone by design). */
      readonly pruned: number;
      /** The newest anchor, if any. */
      readonly latest: AuditAnchor | undefined;
    }
  | {
      readonly ok: false;
      /** The first (lowest) anchored sequence the local chain fails. */
      readonly seq: number;
      readonly reason: string;
    };

/**
 * Checks a local chain (already verified on its own with verifyAuditChain) against every anchor and
 * reports the lowest anchored sequence that fails. An anchor at a sequence a recorded prune removed is
 * compared with the prune's `throughHash` when it is the last pruned entry, and otherwise skipped
 * (counted): pruning is itself an audited act, and the kept chain still links to what was pruned.
 */
export function verifyAgainstAnchors(
  entries: readonly AuditEntry[],
  anchors: readonly AuditAnchor[],
): AnchorVerification {
  const bySeq = new Map(entries.map((e) => [e.seq, e] as const));
  const head = entries[entries.length - 1];
  const first = entries[0];
  const prunes = entries.flatMap((e) => (e.prune === null ? [] : [e.prune]));
  const sorted = [...anchors].sort((a, b) => a.seq - b.seq);
  let checked = 0;
  let pruned = 0;
  for (const anchor of sorted) {
    if (head === undefined || anchor.seq > head.seq) {
      return {
        ok: false,
        seq: anchor.seq,
        reason: `Salesforce holds an anchor at seq ${anchor.seq} but the local log ends at seq ${head?.seq ?? 0}: entries were removed from the end`,
      };
    }
    const entry = bySeq.get(anchor.seq);
    if (entry === undefined) {
      const prune = prunes.find((p) => p.throughSeq >= anchor.seq);
      if (first !== undefined && anchor.seq < first.seq && prune !== undefined) {
        if (prune.throughSeq === anchor.seq && prune.throughHash !== anchor.hash) {
          return { ok: false, seq: anchor.seq, reason: rewritten(anchor.seq) };
        }
        pruned++;
        continue;
      }
      return {
        ok: false,
        seq: anchor.seq,
        reason: `Salesforce holds an anchor at seq ${anchor.seq} but the local log has no entry there`,
      };
    }
    if (entry.hash !== anchor.hash) return { ok: false, seq: anchor.seq, reason: rewritten(anchor.seq) };
    checked++;
  }
  return { ok: true, checked, pruned, latest: sorted[sorted.length - 1] };
}

function rewritten(seq: number): string {
  return `the local entry at seq ${seq} differs from the hash anchored in Salesforce: the log was edited and its chain recomputed at or before seq ${seq}`;
}
