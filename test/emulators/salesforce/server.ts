/**
 * startSalesforceEmulator(): the programmatic entry point. Builds the Fastify app from its parts in a
 * fixed order (body parsers, request log, the /services/data gate and error shapes in http.ts; OAuth and
 * identity in oauth.ts; REST in rest/; CometD streaming in streaming.ts; Bulk 2.0 in bulk/; test
 * controls), listens on loopback and reports the credentials a client needs. Runs of slashes in a path
 * are collapsed before routing (the Salesforce CLI sends `//services/...`). See README.md and docs/emulators.md for the surface and its limits.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { Sessions } from './auth.js';
import { bulkIngestPlugin } from './bulk/index.js';
import { createSelfSignedCertificate } from './certificate.js';
import { registerControls, type RequestLogEntry } from './controls.js';
import {
  addApiGate,
  addBodyParsers,
  addRequestLog,
  collapseSlashes,
  countRoutes,
  setErrorHandlers,
} from './http.js';
import type { DeployedComponents } from './metadata/apply.js';
import { registerMetadataApi } from './metadata/soap.js';
import { registerOAuthRoutes } from './oauth.js';
import { Clock, Org, type OrgSnapshot } from './org.js';
import { registerRest } from './rest/index.js';
import { loadSchema } from './schema.js';
import { registerStreaming } from './streaming.js';

export const DEFAULT_API_VERSION = '66.0';

export interface SalesforceEmulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Folder holding sfdx-project.json / force-app; default: this repository's root. */
  projectDir?: string;
  /**
   * Start as an empty org: Salesforce's standard objects and nothing of ours, ready for the package to
   * be deployed through the Metadata API (`sf project deploy start`). Default false: the schema of
   * `projectDir` is preloaded, as every existing test expects.
   */
  emptyOrg?: boolean;
  /** Serve /__emulator/ test controls (request log, records, events, clock, faults). Default false. */
  controls?: boolean;
  /** Access token lifetime on the emulator's clock. Default 7200 (two hours). */
  tokenLifetimeSeconds?: number;
  /** Daily API request limit. Default 100,000. */
  dailyApiLimit?: number;
  clientId?: string;
  clientSecret?: string;
  /** Certificate of the connected app for the JWT bearer flow; default: a generated self-signed one. */
  jwtCertificatePem?: string;
  integrationUsername?: string;
  /** Permission sets the integration user holds; default Cliniko_Sync_Integration and Cliniko_Sync_Integration_Org, those that exist. */
  integrationPermissionSets?: string[];
  /**
   * JSON file holding the org's records: loaded at start when it exists, written on close(). Without
   * it the org is in memory only.
   */
  snapshotFile?: string;
  /** Bulk 2.0 pacing, passed to the ingest plugin. */
  bulkProcessingDelayMs?: number;
  /**
   * Requests the controls' log keeps, bodies included (default 20,000). A benchmark that writes a
   * million records sets it low: each collection's body is about 100 KB.
   */
  requestLogLimit?: number;
  /**
   * Platform events kept for replay (default 100,000); Salesforce's 72-hour window applies as well.
   * Streaming clients can replay only what is kept.
   */
  maxEvents?: number;
}

export interface SalesforceEmulator {
  /** Where OAuth requests go (also the instance URL: one server plays both roles). */
  loginUrl: string;
  instanceUrl: string;
  apiVersion: string;
  clientId: string;
  clientSecret: string;
  /** The integration user (client credentials run as this user). */
  username: string;
  userId: string;
  /** A System Administrator who bypasses object and field security (JWT `sub`). */
  adminUsername: string;
  orgId: string;
  permissionSets: string[];
  /** The private key is only known when the emulator generated the certificate. */
  jwt: { privateKeyPem: string | undefined; certificatePem: string };
  org: Org;
  /** Components deployed through the Metadata API beyond the schema (Flow, FlexiPage, LightningComponentBundle, ...). */
  deployed: DeployedComponents;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    sfUserId?: string;
    sfLogEntry?: RequestLogEntry;
  }
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The org of the project's schema, restored from the snapshot file when there is one. */
function createOrg(options: SalesforceEmulatorOptions, clock: Clock): Org {
  if (options.emptyOrg && options.snapshotFile)
    // A snapshot holds records, not the schema deploys added, so a restart could not restore it.
    throw new Error(
      'emptyOrg cannot be combined with snapshotFile: a snapshot does not keep deployed metadata',
    );
  const schema = loadSchema(options.emptyOrg ? undefined : (options.projectDir ?? REPO_ROOT));
  // As docs/go-live.md has the admin do: the packaged set and its org-setup companion (Contact and
  // user permissions, which a package cannot carry), each when the project has it.
  const defaultSets = ['Cliniko_Sync_Integration', 'Cliniko_Sync_Integration_Org'].filter((name) =>
    schema.permissionSets.has(name),
  );
  const integrationPermissionSets = options.integrationPermissionSets ?? defaultSets;
  for (const name of integrationPermissionSets) {
    if (!schema.permissionSets.has(name))
      throw new Error(`integrationPermissionSets: no permission set named ${name} in the project`);
  }
  const org = new Org({
    schema,
    clock,
    dailyApiLimit: options.dailyApiLimit ?? 100_000,
    integrationUsername: options.integrationUsername ?? 'integration@cliniko-sync.emulator',
    adminUsername: 'admin@cliniko-sync.emulator',
    integrationPermissionSets,
    ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
  });
  if (options.snapshotFile && existsSync(options.snapshotFile)) {
    org.restore(JSON.parse(readFileSync(options.snapshotFile, 'utf8')) as OrgSnapshot);
  }
  return org;
}

