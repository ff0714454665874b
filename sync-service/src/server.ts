/**
 * The service process: reads the environment once, builds the logger and the real clients, listens,
 * and closes gracefully on SIGTERM/SIGINT. Everything else is built from injected dependencies in
 * app.ts so tests never need this file.
 */
import { readFileSync } from 'node:fs';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { createLogger, type Logger } from './logger.js';
import { createDatabaseProbe } from './store/database-probe.js';
import type { FastifyInstance } from 'fastify';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the admin API for a parsed config. Used by the process below and by the demo. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const databaseProbe = createDatabaseProbe(config.database);
  const app = await buildApp({
    config,
    logger,
    version: packageVersion(),
    probes: {
      database: async () => ((await databaseProbe()) ? 'ok' : 'error'),
    },
  });
  const url = await app.listen({ host: config.http.host, port: config.http.port });
  logger.info({ url }, 'admin API listening');
  return { app, url, close: () => app.close() };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY === true });
  const server = await startServer(config, logger);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error('fatal:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
