import { createNotifier, type Notifier } from '../alerts/notifier.js';
import { sendWebhook, type Notification } from '../alerts/webhook.js';
import type { Config } from '../config/index.js';
import { checkSignoff } from '../governance/signoff.js';
import { checkHealth, type HealthProbes, type HealthReport } from '../http/health.js';
import type { Logger } from '../logger.js';
import { loadSignedDataMap, type SyncService } from './wiring.js';
import { createAuditCheck, type AuditCheck } from './audit-check.js';
import type { SyncControl } from './control.js';
import { createMonitor, type Monitor } from './monitor.js';
import type { Progress } from './progress.js';
import { createUsageHistory, type UsageHistory } from './usage-history.js';

/**
 * The operations side of the running service, composed once by server.ts: the pause control, the
 * live progress, the 24-hour API usage history, the periodic audit verification and the alert
 * monitor with its webhook. The console's overview is read from here.
 */
export interface OperationsDeps {
  readonly config: Config;
  readonly service: SyncService;
  readonly scheduler: { nextRun(): number | null; running(): string | undefined };
  readonly progress: Progress;
  readonly control: SyncControl;
  readonly probes: HealthProbes;
  readonly version: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly startedAt: number;
  /** Repository root (config/ and force-app/), as the service was given. */
  readonly rootDir: string;
  /** Overrides for tests: the webhook sender, and timer periods. */
  readonly send?: (n: Notification) => Promise<void>;
  readonly usageEveryMs?: number;
}

export interface Operations {
  readonly control: SyncControl;
  readonly progress: Progress;
  readonly usage: UsageHistory;
  readonly audit: AuditCheck;
  readonly notifier: Notifier;
  readonly monitor: Monitor;
  overview(): Promise<Record<string, unknown>>;
  start(): void;
  stop(): Promise<void>;
}

const DATA_MAP_CACHE_MS = 60_000;

export function createOperations(deps: OperationsDeps): Operations {
  const { config, service, logger, now } = deps;
  const usage = createUsageHistory(
    {
      cliniko: () => service.cliniko.stats().budget,
      salesforce: () => service.writer.apiUsage(),
      now,
    },
    deps.usageEveryMs !== undefined ? { everyMs: deps.usageEveryMs } : {},
  );
  const audit = createAuditCheck(
    { store: service.store, logger, now },
    { everyMs: config.auditVerifyMinutes * 60_000 },
  );
  const webhookUrl = config.alerts.webhookUrl;
  const send =
    deps.send ??
    (webhookUrl === undefined
      ? () => Promise.resolve() // no receiver configured: alerts are still shown on the console
      : (n: Notification) =>
          sendWebhook({ url: webhookUrl, format: config.alerts.format, source: config.alerts.source }, n));
  const notifier = createNotifier({ send, now, logger });
  // Reading the map re-parses the package's object definitions: at most once a minute, however often
  // the console refreshes.
  let mapCheck: { at: number; result: Promise<{ ok: boolean; message?: string }> } | undefined;
  const dataMapCheck = (): Promise<{ ok: boolean; message?: string }> => {
    if (!mapCheck || now() - mapCheck.at > DATA_MAP_CACHE_MS) {
      mapCheck = {
        at: now(),
        result: loadSignedDataMap(config, deps.rootDir, { allowUnsigned: true }).then(({ map }) => {
          const check = checkSignoff(map);
          return check.ok ? { ok: true } : { ok: false, message: check.message };
        }),
      };
    }
    return mapCheck.result;
  };
  const monitor = createMonitor(
    {
      store: service.store,
      clinikoStats: () => service.cliniko.stats(),
      salesforceUsage: () => service.writer.apiUsage(),
      dataMapCheck,
      auditResult: () => audit.last(),
      paused: () => deps.control.isPaused(),
      now,
      startedAt: deps.startedAt,
    },
    notifier,
    { noSuccessMs: config.alerts.noSuccessMinutes * 60_000, salesforceShare: config.alerts.salesforceShare },
    { logger, everyMs: config.alerts.checkSeconds * 1000 },
  );

  // deps.probes are the service's cached probes (health.ts, serviceProbes): the console's view and
  // /health share one cache, so a console left open spends nothing beyond /health's bound.
  function consoleHealth(): Promise<HealthReport> {
    return checkHealth({ version: deps.version, probes: deps.probes, now, startedAt: deps.startedAt });
  }

  async function overview(): Promise<Record<string, unknown>> {
    const running = checkSignoff(service.dataMap);
    const [healthReport, onDisk] = await Promise.all([
      consoleHealth(),
      dataMapCheck().catch((err: unknown) => ({
        ok: false,
        message: err instanceof Error ? err.message : 'the data map could not be read',
      })),
    ]);
    const nextRun = deps.scheduler.nextRun();
    return {
      version: deps.version,
      now: new Date(now()).toISOString(),
      health: healthReport,
      pause: deps.control.state(),
      scheduler: {
        running: deps.scheduler.running() ?? null,
        nextRun: nextRun === null ? null : new Date(nextRun).toISOString(),
        pollIntervalSeconds: config.pollIntervalSeconds,
      },
      progress: deps.progress.snapshot(),
      dataMap: {
        signed: running.ok,
        sha256: running.ok ? running.sha256 : running.currentSha256,
        approvedBy: running.approvedBy ?? null,
        approvedOn: running.approvedOn ?? null,
        onDisk,
      },
      audit: audit.last(),
      usage: usage.last24h(),
      alerts: {
        webhook: webhookUrl === undefined ? null : config.alerts.format,
        active: notifier.active().map((a) => ({
          key: a.alert.key,
          severity: a.alert.severity,
          summary: a.alert.summary,
          since: new Date(a.since).toISOString(),
          notified: a.notified,
        })),
      },
    };
  }

  return {
    control: deps.control,
    progress: deps.progress,
    usage,
    audit,
    notifier,
    monitor,
    overview,
    start() {
      usage.start();
      audit.start();
      monitor.start();
    },
    async stop() {
      usage.stop();
      deps.control.stop();
      await monitor.stop();
      await audit.stop();
    },
  };
}
