import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelay, rateLimitDelayMs } from './backoff.js';

describe('fullJitterDelay', () => {
  it('stays within [0, min(cap, base * 2^attempt)) for any attempt and random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (attempt, r) => {
          const policy = { baseMs: 500, capMs: 30_000 };
          const delay = fullJitterDelay(attempt, policy, () => r);
          const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(ceiling, 1));
        },
      ),
    );
  });

  it('grows exponentially until the cap', () => {
    const policy = { baseMs: 100, capMs: 1_000 };
    const top = (attempt: number) => fullJitterDelay(attempt, policy, () => 0.999999);
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([99, 199, 399, 799, 999, 999]);
    expect(fullJitterDelay(3, policy, () => 0)).toBe(0);
  });
});

describe('rateLimitDelayMs', () => {
  const date = 'Sun, 22 Nov 2026 02:00:00 GMT';
  const serverNow = Date.parse(date);

  it("reads X-RateLimit-Reset against the server's Date, not the local clock", () => {
    const reset = String(serverNow / 1000 + 42);
    // The local clock is an hour ahead; the wait must still be 42 s.
    expect(rateLimitDelayMs({ rateLimitReset: reset, date }, serverNow + 3_600_000)).toBe(42_000);
  });

  it('honours Retry-After in seconds or as an HTTP date, taking the later of the two headers', () => {
    expect(rateLimitDelayMs({ retryAfter: '7', date }, 0)).toBe(7_000);
    expect(rateLimitDelayMs({ retryAfter: 'Sun, 22 Nov 2026 02:00:09 GMT', date }, 0)).toBe(9_000);
    expect(
      rateLimitDelayMs({ retryAfter: '5', rateLimitReset: String(serverNow / 1000 + 20), date }, 0),
    ).toBe(20_000);
  });

  it('never returns a negative wait and returns undefined without usable headers', () => {
    expect(rateLimitDelayMs({ rateLimitReset: String(serverNow / 1000 - 5), date }, 0)).toBe(0);
    expect(rateLimitDelayMs({}, 0)).toBeUndefined();
    expect(rateLimitDelayMs({ retryAfter: 'soon', rateLimitReset: 'later' }, 0)).toBeUndefined();
  });
});
