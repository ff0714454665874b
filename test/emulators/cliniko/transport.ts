/**
 * Cliniko's transport rules: Basic auth with the key as user name, the shard suffix, a User-Agent with
 * a contact e-mail, Accept, and a fixed-window rate limit per key. Also the request log entry and the
 * runtime state the server keeps between requests.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Fault, FaultKind } from './faults.js';

export interface TransportOptions {
  shard: string;
  apiKey: string;
  rateLimitPerMinute: number;
  rateLimitWindowSeconds: number;
}

export interface RequestLogEntry {
  seq: number;
  at: string; // real wall-clock time, ISO
  method: string;
  url: string;
  status: number | null; // null when the connection was dropped
  key: string | null; // the Basic-auth user name (API key) presented, if any
  userAgent: string | null;
  fault: FaultKind | null;
  durationMs: number | null;
}

export interface ServerRuntime {
  faults: Fault[];
  nextFaultId: number;
  log: RequestLogEntry[];
  logLimit: number;
  seq: number;
  rate: Map<string, { windowStart: number; count: number }>;
  base: string;
  /**
   * The emulated clock in seconds (the one the Date header follows). The rate window runs on the wall
   * clock, as requests do, but X-RateLimit-Reset is stated on the server's clock, as Cliniko's Date and
   * reset share one: a client takes reset minus Date as the wait.
   */
  clockNow?: () => number;
  /** Replaces the started rate limit (requests per window) when set through the controls. */
  rateLimitPerMinute?: number;
}

/** A wall-clock instant (ms) as epoch seconds on the emulated clock, rounded up (the reset's form). */
export function onServerClock(runtime: Pick<ServerRuntime, 'clockNow'>, wallMs: number): number {
  const now = Date.now();
  const serverNowSec = runtime.clockNow ? runtime.clockNow() : now / 1000;
  return Math.ceil(serverNowSec + (wallMs - now) / 1000);
}

// A contact e-mail somewhere in the User-Agent, e.g. "GovernedSync/1.0 (ops@clinic.example)".
const UA_EMAIL = /[^\s()<>@,;:]+@[^\s()<>@,;:]+\.[A-Za-z]{2,}/;

export function basicUser(header: string | undefined): string | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user === '' ? null : user;
}

/** The shard is the suffix after the key's last `-`; keys without one belong to au1. */
export function shardOfKey(key: string): string {
  const dash = key.lastIndexOf('-');
  return dash < 0 ? 'au1' : key.slice(dash + 1);
}

function keyValid(key: string, t: TransportOptions): boolean {
  if (shardOfKey(key) !== t.shard) return false;
  const token = (k: string): string => (k.lastIndexOf('-') < 0 ? k : k.slice(0, k.lastIndexOf('-')));
  return token(key) === token(t.apiKey);
}

/** Fixed window per key; returns the reset time (UNIX seconds) when over the limit, else null. */
function rateLimit(runtime: ServerRuntime, t: TransportOptions, key: string): number | null {
  const nowMs = Date.now();
  const windowMs = t.rateLimitWindowSeconds * 1000;
  let w = runtime.rate.get(key);
  if (!w || nowMs - w.windowStart >= windowMs) {
    w = { windowStart: nowMs, count: 0 };
    runtime.rate.set(key, w);
  }
  if (w.count >= (runtime.rateLimitPerMinute ?? t.rateLimitPerMinute))
    return onServerClock(runtime, w.windowStart + windowMs);
  w.count++;
  return null;
}

/**
 * Auth first (a bad key or a key for another shard is a plain 401, as Cliniko's Rails stack sends it),
 * then User-Agent (403), Accept (406) and the rate limit (429). Returns the reply when it refused.
 */
export function refuse(
  req: FastifyRequest,
  reply: FastifyReply,
  key: string | null,
  transport: TransportOptions,
  runtime: ServerRuntime,
): FastifyReply | undefined {
  if (!key || !keyValid(key, transport)) {
    return reply
      .code(401)
      .header('www-authenticate', 'Basic realm="Application"')
      .type('text/plain; charset=utf-8')
      .send('HTTP Basic: Access denied.\n');
  }
  const ua = req.headers['user-agent'];
  if (!ua || !UA_EMAIL.test(ua)) {
    return reply.code(403).send({
      message:
        "A User-Agent header naming your application and a contact e-mail is required, e.g. 'MyApp (me@example.com)'.",
    });
  }
  const accept = req.headers.accept;
  if (!accept || !/(application\/json|application\/\*|\*\/\*)/.test(accept)) {
    return reply.code(406).send({ message: 'Send Accept: application/json' });
  }
  const limited = rateLimit(runtime, transport, key);
  if (limited !== null) {
    return reply
      .code(429)
      .header('x-ratelimit-reset', String(limited))
      .send({ message: 'Too many requests. Retry after X-RateLimit-Reset.' });
  }
  return undefined;
}
