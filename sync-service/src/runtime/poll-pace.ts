/**
 * The adaptive poll (issue #16): how long the scheduler waits after an incremental cycle before the
 * next one. Freshness wants short waits (a change waits on average half an interval); the Cliniko
 * budget wants idle polling to stay within a share of it, leaving the rest for real work, backfills
 * and the write-back. So:
 * - after a cycle that wrote something (the clinic is busy), the shortest interval;
 * - after an idle cycle, the interval at which idle cycles, at the requests they recently cost, use
 *   `idleShare` of the budget: interval = requests per idle cycle / (budget per minute x share),
 *   averaged over the last idle cycles (an occasional reference-list re-read is spread, not paid for
 *   by one long wait), within [min, max].
 * E.g. 4 requests per idle cycle (one per stream), 180 requests a minute, 10 %: 18 a minute for idle
 * polls, one every 13.3 s, so a change reaches Salesforce within about 15 s at the 95th percentile.
 */
export interface PollPaceOptions {
  /** Shortest interval (after activity). */
  readonly minMs: number;
  /** Longest interval (`SYNC_POLL_INTERVAL_SECONDS`). */
  readonly maxMs: number;
  /** The Cliniko request budget (`CLINIKO_REQUESTS_PER_MINUTE`). */
  readonly requestsPerMinute: number;
  /** Share of the budget idle polling may use (`SYNC_IDLE_POLL_BUDGET_PERCENT` / 100). */
  readonly idleShare: number;
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
  const idle: number[] = [];
  let current = minMs;
  return {
    /** The interval to plan now. */
    intervalMs: (): number => current,
    /** Takes a finished incremental cycle into account; returns the interval to plan next. */
    afterCycle(cost: CycleCost): number {
      const active = Object.values(cost.counts).some((c) => c.written + c.deadLettered > 0);
      if (active) {
        current = minMs;
        return current;
      }
      idle.push(cost.clinikoRequests);
      if (idle.length > WINDOW) idle.shift();
      const perCycle = idle.reduce((a, b) => a + b, 0) / idle.length;
      const paced = allowedPerMinute > 0 ? Math.ceil((perCycle * 60_000) / allowedPerMinute) : maxMs;
      current = Math.min(maxMs, Math.max(minMs, paced));
      return current;
    },
  };
}

export type PollPace = ReturnType<typeof createPollPace>;
