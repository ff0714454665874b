/**
 * The HTTP plumbing shared by every route: body parsers, Salesforce's error shapes (the error array
 * under /services, OAuth's shape at the token endpoint), the request log kept for the test controls,
 * and the gate in front of /services/data (faults, API version, session, API budget, Sforce-Limit-Info).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Sessions } from './auth.js';
import { OAuthError } from './auth.js';
import type { Faults, RequestLogEntry } from './controls.js';
import { ApiError } from './errors.js';
import { authenticate } from './oauth.js';
import type { Clock, Org } from './org.js';
import { SoqlError } from './soql/index.js';

/** API versions the emulator answers (Winter '21 to Spring '26). */
export const SUPPORTED_VERSIONS = Array.from({ length: 17 }, (_, i) => `${50 + i}.0`);

export function errorBody(message: string, errorCode: string) {
  return [{ message, errorCode }];
}

/**
 * The path with runs of slashes collapsed, query untouched. The Salesforce CLI stores the instance URL
 * with a trailing `/` and appends `/services/...`, so every request it sends starts `//services/`;
 * Salesforce serves those, so the emulator rewrites them before routing and before every hook.
 */
export function collapseSlashes(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const collapsed = path.replace(/\/{2,}/g, '/');
  return q < 0 ? collapsed : collapsed + url.slice(q);
}

/** JSON bodies may be empty (DELETE with a content type); form bodies are the OAuth token requests. */
export function addBodyParsers(app: FastifyInstance): void {
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
}

/** Keeps every received byte so tests can scan what a client sent (e.g. for patient data). */
export function addRequestLog(
  app: FastifyInstance,
  clock: Clock,
  requestLog: RequestLogEntry[],
  limit: number,
): void {
  let requestSeq = 0;
  app.addHook('onRequest', (request, _reply, done) => {
    const entry: RequestLogEntry = {
      seq: ++requestSeq,
      at: clock.now().toISOString(),
      method: request.method,
      url: request.url,
      ...(request.originalUrl !== request.url ? { sentUrl: request.originalUrl } : {}),
      headers: { ...request.headers },
      body: '',
      status: 0,
    };
    requestLog.push(entry);
    if (requestLog.length > limit) requestLog.splice(0, requestLog.length - limit);
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

/** Everything under /services/data: faults, version check, session, API budget, Sforce-Limit-Info. */
export function addApiGate(
  app: FastifyInstance,
  deps: { org: Org; sessions: Sessions; faults: Faults },
): void {
  const { org, sessions, faults } = deps;
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
    const userId = authenticate(sessions, request);
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
}

export function setErrorHandlers(app: FastifyInstance): void {
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
}

/**
 * Requests answered, by method and route pattern (`POST /services/data/:version/composite/sobjects`):
 * cheap counters for benchmarks, which count the calls a client made here rather than trusting the
 * client's own count. Kept whether or not the request log is on.
 */
export function countRoutes(app: FastifyInstance): Map<string, number> {
  const counts = new Map<string, number>();
  app.addHook('onResponse', (request, _reply, done) => {
    const key = `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    done();
  });
  return counts;
}
