import type { FastifyPluginCallback } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TransportStats } from '../cliniko/transport.js';
import type { ApiUsage } from '../salesforce/writer.js';
import type { OutboxStats, Watermark } from '../store/index.js';
import type { JobOutcome } from '../runtime/scheduler.js';
import type { AdminToken } from '../config/index.js';
import { requireRole } from './auth.js';

/**
 * Prometheus metrics. Labels are limited to object names (e.g. `Contact`), stream names, run modes and
 * outcomes: never record ids, external ids or field values, so the endpoint cannot leak patient data.
 * Counters of records come from run summaries; gauges are read from their sources at scrape time.
 */
export interface MetricSources {
  readonly clinikoStats?: () => TransportStats;
  readonly salesforceUsage?: () => ApiUsage | undefined;
  readonly salesforceCalls?: () => number;
  readonly outboxStats?: (now: number) => Promise<OutboxStats>;
  readonly watermarks?: () => Promise<Watermark[]>;
  readonly nextRun?: () => number | null;
  readonly now?: () => number;
  /** Console hook: whether an operator paused automatic sync (runtime/control.ts). */
  readonly paused?: () => boolean;
}

const PREFIX = 'cliniko_sync_';
const OUTCOMES = [
  ['read', 'read'],
  ['written', 'written'],
  ['skipped', 'skipped'],
  ['quarantined', 'quarantined'],
  ['deadLettered', 'dead_lettered'],
] as const;

export function createMetrics(sources: MetricSources, options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  const now = sources.now ?? Date.now;
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  // Registration order is the order of the exposition: jobs, Cliniko, Salesforce, outbox, streams, scheduler.
  const recordJob = registerJobMetrics(registry, sources);
  registerClinikoMetrics(registry, sources);
  registerSalesforceMetrics(registry, sources);
  registerOutboxMetrics(registry, sources, now);
  registerProgressMetrics(registry, sources, now);
  return {
    registry,
    /** Folds a finished job into the counters. */
    recordJob,
  };
}