/** Bulk API 2.0 ingest, bridged to the org's DML and security (see CONTRACT.md). */
async function registerBulk(
  app: FastifyInstance,
  org: Org,
  options: SalesforceEmulatorOptions,
): Promise<void> {
  await app.register(bulkIngestPlugin, {
    authenticate: (request) => Promise.resolve(request.sfUserId ? { userId: request.sfUserId } : undefined),
    applyDml: (userId, objectName, operation, externalIdFieldName, rows) =>
      Promise.resolve(org.applyDml(userId, objectName, operation, externalIdFieldName, rows)),
    now: () => org.clock.now(),
    validateJob: (userId, objectName, operation, externalIdFieldName) => {
      const object = org.visibleObject(userId, objectName);
      if (!object) return `InvalidJob : Unable to find object: ${objectName}`;
      if (operation !== 'upsert') return undefined;
      const field = org.visibleField(userId, object, externalIdFieldName ?? '');
      if (field && (field.externalId || field.idLookup || field.name === 'Id')) return undefined;
      return `InvalidJob : Field name provided, ${externalIdFieldName ?? ''} does not match an External ID, Salesforce Id, or indexed field for ${object.name}`;
    },
    ...(options.bulkProcessingDelayMs !== undefined
      ? { processingDelayMs: options.bulkProcessingDelayMs }
      : {}),
  });
}

export async function startSalesforceEmulator(
  options: SalesforceEmulatorOptions = {},
): Promise<SalesforceEmulator> {
  const clock = new Clock();
  const org = createOrg(options, clock);
  const clientId = options.clientId ?? `3MVG9emulator${randomBytes(12).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('hex').toUpperCase();
  const generated = options.jwtCertificatePem
    ? undefined
    : createSelfSignedCertificate('cliniko-sync-emulator');
  const certificatePem = options.jwtCertificatePem ?? generated?.certificatePem ?? '';
  const sessions = new Sessions(clock, org.orgId, options.tokenLifetimeSeconds ?? 7200);
  const controls = options.controls ?? false;
  const requestLog: RequestLogEntry[] = [];
  const faults = { http503: 0, latencyMs: 0, latencyTimes: 0 };

  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 160 * 1024 * 1024,
    rewriteUrl: (raw) => collapseSlashes(raw.url ?? '/'),
  });
  let baseUrl = '';
  addBodyParsers(app);
  if (controls) addRequestLog(app, clock, requestLog, options.requestLogLimit ?? 20_000);
  addApiGate(app, { org, sessions, faults });
  const routeCounts = countRoutes(app);
  setErrorHandlers(app);
  registerOAuthRoutes(app, {
    org,
    sessions,
    clock,
    clientId,
    clientSecret,
    certificatePem,
    baseUrl: () => baseUrl,
  });
  registerRest(app, org);
  registerStreaming(app, { org, sessions });
  const deployed: DeployedComponents = new Map();
  registerMetadataApi(app, { org, sessions, components: deployed });
  await registerBulk(app, org, options);
  if (controls) registerControls(app, { org, sessions, requestLog, faults, clock, clientId, routeCounts });

  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  baseUrl = address.replace('[::1]', 'localhost');
  return {
    loginUrl: baseUrl,
    instanceUrl: baseUrl,
    apiVersion: DEFAULT_API_VERSION,
    clientId,
    clientSecret,
    username: org.integrationUser.username,
    userId: org.integrationUser.id,
    adminUsername: org.adminUser.username,
    orgId: org.orgId,
    permissionSets: org.permissionSetNames(org.integrationUser.id),
    jwt: { privateKeyPem: generated?.privateKeyPem, certificatePem },
    org,
    deployed,
    close: async () => {
      await app.close();
      if (options.snapshotFile) writeFileSync(options.snapshotFile, JSON.stringify(org.snapshot()));
    },
  };
}
