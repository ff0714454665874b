/**
 * startSalesforceEmulator(): the programmatic entry point. Builds the Fastify app (OAuth, REST,
 * collections, query, Bulk 2.0, identity, test controls), listens on loopback and reports the
 * credentials a client needs. See README.md and docs/emulators.md for the surface and its limits.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { OAuthError, Sessions, tokenSignature, verifyJwtAssertion } from './auth.js';
import { bulkIngestPlugin } from './bulk/index.js';
import { createSelfSignedCertificate } from './certificate.js';
import { registerControls, type RequestLogEntry } from './controls.js';
import { ApiError } from './errors.js';
import { Clock, Org, type OrgSnapshot } from './org.js';
import { registerRest } from './rest/index.js';
import { loadSchema } from './schema.js';
import { SoqlError } from './soql/index.js';

export const DEFAULT_API_VERSION = '66.0';
/** API versions the emulator answers (Winter '21 to Spring '26). */
export const SUPPORTED_VERSIONS = Array.from({ length: 17 }, (_, i) => `${50 + i}.0`);

export interface SalesforceEmulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Folder holding sfdx-project.json / force-app; default: this repository's root. */
  projectDir?: string;
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
  /** Permission sets the integration user holds; default ['Cliniko_Sync_Integration'] when it exists. */
  integrationPermissionSets?: string[];
  /**
   * JSON file holding the org's records: loaded at start when it exists, written on close(). Without
   * it the org is in memory only.
   */
  snapshotFile?: string;
  /** Bulk 2.0 pacing, passed to the ingest plugin. */
  bulkProcessingDelayMs?: number;
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
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    sfUserId?: string;
    sfLogEntry?: RequestLogEntry;
  }
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function errorBody(message: string, errorCode: string) {
  return [{ message, errorCode }];
}

