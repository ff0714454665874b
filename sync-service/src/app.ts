import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import type { Logger } from './logger.js';
import { healthRoutes, type HealthProbes } from './http/health.js';

/** Everything the HTTP application needs, built by server.ts (or a test) and passed in. */
export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  readonly probes: HealthProbes;
  readonly now?: () => number;
  readonly startedAt?: number;
}

/**
 * Builds the admin HTTP application from injected dependencies. It never listens and never reads
 * process.env, so tests build it freely and drive it with `app.inject`.
 * Plugins are registered in a fixed order: health first (unauthenticated), then authenticated routes.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const now = deps.now ?? Date.now;
  const loggerInstance: FastifyBaseLogger = deps.logger.child({ module: 'http' });
  const app = Fastify({
    loggerInstance,
    // Admin API bodies are small; a large body is a mistake or an attack.
    bodyLimit: 1_048_576,
  });
  await app.register(healthRoutes, {
    version: deps.version,
    probes: deps.probes,
    now,
    startedAt: deps.startedAt ?? now(),
  });
  return app;
}
