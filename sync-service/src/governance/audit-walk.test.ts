import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  createChainWalk,
  entryHash,
  verifyAuditChain,
  type AuditEntry,
  type AuditVerification,
  type ChainHead,
} from './audit.js';
import { buildPruneEntry } from './audit-retention.js';
import { auditChain } from './test-fixtures.js';

/**
 * The chain walk entry by entry (issue #16) against the list-based walk it replaced, kept here verbatim
 * as the oracle: for chains with entries dropped, swapped, repeated or altered, a pruned prefix with or
 * without its prune entry, and an expected head or none, both give the same verdict, index, seq and reason.
 */
function listWalk(
  entries: readonly AuditEntry[],
  options: { expectedHead?: ChainHead } = {},
): AuditVerification {
  const fail = (index: number, reason: string): AuditVerification => ({
    ok: false,
    index,
    seq: entries[index]?.seq,
    reason,
  });
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    if (entry === undefined) return fail(i, 'missing entry');
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash)
      return fail(i, `entry seq ${entry.seq} was altered: its content no longer matches its hash`);
    const prev = entries[i - 1];
    if (prev === undefined) {
      if (entry.seq === 1) {
        if (entry.previousHash !== GENESIS_HASH) return fail(i, 'the first entry does not start the chain');
      } else {
        const pruned = entries.find(
          (e) =>
            e.operation === 'prune' &&
            e.prune?.throughSeq === entry.seq - 1 &&
            e.prune.throughHash === entry.previousHash,
        );
        if (pruned === undefined)
          return fail(
            i,
            `the log starts at seq ${entry.seq} but no prune entry records the removal of the earlier entries`,
          );
      }
      continue;
    }
    if (entry.seq !== prev.seq + 1) {
      const expected = prev.seq + 1;
      const later = entries.slice(i + 1).some((e) => e.seq === expected);
      return fail(
        i,
        entry.seq <= prev.seq || later
          ? `entry seq ${entry.seq} is out of order (seq ${expected} should follow seq ${prev.seq})`
          : `entries seq ${expected}..${entry.seq - 1} are missing`,
      );
    }
    if (entry.previousHash !== prev.hash)
      return fail(i, `entry seq ${entry.seq} does not link to entry seq ${prev.seq} (previousHash differs)`);
  }
  const last = entries[entries.length - 1];
  const head = last === undefined ? undefined : { seq: last.seq, hash: last.hash };
  const expected = options.expectedHead;
  if (expected !== undefined && (head?.seq !== expected.seq || head.hash !== expected.hash)) {
    return fail(
      entries.length - 1,
      `the log ends at seq ${head?.seq ?? 0} but the recorded head is seq ${expected.seq}: entries were removed from the end`,
    );
  }
  return { ok: true, count: entries.length, head };
}

const chain = (length: number): AuditEntry[] => auditChain(length);

type Mutation =
  | { kind: 'drop'; at: number }
  | { kind: 'swap'; at: number; to: number }
  | { kind: 'repeat'; at: number }
  | { kind: 'alter'; at: number };

function mutate(entries: AuditEntry[], m: Mutation): AuditEntry[] {
  if (entries.length === 0) return entries;
  const at = m.at % entries.length;
  const out = [...entries];
  if (m.kind === 'drop') out.splice(at, 1);
  else if (m.kind === 'repeat') out.splice(at, 0, out[at]!);
  else if (m.kind === 'alter') out[at] = { ...out[at]!, externalId: 'edited' };
  else {
    const to = m.to % entries.length;
    [out[at], out[to]] = [out[to]!, out[at]!];
  }
  return out;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(30) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(30), to: fc.nat(30) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(30) }),
  fc.record({ kind: fc.constant('alter' as const), at: fc.nat(30) }),
);

describe('the chain walk, entry by entry', () => {
  it('gives the verdict of the list walk it replaced, whatever was done to the chain', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom('none', 'recorded', 'unrecorded'),
        fc.array(mutation, { maxLength: 2 }),
        fc.constantFrom('none', 'true', 'stale'),
        (length, cut, prune, mutations, head) => {
          let entries = chain(length);
          const pruneCut = Math.min(cut, Math.max(0, length - 1));
          if (prune !== 'none' && pruneCut > 0) {
            const last = entries[entries.length - 1]!;
            const record = buildPruneEntry(entries.slice(0, pruneCut), last, {
              timestamp: '2026-01-05T12:00:00Z',
              actor: 'retention-job',
              runId: 'run-prune',
              cutoff: '2021-01-01T00:00:00.000Z',
            });
            entries = [...entries.slice(pruneCut), ...(prune === 'recorded' ? [record] : [])];
          }
          for (const m of mutations) entries = mutate(entries, m);
          const last = entries[entries.length - 1];
          const options =
            head === 'none' || last === undefined
              ? {}
              : {
                  expectedHead:
                    head === 'true'
                      ? { seq: last.seq, hash: last.hash }
                      : { seq: last.seq + 1, hash: last.hash },
                };
          const walk = createChainWalk(options);
          for (const e of entries) walk.push(e);
          const expected = listWalk(entries, options);
          expect(walk.finish()).toEqual(expected);
          expect(verifyAuditChain(entries, options)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
