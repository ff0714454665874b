import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../sync-service/src/config/index.js';
import { createLogger, type Logger } from '../../sync-service/src/logger.js';
import {
  createSyncService,
  type SyncService,
  type SyncServiceOptions,
} from '../../sync-service/src/runtime/wiring.js';
import {
  startClinikoEmulator,
  type ClinikoEmulator,
  type ClinikoEmulatorOptions,
} from '../emulators/cliniko/index.js';
import {
  startSalesforceEmulator,
  type SalesforceEmulator,
  type SalesforceEmulatorOptions,
} from '../emulators/salesforce/server.js';

/**
 * Both emulators on loopback and the real sync service wired to them on a fresh encrypted SQLite
 * store: the set-up every end-to-end test shares. The clinic's clock runs with wall time, and the
 * service reads time from it, so journey day counts and Cliniko's Date header agree.
 */
export interface SyncHarness {
  readonly cliniko: ClinikoEmulator;
  readonly salesforce: SalesforceEmulator;
  readonly service: SyncService;
  readonly config: Config;
  readonly dir: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly cliniko?: ClinikoEmulatorOptions;
  readonly salesforce?: SalesforceEmulatorOptions;
  readonly service?: SyncServiceOptions;
  readonly env?: Record<string, string>;
  readonly logger?: Logger;
  /**
   * Runs once the Salesforce emulator listens and before the service is built: e.g. deploy the
   * package into an empty org (`salesforce: { emptyOrg: true }`) as an admin would.
   */
  readonly prepareSalesforce?: (salesforce: SalesforceEmulator) => Promise<void>;
}

/**
 * The environment that points the service at both emulators with an encrypted store under `dir`:
 * every end-to-end test starts from it (and adds its own variables).
 */
export function emulatorEnv(
  cliniko: Pick<ClinikoEmulator, 'apiKey' | 'baseUrl'>,
  salesforce: Pick<SalesforceEmulator, 'loginUrl' | 'clientId' | 'clientSecret'>,
  dir: string,
): Record<string, string> {
  return {
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SYNC_DB_PATH: join(dir, 'sync.db'),
    SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLINIC_TIMEZONE: 'Australia/Sydney',
    // The repository's map and journey are signed with the published demo key, which only test and
    // demo mode accept.
    SYNC_MODE: 'test',
  };
}

/** Retry delays short enough for tests, same shape as production's 1, 2, 4, 8, 16 s. */
export const FAST_RETRIES = { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 10_000 };

export async function startSyncHarness(options: HarnessOptions = {}): Promise<SyncHarness> {
  const cliniko = await startClinikoEmulator({
    patients: 40,
    seed: 11,
    controls: true,
    now: new Date().toISOString(),
    ...options.cliniko,
  });
  const salesforce = await startSalesforceEmulator({ ...options.salesforce });
  if (options.prepareSalesforce) {
    try {
      await options.prepareSalesforce(salesforce);
    } catch (error) {
      await cliniko.close();
      await salesforce.close();
      throw error;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'sync-harness-'));
  const config = loadConfig({ ...emulatorEnv(cliniko, salesforce, dir), ...options.env });
  const service = await createSyncService(config, options.logger ?? createLogger({ level: 'silent' }), {
    worker: FAST_RETRIES,
    now: () => Date.parse(cliniko.controls.now()),
    ...options.service,
  });
  return {
    cliniko,
    salesforce,
    service,
    config,
    dir,
    async close() {
      await service.close();
      await cliniko.close();
      await salesforce.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
