/**
 * Full-jitter exponential backoff: the delay before retry `attempt` (0-based) is uniform in
 * [0, min(cap, base * 2^attempt)). Jitter spreads retries from parallel streams so they do not arrive
 * together after an outage ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * How long a 429 asks us to wait, in milliseconds, from `Retry-After` (seconds or an HTTP date) and
 * `X-RateLimit-Reset` (UNIX epoch seconds). Both are read against the server's own `Date` header when
 * present, so a skewed local clock (or an emulator with a settable clock) neither stalls nor hammers.
 * Returns undefined when neither header is usable.
 */
export function rateLimitDelayMs(
  headers: { retryAfter?: string; rateLimitReset?: string; date?: string },
  localNowMs: number,
): number | undefined {
  const serverNow = headers.date ? Date.parse(headers.date) : Number.NaN;
  const now = Number.isFinite(serverNow) ? serverNow : localNowMs;
  const candidates: number[] = [];
  if (headers.retryAfter !== undefined && headers.retryAfter.trim() !== '') {
    const value = headers.retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(value)) candidates.push(Number(value) * 1000);
    else {
      const at = Date.parse(value);
      if (Number.isFinite(at)) candidates.push(at - now);
    }
  }
  if (headers.rateLimitReset !== undefined && /^\d+(\.\d+)?$/.test(headers.rateLimitReset.trim())) {
    candidates.push(Number(headers.rateLimitReset.trim()) * 1000 - now);
  }
  if (candidates.length === 0) return undefined;
  // Honour the later of the two; the server's Date has one-second precision, so never wait less than 0.
  return Math.max(0, ...candidates);
}
