import { describe, expect, it } from 'vitest';
import { BULK_TIMEOUT_MS, BulkPace, untilComplete, type BulkClock, type CheckedJob } from './bulk-checks.js';

/**
 * When the writer checks a closed Bulk job: a fake clock (each sleep moves it; a check takes no time)
 * and a job that completes at a set time after its close.
 */
function fakeClock(): BulkClock & { sleeps: number[] } {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** A job complete `doneAfterMs` after `closedAt`; counts its checks. */
function jobDoneAt(clock: BulkClock, doneAfterMs: number, other: Partial<{ state: string }> = {}) {
  const closedAt = clock.now();
  const job = {
    checks: 0,
    check() {
      job.checks += 1;
      const done = clock.now() - closedAt >= doneAfterMs;
      return Promise.resolve({ state: done ? 'JobComplete' : (other.state ?? 'InProgress') });
    },
  } satisfies CheckedJob & { checks: number };
  return job;
}

describe('Bulk job checks (issue #16)', () => {
  it('checks a job of an object it has not seen on the short schedule: 50 ms, then 50, 100, 200, 400, 500', async () => {
    const clock = fakeClock();
    const job = jobDoneAt(clock, 1_300);
    await untilComplete(job, { object: 'A__c', records: 5_000, pace: new BulkPace(), clock });
    expect(clock.sleeps).toEqual([50, 50, 100, 200, 400, 500]);
    expect(job.checks).toBe(6);
  });

  it('waits for most of the expected time before the first check of the next job of that object', async () => {
    const clock = fakeClock();
    const pace = new BulkPace();
    // Found unfinished at 800 ms and complete at 1,300 ms: about 1,050 ms for 5,000 records.
    await untilComplete(jobDoneAt(clock, 1_300), { object: 'A__c', records: 5_000, pace, clock });
    expect(pace.expectedMs('A__c', 5_000)).toBe(1_050);
    clock.sleeps.length = 0;
    const next = jobDoneAt(clock, 1_050);
    await untilComplete(next, { object: 'A__c', records: 5_000, pace, clock });
    // First check at 0.8 x 1,050 = 840 ms, then 890, 990, 1,190: four checks instead of six.
    expect(clock.sleeps).toEqual([840, 50, 100, 200]);
    expect(next.checks).toBe(4);
    // Half as many records: half the wait. Another object: the short schedule.
    expect(pace.firstCheckMs('A__c', 2_500)).toBeCloseTo(pace.firstCheckMs('A__c', 5_000) / 2, 6);
    expect(pace.firstCheckMs('B__c', 5_000)).toBe(50);
  });

  it('moves a third of the way towards each job, and never waits longer than 30 s for a first check', () => {
    const pace = new BulkPace();
    pace.learn('A__c', 1_000, 1_000, 900); // 0.95 ms a record
    pace.learn('A__c', 1_000, 20_000, 19_000); // one slow job: 19.5 ms a record
    expect(pace.expectedMs('A__c', 1_000)).toBeCloseTo(950 + (19_500 - 950) / 3, 6);
    // Complete at the first check (at 6,000 ms): somewhere before it, the middle counts.
    pace.learn('B__c', 1_000, 6_000, undefined);
    expect(pace.expectedMs('B__c', 1_000)).toBe(3_000);
    pace.learn('A__c', 1_000, 1_000_000, 990_000);
    expect(pace.firstCheckMs('A__c', 1_000)).toBe(30_000);
  });

  it('throws as jsforce does for a failed, aborted or reopened job, and times out as JobPollingTimeout', async () => {
    for (const [state, message] of [
      ['Failed', /failed to complete/],
      ['Aborted', /aborted/],
      ['Open', /still open/],
    ] as const) {
      const clock = fakeClock();
      await expect(
        untilComplete(jobDoneAt(clock, Infinity, { state }), {
          object: 'A__c',
          records: 10,
          pace: new BulkPace(),
          clock,
        }),
      ).rejects.toThrow(message);
    }
    const clock = fakeClock();
    const never = untilComplete(jobDoneAt(clock, Infinity), {
      object: 'A__c',
      records: 10,
      pace: new BulkPace(),
      clock,
    });
    await expect(never).rejects.toMatchObject({ name: 'JobPollingTimeout' });
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(BULK_TIMEOUT_MS);
  });
});
