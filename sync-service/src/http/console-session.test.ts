import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AdminToken } from '../config/index.js';
import { requireRole } from './auth.js';
import { consoleSession, issueSession, SESSION_COOKIE, verifySession } from './console-session.js';

const token = (role: AdminToken['role'], plain: string): AdminToken => ({
  role,
  sha256: createHash('sha256').update(plain).digest(),
});
const OPERATOR = token('operator', 'op-secret');
const VIEWER = token('viewer', 'view-secret');
const NOW = Date.parse('2026-12-01T00:00:00Z');

describe('console session cookie', () => {
  it('verifies a session it issued, with the role and a non-secret token id', () => {
    const value = issueSession(OPERATOR, NOW);
    expect(value).not.toContain('op-secret');
    expect(verifySession([OPERATOR, VIEWER], value, NOW + 1000)).toMatchObject({ role: 'operator' });
  });

  it('refuses a forged role, a changed MAC, an expired session and a revoked token', () => {
    const value = issueSession(VIEWER, NOW);
    const forged = value.replace('.viewer.', '.operator.');
    expect(verifySession([OPERATOR, VIEWER], forged, NOW)).toBeUndefined();
    const parts = value.split('.');
    parts[4] = Buffer.alloc(32, 1).toString('base64url');
    expect(verifySession([VIEWER], parts.join('.'), NOW)).toBeUndefined();
    expect(verifySession([VIEWER], value, NOW + 9 * 3600_000)).toBeUndefined();
    expect(verifySession([OPERATOR], value, NOW)).toBeUndefined();
    expect(verifySession([VIEWER], 'garbage', NOW)).toBeUndefined();
  });

  it('authenticates admin routes only together with the console header', async () => {
    const app = Fastify();
    app.get('/x', { preHandler: requireRole([OPERATOR, VIEWER], 'operator') }, () =>
      Promise.resolve({ ok: true }),
    );
    const cookie = `${SESSION_COOKIE}=${issueSession(OPERATOR, Date.now())}`;
    const withHeader = await app.inject({ url: '/x', headers: { cookie, 'x-console': '1' } });
    expect(withHeader.statusCode).toBe(200);
    // Control: the same cookie without the header (what a cross-site form would send) is refused.
    const bare = await app.inject({ url: '/x', headers: { cookie } });
    expect(bare.statusCode).toBe(401);
    const viewerCookie = `${SESSION_COOKIE}=${issueSession(VIEWER, Date.now())}`;
    const weaker = await app.inject({ url: '/x', headers: { cookie: viewerCookie, 'x-console': '1' } });
    expect(weaker.statusCode).toBe(403);
    await app.close();
  });

  it('reads the session from a cookie header among others', () => {
    const value = issueSession(VIEWER, NOW);
    const request = { headers: { cookie: `a=1; ${SESSION_COOKIE}=${value}; b=2`, 'x-console': '1' } };
    expect(consoleSession([VIEWER], request as never, NOW)?.role).toBe('viewer');
  });
});
