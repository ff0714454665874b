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

/**
 * How long a Cliniko or Salesforce probe's answer is reused. Each of those probes spends an API request
 * (a Cliniko budget slot; a Salesforce call against the daily allowance) and `/health` is open to
 * anyone who can reach the port, so however often it (or the console) is called, each dependency is
 * asked at most HEALTH_PROBE_CALLS_PER_MINUTE times in any 60 s.
 */
export const HEALTH_CACHE_MS = 15_000;
export const HEALTH_PROBE_CALLS_PER_MINUTE = Math.ceil(60_000 / HEALTH_CACHE_MS);

/**
 * A probe whose answer (or failure) is reused for `ttlMs` from the moment it was asked, and shared by
 * every caller while it is in flight: a burst of requests starts one probe, not one each. A failure is
 * cached like a success, so a failing dependency is not hammered either.
 */
export function cachedProbe<T>(probe: () => Promise<T>, ttlMs: number, now: () => number): () => Promise<T> {
  let last: { at: number; answer: Promise<T> } | undefined;
  return () => {
    const at = now();
    if (last === undefined || at - last.at >= ttlMs) {
      const answer = probe();
      // Callers may all have timed out before it settles: the rejection is observed here.
      answer.catch(() => undefined);
      last = { at, answer };
    }
    return last.answer;
  };
}

/**
 * Probes of every dependency of the running service. Cliniko and Salesforce answers are cached for
 * `cacheMs` (default HEALTH_CACHE_MS); the store, queue and scheduler checks cost no API call and are
 * always fresh (a dead letter or a pause shows at once).
 */
export function serviceProbes(
  service: SyncService,
  scheduler: Pick<Scheduler, 'nextRun'>,
  now: () => number,
  control?: Pick<SyncControl, 'isPaused'>,
  cacheMs = HEALTH_CACHE_MS,
): HealthProbes {
  const pollIntervalMs = service.config.pollIntervalSeconds * 1000;
  return {
    cliniko: cachedProbe(async () => (await service.cliniko.checkConnection()).status, cacheMs, now),
    // One cheap authenticated REST call (the org's limits), through the same session the writer uses.
    salesforce: cachedProbe(
      async () => {
        await service.salesforce.connection.limits();
        return 'ok' as const;
      },
      cacheMs,
      now,
    ),
    database: async () => ((await service.store.ping()) ? 'ok' : 'error'),
    jobQueue: () => queueCheck(service.store, now(), pollIntervalMs),
    scheduler: () => schedulerCheck(scheduler, now(), pollIntervalMs, control?.isPaused() ?? false),
  };
}
