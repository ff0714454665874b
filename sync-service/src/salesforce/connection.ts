import { createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Connection, OAuth2, type ConnectionConfig } from 'jsforce';
import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import type { Logger } from '../logger.js';
import { callFailure } from './classify.js';

/**
 * A jsforce Connection authenticated with the OAuth 2.0 client-credentials flow or the JWT bearer flow
 * (production), with a custom refresh function: jsforce calls it when a request answers
 * INVALID_SESSION_ID. Refreshes are capped (a session that expires again at once is a misconfiguration,
 * not something to hammer the token endpoint over).
 */
export interface SalesforceSession {
  readonly connection: Connection;
  /** Number of token requests made so far (login + refreshes). */
  tokenRequests(): number;
}

interface TokenResponse {
  access_token: string;
  instance_url: string;
  id?: string;
}

export interface ConnectionOptions {
  readonly now?: () => number;
  /** At most this many refreshes in `refreshWindowMs` (default 5 per minute). */
  readonly maxRefreshes?: number;
  readonly refreshWindowMs?: number;
  readonly readKeyFile?: (path: string) => string;
}

/** RS256 JWT for the OAuth 2.0 JWT bearer flow: iss = consumer key, sub = username, aud = login URL. */
export function buildJwtAssertion(
  auth: { clientId: string; username: string },
  audience: string,
  privateKeyPem: string,
  nowSeconds: number,
): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({ alg: 'RS256', typ: 'JWT' });
  const claims = encode({ iss: auth.clientId, sub: auth.username, aud: audience, exp: nowSeconds + 180 });
  const signature = createSign('RSA-SHA256')
    .update(`${header}.${claims}`)
    .sign(privateKeyPem)
    .toString('base64url');
  return `${header}.${claims}.${signature}`;
}

export async function connectSalesforce(
  config: Config['salesforce'],
  logger: Logger,
  options: ConnectionOptions = {},
): Promise<SalesforceSession> {
  const log = logger.child({ module: 'salesforce' });
  const now = options.now ?? Date.now;
  const auth = config.auth;
  const oauth2 = new OAuth2({
    loginUrl: config.loginUrl,
    clientId: auth.clientId,
    ...(auth.kind === 'client_credentials' ? { clientSecret: auth.clientSecret } : {}),
  });
  const privateKey =
    auth.kind === 'jwt_bearer'
      ? (options.readKeyFile ?? ((p: string) => readFileSync(p, 'utf8')))(auth.privateKeyFile)
      : '';
  let requests = 0;
  const requestToken = async (): Promise<TokenResponse> => {
    requests += 1;
    return requestGrant(config, oauth2, privateKey, now);
  };

  const first = await requestToken();
  const connection = new Connection({
    oauth2,
    instanceUrl: first.instance_url,
    accessToken: first.access_token,
    version: config.apiVersion,
    refreshFn: cappedRefresh(requestToken, now, options, log),
  });
  log.info({ flow: auth.kind, apiVersion: config.apiVersion }, 'connected to salesforce');
  return { connection, tokenRequests: () => requests };
}

/** One token request with the configured grant; a failure becomes an outage or a refusal. */
async function requestGrant(
  config: Config['salesforce'],
  oauth2: OAuth2,
  privateKey: string,
  now: () => number,
): Promise<TokenResponse> {
  const auth = config.auth;
  try {
    const response =
      auth.kind === 'client_credentials'
        ? await oauth2.requestToken({ grant_type: 'client_credentials' })
        : await oauth2.requestToken({
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion: buildJwtAssertion(auth, config.loginUrl, privateKey, Math.floor(now() / 1000)),
          });
    return response;
  } catch (err) {
    throw tokenFailure(err, auth.kind);
  }
}

function tokenFailure(err: unknown, grant: Config['salesforce']['auth']['kind']): SyncError {
  const name = (err as { name?: unknown }).name;
  const upstream = typeof name === 'string' ? name : 'UNKNOWN';
  // An unreachable or failing token endpoint (5xx, 429, a dropped connection, or Salesforce's own
  // "unknown_error: retry your request") is an outage, not a refusal: the writes waiting on this
  // token must be retried, not dead-lettered as if the record were at fault.
  const outage =
    /^ERROR_HTTP_(5\d\d|429)$/.test(upstream) ||
    upstream === 'unknown_error' ||
    callFailure(err, 'token').code === 'SALESFORCE_UNAVAILABLE';
  if (outage) {
    return new SyncError('SALESFORCE_UNAVAILABLE', `Salesforce's token endpoint failed (${upstream})`, {
      record: { system: 'salesforce' },
      upstreamCode: upstream,
      cause: err,
    });
  }
  return new SyncError('SALESFORCE_AUTH_FAILED', `Salesforce refused the ${grant} grant`, {
    record: { system: 'salesforce' },
    upstreamCode: typeof name === 'string' ? name : undefined,
    cause: err,
  });
}

/**
 * jsforce's session refresh (called on INVALID_SESSION_ID), capped at `maxRefreshes` (default 5) in any
 * `refreshWindowMs` (default 60 s).
 */
function cappedRefresh(
  requestToken: () => Promise<TokenResponse>,
  now: () => number,
  options: ConnectionOptions,
  log: Logger,
): NonNullable<ConnectionConfig['refreshFn']> {
  const maxRefreshes = options.maxRefreshes ?? 5;
  const windowMs = options.refreshWindowMs ?? 60_000;
  const recentRefreshes: number[] = [];
  return (conn, callback) => {
    const t = now();
    while (recentRefreshes.length > 0 && recentRefreshes[0]! <= t - windowMs) recentRefreshes.shift();
    if (recentRefreshes.length >= maxRefreshes) {
      callback(
        new SyncError(
          'SALESFORCE_AUTH_FAILED',
          `session refresh cap reached (${maxRefreshes} in ${windowMs} ms)`,
          {
            record: { system: 'salesforce' },
          },
        ),
      );
      return;
    }
    recentRefreshes.push(t);
    requestToken().then(
      (token) => {
        log.info({ refreshes: recentRefreshes.length }, 'salesforce session refreshed');
        conn.accessToken = token.access_token;
        conn.instanceUrl = token.instance_url;
        callback(undefined, token.access_token, token as never);
      },
      (err: unknown) => {
        callback(err as Error);
      },
    );
  };
}