/** Counters and gauges fed by finished scheduler jobs; returns the function that feeds them. */
function registerJobMetrics(registry: Registry, sources: MetricSources): (outcome: JobOutcome) => void {
  const records = new Counter({
    name: `${PREFIX}records_total`,
    help: 'Records processed by sync runs, by Salesforce object and outcome (read, written, skipped, quarantined, dead_lettered).',
    labelNames: ['object', 'outcome'],
    registers: [registry],
  });
  const runs = new Counter({
    name: `${PREFIX}runs_total`,
    help: 'Finished scheduler jobs by kind and status.',
    labelNames: ['kind', 'status'],
    registers: [registry],
  });
  const runDuration = new Histogram({
    name: `${PREFIX}run_duration_seconds`,
    help: 'Duration of scheduler jobs by kind.',
    labelNames: ['kind'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
    registers: [registry],
  });
  const skippedForLease = new Counter({
    name: `${PREFIX}jobs_skipped_for_lease_total`,
    help: 'Jobs this instance skipped because another instance held the scheduler lease (PostgreSQL).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const lastRunFinished = new Gauge({
    name: `${PREFIX}last_run_finished_timestamp_seconds`,
    help: 'When the last job of each kind finished (Unix seconds).',
    labelNames: ['kind'],
    registers: [registry],
  });

  // Console/alerting hooks: the last successful cycle (what "no successful run for N minutes" alerts
  // on) and the pause switch.
  const lastSuccess = new Gauge({
    name: `${PREFIX}last_success_timestamp_seconds`,
    help: 'When the last sync cycle (incremental or backfill) finished succeeded or partial (Unix seconds).',
    registers: [registry],
  });
  new Gauge({
    name: `${PREFIX}paused`,
    help: '1 while an operator has paused automatic sync, else 0.',
    registers: [registry],
    collect() {
      if (sources.paused) this.set(sources.paused() ? 1 : 0);
    },
  });

  return (outcome) => {
    if (outcome.error === 'leased-elsewhere') {
      skippedForLease.inc({ kind: outcome.kind });
      return;
    }
    const status = outcome.summary?.status ?? (outcome.error ? 'failed' : 'succeeded');
    runs.inc({ kind: outcome.kind, status });
    runDuration.observe({ kind: outcome.kind }, Math.max(0, (outcome.finishedAt - outcome.startedAt) / 1000));
    lastRunFinished.set({ kind: outcome.kind }, outcome.finishedAt / 1000);
    if (
      (outcome.kind === 'incremental' || outcome.kind === 'backfill') &&
      (status === 'succeeded' || status === 'partial')
    )
      lastSuccess.set(outcome.finishedAt / 1000);
    for (const [object, counts] of Object.entries(outcome.summary?.counts ?? {})) {
      for (const [field, label] of OUTCOMES) {
        if (counts[field] > 0) records.inc({ object, outcome: label }, counts[field]);
      }
    }
  };
}

/** The Cliniko client's budget (gauges) and its totals since start (counters set at scrape). */
function registerClinikoMetrics(registry: Registry, sources: MetricSources): void {
  new Gauge({
    name: `${PREFIX}cliniko_budget_used`,
    help: 'Cliniko requests granted in the current rolling window.',
    registers: [registry],
    collect() {
      const stats = sources.clinikoStats?.();
      if (stats) this.set(stats.budget.used);
    },
  });
  new Gauge({
    name: `${PREFIX}cliniko_budget_limit`,
    help: 'Cliniko requests allowed per rolling window (CLINIKO_REQUESTS_PER_MINUTE).',
    registers: [registry],
    collect() {
      const stats = sources.clinikoStats?.();
      if (stats) this.set(stats.budget.limit);
    },
  });
  // Totals kept by the Cliniko client since start, exposed as counters (set from the source at scrape).
  const clinikoTotals: Array<[string, string, (s: TransportStats) => number]> = [
    ['cliniko_requests_total', 'HTTP requests sent to Cliniko (every attempt).', (s) => s.requests],
    ['cliniko_retries_total', 'Cliniko requests retried.', (s) => s.retries],
    ['cliniko_rate_limited_total', 'Cliniko 429 answers.', (s) => s.rateLimited],
    ['cliniko_budget_waits_total', 'Cliniko requests that waited for the budget.', (s) => s.budget.waits],
    [
      'cliniko_budget_wait_seconds_total',
      'Seconds spent waiting for the Cliniko budget.',
      (s) => s.budget.waitedMs / 1000,
    ],
  ];
  for (const [name, help, pick] of clinikoTotals) {
    new Counter({
      name: `${PREFIX}${name}`,
      help,
      registers: [registry],
      collect() {
        const stats = sources.clinikoStats?.();
        if (!stats) return;
        this.reset();
        this.inc(pick(stats));
      },
    });
  }
}

/** Salesforce's daily API allowance (from Sforce-Limit-Info) and the calls this process made. */
function registerSalesforceMetrics(registry: Registry, sources: MetricSources): void {
  new Gauge({
    name: `${PREFIX}salesforce_api_requests_used`,
    help: 'Salesforce daily API requests used, from the last Sforce-Limit-Info header.',
    registers: [registry],
    collect() {
      const usage = sources.salesforceUsage?.();
      if (usage) this.set(usage.used);
    },
  });
  new Gauge({
    name: `${PREFIX}salesforce_api_requests_max`,
    help: 'Salesforce daily API request allowance, from the last Sforce-Limit-Info header.',
    registers: [registry],
    collect() {
      const usage = sources.salesforceUsage?.();
      if (usage) this.set(usage.max);
    },
  });
  new Counter({
    name: `${PREFIX}salesforce_calls_total`,
    help: 'REST and Bulk API calls this process made to Salesforce.',
    registers: [registry],
    collect() {
      if (!sources.salesforceCalls) return;
      this.reset();
      this.inc(sources.salesforceCalls());
    },
  });
}

/** The outbox, dead letters and quarantine, read from the store at scrape time. */
function registerOutboxMetrics(registry: Registry, sources: MetricSources, now: () => number): void {
  new Gauge({
    name: `${PREFIX}outbox_items`,
    help: 'Items in the outbox, dead-letter queue and quarantine, by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!sources.outboxStats) return;
      // An unreachable store must not take the whole scrape down: its series go absent instead.
      const stats = await sources.outboxStats(now()).catch(() => undefined);
      this.reset();
      if (!stats) return;
      this.set({ state: 'pending' }, stats.pending);
      this.set({ state: 'retrying' }, stats.retrying);
      this.set({ state: 'dead_lettered' }, stats.deadLettered);
      this.set({ state: 'quarantined' }, stats.quarantined);
    },
  });
  new Gauge({
    name: `${PREFIX}outbox_oldest_pending_age_seconds`,
    help: 'Age of the oldest pending outbox item (0 when the outbox is empty).',
    registers: [registry],
    async collect() {
      if (!sources.outboxStats) return;
      const stats = await sources.outboxStats(now()).catch(() => undefined);
      this.reset();
      if (!stats) return;
      this.set(stats.oldestPendingAt === null ? 0 : Math.max(0, (now() - stats.oldestPendingAt) / 1000));
    },
  });
}

/** How far behind each stream is, and when the scheduler polls next. */
function registerProgressMetrics(registry: Registry, sources: MetricSources, now: () => number): void {
  new Gauge({
    name: `${PREFIX}stream_lag_seconds`,
    help: "Seconds between now and each Cliniko stream's watermark (how far behind the sync is).",
    labelNames: ['stream'],
    registers: [registry],
    async collect() {
      if (!sources.watermarks) return;
      this.reset();
      for (const w of (await sources.watermarks().catch(() => undefined)) ?? []) {
        const at = Date.parse(w.cursor);
        if (Number.isFinite(at)) this.set({ stream: w.stream }, Math.max(0, (now() - at) / 1000));
      }
    },
  });
  new Gauge({
    name: `${PREFIX}scheduler_next_run_timestamp_seconds`,
    help: 'When the next poll is planned (Unix seconds); absent when none is.',
    registers: [registry],
    collect() {
      this.reset();
      const next = sources.nextRun?.() ?? null;
      if (next !== null) this.set(next / 1000);
    },
  });
}

export type Metrics = ReturnType<typeof createMetrics>;

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  readonly tokens: readonly AdminToken[];
}

export const metricsRoutes: FastifyPluginCallback<MetricsRouteOptions> = (app, options, done) => {
  app.get('/metrics', { onRequest: requireRole(options.tokens, 'viewer') }, async (_request, reply) => {
    const body = await options.metrics.registry.metrics();
    return reply.header('content-type', options.metrics.registry.contentType).send(body);
  });
  done();
};
