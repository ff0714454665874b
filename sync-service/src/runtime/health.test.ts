import { describe, expect, it } from 'vitest';
import type { OutboxStats } from '../store/index.js';
import { queueCheck, schedulerCheck, STALE_QUEUE_INTERVALS } from './health.js';

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