export async function startSalesforceEmulator(
  options: SalesforceEmulatorOptions = {},
): Promise<SalesforceEmulator> {
  const schema = loadSchema(options.projectDir ?? REPO_ROOT);
  const clock = new Clock();
  const defaultSets = schema.permissionSets.has('Cliniko_Sync_Integration')
    ? ['Cliniko_Sync_Integration']
    : [];
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
  });
  if (options.snapshotFile && existsSync(options.snapshotFile)) {
    org.restore(JSON.parse(readFileSync(options.snapshotFile, 'utf8')) as OrgSnapshot);
  }
  const clientId = options.clientId ?? `3MVG9emulator${randomBytes(12).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('hex').toUpperCase();
  const generated = options.jwtCertificatePem
    ? undefined
    : createSelfSignedCertificate('cliniko-sync-emulator');
  const certificatePem = options.jwtCertificatePem ?? generated?.certificatePem ?? '';
  const sessions = new Sessions(clock, org.orgId, options.tokenLifetimeSeconds ?? 7200);
  const controls = options.controls ?? false;
  const requestLog: RequestLogEntry[] = [];
  let requestSeq = 0;
  const faults = { http503: 0, latencyMs: 0, latencyTimes: 0 };

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 160 * 1024 * 1024 });
  let baseUrl = '';

  // JSON bodies may be empty (DELETE with a content type); form bodies are the OAuth token requests.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ApiError(400, 'JSON_PARSER_ERROR', `Unexpected JSON: ${(error as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(
        null,
        Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))),
      );
    },
  );

  if (controls) {
    // Keep every received byte so tests can scan what a client sent (e.g. for patient data).
    app.addHook('onRequest', (request, _reply, done) => {
      const entry: RequestLogEntry = {
        seq: ++requestSeq,
        at: clock.now().toISOString(),
        method: request.method,
        url: request.url,
        headers: { ...request.headers },
        body: '',
        status: 0,
      };
      requestLog.push(entry);
      if (requestLog.length > 20_000) requestLog.shift();
      request.sfLogEntry = entry;
      done();
    });
    app.addHook('preParsing', async (request, _reply, payload) => {
      const chunks: Buffer[] = [];
      for await (const chunk of payload)
        chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      const buffer = Buffer.concat(chunks);
      if (request.sfLogEntry) request.sfLogEntry.body = buffer.toString('utf8');
      const replay = Readable.from([buffer]) as Readable & { receivedEncodedLength?: number };
      replay.receivedEncodedLength = buffer.length;
      return replay;
    });
    app.addHook('onResponse', async (request, reply) => {
      if (request.sfLogEntry) request.sfLogEntry.status = reply.statusCode;
    });
  }

  // Everything under /services/data: faults, version check, session, API budget, Sforce-Limit-Info.
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/services/data')) return;
    if (faults.latencyMs > 0 && faults.latencyTimes !== 0) {
      if (faults.latencyTimes > 0) faults.latencyTimes--;
      await new Promise((r) => setTimeout(r, faults.latencyMs));
    }
    if (faults.http503 !== 0) {
      if (faults.http503 > 0) faults.http503--;
      return reply
        .code(503)
        .send(errorBody('Server is temporarily unavailable. Please try again later.', 'SERVER_UNAVAILABLE'));
    }
    const m = /^\/services\/data\/?(v\d+\.\d)?/.exec(path);
    const version = m?.[1];
    if (version === undefined) return; // the versions list needs no session
    if (!SUPPORTED_VERSIONS.includes(version.slice(1))) {
      return reply.code(404).send(errorBody('The requested resource does not exist', 'NOT_FOUND'));
    }
    const userId = authenticate(request);
    if (!userId) return reply.code(401).send(errorBody('Session expired or invalid', 'INVALID_SESSION_ID'));
    if (!org.countRequest())
      return reply.code(403).send(errorBody('TotalRequests Limit exceeded.', 'REQUEST_LIMIT_EXCEEDED'));
    request.sfUserId = userId;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/services/data/v'))
      reply.header('Sforce-Limit-Info', `api-usage=${org.api.used}/${org.api.max}`);
    return payload;
  });

  function authenticate(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header);
    return m?.[1] ? sessions.resolve(m[1].trim()) : undefined;
  }

  app.setErrorHandler((error: unknown, request, reply: FastifyReply) => {
    if (error instanceof ApiError) return reply.code(error.status).send(error.body());
    if (error instanceof SoqlError) return reply.code(400).send(errorBody(error.message, error.errorCode));
    if (error instanceof OAuthError)
      return reply.code(error.status).send({ error: error.error, error_description: error.description });
    const e = error as { statusCode?: number; message?: string; code?: string };
    // The token endpoint only ever answers in OAuth's own shape, whatever went wrong.
    if (request.url.startsWith('/services/oauth2/')) {
      const status = e.statusCode && e.statusCode < 500 ? e.statusCode : 500;
      return reply.code(status).send({
        error: status === 500 ? 'unknown_error' : 'invalid_request',
        error_description: e.message ?? 'retry your request',
      });
    }
    if (e.statusCode && e.statusCode < 500) {
      return reply
        .code(e.statusCode)
        .send(
          errorBody(
            e.message ?? 'Bad request',
            e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'REQUEST_TOO_LARGE' : 'JSON_PARSER_ERROR',
          ),
        );
    }
    return reply.code(500).send(errorBody(e.message ?? 'internal error', 'UNKNOWN_EXCEPTION'));
  });

  // A path no route serves: under /services, Salesforce's own error array (jsforce reads errorCode from
  // it); Fastify's default `{message, error, statusCode}` object is not something a real org sends.
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/services/'))
      return reply.code(404).send(errorBody('The requested resource does not exist', 'NOT_FOUND'));
    return reply.code(404).send('Not Found');
  });

  // ---------------------------------------------------------------- OAuth and identity

  function tokenResponse(userId: string, extra: Record<string, string> = {}) {
    const issuedAt = String(clock.now().getTime());
    const id = `${baseUrl}/id/${org.orgId}/${userId}`;
    return {
      access_token: sessions.issue(userId),
      signature: tokenSignature(clientSecret, id, issuedAt),
      scope: 'api',
      instance_url: baseUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      ...extra,
    };
  }

  app.post<{ Body: Record<string, string> | undefined }>('/services/oauth2/token', (request) => {
    const body = request.body ?? {};
    switch (body.grant_type) {
      case 'client_credentials': {
        if (body.client_id !== clientId)
          throw new OAuthError('invalid_client_id', 'client identifier invalid');
        if (body.client_secret !== clientSecret) {
          throw new OAuthError('invalid_client', 'invalid client credentials');
        }
        return tokenResponse(org.integrationUser.id);
      }
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
        const username = verifyJwtAssertion(body.assertion ?? '', {
          certificatePem,
          clientId,
          audiences: [baseUrl, 'https://login.salesforce.com', 'https://test.salesforce.com'],
          now: clock.now(),
        });
        const user = org.userByUsername(username);
        if (!user) throw new OAuthError('invalid_grant', "user hasn't approved this consumer");
        return tokenResponse(user.id);
      }
      case 'refresh_token': {
        if (body.client_id !== clientId)
          throw new OAuthError('invalid_client_id', 'client identifier invalid');
        if (body.client_secret !== undefined && body.client_secret !== clientSecret) {
          throw new OAuthError('invalid_client', 'invalid client credentials');
        }
        const userId = sessions.userForRefreshToken(body.refresh_token ?? '');
        if (!userId) throw new OAuthError('invalid_grant', 'expired access/refresh token');
        return tokenResponse(userId);
      }
      default:
        throw new OAuthError('unsupported_grant_type', 'grant type not supported');
    }
  });

  app.post<{ Body: Record<string, string> | undefined }>(
    '/services/oauth2/revoke',
    async (request, reply) => {
      sessions.revoke(request.body?.token ?? '');
      return reply.code(200).send();
    },
  );

  app.get<{ Params: { orgId: string; userId: string } }>('/id/:orgId/:userId', async (request, reply) => {
    const caller = authenticate(request);
    if (!caller) return reply.code(403).send('Bad_OAuth_Token');
    const user = org.users.get(request.params.userId);
    if (!user || request.params.orgId !== org.orgId) return reply.code(404).send('Not Found');
    const rest = `${baseUrl}/services/data/v{version}/`;
    return {
      id: `${baseUrl}/id/${org.orgId}/${user.id}`,
      asserted_user: true,
      user_id: user.id,
      organization_id: org.orgId,
      username: user.username,
      nick_name: user.username.split('@')[0],
      display_name: `${user.firstName} ${user.lastName}`,
      email: user.email,
      active: true,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_AU',
      utcOffset: 36_000_000,
      urls: {
        rest,
        sobjects: `${rest}sobjects/`,
        query: `${rest}query/`,
        limits: `${rest}limits/`,
        profile: `${baseUrl}/${user.id}`,
      },
      is_app_installed: true,
    };
  });

  // ---------------------------------------------------------------- REST, Bulk 2.0, controls

  registerRest(app, org);
  await app.register(bulkIngestPlugin, {
    authenticate: (request) => Promise.resolve(request.sfUserId ? { userId: request.sfUserId } : undefined),
    applyDml: (userId, objectName, operation, externalIdFieldName, rows) =>
      Promise.resolve(org.applyDml(userId, objectName, operation, externalIdFieldName, rows)),
    now: () => clock.now(),
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
  if (controls) {
    registerControls(app, { org, sessions, requestLog, faults, clock, clientId });
  }

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
    close: async () => {
      await app.close();
      if (options.snapshotFile) writeFileSync(options.snapshotFile, JSON.stringify(org.snapshot()));
    },
  };
}
