import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createClinikoClient, type ClinikoClient, type ClinikoClientDeps } from '../cliniko/index.js';
import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import { loadDataMap, type DataMap } from '../governance/data-map.js';
import { createKeyring } from '../governance/encryption.js';
import { checkSignoff, currentDataMapSha256 } from '../governance/signoff.js';
import { checkJourneySignoff } from '../governance/journey-signoff.js';
import { readPackageFields, SALESFORCE_FIELDS_FILE } from '../governance-io/lookups.js';
import { loadSignoffTrust } from '../governance-io/signing.js';
import { parseJourneyConfig, type JourneyConfig } from '../journey/index.js';
import type { Logger } from '../logger.js';
import {
  connectSalesforce,
  type ConnectionOptions,
  type SalesforceSession,
} from '../salesforce/connection.js';
import { createSalesforceWriter, type SalesforceWriter } from '../salesforce/writer.js';
import { createStore, type Store } from '../store/index.js';
import { openThreadedSqlite } from './threaded-store.js';
import { keyringCipher } from './cipher.js';
import { createContactMatcher } from '../sync/match/matcher.js';
import { matchSalesforceOf } from '../sync/match/salesforce.js';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from '../sync/outbox/worker.js';
import { createSyncRunner, type SyncRunner, type SyncRunnerDeps } from '../sync/cycle/runner.js';
import { LEASE_MS } from '../sync/common/run-record.js';

/**
 * Wires the concrete pieces together from a Config: store (encrypted), Cliniko client, Salesforce
 * connection and writer, the signed data map, journey config, the outbox worker and the runner.
 * Only runtime/start.ts, the CLI, the demo and tests call this; everything below takes its dependencies
 * as arguments. The CLI's store-only and Cliniko-only commands use openStore and openCliniko below.
 */
export interface SyncServiceOptions {
  /** Repository root (config/, force-app/); default: the current directory. */
  readonly rootDir?: string;
  /** The demo may run without SYNC_ENCRYPTION_KEY: it generates a throwaway key and says so. */
  readonly allowEphemeralKey?: boolean;
  /** Dry runs may use an unsigned map (to preview it); real syncs refuse. */
  readonly allowUnsignedMap?: boolean;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly worker?: OutboxWorkerOptions;
  readonly cliniko?: ClinikoClientDeps;
  readonly salesforce?: ConnectionOptions;
  readonly overlapSeconds?: number;
  /** Progress of each stream read (the CLI draws a progress line on a terminal). */
  readonly onProgress?: SyncRunnerDeps['onProgress'];
  /**
   * Take back at start the leases a dead predecessor left (see leaseOwner). Only the processes that do
   * the sync's work ask for it (the service, `once`, `backfill`): a command such as `status` run beside
   * the service on the same SQLite file must not release the running service's claims.
   */
  readonly reclaimLeases?: boolean;
  /** How often the lease heartbeat renews this process's leases. Default LEASE_MS / 3 (tests shorten it). */
  readonly leaseHeartbeatMs?: number;
}

export interface SyncService {
  readonly config: Config;
  readonly store: Store;
  readonly cliniko: ClinikoClient;
  readonly salesforce: SalesforceSession;
  readonly writer: SalesforceWriter;
  readonly worker: OutboxWorker;
  readonly runner: SyncRunner;
  /** This process's lease owner, `<instance>/<incarnation>` (leaseOwner). */
  readonly leaseOwner: string;
  readonly dataMap: DataMap;
  readonly dataMapHash: string;
  readonly journeyConfig: JourneyConfig;
  /** True when the encryption key was generated for this process (demo only). */
  readonly ephemeralKey: boolean;
  /** Stops the lease heartbeat, releases every lease this process holds, closes the clients and store. */
  close(): Promise<void>;
}

/**
 * The lease owner of this process: `<instance>/<incarnation>`. The instance is SYNC_INSTANCE_ID when
 * set (stable across restarts), else a name unique to this process; the incarnation is new each start.
 * `reclaim` is what this process may take back at start, because no live process can hold it:
 * on SQLite every lease (one process owns the file); on PostgreSQL those of its own stable instance id
 * (its predecessor died: one process runs per instance id); nothing for an anonymous instance, whose
 * predecessor's leases lapse within LEASE_MS.
 */
export function leaseOwner(
  config: Pick<Config, 'instanceId' | 'database'>,
  incarnation: string = randomBytes(4).toString('hex'),
): { owner: string; reclaim: { ownerPrefix: string } | undefined } {
  const instance = config.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const reclaim =
    config.database.kind === 'sqlite'
      ? { ownerPrefix: '' }
      : config.instanceId !== undefined
        ? { ownerPrefix: `${config.instanceId}/` }
        : undefined;
  return { owner: `${instance}/${incarnation}`, reclaim };
}

