import type { FastifyPluginCallback } from 'fastify';

/**
 * GET /health, in the shape the integration's specification fixes:
 * {"status":"healthy|degraded|down","version":"x.y.z","uptime":<s>,"services":{...}}
 * 200 when healthy or degraded, 503 when down. Every value comes from a real probe; a dependency that
 * is not wired reports `error`, never a made-up `ok`.
 */
export type ServiceStatus = 'ok' | 'degraded' | 'error';

export interface LatencyCheck {
  readonly status: ServiceStatus;
  /** Milliseconds the probe took. */
  readonly latency: number;
}
export interface QueueCheck {
  readonly status: ServiceStatus;
  readonly pending: number;
  readonly failed: number;
}
export interface SchedulerCheck {
  readonly status: ServiceStatus;
  /** ISO timestamp of the next scheduled poll, or null when nothing is scheduled. */
  readonly nextRun: string | null;
  /** Console hook: present and true while an operator has paused automatic sync (runtime/control.ts). */
  readonly paused?: boolean;
}

/** The probes the health route runs. Each resolves; a thrown error or a time-out counts as `error`. */
export interface HealthProbes {
  readonly cliniko?: () => Promise<ServiceStatus>;
  readonly salesforce?: () => Promise<ServiceStatus>;
  readonly database?: () => Promise<ServiceStatus>;
  readonly jobQueue?: () => Promise<QueueCheck>;
  readonly scheduler?: () => SchedulerCheck;
}

export interface HealthReport {
  readonly status: 'healthy' | 'degraded' | 'down';
  readonly version: string;
  readonly uptime: number;
  readonly services: {
    readonly cliniko: LatencyCheck;
    readonly salesforce: LatencyCheck;
    readonly jobQueue: QueueCheck;
    readonly scheduler: SchedulerCheck;
    readonly database: LatencyCheck;
  };
}

export interface HealthOptions {
  readonly version: string;
  readonly probes: HealthProbes;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now: () => number;
  readonly startedAt: number;
  readonly probeTimeoutMs?: number;
}

async function timed(
  probe: (() => Promise<ServiceStatus>) | undefined,
  timeoutMs: number,
  now: () => number,
): Promise<LatencyCheck> {
  const started = now();
  if (!probe) return { status: 'error', latency: 0 };
  const status = await withTimeout(probe(), timeoutMs).catch((): ServiceStatus => 'error');
  return { status, latency: Math.max(0, now() - started) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`probe timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Down: the database is unreachable (nothing can be made durable) or both external systems are.
 * Degraded: any other service is not `ok`. Healthy: everything is `ok`.
 */
export function overallStatus(services: HealthReport['services']): HealthReport['status'] {
  if (services.database.status === 'error') return 'down';
  if (services.cliniko.status === 'error' && services.salesforce.status === 'error') return 'down';
  const all = [
    services.cliniko,
    services.salesforce,
    services.jobQueue,
    services.scheduler,
    services.database,
  ];
  return all.every((s) => s.status === 'ok') ? 'healthy' : 'degraded';
}

export async function checkHealth(options: HealthOptions): Promise<HealthReport> {
  const timeoutMs = options.probeTimeoutMs ?? 2_000;
  const { probes, now } = options;
  const [cliniko, salesforce, database, jobQueue] = await Promise.all([
    timed(probes.cliniko, timeoutMs, now),
    timed(probes.salesforce, timeoutMs, now),
    timed(probes.database, timeoutMs, now),
    probes.jobQueue
      ? withTimeout(probes.jobQueue(), timeoutMs).catch((): QueueCheck => ({
          status: 'error',
          pending: 0,
          failed: 0,
        }))
      : Promise.resolve<QueueCheck>({ status: 'error', pending: 0, failed: 0 }),
  ]);
  let scheduler: SchedulerCheck = { status: 'error', nextRun: null };
  if (probes.scheduler) {
    try {
      scheduler = probes.scheduler();
    } catch {
      scheduler = { status: 'error', nextRun: null };
    }
  }
  const services = { cliniko, salesforce, jobQueue, scheduler, database };
  return {
    status: overallStatus(services),
    version: options.version,
    uptime: Math.max(0, Math.floor((now() - options.startedAt) / 1000)),
    services,
  };
}

export const healthRoutes: FastifyPluginCallback<HealthOptions> = (app, options, done) => {
  app.get('/health', async (_request, reply) => {
    const report = await checkHealth(options);
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
  done();
};
