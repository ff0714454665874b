import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { AdminToken } from '../config/index.js';
import { bearerToken, requireRole } from './auth.js';
import { consoleSession, tokenId } from './console-session.js';

/**
 * POST /sync/pause and POST /sync/resume (operator role, bearer token or console session): switch
 * automatic sync off and on. Manual runs (POST /sync/run) stay possible while paused. Each change is
 * recorded in the audit log by the control (runtime/control.ts), naming the token that made it by its
 * non-secret id; GET /sync/pause (viewer) reads the state.
 */
export interface PauseView {
  readonly paused: boolean;
  readonly since: string | null;
  readonly by: string | null;
}

export interface SyncControlRouteOptions {
  readonly tokens: readonly AdminToken[];
  readonly control: {
    pause(actor: string): Promise<PauseView>;
    resume(actor: string): Promise<PauseView>;
    state(): PauseView;
  };
  readonly now: () => number;
}

/** Who is acting, as the audit log names them: `api:<role>:<tokenId>` or `console:<role>:<tokenId>`. */
export function actorOf(tokens: readonly AdminToken[], request: FastifyRequest, now: number): string {
  const presented = bearerToken(request.headers.authorization);
  if (presented !== undefined) {
    const digest = createHash('sha256').update(presented).digest();
    let found: string | undefined;
    for (const token of tokens) {
      if (timingSafeEqual(digest, token.sha256)) found ??= `api:${token.role}:${tokenId(token)}`;
    }
    if (found) return found;
  }
  const session = consoleSession(tokens, request, now);
  return session ? `console:${session.role}:${session.tokenId}` : 'unknown';
}

export const syncControlRoutes: FastifyPluginCallback<SyncControlRouteOptions> = (app, options, done) => {
  const viewer = requireRole(options.tokens, 'viewer');
  const operator = requireRole(options.tokens, 'operator');
  app.get('/sync/pause', { onRequest: viewer }, () => Promise.resolve(options.control.state()));
  app.post('/sync/pause', { onRequest: operator }, async (request) =>
    options.control.pause(actorOf(options.tokens, request, options.now())),
  );
  app.post('/sync/resume', { onRequest: operator }, async (request) =>
    options.control.resume(actorOf(options.tokens, request, options.now())),
  );
  done();
};
