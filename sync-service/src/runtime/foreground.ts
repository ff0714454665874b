import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { sendWebhook } from '../alerts/webhook.js';
import { startService, type RunningService } from './start.js';

/** Prints a startup failure the operator can act on; never a stack for known failures. */
export function describeStartupError(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof SyncError) return `${err.code}: ${err.message}`;
  return `fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}

/**
 * Runs the service until SIGTERM/SIGINT. Resolves to the exit code (0 after a clean shutdown, 1 when
 * it cannot start). Shared by the process (server.ts) and `npm run sync -- run`.
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
  return untilSignalled(running, logger);
}

/** Resolves to 0 once a signal has closed the service gracefully, 1 when closing failed. */
function untilSignalled(running: RunningService, logger: Logger): Promise<number> {
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
