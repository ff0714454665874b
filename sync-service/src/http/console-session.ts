import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRole, AdminToken } from '../config/index.js';

/**
 * The web console's sign-in: an admin token (the same ADMIN_TOKENS as the bearer API) exchanged once
 * for an HTTP-only, SameSite=Strict session cookie, so the token never sits in page script or storage.
 *
 * The cookie is stateless (several instances behind one router accept it) and holds no secret:
 * `v1.<role>.<expiry>.<tokenId>.<mac>`, where tokenId names the token (a hash of its digest, never the
 * digest) and mac is an HMAC-SHA256 over the rest keyed by that token's sha256 digest. Removing the
 * token from ADMIN_TOKENS therefore ends its sessions at once.
 *
 * Cross-site requests: a cookie is only honoured on requests that also carry the `x-console: 1`
 * header, which a page on another origin cannot add without a CORS preflight the service never grants.
 */
export const SESSION_COOKIE = 'sync_console';
export const CONSOLE_HEADER = 'x-console';
export const SESSION_SECONDS = 8 * 3600;

/** A short, stable, non-secret name for a configured token (for the audit log's actor). */
export function tokenId(token: AdminToken): string {
  return createHash('sha256').update(token.sha256).digest('hex').slice(0, 12);
}

function mac(token: AdminToken, body: string): Buffer {
  return createHmac('sha256', token.sha256).update(body).digest();
}

export function issueSession(token: AdminToken, now: number, seconds = SESSION_SECONDS): string {
  const body = `v1.${token.role}.${Math.floor(now / 1000) + seconds}.${tokenId(token)}`;
  return `${body}.${mac(token, body).toString('base64url')}`;
}

export interface SessionIdentity {
  readonly role: AdminRole;
  readonly tokenId: string;
  readonly expiresAt: number;
}

/** The identity a cookie value proves, or undefined (malformed, forged, expired or token revoked). */
export function verifySession(
  tokens: readonly AdminToken[],
  value: string,
  now: number,
): SessionIdentity | undefined {
  const parts = value.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
  const [, role, exp, id, presented] = parts as [string, string, string, string, string];
  const expiresAt = Number(exp) * 1000;
  if (!Number.isSafeInteger(Number(exp)) || expiresAt <= now) return undefined;
  const body = parts.slice(0, 4).join('.');
  const given = Buffer.from(presented, 'base64url');
  let found: SessionIdentity | undefined;
  for (const token of tokens) {
    if (token.role !== role || tokenId(token) !== id) continue;
    const expected = mac(token, body);
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      found = { role: token.role, tokenId: id, expiresAt };
    }
  }
  return found;
}

export function cookieValue(header: string | undefined, name = SESSION_COOKIE): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The console session of a request: only with the console header (see above). */
export function consoleSession(
  tokens: readonly AdminToken[],
  request: FastifyRequest,
  now = Date.now(),
): SessionIdentity | undefined {
  if (request.headers[CONSOLE_HEADER] !== '1') return undefined;
  const value = cookieValue(request.headers.cookie);
  return value === undefined ? undefined : verifySession(tokens, value, now);
}

function secure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string): void {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  attrs.push(`Max-Age=${SESSION_SECONDS}`);
  if (secure(request)) attrs.push('Secure');
  reply.header('set-cookie', attrs.join('; '));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const attrs = [`${SESSION_COOKIE}=`, 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0'];
  if (secure(request)) attrs.push('Secure');
  reply.header('set-cookie', attrs.join('; '));
}
