import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function clock() {
  let t = Date.parse('2026-12-01T00:00:00Z');
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('run progress', () => {
  it('takes each stream total from its first page and gives an ETA from the Cliniko budget', () => {
    const c = clock();
    const p = createProgress({ now: c.now, budget: () => ({ limit: 180, windowMs: 60_000 }) });
    p.begin('backfill');
    p.read({ stream: 'patients', pages: 1, records: 100, totalEntries: 1_000 });
    // A keyset page reports only what is left after its cursor: the first total stands.
    p.read({ stream: 'patients', pages: 2, records: 200, totalEntries: 900 });
    const s = p.snapshot();
    expect(s.streams.find((x) => x.stream === 'patients')).toEqual({
      stream: 'patients',
      pages: 2,
      read: 200,
      total: 1_000,
    });
    expect(s.readFraction).toBeCloseTo(0.2);
    // 800 left = 8 pages at 180 a minute = 8 / 3 s, rounded up.
    expect(s.etaSeconds).toBe(3);
    expect(s.etaCovers).toEqual(['patients']);
    // Streams not reached yet are listed without a total.
    expect(s.streams.find((x) => x.stream === 'invoices')?.total).toBeNull();
  });

  it('a slower budget gives a longer ETA (the ETA follows the budget, not a constant)', () => {
    const p = createProgress({ now: clock().now, budget: () => ({ limit: 30, windowMs: 60_000 }) });
    p.begin('backfill');
    p.read({ stream: 'patients', pages: 1, records: 100, totalEntries: 1_000 });
    expect(p.snapshot().etaSeconds).toBe(18); // 9 pages at 30 a minute
  });

  it('has no ETA for an incremental cycle and counts writes per object', () => {
    const p = createProgress({ now: clock().now, budget: () => ({ limit: 180, windowMs: 60_000 }) });
    p.begin('incremental');
    p.read({ stream: 'patients', pages: 1, records: 3, totalEntries: 3 });
    p.written('Contact', 2);
    p.written('Contact', 1);
    p.written('Care_Plan__c', 1);
    const s = p.snapshot();
    expect(s.etaSeconds).toBeNull();
    expect(s.written).toEqual({ Contact: 3, Care_Plan__c: 1 });
    expect(s.writtenTotal).toBe(4);
  });

  it('a finished job shows a full bar; a failed one keeps what it read', () => {
    const p = createProgress({ now: clock().now, budget: () => ({ limit: 180, windowMs: 60_000 }) });
    p.begin('backfill');
    p.read({ stream: 'patients', pages: 1, records: 95, totalEntries: 100 });
    p.end('partial');
    expect(p.snapshot()).toMatchObject({
      running: false,
      readFraction: 1,
      etaSeconds: null,
      status: 'partial',
    });
    p.begin('backfill');
    p.read({ stream: 'patients', pages: 1, records: 50, totalEntries: 100 });
    p.end('failed');
    expect(p.snapshot().readFraction).toBeCloseTo(0.5);
  });
});
