/**
 * The last 24 hours of API budget use, one sample a minute, for the console's two small charts: the
 * Cliniko requests granted in the rolling window against its limit, and the Salesforce daily API
 * requests used against the org's allowance (from the last Sforce-Limit-Info header). Held in memory
 * (1,440 samples per series): a restarted process starts a new history; Prometheus keeps the long one.
 */
export interface UsageSample {
  /** Unix milliseconds. */
  readonly at: number;
  readonly clinikoUsed: number | null;
  readonly clinikoLimit: number | null;
  readonly salesforceUsed: number | null;
  readonly salesforceMax: number | null;
}

export interface UsageSources {
  readonly cliniko: () => { readonly used: number; readonly limit: number } | undefined;
  readonly salesforce: () => { readonly used: number; readonly max: number } | undefined;
  readonly now: () => number;
}

export const DAY_MS = 24 * 3600_000;

export function createUsageHistory(sources: UsageSources, options: { everyMs?: number } = {}) {
  const everyMs = options.everyMs ?? 60_000;
  const samples: UsageSample[] = [];
  let timer: NodeJS.Timeout | undefined;

  function sample(): UsageSample {
    const c = sources.cliniko();
    const s = sources.salesforce();
    const at = sources.now();
    const next: UsageSample = {
      at,
      clinikoUsed: c?.used ?? null,
      clinikoLimit: c?.limit ?? null,
      salesforceUsed: s?.used ?? null,
      salesforceMax: s?.max ?? null,
    };
    samples.push(next);
    while (samples.length > 0 && samples[0]!.at < at - DAY_MS) samples.shift();
    return next;
  }

  return {
    sample,
    start(): void {
      if (timer !== undefined) return;
      sample();
      timer = setInterval(sample, everyMs);
      timer.unref();
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    /** Samples of the last 24 hours, oldest first. */
    last24h(): UsageSample[] {
      const from = sources.now() - DAY_MS;
      return samples.filter((s) => s.at >= from);
    },
  };
}

export type UsageHistory = ReturnType<typeof createUsageHistory>;
