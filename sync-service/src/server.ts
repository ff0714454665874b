/**
 * The service process: reads the environment once, wires the sync service (store, clients, signed data
 * map, runner), the scheduler and the admin API, listens, and closes gracefully on SIGTERM/SIGINT.
 * The HTTP application itself is built from injected dependencies in app.ts so tests need none of this.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { SyncError } from './errors.js';
import type { HealthProbes, QueueCheck, SchedulerCheck, ServiceStatus } from './http/health.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { createLogger, type Logger } from './logger.js';
import type { Store } from './store/index.js';
import {
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
  type SchedulerTimers,
} from './sync/scheduler.js';
import { reconcilerForService } from './sync/reconcile.js';
import { createReversePoller, resolveIntegrationUserId } from './sync/reverse.js';
import { createSyncService, type SyncService, type SyncServiceOptions } from './sync/service.js';
import { sendWebhook } from './alerts/webhook.js';
import { createSyncControl, type SyncControl } from './runtime/control.js';
import { createOperations, type Operations } from './runtime/operations.js';
import { createProgress } from './runtime/progress.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

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
  // Console hook: an operator's pause shows on /health (degraded, so a forgotten pause is noticed).
  if (paused) {
    const next = scheduler.nextRun();
    return {
      status: 'degraded',
      nextRun: next === null ? null : new Date(next).toISOString(),
      paused: true,
    } satisfies SchedulerCheck;
  }
  const next = scheduler.nextRun();
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

export interface StartServiceOptions {
  /** Passed to createSyncService (rootDir, worker timings, emulator clock...). */
  readonly service?: SyncServiceOptions;
  /** Scheduler settings beyond the config's poll interval and clinic zone. */
  readonly scheduler?: Partial<
    Pick<SchedulerOptions, 'journeyDailyAt' | 'reconcileAt' | 'reconcile' | 'runAtStart' | 'owner'>
  > & { readonly timers?: SchedulerTimers };
  /** Wall clock for health, metrics and the scheduler. */
  readonly now?: () => number;
  /** Include Node's process metrics in /metrics (default true). */
  readonly processMetrics?: boolean;
  /** Operations overrides (tests): the alert sender and the usage sampling period. */
  readonly operations?: Pick<Parameters<typeof createOperations>[0], 'send' | 'usageEveryMs'>;
}

export interface RunningService {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly service: SyncService;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  /** Pause control, live progress, usage history, audit verification and alerts (the console's data). */
  readonly operations: Operations;
  /** Stops the scheduler (awaiting the run in progress), closes the admin API, then the service. */
  close(): Promise<void>;
}

/**
 * Starts the whole service for a parsed config: sync service, scheduler, admin API listening on
 * config.http. Used by the process below, `npm run sync -- run` and the demo.
 */
