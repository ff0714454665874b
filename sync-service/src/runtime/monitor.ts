import { evaluateAlerts, type AlertInput, type AlertThresholds } from '../alerts/rules.js';
import type { Notifier } from '../alerts/notifier.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';
import type { AuditVerificationResult } from './audit-check.js';

/**
 * Gathers the alert rules' input from the running service every `everyMs` (counts from the store,
 * budgets from the clients, the last audit verification, the data map as it is on disk now) and
 * hands the alerts that hold to the notifier. Reading the data map from disk each time means an edit
 * that was not signed off alerts before the next restart refuses it.
 */
export interface MonitorSources {
  readonly store: Pick<Store, 'listDeadLetters' | 'outboxStats' | 'listRuns'>;
  readonly clinikoStats: () => {
    readonly rateLimited: number;
    readonly budget: { used: number; limit: number };
  };
  readonly salesforceUsage: () => { readonly used: number; readonly max: number } | undefined;
  /** Re-checks the data map file's sign-off. */
  readonly dataMapCheck: () => Promise<{ ok: boolean; message?: string }>;
  readonly auditResult: () => AuditVerificationResult | null;
  readonly paused: () => boolean;
  readonly now: () => number;
  readonly startedAt: number;
}

export function createMonitor(
  sources: MonitorSources,
  notifier: Notifier,
  thresholds: AlertThresholds,
  deps: { logger: Logger; everyMs?: number },
) {
  const log = deps.logger.child({ module: 'monitor' });
  let lastRateLimited = sources.clinikoStats().rateLimited;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function gather(): Promise<AlertInput> {
    const now = sources.now();
    const [stats, dead, runs, dataMap] = await Promise.all([
      sources.store.outboxStats(now),
      sources.store.listDeadLetters({ limit: 20 }),
      sources.store.listRuns({ limit: 100 }),
      sources.dataMapCheck().catch((err: unknown) => ({
        ok: false,
        message: err instanceof Error ? err.message : 'the data map could not be read',
      })),
    ]);
    const success = runs.find(
      (r) =>
        (r.mode === 'incremental' || r.mode === 'backfill') &&
        (r.status === 'succeeded' || r.status === 'partial') &&
        r.finishedAt !== null,
    );
    const cliniko = sources.clinikoStats();
    const rateLimited = Math.max(0, cliniko.rateLimited - lastRateLimited);
    lastRateLimited = cliniko.rateLimited;
    const audit = sources.auditResult();
    return {
      now,
      startedAt: sources.startedAt,
      deadLetters: { count: stats.deadLettered, keys: dead.map((d) => `${d.object} ${d.externalId}`) },
      lastSuccessAt: success?.finishedAt ?? null,
      clinikoRateLimited: rateLimited,
      clinikoBudget: cliniko.budget,
      salesforce: sources.salesforceUsage(),
      dataMap,
      audit: audit ? { ok: audit.ok, brokenAtSeq: audit.brokenAtSeq } : null,
      paused: sources.paused(),
    };
  }

  function evaluate(): Promise<void> {
    running ??= (async () => {
      const input = await gather();
      await notifier.update(evaluateAlerts(input, thresholds));
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    evaluate,
    start(): void {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        evaluate().catch((err: unknown) => log.warn({ err }, 'alert evaluation failed'));
      }, deps.everyMs ?? 60_000);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
  };
}

export type Monitor = ReturnType<typeof createMonitor>;
