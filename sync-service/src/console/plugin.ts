import { readFileSync } from 'node:fs';
import type { FastifyPluginCallback } from 'fastify';
import type { AdminRole, AdminToken } from '../config/index.js';
import { requireRole, roleForToken, sendError } from '../http/auth.js';
import {
  clearSessionCookie,
  consoleSession,
  issueSession,
  setSessionCookie,
} from '../http/console-session.js';

/**
 * The integration owner's web console: one static page (HTML, CSS and a plain ES module; no build
 * step, no framework, ~25 KB) served by the service under /console, reading the admin API with a
 * session cookie. Signing in exchanges an admin token for that cookie (http/console-session.ts); the
 * page then reads GET /console/api/overview plus the existing admin routes (/runs, /dlq, /quarantine)
 * and acts through POST /sync/run, /dlq/:id/replay, /sync/pause and /sync/resume, whose role checks
 * apply unchanged.
 */
export interface ConsoleOptions {
  readonly tokens: readonly AdminToken[];
  readonly now: () => number;
  /** Everything the page shows at a glance; built by the runtime (runtime/operations.ts). */
  readonly overview: () => Promise<Record<string, unknown>>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

// A strict policy: only this origin's script and style, no inline script, no framing.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function loadAssets(): Map<string, { body: Buffer; type: string }> {
  const out = new Map<string, { body: Buffer; type: string }>();
  for (const [route, asset] of Object.entries(ASSETS)) {
    out.set(route, {
      body: readFileSync(new URL(`./static/${asset.file}`, import.meta.url)),
      type: asset.type,
    });
  }
  return out;
}

export const consoleRoutes: FastifyPluginCallback<ConsoleOptions> = (app, options, done) => {
  // Read once at registration: the page is small and never changes while the process runs.
  const assets = loadAssets();
  const viewer = requireRole(options.tokens, 'viewer');

  for (const [route, asset] of assets) {
    app.get(route, (_request, reply) =>
      reply
        .header('content-type', asset.type)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .send(asset.body),
    );
  }
  app.get('/console/', (_request, reply) => reply.redirect('/console'));

  app.post<{ Body: { token?: unknown } }>(
    '/console/session',
    {
      schema: {
        body: {
          type: 'object',
          required: ['token'],
          properties: { token: { type: 'string', minLength: 1, maxLength: 512 } },
        },
      },
    },
    async (request, reply) => {
      const presented = String(request.body.token);
      const role: AdminRole | undefined = roleForToken(options.tokens, presented);
      if (role === undefined) return sendError(reply, 401, 'UNAUTHORIZED', 'that token is not valid');
      // The strongest configured entry for this token signs the session.
      const token = options.tokens.find(
        (t) => t.role === role && roleForToken([t], presented) !== undefined,
      )!;
      setSessionCookie(request, reply, issueSession(token, options.now()));
      return reply.code(200).send({ role });
    },
  );

  app.get('/console/session', async (request, reply) => {
    const session = consoleSession(options.tokens, request, options.now());
    if (!session) return sendError(reply, 401, 'UNAUTHORIZED', 'not signed in');
    return { role: session.role, expiresAt: new Date(session.expiresAt).toISOString() };
  });

  app.delete('/console/session', async (request, reply) => {
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  app.get('/console/api/overview', { preHandler: viewer }, async (request) => {
    const session = consoleSession(options.tokens, request, options.now());
    return { ...(await options.overview()), role: session?.role ?? null };
  });

  done();
};
