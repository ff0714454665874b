import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import type { Config } from '../config/index.js';
import { createMetrics, type Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { DATA_STREAMS } from '../sync/cycle/context.js';
import { reconcilerForService } from '../sync/reconcile/index.js';
import { createReversePoller, resolveIntegrationUserId } from '../sync/writeback/index.js';
import { createSyncControl, type SyncControl } from './control.js';
import { serviceProbes } from './health.js';
import { createOperations, type Operations } from './operations.js';
import { createProgress, type Progress } from './progress.js';
import { createPollPace } from './poll-pace.js';
import {
  createScheduler,
  type Scheduler,
  type SchedulerOptions,
  type SchedulerRunner,
  type SchedulerTimers,
} from './scheduler.js';
import { createSyncService, type SyncService, type SyncServiceOptions } from './wiring.js';

/**
 * Starts the whole service for a parsed config: the wired sync service, its jobs (cycle plus
 * write-back, reminder job, daily journey pass, nightly reconciliation), the scheduler, metrics and the admin API
 * listening on config.http. Used by the process (server.ts), `npm run sync -- run`, the demo and tests.
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export interface StartServiceOptions {
  /** Passed to createSyncService (rootDir, worker timings, emulator clock...). */
  readonly service?: SyncServiceOptions;
  /** Scheduler settings beyond the config's poll interval and clinic zone. */
  readonly scheduler?: Partial<
    Pick<
      SchedulerOptions,
      'journeyDailyAt' | 'reconcileAt' | 'reconcile' | 'runAtStart' | 'owner' | 'remindersIntervalSeconds'
    >
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

export async function startService(
  config: Config,
  logger: Logger,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const { service, progress } = await progressedService(config, logger, options, now);
  const control = await startedControl(service, logger, now);
  const jobs = await serviceJobs(service, logger, options.service?.now ?? Date.now, progress);
  // Jobs only finish after start(), by which time `metrics` and `operations` exist.
  const scheduler = serviceScheduler(service, logger, now, options, jobs, control, (outcome) => {
    metrics.recordJob(outcome);
    if (outcome.error === 'leased-elsewhere') return;
    // The reminder job leaves the progress display to the sync jobs; an idle one (nothing due, no run
    // recorded: most minutes) leaves the alerts alone too.
    if (outcome.kind === 'reminders' && !outcome.error && outcome.summary?.runId === '-') return;
    if (outcome.kind !== 'reminders')
      progress.end(outcome.summary?.status ?? (outcome.error ? 'failed' : 'succeeded'));
    // Alerts follow a job at once (dead letters it left, a success that resolves "no success").
    operations.monitor.evaluate().catch((err: unknown) => logger.warn({ err }, 'alert evaluation failed'));
  });
  const metrics = serviceMetrics(service, scheduler, now, options.processMetrics !== false, control);
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
    const url = await listen(app, config, logger);
    scheduler.start();
    operations.start();
    logger.info({ url, pollIntervalSeconds: config.pollIntervalSeconds }, 'sync service running');
    return running(url, app, service, scheduler, metrics, operations);
  } catch (err) {
    await app?.close();
    await operations.stop();
    await service.close();
    throw err;
  }
}

/**
 * The wired service, with the console's live progress fed by the runner (each page read) and the
 * outbox worker (each write). The Cliniko client exists only once the service is built; until then the
 * progress estimates with the configured budget.
 */
async function progressedService(
  config: Config,
  logger: Logger,
  options: StartServiceOptions,
  now: () => number,
): Promise<{ service: SyncService; progress: Progress }> {
  const budget: { of?: () => { limit: number; windowMs: number } } = {};
  const progress = createProgress({
    now,
    budget: () => budget.of?.() ?? { limit: config.cliniko.requestsPerMinute, windowMs: 60_000 },
  });
  const callerProgress = options.service?.onProgress;
  const service = await createSyncService(config, logger, {
    reclaimLeases: true,
    ...options.service,
    onProgress: (p) => {
      progress.read(p);
      callerProgress?.(p);
    },
    worker: { ...options.service?.worker, onWritten: (object, n) => progress.written(object, n) },
  });
  budget.of = () => service.cliniko.stats().budget;
  return { service, progress };
}

/** The pause switch, read back from the audit log before the scheduler starts. */
async function startedControl(service: SyncService, logger: Logger, now: () => number): Promise<SyncControl> {
  const control = createSyncControl({ store: service.store, logger, now });
  try {
    await control.start();
  } catch (err) {
    await service.close();
    throw err;
  }
  return control;
}

