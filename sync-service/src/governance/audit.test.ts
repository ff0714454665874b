import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  buildAuditEntry,
  patientTrail,
  verifyAuditChain,
  type AuditEntry,
  type AuditInput,
} from './audit.js';
import { buildPruneEntry, prunableEntries, retentionCutoff } from './audit-retention.js';
import { payloadSha256 } from './canonical.js';

function input(n: number, overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    timestamp: new Date(Date.UTC(2020, 0, 1 + n)).toISOString(),
    actor: 'integration-user',
    sourceSystem: 'cliniko',
    object: 'Contact',
    externalId: String(1000 + n),
    salesforceId: `003000000000${String(n).padStart(3, '0')}`,
    patientId: String(1000 + n),
    operation: 'update',
    changedFields: ['Email', 'FirstName'],
    payload: { Email: `person${n}@example.com`, FirstName: `Name${n}` },
    runId: 'run-1',
    ...overrides,
  };
}

function chain(length: number): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < length; i++) entries.push(buildAuditEntry(input(i), entries[i - 1]));
  return entries;
}

describe('buildAuditEntry', () => {
  it('records names, ids and the payload hash, never field values', () => {
    const entry = buildAuditEntry(input(1), undefined);
    expect(entry).toMatchObject({
      seq: 1,
      previousHash: GENESIS_HASH,
      object: 'Contact',
      externalId: '1001',
      changedFields: ['Email', 'FirstName'],
      payloadSha256: payloadSha256({ FirstName: 'Name1', Email: 'person1@example.com' }),
      prune: null,
    });
    expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
    const text = JSON.stringify(entry);
    expect(text).not.toContain('person1@example.com');
    expect(text).not.toContain('Name1');
  });

  it('chains to the previous entry', () => {
    const [a, b] = chain(2);
    expect(b?.seq).toBe(2);
    expect(b?.previousHash).toBe(a?.hash);
  });

  it('refuses values in changedFields and bad timestamps', () => {
    expect(() => buildAuditEntry(input(1, { changedFields: ['jo@example.com'] }), undefined)).toThrow(
      /field names/,
    );
    expect(() => buildAuditEntry(input(1, { changedFields: ['Has space'] }), undefined)).toThrow(
      /field names/,
    );
    expect(() => buildAuditEntry(input(1, { timestamp: 'yesterday' }), undefined)).toThrow(/ISO 8601/);
  });
});

describe('verifyAuditChain', () => {
  it('accepts an intact chain and reports its head', () => {
    const entries = chain(5);
    expect(verifyAuditChain(entries)).toEqual({
      ok: true,
      count: 5,
      head: { seq: 5, hash: entries[4]?.hash },
    });
    expect(verifyAuditChain([])).toEqual({ ok: true, count: 0, head: undefined });
  });

  it('detects a single altered entry', () => {
    const entries = chain(5);
    const altered = [...entries];
    altered[2] = { ...entries[2]!, changedFields: ['Email'] };
    expect(verifyAuditChain(altered)).toEqual({
      ok: false,
      index: 2,
      seq: 3,
      reason: 'entry seq 3 was altered: its content no longer matches its hash',
    });
  });

  it('detects an altered entry whose hash was recomputed (the next link breaks)', () => {
    const entries = chain(5);
    const { hash: _old, ...body } = { ...entries[2]!, actor: 'someone-else' };
    const forged = buildAuditEntry(
      { ...input(2), actor: 'someone-else' },
      { seq: entries[1]!.seq, hash: entries[1]!.hash },
    );
    expect(forged.actor).toBe(body.actor);
    const tampered = [...entries];
    tampered[2] = forged;
    expect(verifyAuditChain(tampered)).toMatchObject({
      ok: false,
      index: 3,
      seq: 4,
      reason: expect.stringMatching(/does not link/) as unknown,
    });
  });

  it('detects a single deleted entry', () => {
    const entries = chain(5);
    const deleted = entries.filter((_, i) => i !== 2);
    expect(verifyAuditChain(deleted)).toEqual({
      ok: false,
      index: 2,
      seq: 4,
      reason: 'entries seq 3..3 are missing',
    });
  });

  it('detects deletion of the first entry', () => {
    const entries = chain(3).slice(1);
    expect(verifyAuditChain(entries)).toMatchObject({
      ok: false,
      index: 0,
      seq: 2,
      reason: expect.stringMatching(/no prune entry/) as unknown,
    });
  });

  it('detects two entries swapped', () => {
    const entries = chain(5);
    const swapped = [entries[0]!, entries[2]!, entries[1]!, entries[3]!, entries[4]!];
    expect(verifyAuditChain(swapped)).toEqual({
      ok: false,
      index: 1,
      seq: 3,
      reason: 'entry seq 3 is out of order (seq 2 should follow seq 1)',
    });
    const moved = [entries[0]!, entries[1]!, entries[3]!, entries[4]!, entries[2]!];
    expect(verifyAuditChain(moved)).toMatchObject({
      ok: false,
      index: 2,
      reason: expect.stringMatching(/out of order/) as unknown,
    });
  });

  it('detects a renumbered reorder through the hash links', () => {
    const entries = chain(3);
    // Re-sequence entry 3 as seq 2 without recomputing: its own hash no longer matches.
    const moved = [entries[0]!, { ...entries[2]!, seq: 2 }];
    expect(verifyAuditChain(moved)).toMatchObject({
      ok: false,
      index: 1,
      reason: expect.stringMatching(/altered/) as unknown,
    });
  });

  it('detects entries removed from the end against a head kept elsewhere', () => {
    const entries = chain(5);
    const head = { seq: 5, hash: entries[4]!.hash };
    expect(verifyAuditChain(entries, { expectedHead: head }).ok).toBe(true);
    expect(verifyAuditChain(entries.slice(0, 4), { expectedHead: head })).toMatchObject({
      ok: false,
      index: 3,
      reason: expect.stringMatching(/removed from the end/) as unknown,
    });
  });
});

