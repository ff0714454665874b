/**
 * `npm run demo`: runs the product on embedded defaults on this machine, with no accounts.
 * Today it starts the admin API on an embedded SQLite store and reports live health; each capability
 * that lands (emulators, sync, journey) joins here. `--once` exits after the report; otherwise the
 * admin API stays up until Ctrl-C.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../sync-service/src/config/index.js';
import { createLogger } from '../sync-service/src/logger.js';
import { startServer } from '../sync-service/src/server.js';

const once = process.argv.includes('--once');

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'cliniko-sync-demo-'));
  const config = loadConfig({
    ...process.env,
    CLINIKO_API_KEY: process.env.CLINIKO_API_KEY ?? 'demo-key-0000000000000000000000-au1',
    CLINIKO_CONTACT_EMAIL: process.env.CLINIKO_CONTACT_EMAIL ?? 'demo@clinic.example',
    SALESFORCE_CLIENT_ID: process.env.SALESFORCE_CLIENT_ID ?? 'demo-client',
    SALESFORCE_CLIENT_SECRET: process.env.SALESFORCE_CLIENT_SECRET ?? 'demo-secret',
    SYNC_DB_PATH: join(workDir, 'sync.db'),
    PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const logger = createLogger({ level: config.logLevel, pretty: process.stdout.isTTY === true });
  const server = await startServer(config, logger);
  const response = await fetch(`${server.url}/health`);
  const health: unknown = await response.json();
  console.log(`Admin API: ${server.url}`);
  console.log(
    `Store:     SQLite at ${config.database.kind === 'sqlite' ? config.database.path : '(postgres)'}`,
  );
  console.log(`GET /health -> ${response.status}`);
  console.log(JSON.stringify(health, null, 2));
  if (once) {
    await server.close();
    return;
  }
  console.log('Admin API running; press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