export async function startService(
  config: Config,
  logger: Logger,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  // Console hooks: the runner reports each page read and the outbox worker each write to `progress`.
  // The Cliniko client exists only once the service is built; until then the configured budget.
  const budget: { of?: () => { limit: number; windowMs: number } } = {};
  const progress = createProgress({
    now,
    budget: () => budget.of?.() ?? { limit: config.cliniko.requestsPerMinute, windowMs: 60_000 },
  });
  const callerProgress = options.service?.onProgress;
  const service = await createSyncService(config, logger, {
    ...options.service,
    onProgress: (p) => {
      progress.read(p);
      callerProgress?.(p);
    },
    worker: { ...options.service?.worker, onWritten: (object, n) => progress.written(object, n) },
  });
  budget.of = () => service.cliniko.stats().budget;
  const control = createSyncControl({ store: service.store, logger, now });
  try {
    await control.start();
  } catch (err) {
    await service.close();
    throw err;
  }
  // Contact details edited in Salesforce flow back after each incremental cycle (fields the map marks
  // `both`; consent only as a recorded opt-out), so the forward read that precedes it is fresh.
  const writeback = createReversePoller({
    store: service.store,
    cliniko: service.cliniko,
    connection: service.salesforce.connection,
    dataMap: service.dataMap,
    integrationUserId: await resolveIntegrationUserId(service.salesforce.connection),
    logger,
    now: options.service?.now ?? Date.now,
  });
  const runner = {
    async runCycle(mode: Parameters<typeof service.runner.runCycle>[0]) {
      progress.begin(mode);
      const summary = await service.runner.runCycle(mode);
      if (mode === 'incremental' && summary.status !== 'skipped' && summary.status !== 'failed') {
        await writeback
          .poll()
          .catch((err: unknown) => logger.warn({ err }, 'write-back poll failed; retried next cycle'));
      }
      return summary;
    },
    runJourneyDaily: () => {
      progress.begin('journey-daily');
      return service.runner.runJourneyDaily();
    },
  };
  // Nightly: read Salesforce edits first (reconciliation rewrites every synced field that differs from
  // Cliniko, and would otherwise undo an edit that has not flowed back yet), then repair drift and take
  // the consent and access snapshots.
  const reconciler = reconcilerForService(service, logger, options.service?.now ?? Date.now);
  const reconcile = async (): Promise<unknown> => {
    progress.begin('reconcile');
    await writeback.poll();
    const report = await reconciler.reconcile();
    logger.info({ status: report.status }, 'nightly reconciliation finished');
    return report;
  };
  const scheduler = createScheduler(
    {
      runner,
      store: service.store,
      logger,
      now,
      isPaused: () => control.isPaused(),
      ...(options.scheduler?.timers ? { timers: options.scheduler.timers } : {}),
    },
    {
      pollIntervalSeconds: config.pollIntervalSeconds,
      clinicTimezone: config.clinicTimezone,
      useLease: service.store.kind === 'postgres',
      journeyDailyAt: config.journeyDailyAt,
      reconcileAt: config.reconcileAt,
      reconcile,
      ...options.scheduler,
      // Jobs only finish after start(), by which time `metrics` exists.
      onJobFinished: (outcome) => {
        metrics.recordJob(outcome);
        if (outcome.error !== 'leased-elsewhere') {
          progress.end(outcome.summary?.status ?? (outcome.error ? 'failed' : 'succeeded'));
          // Alerts follow a job at once (dead letters it left, a success that resolves "no success").
          operations.monitor
            .evaluate()
            .catch((err: unknown) => logger.warn({ err }, 'alert evaluation failed'));
        }
      },
    },
  );
  const metrics: Metrics = createMetrics(
    {
      clinikoStats: () => service.cliniko.stats(),
      salesforceUsage: () => service.writer.apiUsage(),
      salesforceCalls: () => service.writer.calls(),
      outboxStats: (at) => service.store.outboxStats(at),
      watermarks: () => service.store.listWatermarks(),
      nextRun: () => scheduler.nextRun(),
      paused: () => control.isPaused(),
      now,
    },
    { defaultMetrics: options.processMetrics !== false },
  );
  const probes = serviceProbes(service, scheduler, now, control);
  const operations = createOperations({
    config,
    service,
    scheduler,
    progress,
    control,
    probes,
    version: packageVersion(),
    logger,
    now,
    startedAt,
    rootDir: options.service?.rootDir ?? process.cwd(),
    ...options.operations,
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      config,
      logger,
      version: packageVersion(),
      probes,
      admin: {
        store: service.store,
        trigger: (mode) => scheduler.trigger(mode),
        journeyConfig: service.journeyConfig,
        metrics,
        control,
        overview: () => operations.overview(),
      },
      now,
      startedAt,
    });
    const url = await app.listen({ host: config.http.host, port: config.http.port });
    if (config.adminTokens.length === 0) {
      logger.warn({}, 'ADMIN_TOKENS is empty: every admin route except /health answers 401');
    }
    scheduler.start();
    operations.start();
    logger.info({ url, pollIntervalSeconds: config.pollIntervalSeconds }, 'sync service running');
    const running = app;
    let closing: Promise<void> | undefined;
    return {
      url,
      app: running,
      service,
      scheduler,
      metrics,
      operations,
      close() {
        closing ??= (async () => {
          await operations.stop();
          await scheduler.stop();
          await running.close();
          await service.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close();
    await operations.stop();
    await service.close();
    throw err;
  }
}

/** Prints a startup failure the operator can act on; never a stack for known failures. */
export function describeStartupError(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof SyncError) return `${err.code}: ${err.message}`;
  return `fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/**
 * A data map refused at start stops the service before its monitor runs: the alert webhook hears it
 * here instead (once per failed start; the process manager's restarts repeat it, which is wanted).
 */
export async function alertRefusedDataMap(config: Config, err: unknown): Promise<void> {
  const url = config.alerts.webhookUrl;
  if (url === undefined || !(err instanceof SyncError) || err.code !== 'DATA_MAP_NOT_SIGNED') return;
  await sendWebhook(
    { url, format: config.alerts.format, source: config.alerts.source },
    {
      status: 'firing',
      alert: {
        key: 'data-map-refused',
        severity: 'critical',
        summary: `the service refused to start: ${err.message}`,
        details: { code: err.code },
      },
      startsAt: new Date().toISOString(),
    },
  ).catch((sendErr: unknown) =>
    console.error(`alert webhook: ${sendErr instanceof Error ? sendErr.message : 'not sent'}`),
  );
}

/**
 * Runs the service until SIGTERM/SIGINT. Resolves to the exit code (0 after a clean shutdown, 1 when
 * it cannot start). Shared by this file's main and `npm run sync -- run`.
 */
export async function runForeground(env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    console.error(describeStartupError(err));
    return 1;
  }
  const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY === true });
  let running: RunningService;
  try {
    running = await startService(config, logger);
  } catch (err) {
    console.error(describeStartupError(err));
    await alertRefusedDataMap(config, err);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let closing = false;
    const shutdown = (signal: string): void => {
      if (closing) {
        logger.info({ signal }, 'already shutting down');
        return;
      }
      closing = true;
      logger.info({ signal }, 'shutting down: waiting for the run in progress');
      running.close().then(
        () => {
          logger.info({}, 'stopped');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    // `on`, not `once`: the listener must stay registered while closing, or a wrapper such as tsx sees
    // no handler left and ends the process with 128+signal before the run in progress is awaited.
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runForeground(process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(describeStartupError(err));
      process.exit(1);
    },
  );
}