describe('retention and pruning', () => {
  it('computes the cutoff in whole years (29 February falls back a day)', () => {
    expect(retentionCutoff(new Date('2026-11-22T10:00:00Z')).toISOString()).toBe('2020-11-22T10:00:00.000Z');
    expect(retentionCutoff(new Date('2028-02-29T00:00:00Z'), 1).toISOString()).toBe(
      '2027-02-28T00:00:00.000Z',
    );
    expect(() => retentionCutoff(new Date(), 0)).toThrow(/at least 1/);
  });

  it('prunes only the leading entries past retention', () => {
    const entries = chain(10); // 2020-01-01 .. 2020-01-10
    const { prunable, cutoff } = prunableEntries(entries, new Date('2026-01-05T12:00:00Z'));
    expect(cutoff).toBe('2020-01-05T12:00:00.000Z');
    expect(prunable.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(prunableEntries(entries, new Date('2025-12-01T00:00:00Z')).prunable).toEqual([]);
  });

  it('records a prune, after which the remaining chain verifies; without the record it does not', () => {
    const entries = chain(10);
    const { prunable, cutoff } = prunableEntries(entries, new Date('2026-01-05T12:00:00Z'));
    const head = { seq: entries[9]!.seq, hash: entries[9]!.hash };
    const pruneEntry = buildPruneEntry(prunable, head, {
      timestamp: '2026-01-05T12:00:00Z',
      actor: 'retention-job',
      runId: 'run-prune',
      cutoff,
    });
    expect(pruneEntry).toMatchObject({
      seq: 11,
      operation: 'prune',
      object: 'audit-log',
      prune: { count: 5, throughSeq: 5, throughHash: entries[4]!.hash, cutoff },
    });
    const kept = [...entries.slice(5), pruneEntry];
    expect(verifyAuditChain(kept)).toMatchObject({ ok: true, count: 6 });
    expect(verifyAuditChain(entries.slice(5))).toMatchObject({ ok: false, index: 0 });
    // Pruning one more entry than recorded is caught.
    expect(verifyAuditChain([...entries.slice(6), pruneEntry])).toMatchObject({ ok: false, index: 0 });
  });
});

describe('patientTrail', () => {
  it('lists the patient own entries and those of linked records', () => {
    const entries = chain(3);
    const appointment = buildAuditEntry(
      input(3, { object: 'Cliniko_Appointment__c', externalId: '555', patientId: '1001' }),
      entries[2],
    );
    const trail = patientTrail([...entries, appointment], '1001');
    expect(trail.map((e) => e.seq)).toEqual([2, 4]);
  });
});