/**
 * The scheduled jobs around the runner. Contact details edited in Salesforce flow back after each
 * incremental cycle (fields the map marks `both`; consent only as a recorded opt-out), so the forward
 * read that precedes it is fresh. Nightly: read Salesforce edits first (reconciliation rewrites every
 * synced field that differs from Cliniko, and would otherwise undo an edit that has not flowed back
 * yet), then repair drift and take the consent and access snapshots.
 */
async function serviceJobs(
  service: SyncService,
  logger: Logger,
  now: () => number,
  progress: Progress,
): Promise<{ runner: SchedulerRunner; reconcile: () => Promise<unknown> }> {
  const writeback = createReversePoller({
    store: service.store,
    cliniko: service.cliniko,
    connection: service.salesforce.connection,
    dataMap: service.dataMap,
    integrationUserId: await resolveIntegrationUserId(service.salesforce.connection),
    logger,
    now,
  });
  const runner: SchedulerRunner = {
    async runCycle(mode) {
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
    // Stored facts only: no Cliniko read and no write-back poll. A job of milliseconds every minute:
    // the console's progress keeps showing the sync jobs (its runs are listed with the others).
    runReminders: () => service.runner.runReminders(),
  };
  const reconciler = reconcilerForService(service, logger, now);
  const reconcile = async (): Promise<unknown> => {
    progress.begin('reconcile');
    await writeback.poll();
    const report = await reconciler.reconcile();
    logger.info({ status: report.status }, 'nightly reconciliation finished');
    return report;
  };
  return { runner, reconcile };
}

function serviceScheduler(
  service: SyncService,
  logger: Logger,
  now: () => number,
  options: StartServiceOptions,
  jobs: { runner: SchedulerRunner; reconcile: () => Promise<unknown> },
  control: Pick<SyncControl, 'isPaused'>,
  onJobFinished: SchedulerOptions['onJobFinished'],
): Scheduler {
  const { config } = service;
  return createScheduler(
    {
      runner: jobs.runner,
      store: service.store,
      logger,
      now,
      isPaused: () => control.isPaused(),
      ...(options.scheduler?.timers ? { timers: options.scheduler.timers } : {}),
    },
    {
      pollIntervalSeconds: config.pollIntervalSeconds,
      pace: createPollPace({
        minMs: config.pollMinSeconds * 1000,
        maxMs: config.pollIntervalSeconds * 1000,
        requestsPerMinute: config.cliniko.requestsPerMinute,
        idleShare: config.idlePollBudgetShare,
        // An idle cycle reads each data stream once (cycle/bookmarks.ts: no overlap re-read).
        baseRequests: DATA_STREAMS.length,
      }),
      clinicTimezone: config.clinicTimezone,
      useLease: service.store.kind === 'postgres',
      // The process's lease owner, so the lease heartbeat renews it and close() releases it.
      owner: service.leaseOwner,
      journeyDailyAt: config.journeyDailyAt,
      reconcileAt: config.reconcileAt,
      reconcile: jobs.reconcile,
      ...options.scheduler,
      ...(onJobFinished ? { onJobFinished } : {}),
    },
  );
}

function serviceMetrics(
  service: SyncService,
  scheduler: Scheduler,
  now: () => number,
  defaultMetrics: boolean,
  control: Pick<SyncControl, 'isPaused'>,
): Metrics {
  return createMetrics(
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
    { defaultMetrics },
  );
}

async function listen(app: FastifyInstance, config: Config, logger: Logger): Promise<string> {
  const url = await app.listen({ host: config.http.host, port: config.http.port });
  if (config.adminTokens.length === 0) {
    logger.warn({}, 'ADMIN_TOKENS is empty: every admin route except /health answers 401');
  }
  return url;
}

function running(
  url: string,
  app: FastifyInstance,
  service: SyncService,
  scheduler: Scheduler,
  metrics: Metrics,
  operations: Operations,
): RunningService {
  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    service,
    scheduler,
    metrics,
    operations,
    close() {
      closing ??= (async () => {
        // A drain in progress ends after the group it is writing (no new writes start); the scheduler
        // then awaits the job, and service.close() releases whatever this process still holds.
        service.worker.stop();
        await operations.stop();
        await scheduler.stop();
        await app.close();
        await service.close();
      })();
      return closing;
    },
  };
}
