import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import type { Logger } from './logger.js';
import { adminRoutes, type AdminRouteOptions } from './http/admin.js';
import { healthRoutes, type HealthProbes } from './http/health.js';
import { metricsRoutes, type Metrics } from './http/metrics.js';
import { consoleRoutes, type ConsoleOptions } from './console/plugin.js';
import { syncControlRoutes, type SyncControlRouteOptions } from './http/sync-control.js';

/** What the authenticated routes act on; absent in a health-only app (e.g. a probe test). */
export interface AdminDeps {
  readonly store: AdminRouteOptions['store'];
  readonly trigger: AdminRouteOptions['trigger'];
  readonly journeyConfig: AdminRouteOptions['journeyConfig'];
  readonly metrics: Metrics;
  /** Pause and resume of automatic sync (POST /sync/pause, /sync/resume). */
  readonly control?: SyncControlRouteOptions['control'];
  /** The web console's overview; the console is served when given. */
  readonly overview?: ConsoleOptions['overview'];
}

/** Everything the HTTP application needs, built by server.ts (or a test) and passed in. */
export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  readonly probes: HealthProbes;
  readonly admin?: AdminDeps;
  readonly now?: () => number;
  readonly startedAt?: number;
}

/**
 * Builds the admin HTTP application from injected dependencies. It never listens and never reads
 * process.env, so tests build it freely and drive it with `app.inject`.
 * Plugins are registered in a fixed order: health first (unauthenticated), then metrics, then the
 * operator routes (both behind bearer tokens from config.adminTokens), then pause/resume and the web
 * console (bearer token or the console's session cookie).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const loggerInstance: FastifyBaseLogger = deps.logger.child({ module: 'http' });
  const app = Fastify({
    loggerInstance,
    // Admin API bodies are small; a large body is a mistake or an attack.
    bodyLimit: 1_048_576,
  });
  // One error body for every route: {"error":{"code","message"}}. Validation messages name the
  // parameter, not its value; anything unexpected is INTERNAL without details (they are logged).
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) {
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: 'BAD_REQUEST', message: err.message } });
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  // The path only: a query string may carry a token or patient data and is never echoed back.
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${pathOf(request.url)}` } }),
  );
  await app.register(healthRoutes, {
    version: deps.version,
    probes: deps.probes,
    now,
    startedAt: deps.startedAt ?? now(),
  });
  if (deps.admin) {
    const tokens = deps.config.adminTokens;
    await app.register(metricsRoutes, { metrics: deps.admin.metrics, tokens });
    await app.register(adminRoutes, {
      tokens,
      store: deps.admin.store,
      trigger: deps.admin.trigger,
      journeyConfig: deps.admin.journeyConfig,
      now,
    });
    // Console registration: pause/resume routes, then the console page and its session routes.
    if (deps.admin.control)
      await app.register(syncControlRoutes, { tokens, control: deps.admin.control, now });
    if (deps.admin.overview)
      await app.register(consoleRoutes, { tokens, now, overview: deps.admin.overview });
  }
  return app;
}

/** The path of a request URL, without its query string or fragment. */
export function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}
