import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminRole, AdminToken } from '../config/index.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { consoleSession } from './console-session.js';

/**
 * Bearer-token authentication for the admin API. Only sha256 digests of the configured tokens are held
 * (config parses ADMIN_TOKENS that way). A presented token is hashed and compared with every configured
 * digest using crypto.timingSafeEqual, without stopping at the first match, so the time taken says
 * nothing about which token (or how much of one) matched. Digests have a fixed length, so the presented
 * token's length does not leak either.
 */

/** `operator` can do everything `viewer` can. */
const RANK: Record<AdminRole, number> = { viewer: 1, operator: 2 };

export type Comparer = (a: Buffer, b: Buffer) => boolean;

export function roleForToken(
  tokens: readonly AdminToken[],
  presented: string,
  compare: Comparer = timingSafeEqual,
): AdminRole | undefined {
  const digest = createHash('sha256').update(presented).digest();
  let role: AdminRole | undefined;
  for (const token of tokens) {
    const match = compare(digest, token.sha256);
    // Keep the strongest role when the same token is configured twice with different roles.
    if (match && (role === undefined || RANK[token.role] > RANK[role])) role = token.role;
  }
  return role;
}

export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/**
 * Codes the admin API answers with: the catalogue's UNAUTHORIZED and FORBIDDEN, plus HTTP-level ones
 * that are not sync failures (and so are not in the catalogue).
 */
export type HttpErrorCode = ErrorCode | 'BAD_REQUEST' | 'NOT_FOUND' | 'ALREADY_REPLAYED' | 'RUN_IN_PROGRESS';

export function sendError(
  reply: FastifyReply,
  statusCode: number,
  code: HttpErrorCode,
  message?: string,
): FastifyReply {
  const text = message ?? (code in ERROR_CATALOGUE ? ERROR_CATALOGUE[code as ErrorCode].description : code);
  return reply.code(statusCode).send({ error: { code, message: text } });
}

/**
 * A hook that admits requests carrying a token of at least `role`: 401 UNAUTHORIZED without a
 * valid token, 403 FORBIDDEN with a valid token of a weaker role. Routes register it as `onRequest`,
 * which runs before Fastify reads and parses the body: an unauthenticated caller never gets a body
 * parsed (nor a parse error that tells it the route exists and what it expects).
 */
export function requireRole(tokens: readonly AdminToken[], role: AdminRole, compare?: Comparer) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const token = bearerToken(request.headers.authorization);
    // Console hook: without a bearer token, the web console's session cookie (http/console-session.ts).
    const held =
      token === undefined ? consoleSession(tokens, request)?.role : roleForToken(tokens, token, compare);
    if (held === undefined) {
      reply.header('www-authenticate', 'Bearer');
      return sendError(reply, 401, 'UNAUTHORIZED');
    }
    if (RANK[held] < RANK[role]) {
      return sendError(reply, 403, 'FORBIDDEN', `this action needs the ${role} role`);
    }
    return undefined;
  };
}
