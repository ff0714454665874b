import { createHash } from 'node:crypto';
import { chainEntry, type AuditEntry, type ChainHead, type PruneRecord } from './audit.js';

/**
 * Retention of the audit log: which leading entries are past retention, and the entry that records
 * their prune. Both work on a walk of the log (issue #16: `audit prune` held the whole log, millions of
 * entries after a large backfill): `createPruneScan` takes the entries one at a time and keeps a count,
 * the last pruned entry and a running sha256 of the prune's payload, never the entries. Pure: no I/O.
 */

export const DEFAULT_RETENTION_YEARS = 6;

/** `now` minus whole calendar years, in UTC (29 February falls back to 28 February). */
export function retentionCutoff(now: Date, retentionYears = DEFAULT_RETENTION_YEARS): Date {
  if (!Number.isInteger(retentionYears) || retentionYears < 1) {
    throw new RangeError('retention must be a whole number of years, at least 1');
  }
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(now.getUTCFullYear() - retentionYears);
  if (cutoff.getUTCMonth() !== now.getUTCMonth()) cutoff.setUTCDate(0);
  return cutoff;
}

/** What a prune removes, as its entry records it; `payloadSha256` covers every pruned seq and hash. */
export interface PruneSummary {
  readonly count: number;
  readonly firstSeq: number | undefined;
  readonly last: ChainHead | undefined;
  /**
   * sha256 of the canonical JSON of `{ prunedHashes: [...], prunedSeqs: [...] }` (canonical.ts: keys
   * in code-unit order), the payload a prune entry has always named.
   */
  readonly payloadSha256: string;
}

/**
 * Accumulates the pruned entries in order. The hashes are streamed into the sha256 as they come (they
 * lead in canonical key order); the seqs, written after them, are kept as runs of consecutive numbers
 * (one run for a log without gaps), so what is held does not grow with the log.
 */
export function createPruneDigest() {
  const hash = createHash('sha256').update('{"prunedHashes":[', 'utf8');
  const runs: Array<[first: number, last: number]> = [];
  let count = 0;
  let last: ChainHead | undefined;
  return {
    push(entry: AuditEntry): void {
      hash.update(`${count === 0 ? '' : ','}${JSON.stringify(entry.hash)}`, 'utf8');
      const run = runs[runs.length - 1];
      if (run !== undefined && entry.seq === run[1] + 1) run[1] = entry.seq;
      else runs.push([entry.seq, entry.seq]);
      count += 1;
      last = { seq: entry.seq, hash: entry.hash };
    },
    summary(): PruneSummary {
      const h = hash.copy().update('],"prunedSeqs":[', 'utf8');
      let first = true;
      for (const [from, to] of runs) {
        // Written a chunk at a time: a run may hold millions of seqs.
        for (let start = from; start <= to; start += 10_000) {
          const end = Math.min(to, start + 9_999);
          const parts: string[] = [];
          for (let seq = start; seq <= end; seq++) parts.push(JSON.stringify(seq));
          h.update(`${first ? '' : ','}${parts.join(',')}`, 'utf8');
          first = false;
        }
      }
      return { count, firstSeq: runs[0]?.[0], last, payloadSha256: h.update(']}', 'utf8').digest('hex') };
    },
  };
}

/** An entry stamped before the cutoff (an unreadable timestamp is not). */
function pastCutoff(entry: AuditEntry, cutoffMs: number): boolean {
  return Date.parse(entry.timestamp) < cutoffMs;
}

/**
 * A walk that finds what may be pruned: the leading run of entries older than the cutoff. Only a prefix
 * is ever pruned, so what remains is still one verifiable chain; `oldAfterNew` says an old entry came
 * after a newer one (a clock step), which a prune by time would cut out of the middle of the chain.
 */
export function createPruneScan(now: Date, retentionYears = DEFAULT_RETENTION_YEARS) {
  const cutoff = retentionCutoff(now, retentionYears);
  const cutoffMs = cutoff.getTime();
  const digest = createPruneDigest();
  let prefixEnded = false;
  let oldAfterNew = false;
  return {
    cutoff: cutoff.toISOString(),
    cutoffMs,
    push(entry: AuditEntry): void {
      const old = pastCutoff(entry, cutoffMs);
      if (!prefixEnded && old) digest.push(entry);
      else if (old) oldAfterNew = true;
      else prefixEnded = true;
    },
    result(): PruneSummary & { readonly oldAfterNew: boolean } {
      return { ...digest.summary(), oldAfterNew };
    },
  };
}

/** The leading entries past retention, of a log held in memory (createPruneScan's rule). */
export function prunableEntries(
  entries: readonly AuditEntry[],
  now: Date,
  retentionYears = DEFAULT_RETENTION_YEARS,
): { readonly prunable: readonly AuditEntry[]; readonly cutoff: string } {
  const scan = createPruneScan(now, retentionYears);
  let n = 0;
  while (n < entries.length && pastCutoff(entries[n]!, scan.cutoffMs)) n++;
  return { prunable: entries.slice(0, n), cutoff: scan.cutoff };
}

/**
 * The audit entry that records a prune. Append it (to the current head) in the same transaction that
 * deletes the pruned entries; verifyAuditChain then accepts the chain starting after them.
 */
export function pruneEntryOf(
  pruned: PruneSummary,
  head: ChainHead,
  details: { timestamp: string; actor: string; runId: string; cutoff: string },
): AuditEntry {
  if (pruned.last === undefined) throw new RangeError('nothing to prune');
  const prune: PruneRecord = {
    count: pruned.count,
    throughSeq: pruned.last.seq,
    throughHash: pruned.last.hash,
    cutoff: details.cutoff,
  };
  return chainEntry(
    {
      timestamp: details.timestamp,
      actor: details.actor,
      sourceSystem: 'sync-service',
      object: 'audit-log',
      externalId: '-',
      operation: 'prune',
      changedFields: [],
      runId: details.runId,
      prune,
    },
    pruned.payloadSha256,
    head,
  );
}

/** pruneEntryOf for pruned entries held in memory. */
export function buildPruneEntry(
  pruned: readonly AuditEntry[],
  head: ChainHead,
  details: { timestamp: string; actor: string; runId: string; cutoff: string },
): AuditEntry {
  const digest = createPruneDigest();
  for (const entry of pruned) digest.push(entry);
  return pruneEntryOf(digest.summary(), head, details);
}
