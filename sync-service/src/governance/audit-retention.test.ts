import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAuditEntry, type AuditEntry } from './audit.js';
import { createPruneDigest, createPruneScan, prunableEntries, pruneEntryOf } from './audit-retention.js';
import { payloadSha256 } from './canonical.js';
import { auditChain } from './test-fixtures.js';

/**
 * The prune, walked (issue #16): the digest that streams a prune's payload into its sha256 must give
 * the hash of the payload a prune entry has always named, `{ prunedSeqs, prunedHashes }` hashed whole
 * through canonical JSON (the oracle here), for any seqs, gaps included; and the scan must find the
 * prefix `prunableEntries` finds in a list.
 */
const oracle = (pruned: readonly AuditEntry[]): string =>
  payloadSha256({ prunedSeqs: pruned.map((e) => e.seq), prunedHashes: pruned.map((e) => e.hash) });

const digestOf = (pruned: readonly AuditEntry[]): string => {
  const digest = createPruneDigest();
  for (const e of pruned) digest.push(e);
  return digest.summary().payloadSha256;
};

describe('the prune digest', () => {
  it('hashes the payload the old list form hashed, for consecutive seqs and for seqs with gaps', () => {
    const chain = auditChain(40);
    fc.assert(
      fc.property(
        fc.subarray(chain.map((_, i) => i)),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 5 }),
        (kept, shifts) => {
          // Seqs moved up by arbitrary amounts: runs of every length, and gaps between them.
          let shift = 0;
          const pruned = kept.map((i, n) => {
            shift += n % 7 === 0 ? (shifts[n % Math.max(1, shifts.length)] ?? 0) : 0;
            return { ...chain[i]!, seq: chain[i]!.seq + shift };
          });
          expect(digestOf(pruned)).toBe(oracle(pruned));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('spans runs longer than one written chunk (25,000 seqs) the same way', () => {
    const one = auditChain(1)[0]!;
    const pruned = Array.from({ length: 25_000 }, (_, i) => ({ ...one, seq: i + 1 }));
    expect(digestOf(pruned)).toBe(oracle(pruned));
  });

  it('control: a changed hash, a changed seq or a dropped entry changes the digest', () => {
    const pruned = auditChain(6);
    const base = digestOf(pruned);
    expect(digestOf(pruned.map((e, i) => (i === 2 ? { ...e, hash: '0'.repeat(64) } : e)))).not.toBe(base);
    expect(digestOf(pruned.map((e, i) => (i === 5 ? { ...e, seq: 7 } : e)))).not.toBe(base);
    expect(digestOf(pruned.slice(1))).not.toBe(base);
  });

  it('the prune entry built from a walk is the entry built from the list', () => {
    const chain = auditChain(10);
    const pruned = chain.slice(0, 4);
    const head = { seq: 10, hash: chain[9]!.hash };
    const details = { timestamp: '2026-01-05T12:00:00Z', actor: 'retention-job', runId: 'r', cutoff: 'c' };
    const digest = createPruneDigest();
    for (const e of pruned) digest.push(e);
    const fromWalk = pruneEntryOf(digest.summary(), head, details);
    const fromList = buildAuditEntry(
      {
        ...details,
        sourceSystem: 'sync-service',
        object: 'audit-log',
        externalId: '-',
        operation: 'prune',
        changedFields: [],
        payload: { prunedSeqs: [1, 2, 3, 4], prunedHashes: pruned.map((e) => e.hash) },
        prune: { count: 4, throughSeq: 4, throughHash: pruned[3]!.hash, cutoff: 'c' },
      },
      head,
    );
    expect(fromWalk).toEqual(fromList);
  });
});

describe('the prune scan', () => {
  const now = new Date('2026-01-05T12:00:00Z'); // six years: the cutoff is 2020-01-05T12:00Z
  it('finds the prefix prunableEntries finds, and flags an old entry after a newer one', () => {
    const chain = auditChain(10); // 2020-01-01 .. 2020-01-10
    const scan = createPruneScan(now);
    for (const e of chain) scan.push(e);
    const result = scan.result();
    const { prunable } = prunableEntries(chain, now);
    expect(prunable.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect([result.count, result.firstSeq, result.last?.seq]).toEqual([5, 1, 5]);
    expect(result.payloadSha256).toBe(oracle(prunable));
    expect(result.oldAfterNew).toBe(false);

    const stepped = createPruneScan(now);
    for (const e of [...chain.slice(0, 6), { ...chain[6]!, timestamp: '2019-06-01T00:00:00.000Z' }])
      stepped.push(e);
    expect(stepped.result()).toMatchObject({ count: 5, oldAfterNew: true });
  });
});
