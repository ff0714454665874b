/**
 * Fault injection: tests queue faults (rate limit, server and gateway errors, slow, malformed or
 * dropped responses) for matching requests; the transport hook applies the first one that matches.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { onServerClock, type ServerRuntime } from './transport.js';

export type FaultKind = '429' | '500' | '502' | '503' | '504' | 'slow' | 'malformed' | 'drop';
export interface FaultSpec {
  /** Request path to match, e.g. `/v1/patients`; a trailing `*` matches a prefix; `*` alone matches all. */
  path: string;
  method?: string;
  kind: FaultKind;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** For `slow`: delay before the normal response (default 2000 ms). */
  delayMs?: number;
  /** For `429`: seconds until X-RateLimit-Reset (default 1). */
  resetSeconds?: number;
}
export interface Fault extends Required<Omit<FaultSpec, 'method'>> {
  id: number;
  method: string | null;
  remaining: number;
}

/** Takes (and counts down) the first queued fault matching the request. */
export function takeFault(runtime: ServerRuntime, req: FastifyRequest): Fault | null {
  const path = req.url.split('?')[0] ?? '';
  const i = runtime.faults.findIndex(
    (f) =>
      f.remaining > 0 &&
      (f.method === null || f.method === req.method) &&
      (f.path === '*' || (f.path.endsWith('*') ? path.startsWith(f.path.slice(0, -1)) : path === f.path)),
  );
  const f = runtime.faults[i];
  if (!f) return null;
  f.remaining--;
  if (f.remaining <= 0) runtime.faults.splice(i, 1);
  return f;
}

/** Returns true when the fault produced the response (or dropped the connection). */
export async function applyFault(
  f: Fault,
  req: FastifyRequest,
  reply: FastifyReply,
  runtime: Pick<ServerRuntime, 'clockNow'> = {},
): Promise<boolean> {
  switch (f.kind) {
    case 'slow':
      await new Promise((r) => setTimeout(r, f.delayMs));
      return false;
    case '429':
      reply
        .code(429)
        .header('x-ratelimit-reset', String(onServerClock(runtime, Date.now() + f.resetSeconds * 1000)))
        .send({ message: 'Too many requests. Retry after X-RateLimit-Reset.' });
      return true;
    case '500':
      reply.code(500).send({ message: 'Internal Server Error' });
      return true;
    case '502':
    case '503':
    case '504':
      // Gateway errors come from the load balancer as HTML, not from the API as JSON.
      reply
        .code(Number(f.kind))
        .type('text/html; charset=utf-8')
        .send(`<html><body><h1>${f.kind} ${gatewayText(f.kind)}</h1></body></html>\n`);
      return true;
    case 'malformed':
      reply
        .code(200)
        .type('application/json; charset=utf-8')
        .send('{"patients":[{"id":"1100000000000000001","fir');
      return true;
    case 'drop':
      reply.hijack();
      req.raw.socket.destroy();
      return true;
  }
}

function gatewayText(kind: '502' | '503' | '504'): string {
  return kind === '502' ? 'Bad Gateway' : kind === '503' ? 'Service Unavailable' : 'Gateway Timeout';
}
