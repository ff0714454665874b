/**
 * The per-key request budget. Cliniko allows 200 requests per minute per API key and answers 429 with
 * `X-RateLimit-Reset` beyond that (reference/README.md). Every request the client makes, on any
 * stream, retry or health probe, first takes a slot here, so the whole process never sends more than
 * `limit` requests in any rolling window.
 *
 * A sliding log rather than a token bucket: a bucket allows a full burst on top of a steady rate and so can
 * exceed `limit` inside one window; the log is exact. Its memory is `limit` timestamps.
 */
export type Clock = () => number;
/** Waits `ms`; should resolve early (or reject) when `signal` aborts, so a closing client stops waiting. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface BudgetOptions {
  /** Requests allowed in any rolling window (config.cliniko.requestsPerMinute). */
  readonly limit: number;
  /** Window length; 60 s for Cliniko. Tests shrink it. */
  readonly windowMs?: number;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Aborted when the client closes: waiting acquisitions then reject instead of sleeping on. */
  readonly signal?: AbortSignal;
}

export interface BudgetStats {
  /** Requests granted inside the current rolling window. */
  readonly used: number;
  readonly limit: number;
  readonly windowMs: number;
  /** Requests granted since start. */
  readonly granted: number;
  /** Acquisitions that had to wait for a slot or for a 429 pause to end. */
  readonly waits: number;
  /** Total milliseconds spent waiting. */
  readonly waitedMs: number;
  /** Times a 429 paused the whole budget. */
  readonly pauses: number;
  /** Epoch milliseconds until which the budget is paused, or null. */
  readonly pausedUntil: number | null;
}

export const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Thrown by a budget or client that was closed while a request waited. */
export class ClosedError extends Error {
  constructor() {
    super('The Cliniko client was closed');
    this.name = 'ClosedError';
  }
}

export class RequestBudget {
  readonly limit: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly signal: AbortSignal | undefined;
  /** Grant times, oldest first; never more than `limit` entries after pruning. */
  private grants: number[] = [];
  private pausedUntilMs = 0;
  /** Acquisitions are served strictly in arrival order so one stream cannot starve another. */
  private queue: Promise<void> = Promise.resolve();
  private grantedTotal = 0;
  private waitCount = 0;
  private waitedTotal = 0;
  private pauseCount = 0;

  constructor(options: BudgetOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError('RequestBudget limit must be a whole number of at least 1');
    }
    this.limit = options.limit;
    this.windowMs = options.windowMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.signal = options.signal;
  }

  /** Resolves when a request may be sent; the slot is counted from that moment. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    // A failed turn must not block the ones behind it.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Stop granting until `epochMs` (from a 429's X-RateLimit-Reset or Retry-After). The pause covers
   * every stream because the limit is per key, not per stream.
   */
  pauseUntil(epochMs: number): void {
    if (epochMs > this.pausedUntilMs) {
      this.pausedUntilMs = epochMs;
      this.pauseCount += 1;
    }
  }

  stats(): BudgetStats {
    const now = this.clock();
    this.prune(now);
    return {
      used: this.grants.length,
      limit: this.limit,
      windowMs: this.windowMs,
      granted: this.grantedTotal,
      waits: this.waitCount,
      waitedMs: this.waitedTotal,
      pauses: this.pauseCount,
      pausedUntil: this.pausedUntilMs > now ? this.pausedUntilMs : null,
    };
  }

  private async take(): Promise<void> {
    let waited = false;
    for (;;) {
      if (this.signal?.aborted) throw new ClosedError();
      const now = this.clock();
      this.prune(now);
      let readyAt: number;
      if (this.pausedUntilMs > now) {
        readyAt = this.pausedUntilMs;
      } else if (this.grants.length >= this.limit) {
        // The oldest grant leaves the window 1 ms after it is a full window old (see prune).
        readyAt = this.grants[0]! + this.windowMs + 1;
      } else {
        this.grants.push(now);
        this.grantedTotal += 1;
        return;
      }
      if (!waited) {
        waited = true;
        this.waitCount += 1;
      }
      const delay = Math.max(1, readyAt - now);
      this.waitedTotal += delay;
      await this.sleep(delay, this.signal);
    }
  }

  /**
   * A grant at time g counts while g >= now - windowMs: the window is closed at both ends, so no closed
   * interval of length windowMs ever holds more than `limit` grants, whichever way the server counts.
   */
  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.grants.length && this.grants[drop]! < cutoff) drop += 1;
    if (drop > 0) this.grants = this.grants.slice(drop);
  }
}
