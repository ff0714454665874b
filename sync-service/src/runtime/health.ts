import type { HealthProbes, QueueCheck, SchedulerCheck, ServiceStatus } from '../http/health.js';
import type { Store } from '../store/index.js';
import type { SyncControl } from './control.js';
import type { Scheduler } from './scheduler.js';
import type { SyncService } from './wiring.js';

/** The job queue is degraded when this many poll intervals pass with an item still pending. */
export const STALE_QUEUE_INTERVALS = 5;

/** The /health job-queue check from the outbox statistics. */
export async function queueCheck(store: Pick<Store, 'outboxStats'>, now: number, pollIntervalMs: number) {
  const stats = await store.outboxStats(now);
  const stale =
    stats.oldestPendingAt !== null && now - stats.oldestPendingAt > STALE_QUEUE_INTERVALS * pollIntervalMs;
  const status: ServiceStatus = stats.deadLettered > 0 || stale ? 'degraded' : 'ok';
  return { status, pending: stats.pending, failed: stats.deadLettered } satisfies QueueCheck;
}

/** The /health scheduler check: ok while a poll is planned and not overdue; degraded while paused. */
export function schedulerCheck(
  scheduler: Pick<Scheduler, 'nextRun'>,
  now: number,
  pollIntervalMs: number,
  paused = false,
) {
  const next = scheduler.nextRun();
  // An operator's pause shows on /health (degraded, so a forgotten pause is noticed).
  if (paused) {
    return {
      status: 'degraded',
      nextRun: next === null ? null : new Date(next).toISOString(),
      paused: true,
    } satisfies SchedulerCheck;
  }
  if (next === null) return { status: 'error', nextRun: null } satisfies SchedulerCheck;
  // A poll two intervals overdue means the run in progress is far longer than planned (or stuck).
  const status: ServiceStatus = now - next > 2 * pollIntervalMs ? 'degraded' : 'ok';
  return { status, nextRun: new Date(next).toISOString() } satisfies SchedulerCheck;
}

/** Real probes of every dependency of the running service. */
export function serviceProbes(
  service: SyncService,
  scheduler: Pick<Scheduler, 'nextRun'>,
  now: () => number,
  control?: Pick<SyncControl, 'isPaused'>,
): HealthProbes {
  const pollIntervalMs = service.config.pollIntervalSeconds * 1000;
  return {
    cliniko: async () => (await service.cliniko.checkConnection()).status,
    // One cheap authenticated REST call (the org's limits), through the same session the writer uses.
    salesforce: async () => {
      await service.salesforce.connection.limits();
      return 'ok';
    },
    database: async () => ((await service.store.ping()) ? 'ok' : 'error'),
    jobQueue: () => queueCheck(service.store, now(), pollIntervalMs),
    scheduler: () => schedulerCheck(scheduler, now(), pollIntervalMs, control?.isPaused() ?? false),
  };
}
