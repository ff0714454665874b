import { describe, expect, it } from 'vitest';
import { createPollPace, type CycleCost } from './poll-pace.js';

/** The adaptive poll interval (issue #16): short while the clinic is busy, budget-paced while idle. */

const idle = (clinikoRequests: number): CycleCost => ({
  clinikoRequests,
  counts: { patients: { written: 0, deadLettered: 0 } },
});
const busy: CycleCost = { clinikoRequests: 4, counts: { patients: { written: 3, deadLettered: 0 } } };
const pace = (over: Partial<Parameters<typeof createPollPace>[0]> = {}) =>
  createPollPace({ minMs: 10_000, maxMs: 60_000, requestsPerMinute: 180, idleShare: 0.1, ...over });

describe('adaptive poll', () => {
  it('paces idle cycles so they use at most the idle share of the budget (control: twice the requests, twice the wait)', () => {
    const p = pace();
    let interval = 0;
    for (let i = 0; i < 10; i++) interval = p.afterCycle(idle(4));
    // 4 requests per cycle, 18 a minute allowed: one cycle every 13.33 s.
    expect(interval).toBe(13_334);
    expect(((60_000 / interval) * 4) / 180).toBeLessThanOrEqual(0.1);
    const eight = pace();
    for (let i = 0; i < 10; i++) interval = eight.afterCycle(idle(8));
    expect(interval).toBe(26_667);
  });

  it('paces a cycle that wrote like an idle one; its costlier read does not lengthen the wait (control)', () => {
    const p = pace();
    p.afterCycle(idle(4));
    expect(p.afterCycle(busy)).toBe(13_334);
    expect(p.intervalMs()).toBe(13_334);
    expect(p.afterCycle({ ...busy, clinikoRequests: 10 })).toBe(13_334);
    // Control: the same 10 requests in an idle cycle are polling, and are paid for.
    expect(p.afterCycle(idle(10))).toBe(Math.ceil((((4 + 10) / 2) * 60_000) / 18));
  });

  it("counts the idle cycles not seen yet at one request per stream, so a process's first cycle (reference lists too) does not stretch the next waits", () => {
    const withBase = pace({ baseRequests: 4 });
    expect(withBase.intervalMs()).toBe(13_334);
    expect(withBase.afterCycle(idle(8))).toBe(Math.ceil((((8 + 44 * 4) / 45) * 60_000) / 18));
    // Control: averaged over the cycles seen only, the first one alone sets a 27-second wait.
    expect(pace().afterCycle(idle(8))).toBe(26_667);
  });

  it('spreads an occasional costlier cycle (a reference re-read) over the recent idle cycles', () => {
    const p = pace();
    for (let i = 0; i < 44; i++) p.afterCycle(idle(4));
    // 7 requests once: averaged over 45 cycles it adds about 1 %, not a 23-second wait.
    expect(p.afterCycle(idle(7))).toBe(Math.ceil((((4 * 44 + 7) / 45) * 60_000) / 18));
  });

  it('stays within its bounds', () => {
    expect(pace({ requestsPerMinute: 10 }).afterCycle(idle(40))).toBe(60_000);
    expect(pace({ requestsPerMinute: 200, idleShare: 1 }).afterCycle(idle(1))).toBe(10_000);
    // A minimum above the longest interval is the longest: adaptation off.
    expect(pace({ minMs: 90_000 }).intervalMs()).toBe(60_000);
  });
});
