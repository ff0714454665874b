import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedError, RequestBudget } from './budget.js';

/** A virtual clock whose sleep advances time instantly, so a minute of budget takes no wall time. */
function virtualTime(start = 1_700_000_000_000) {
  let now = start;
  return {
    clock: () => now,
    sleep: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Largest number of grants inside any closed interval [t, t + windowMs]. */
function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  let max = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while (times[end]! - times[start]! > windowMs) start += 1;
    max = Math.max(max, end - start + 1);
  }
  return max;
}

describe('RequestBudget', () => {
  it('grants up to the limit at once, then waits for the oldest grant to leave the window', async () => {
    const time = virtualTime();
    const budget = new RequestBudget({ limit: 3, windowMs: 60_000, ...time });
    const t0 = time.clock();
    const grants: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      await budget.acquire();
      grants.push(time.clock() - t0);
    }
    expect(grants).toEqual([0, 0, 0, 60_001, 60_001, 60_001, 120_002]);
    const stats = budget.stats();
    expect(stats.granted).toBe(7);
    expect(stats.waits).toBe(2);
    expect(stats.used).toBe(1);
    expect(stats.limit).toBe(3);
  });

  it('never grants more than the limit in any rolling window, whatever the arrival pattern', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 2_500 }), { minLength: 1, maxLength: 120 }),
        async (limit, gaps) => {
          const time = virtualTime();
          const budget = new RequestBudget({ limit, windowMs: 1_000, ...time });
          const times: number[] = [];
          for (const gap of gaps) {
            time.advance(gap);
            await budget.acquire();
            times.push(time.clock());
          }
          expect(maxInAnyWindow(times, 1_000)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('serves concurrent callers in arrival order and still respects the limit', async () => {
    const time = virtualTime();
    const budget = new RequestBudget({ limit: 2, windowMs: 1_000, ...time });
    const order: Array<[number, number]> = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (n) => {
        await budget.acquire();
        order.push([n, time.clock()]);
      }),
    );
    expect(order.map(([n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(
      maxInAnyWindow(
        order.map(([, t]) => t),
        1_000,
      ),
    ).toBe(2);
  });

  it('pauses every caller until a 429 reset, and counts the pause', async () => {
    const time = virtualTime();
    const budget = new RequestBudget({ limit: 100, windowMs: 60_000, ...time });
    await budget.acquire();
    budget.pauseUntil(time.clock() + 30_000);
    expect(budget.stats().pausedUntil).toBe(time.clock() + 30_000);
    const before = time.clock();
    await budget.acquire();
    expect(time.clock() - before).toBe(30_000);
    // An earlier reset never shortens a pause in force.
    budget.pauseUntil(time.clock() + 10_000);
    budget.pauseUntil(time.clock() + 5_000);
    expect(budget.stats().pauses).toBe(2);
    expect(budget.stats().pausedUntil).toBe(time.clock() + 10_000);
  });

  it('stops waiting and rejects queued callers once its signal aborts', async () => {
    const controller = new AbortController();
    // Real timers: the pause is a minute long, the abort must end the wait at once.
    const budget = new RequestBudget({ limit: 1, windowMs: 60_000, signal: controller.signal });
    await budget.acquire();
    const waiting = [budget.acquire(), budget.acquire()];
    setTimeout(() => controller.abort(), 20);
    // Without the abort this would wait a minute and the test would time out.
    const results = await Promise.allSettled(waiting);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ClosedError);
  });

  it('rejects a limit below one', () => {
    expect(() => new RequestBudget({ limit: 0 })).toThrow(RangeError);
  });
});
