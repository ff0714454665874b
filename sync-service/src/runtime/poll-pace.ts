/**
 * The adaptive poll (issue #16): how long the scheduler waits after an incremental cycle before the
 * next one. Freshness wants short waits (a change waits on average half an interval); the Cliniko
 * budget wants polling to stay within a share of it, leaving the rest for real work, backfills and the
 * write-back. So every interval is the one at which polls, at what an idle poll has recently cost, use
 * `idleShare` of the budget: interval = requests per idle cycle / (budget per minute x share), within
 * [min, max].
 *
 * - The cost is averaged over the last idle cycles: an occasional costlier one (the reference lists
 *   read again every ten minutes, a recheck of the settled window) is spread, not paid for by one long
 *   wait. Until `WINDOW` idle cycles have been seen, the missing ones count at `baseRequests` (one
 *   request per data stream, what an idle cycle costs), so a process's first cycle, which also reads
 *   the reference lists, does not make the next waits long.
 * - A cycle that wrote something is paced the same way. Polling faster while the clinic is busy would
 *   spend budget for nothing: the paced interval already gives the freshness wanted (a change waits at
 *   most one interval plus the cycle). Its own cost (more pages) is real work, not polling, so it
 *   does not enter the average.
 * E.g. 4 requests per idle cycle (one per stream), 180 requests a minute, 10 %: 18 a minute for polls,
 * one every 13.3 s, so a change reaches Salesforce within about 15 s at the 95th percentile.
 */
export interface PollPaceOptions {
  /** Shortest interval (`SYNC_POLL_MIN_SECONDS`): a floor when the share allows faster polling. */
  readonly minMs: number;
  /** Longest interval (`SYNC_POLL_INTERVAL_SECONDS`). */
  readonly maxMs: number;
  /** The Cliniko request budget (`CLINIKO_REQUESTS_PER_MINUTE`). */
  readonly requestsPerMinute: number;
  /** Share of the budget polling may use (`SYNC_IDLE_POLL_BUDGET_PERCENT` / 100). */
  readonly idleShare: number;
  /**
   * What an idle cycle costs at the least (one request per data stream): the idle cycles not seen yet
   * count at this. Without it, the average is over the idle cycles seen so far only.
   */
  readonly baseRequests?: number;
}

/** What the pace reads from a cycle's summary. */
export interface CycleCost {
  readonly clinikoRequests: number;
  readonly counts: Readonly<Record<string, { readonly written: number; readonly deadLettered: number }>>;
}

/** Idle cycles the average spans: about ten minutes at the usual pace. */
const WINDOW = 45;

export function createPollPace(options: PollPaceOptions) {
  const minMs = Math.max(1, Math.min(options.minMs, options.maxMs));
  const maxMs = Math.max(minMs, options.maxMs);
  const allowedPerMinute = options.requestsPerMinute * options.idleShare;
  const base = options.baseRequests;
  const idle: number[] = [];
  const paced = (): number => {
    if (idle.length === 0 && base === undefined) return minMs;
    const seen = idle.reduce((a, b) => a + b, 0);
    const perCycle =
      base === undefined ? seen / idle.length : (seen + (WINDOW - idle.length) * base) / WINDOW;
    const ms = allowedPerMinute > 0 ? Math.ceil((perCycle * 60_000) / allowedPerMinute) : maxMs;
    return Math.min(maxMs, Math.max(minMs, ms));
  };
  let current = paced();
  return {
    /** The interval to plan now. */
    intervalMs: (): number => current,
    /** Takes a finished incremental cycle into account; returns the interval to plan next. */
    afterCycle(cost: CycleCost): number {
      const active = Object.values(cost.counts).some((c) => c.written + c.deadLettered > 0);
      if (!active) {
        idle.push(cost.clinikoRequests);
        if (idle.length > WINDOW) idle.shift();
      }
      current = paced();
      return current;
    },
  };
}

export type PollPace = ReturnType<typeof createPollPace>;