/**
 * The lease heartbeat: while the process lives, every LEASE_MS / 3 it extends every lease it holds
 * (claimed outbox items on the worker's clock, named leases on the wall clock), so work that runs for
 * minutes (a Bulk 2.0 job polled for up to 10 minutes, a long read) keeps its leases while a dead or
 * frozen process loses them within LEASE_MS. Ticks never overlap; a failed tick is logged and retried.
 */
function startLeaseHeartbeat(
  store: Store,
  owner: string,
  leaseMs: number,
  now: () => number,
  logger: Logger,
  everyMs: number,
): () => void {
  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    store
      .renewLeases(owner, { outboxUntil: now() + leaseMs, namedUntil: Date.now() + LEASE_MS })
      .catch((err: unknown) => logger.warn({ err }, 'could not renew the leases; retrying'))
      .finally(() => (ticking = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export interface ClinikoFieldCatalogue {
  readonly resources: Record<string, string[]>;
}

export async function loadClinikoFieldCatalogue(rootDir: string): Promise<Map<string, Set<string>>> {
  const catalogue = JSON.parse(
    await readFile(path.join(rootDir, 'config/cliniko-fields.json'), 'utf8'),
  ) as ClinikoFieldCatalogue;
  return new Map(
    Object.entries(catalogue.resources).map(([resource, fields]) => [resource, new Set(fields)]),
  );
}

/**
 * Reads, validates and (unless previewing) sign-off-checks the data map: its hash and its approvers'
 * signatures against config/approvers.yaml (governance/signatures.ts; production refuses demo keys).
 */
export async function loadSignedDataMap(
  config: Config,
  rootDir: string,
  options: { allowUnsigned?: boolean } = {},
): Promise<{ map: DataMap; hash: string }> {
  const [text, clinikoSpecFields, packageFields] = await Promise.all([
    readFile(path.resolve(rootDir, config.files.dataMap), 'utf8'),
    loadClinikoFieldCatalogue(rootDir),
    readPackageFields(path.join(rootDir, SALESFORCE_FIELDS_FILE)),
  ]);
  const map = loadDataMap(text, { clinikoSpecFields, packageFields });
  if (options.allowUnsigned) return { map, hash: currentDataMapSha256(map) };
  const check = checkSignoff(map, await loadSignoffTrust(config, rootDir));
  if (!check.ok) {
    throw new SyncError('DATA_MAP_NOT_SIGNED', check.message, {
      record: { system: 'config', object: 'data-map' },
    });
  }
  return { map, hash: currentDataMapSha256(map) };
}

/** Reads the journey config and (unless previewing) checks its sign-off like the data map's. */
export async function loadJourneyConfig(
  config: Config,
  rootDir: string,
  options: { allowUnsigned?: boolean } = {},
): Promise<JourneyConfig> {
  const text = await readFile(path.resolve(rootDir, config.files.journey), 'utf8');
  const parsed = parseJourneyConfig(parseYaml(text) as unknown);
  if (!options.allowUnsigned) {
    const check = checkJourneySignoff(text, await loadSignoffTrust(config, rootDir));
    if (!check.ok) {
      throw new SyncError('CONFIG_INVALID', check.message, {
        record: { system: 'config', object: 'journey.yaml' },
      });
    }
  }
  return parsed;
}

/**
 * The configured store, encrypted with the keyring (the active key and the retired ones, so older
 * blobs still open) and migrated; closed again if migrating fails.
 */
/** What opening the store needs: the full config or the store-only one (`LocalConfig`). */
type StoreSettings = Pick<Config, 'database' | 'encryptionKey' | 'retiredEncryptionKeys'>;

async function openKeyedStore(
  config: StoreSettings,
  key: Buffer,
  options: { readonly threaded?: boolean } = {},
): Promise<Store> {
  // The running service's SQLite store works on a thread of its own (threaded-store.ts); a command
  // that only reads or appends a little (audit, data-map sign) opens the file on its own thread.
  const store =
    options.threaded === true && config.database.kind === 'sqlite'
      ? openThreadedSqlite(config.database.path, { active: key, retired: config.retiredEncryptionKeys })
      : createStore(config.database, keyringCipher(createKeyring(key, config.retiredEncryptionKeys)));
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * The store alone, for commands that must run while Cliniko or Salesforce is unreachable (audit
 * verify/show/prune, data-map sign). It refuses to open without the key the store was written with.
 */
export function openStore(config: StoreSettings): Promise<Store> {
  if (config.encryptionKey === undefined) {
    return Promise.reject(
      new SyncError(
        'ENCRYPTION_KEY_MISSING',
        'SYNC_ENCRYPTION_KEY is not set: the store cannot be opened without the key it was written with',
        { record: { system: 'config' } },
      ),
    );
  }
  return openKeyedStore(config, config.encryptionKey);
}

/** The Cliniko client alone (read-only commands such as `data-map coverage`). Closed by the caller. */
export function openCliniko(config: Config, logger: Logger, deps?: ClinikoClientDeps): ClinikoClient {
  return createClinikoClient(config.cliniko, logger, deps);
}

export async function createSyncService(
  config: Config,
  logger: Logger,
  options: SyncServiceOptions = {},
): Promise<SyncService> {
  const rootDir = options.rootDir ?? process.cwd();
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { key, ephemeralKey } = storeKey(config, logger, options);
  const [{ map, hash }, journeyConfig] = await Promise.all([
    loadSignedDataMap(config, rootDir, { allowUnsigned: options.allowUnsignedMap === true }),
    loadJourneyConfig(config, rootDir, { allowUnsigned: options.allowUnsignedMap === true }),
  ]);
  const store = await openKeyedStore(config, key, { threaded: true });
  const identity = leaseOwner(config);
  if (options.reclaimLeases === true) await reclaimLeases(store, identity, logger);
  const cliniko = openCliniko(config, logger, options.cliniko);
  let salesforce: SalesforceSession;
  try {
    salesforce = await connectSalesforce(config.salesforce, logger, options.salesforce);
  } catch (err) {
    await cliniko.close();
    await store.close();
    throw err;
  }
  const writer = createSalesforceWriter(salesforce.connection, logger);
  const matcher = createContactMatcher({
    salesforce: matchSalesforceOf(salesforce.connection),
    store,
    logger,
    now,
    leads: config.matching.leads,
  });
  const worker = createOutboxWorker(
    { store, writer, logger, now, sleep, matcher },
    {
      bulkThreshold: config.bulkThreshold,
      apiShare: config.apiShare,
      owner: identity.owner,
      ...options.worker,
    },
  );
  const stopHeartbeat = startLeaseHeartbeat(
    store,
    worker.owner,
    worker.leaseMs,
    now,
    logger,
    options.leaseHeartbeatMs ?? LEASE_MS / 3,
  );
  const runner = createSyncRunner({
    store,
    cliniko,
    worker,
    dataMap: map,
    dataMapHash: hash,
    journeyConfig,
    clinicTimezone: config.clinicTimezone,
    logger,
    now,
    ...(options.overlapSeconds !== undefined ? { overlapSeconds: options.overlapSeconds } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    salesforceCalls: () => writer.calls(),
  });
  const parts = { config, store, cliniko, salesforce, writer, worker, runner, journeyConfig, ephemeralKey };
  return {
    ...parts,
    leaseOwner: worker.owner,
    dataMap: map,
    dataMapHash: hash,
    close: closer(parts, stopHeartbeat, logger),
  };
}

/** The store's key: the configured one, or (demo only) a throwaway key for this process. */
function storeKey(
  config: Config,
  logger: Logger,
  options: SyncServiceOptions,
): { key: Buffer; ephemeralKey: boolean } {
  if (config.encryptionKey !== undefined) return { key: config.encryptionKey, ephemeralKey: false };
  if (!options.allowEphemeralKey) {
    throw new SyncError(
      'ENCRYPTION_KEY_MISSING',
      'SYNC_ENCRYPTION_KEY is not set: the store holds patient payloads and will not be written unencrypted (generate one with `openssl rand -base64 32`)',
      { record: { system: 'config' } },
    );
  }
  logger.warn({}, 'no SYNC_ENCRYPTION_KEY: using a throwaway key for this process only (demo)');
  return { key: randomBytes(32), ephemeralKey: true };
}

/** At start, takes back the leases a previous process of this instance left (issue #15, item 2). */
async function reclaimLeases(
  store: Store,
  identity: ReturnType<typeof leaseOwner>,
  logger: Logger,
): Promise<void> {
  if (!identity.reclaim) return;
  try {
    const reclaimed = await store.releaseLeases(identity.reclaim);
    if (reclaimed.outbox + reclaimed.named > 0) {
      logger.info({ ...reclaimed, owner: identity.owner }, 'took back the leases a previous process left');
    }
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * The service's close: once (a second call waits for the first); stops the heartbeat and the worker,
 * releases what the process holds, then closes the clients and the store.
 */
function closer(
  parts: { store: Store; cliniko: ClinikoClient; worker: OutboxWorker },
  stopHeartbeat: () => void,
  logger: Logger,
): () => Promise<void> {
  let closing: Promise<void> | undefined;
  const { store, cliniko, worker } = parts;
  return () => {
    closing ??= (async () => {
      stopHeartbeat();
      worker.stop();
      try {
        const released = await store.releaseLeases({ owner: worker.owner });
        if (released.outbox + released.named > 0) logger.info({ ...released }, 'released the leases held');
      } catch (err) {
        logger.warn({ err }, 'could not release the leases; they lapse within the lease period');
      }
      await cliniko.close();
      await store.close();
    })();
    return closing;
  };
}
