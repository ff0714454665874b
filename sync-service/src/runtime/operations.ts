import { createNotifier, type Notifier } from '../alerts/notifier.js';
import { sendWebhook, type Notification } from '../alerts/webhook.js';
import type { Config } from '../config/index.js';
import { checkSignoff, type SignoffTrust } from '../governance/signoff.js';
import { loadSignoffTrust } from '../governance-io/signing.js';
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
  const notifier = createNotifier({ send: alertSender(config, deps.send), now, logger });
  const dataMapCheck = dataMapChecker(config, deps.rootDir, now);
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
  const parts = { usage, audit, notifier, dataMapCheck, consoleHealth: consoleHealthOf(deps) };
  return {
    control: deps.control,
    progress: deps.progress,
    usage,
    audit,
    notifier,
    monitor,
    overview: overviewOf(deps, parts),
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

type DataMapState = { ok: boolean; message?: string };

/** Where alerts go: the configured webhook, or nowhere (they are still shown on the console). */
function alertSender(config: Config, override: OperationsDeps['send']): (n: Notification) => Promise<void> {
  if (override) return override;
  const url = config.alerts.webhookUrl;
  if (url === undefined) return () => Promise.resolve();
  return (n) => sendWebhook({ url, format: config.alerts.format, source: config.alerts.source }, n);
}

/**
 * Whether the map on disk still matches a valid sign-off. Reading the map re-parses the package's field
 * catalogue and the approver registry: at most once a minute, however often the console refreshes.
 */
function dataMapChecker(config: Config, rootDir: string, now: () => number): () => Promise<DataMapState> {
  let mapCheck: { at: number; result: Promise<DataMapState> } | undefined;
  return () => {
    if (!mapCheck || now() - mapCheck.at > DATA_MAP_CACHE_MS) {
      mapCheck = {
        at: now(),
        result: loadSignedDataMap(config, rootDir, { allowUnsigned: true }).then(async ({ map }) => {
          const check = checkSignoff(map, await loadSignoffTrust(config, rootDir));
          return check.ok ? { ok: true } : { ok: false, message: check.message };
        }),
      };
    }
    return mapCheck.result;
  };
}

/**
 * The console's health view: `deps.probes` are the service's cached probes (runtime/health.ts,
 * serviceProbes), so the console and /health share one cache and a console left open spends nothing
 * beyond /health's bound.
 */
function consoleHealthOf(deps: OperationsDeps): () => Promise<HealthReport> {
  return () =>
    checkHealth({ version: deps.version, probes: deps.probes, now: deps.now, startedAt: deps.startedAt });
}

interface OverviewParts {
  readonly usage: UsageHistory;
  readonly audit: AuditCheck;
  readonly notifier: Notifier;
  readonly dataMapCheck: () => Promise<DataMapState>;
  readonly consoleHealth: () => Promise<HealthReport>;
}

/** Everything the console shows at a glance, in one document (`GET /console/api/overview`). */
function overviewOf(deps: OperationsDeps, parts: OverviewParts): () => Promise<Record<string, unknown>> {
  const { config, service, now } = deps;
  // The approvers the running map was checked against at start (config/approvers.yaml, read once).
  let startTrust: Promise<SignoffTrust> | undefined;
  return async () => {
    const running = checkSignoff(
      service.dataMap,
      await (startTrust ??= loadSignoffTrust(config, deps.rootDir)),
    );
    const [healthReport, onDisk] = await Promise.all([
      parts.consoleHealth(),
      parts.dataMapCheck().catch((err: unknown) => ({
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
      audit: parts.audit.last(),
      usage: parts.usage.last24h(),
      alerts: {
        webhook: config.alerts.webhookUrl === undefined ? null : config.alerts.format,
        active: parts.notifier.active().map((a) => ({
          key: a.alert.key,
          severity: a.alert.severity,
          summary: a.alert.summary,
          since: new Date(a.since).toISOString(),
          notified: a.notified,
        })),
      },
    };
  };
}
