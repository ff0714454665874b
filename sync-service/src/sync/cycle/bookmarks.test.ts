import { describe, expect, it } from 'vitest';
import { afterPage, afterRead, bookmarksOf, clinikoNow, recheckDue } from './bookmarks.js';

/** A stream's two bookmarks (issue #16, item 5): pure rules, δ = 120 s. */
const D = 120_000;
const ms = (iso: string): number => Date.parse(iso);

describe('bookmarks', () => {
  it("times the recheck on Cliniko's clock, whatever ours says (control: our clock would recheck every cycle)", () => {
    // A clinic whose clock is a year behind ours: the cursor was committed a minute ago by our clock.
    const ours = ms('2026-12-06T10:00:00Z');
    const w = {
      stream: 'patients',
      cursor: '2025-12-06T10:00:00Z',
      settled: '2025-12-06T09:59:00Z',
      updatedAt: ours - 60_000,
    };
    const b = bookmarksOf(w, D);
    expect(clinikoNow(w, ours)).toBe(ms('2025-12-06T10:01:00Z'));
    expect(recheckDue(b, clinikoNow(w, ours), D)).toBe(false);
    expect(recheckDue(b, clinikoNow(w, ours + 180_000), D)).toBe(true);
    expect(recheckDue(b, ours, D)).toBe(true);
  });

  it('reads a watermark from before migration 8 as settled up to its cursor minus the overlap', () => {
    const b = bookmarksOf(
      { stream: 'invoices', cursor: '2026-01-01T00:00:00Z', settled: null, updatedAt: 0 },
      D,
    );
    expect(b).toEqual({ cursor: '2026-01-01T00:00:00Z', settled: '2025-12-31T23:58:00Z' });
  });

  it('moves only the cursor on an ordinary read, and the settled point to the signpost minus δ on a recheck', () => {
    const b = { cursor: '2026-01-01T00:10:00Z', settled: '2026-01-01T00:00:00Z' };
    const signpost = ms('2026-01-01T00:11:00Z');
    expect(afterPage(b, false, '2026-01-01T00:10:30Z', signpost, D)).toEqual({
      cursor: '2026-01-01T00:10:30Z',
      settled: '2026-01-01T00:00:00Z',
    });
    // A recheck's page settles what it has passed, never beyond what was visible when it began.
    expect(afterPage(b, true, '2026-01-01T00:05:00Z', signpost, D)).toEqual({
      cursor: '2026-01-01T00:10:00Z',
      settled: '2026-01-01T00:05:00Z',
    });
    expect(afterPage(b, true, '2026-01-01T00:10:50Z', signpost, D)).toEqual({
      cursor: '2026-01-01T00:10:50Z',
      settled: '2026-01-01T00:09:00Z',
    });
    expect(afterRead(b, false, signpost, D)).toEqual({ cursor: '2026-01-01T00:11:00Z', settled: b.settled });
    expect(afterRead(b, true, signpost, D)).toEqual({
      cursor: '2026-01-01T00:11:00Z',
      settled: '2026-01-01T00:09:00Z',
    });
  });
});
