import { describe, expect, it } from 'vitest';
import type { OutboxStats } from '../store/index.js';
import {
  cachedProbe,
  HEALTH_CACHE_MS,
  HEALTH_PROBE_CALLS_PER_MINUTE,
  queueCheck,
  schedulerCheck,
  STALE_QUEUE_INTERVALS,
} from './health.js';

const T = Date.parse('2026-11-22T00:00:00.000Z');
const stats = (over: Partial<OutboxStats>): { outboxStats: () => Promise<OutboxStats> } => ({
  outboxStats: () =>
    Promise.resolve({
      pending: 0,
      retrying: 0,
      blocked: 0,
      deadLettered: 0,
      quarantined: 0,
      oldestPendingAt: null,
      ...over,
    }),
});

describe('/health job queue check', () => {
  it('is ok with a fresh queue, degraded with dead letters or a stale pending item', async () => {
    expect(await queueCheck(stats({ pending: 3, oldestPendingAt: T - 1_000 }), T, 60_000)).toEqual({
      status: 'ok',
      pending: 3,
      failed: 0,
    });
    expect(await queueCheck(stats({ deadLettered: 2 }), T, 60_000)).toEqual({
      status: 'degraded',
      pending: 0,
      failed: 2,
    });
    const stale = T - STALE_QUEUE_INTERVALS * 60_000 - 1;
    expect((await queueCheck(stats({ pending: 1, oldestPendingAt: stale }), T, 60_000)).status).toBe(
      'degraded',
    );
  });

  it('propagates an unreachable store (the health route turns it into error)', async () => {
    await expect(
      queueCheck({ outboxStats: () => Promise.reject(new Error('down')) }, T, 60_000),
    ).rejects.toThrow('down');
  });
});

describe('/health scheduler check', () => {
  it('reports the next poll, degraded when long overdue, error when nothing is planned', () => {
    expect(schedulerCheck({ nextRun: () => T + 5_000 }, T, 60_000)).toEqual({
      status: 'ok',
      nextRun: '2026-11-22T00:00:05.000Z',
    });
    expect(schedulerCheck({ nextRun: () => T - 121_000 }, T, 60_000).status).toBe('degraded');
    expect(schedulerCheck({ nextRun: () => null }, T, 60_000)).toEqual({ status: 'error', nextRun: null });
  });
});

describe('cachedProbe (the /health API-call bound)', () => {
  it('asks once per interval however often it is called, sharing the answer in flight', async () => {
    let t = 0;
    let calls = 0;
    const probe = cachedProbe(
      () => {
        calls += 1;
        return new Promise<'ok'>((resolve) => setTimeout(() => resolve('ok'), 5));
      },
      HEALTH_CACHE_MS,
      () => t,
    );
    // A burst while the first probe is in flight starts one probe.
    expect(await Promise.all(Array.from({ length: 50 }, () => probe()))).toEqual(Array(50).fill('ok'));
    expect(calls).toBe(1);
    // One call every 100 ms for two minutes: at most the bound per minute.
    for (t = 0; t < 120_000; t += 100) await probe();
    expect(calls).toBeLessThanOrEqual(2 * HEALTH_PROBE_CALLS_PER_MINUTE);
    expect(calls).toBeGreaterThanOrEqual(2 * HEALTH_PROBE_CALLS_PER_MINUTE - 1);
  });

  it('caches a failure too, and asks again once the interval has passed', async () => {
    let t = 0;
    let calls = 0;
    const probe = cachedProbe(
      () => {
        calls += 1;
        return Promise.reject(new Error('down'));
      },
      HEALTH_CACHE_MS,
      () => t,
    );
    await expect(probe()).rejects.toThrow('down');
    await expect(probe()).rejects.toThrow('down');
    expect(calls).toBe(1);
    t = HEALTH_CACHE_MS;
    await expect(probe()).rejects.toThrow('down');
    expect(calls).toBe(2);
  });

  it('control: without a cache interval every call is a probe', async () => {
    let calls = 0;
    const probe = cachedProbe(
      () => {
        calls += 1;
        return Promise.resolve('ok');
      },
      0,
      () => 0,
    );
    for (let i = 0; i < 120; i += 1) await probe();
    expect(calls).toBe(120);
  });
});
