import { describe, expect, it } from 'vitest';
import { anchorKey, anchorPayload, verifyAgainstAnchors } from './audit-anchor.js';
import type { AuditEntry } from './audit.js';
import { buildPruneEntry } from './audit-retention.js';
import { auditChain } from './test-fixtures.js';

const chain = auditChain;

const anchorAt = (entries: AuditEntry[], seq: number) => ({ seq, hash: entries[seq - 1]!.hash });

describe('verifyAgainstAnchors', () => {
  const log = chain(10);
  const anchors = [anchorAt(log, 4), anchorAt(log, 8)];

  it('passes a log that holds every anchored head', () => {
    expect(verifyAgainstAnchors(log, anchors)).toEqual({
      ok: true,
      checked: 2,
      pruned: 0,
      latest: anchors[1],
    });
    expect(verifyAgainstAnchors(log, [])).toMatchObject({ ok: true, checked: 0, latest: undefined });
  });

  it('reports a truncated log at the first anchor beyond its head', () => {
    const result = verifyAgainstAnchors(log.slice(0, 6), anchors);
    expect(result).toMatchObject({ ok: false, seq: 8 });
    // Control: truncating after the newest anchor is not visible (the gap the next anchor closes).
    expect(verifyAgainstAnchors(log.slice(0, 8), anchors).ok).toBe(true);
    expect(verifyAgainstAnchors([], anchors)).toMatchObject({ ok: false, seq: 4 });
  });

  it('reports a recomputed chain at the first anchor whose hash differs', () => {
    const forged = chain(10, 'FirstName');
    expect(verifyAgainstAnchors(forged, anchors)).toMatchObject({ ok: false, seq: 4 });
    // Control: an anchor set taken from the forged log itself passes it.
    expect(verifyAgainstAnchors(forged, [anchorAt(forged, 4)]).ok).toBe(true);
  });

  it('skips anchors in a recorded prune, but checks the last pruned hash', () => {
    const prune = buildPruneEntry(log.slice(0, 5), log[9]!, {
      timestamp: '2026-01-01T00:00:00.000Z',
      actor: 'cli:test',
      runId: 'run-prune',
      cutoff: '2020-01-06T00:00:00.000Z',
    });
    const kept = [...log.slice(5), prune];
    expect(verifyAgainstAnchors(kept, [anchorAt(log, 3), anchorAt(log, 8)])).toMatchObject({
      ok: true,
      checked: 1,
      pruned: 1,
    });
    expect(verifyAgainstAnchors(kept, [{ seq: 5, hash: 'f'.repeat(64) }])).toMatchObject({
      ok: false,
      seq: 5,
    });
  });
});

describe('anchorPayload', () => {
  it('holds the sequence, hash, run and time, keyed by sequence', () => {
    const hash = 'a'.repeat(64);
    expect(anchorPayload({ seq: 12, hash }, 'run-1', '2026-01-01T00:00:00.000Z')).toEqual({
      Anchor_Key__c: anchorKey('run-1'),
      Sequence__c: 12,
      Head_Hash__c: hash,
      Run_Id__c: 'run-1',
      Anchored_At__c: '2026-01-01T00:00:00.000Z',
    });
    expect(() => anchorPayload({ seq: 0, hash }, 'run-1', 'x')).toThrow(RangeError);
    expect(() => anchorPayload({ seq: 1, hash: 'nope' }, 'run-1', 'x')).toThrow(TypeError);
  });
});
