/**
 * Freshness: the production service (`node sync-service/dist/server.js`, its own scheduler, Cliniko's
 * real 200-a-minute limit at the emulator and the client's own production budget) while patients'
 * e-mail addresses change in Cliniko at random times (a Poisson process). For each change: the time
 * from the change to the new value being visible on the Contact in Salesforce, read at the emulator
 * every 250 ms. Also the Cliniko requests the service made over the window, against what Cliniko allows.
 */
import type { ClinikoProcess, SalesforceProcess } from './emulators.js';
import { RESOURCES } from '../../sync-service/src/cliniko/resources.js';
import { DATA_STREAMS } from '../../sync-service/src/sync/cycle/context.js';
import { memoryOf, startChild } from './processes.js';

export interface FreshnessResult {
  windowSeconds: number;
  changes: number;
  visible: number;
  /** Changes not visible in Salesforce when the bench stopped waiting. */
  notVisible: number;
  p50Seconds: number;
  p95Seconds: number;
  maxSeconds: number;
  clinikoRequests: number;
  /**
   * The same requests by list path: the data streams' polls, the reference lists (read at the server's
   * start and every ten minutes) and any recheck pages show apart.
   */
  clinikoRequestsByPath: Record<string, number>;
  /** Cliniko requests per minute over the window divided by Cliniko's 200 per minute. */
  budgetShare: number;
  /**
   * The same for the data streams' requests alone: the polls (and any recheck pages), without the
   * reference lists the server reads once at its start (and every ten minutes), which a window of a
   * few minutes cannot spread the way a day of polling does.
   */
  pollShare: number;
  serviceRssPeakMb: number;
}

const CLINIKO_LIMIT_PER_MINUTE = 200;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

export async function measureFreshness(options: {
  cliniko: ClinikoProcess;
  salesforce: SalesforceProcess;
  serviceEnv: NodeJS.ProcessEnv;
  patientIds: readonly string[];
  windowSeconds: number;
  meanGapSeconds: number;
  /** How long to wait after the window for the last changes to arrive. */
  drainSeconds: number;
  random: () => number;
}): Promise<FreshnessResult> {
  const { cliniko, salesforce, random } = options;
  await cliniko.control('POST', 'rate-limit', { perMinute: CLINIKO_LIMIT_PER_MINUTE });
  const mark = await cliniko.seq();
  const server = startChild(process.execPath, ['sync-service/dist/server.js'], options.serviceEnv);
  const pending = new Map<string, { email: string; at: number }>();
  const delays: number[] = [];
  let changes = 0;
  let peakMb = 0;
  let windowStart = 0;
  try {
    await server.waitFor((m) => m.msg === 'sync service running', 5 * 60_000);
    windowStart = Date.now();
    const windowEnd = windowStart + options.windowSeconds * 1000;
    let nextChange = windowStart + exponential(random, options.meanGapSeconds) * 1000;
    const watch = async (): Promise<void> => {
      for (const [id, change] of pending) {
        const [contact] = await salesforce.find('Contact', 'Cliniko_Patient_Id__c', id);
        if (contact && contact.Email === change.email) {
          delays.push((Date.now() - change.at) / 1000);
          pending.delete(id);
        }
      }
      peakMb = Math.max(peakMb, memoryOf(server.pid).peakMb);
    };
    while (Date.now() < windowEnd) {
      if (Date.now() >= nextChange) {
        const id = options.patientIds[Math.floor(random() * options.patientIds.length)] as string;
        if (!pending.has(id)) {
          const email = `bench.change.${changes}.${Math.floor(random() * 1e9)}@example.com`;
          await cliniko.control('PATCH', `patients/${id}`, { email });
          pending.set(id, { email, at: Date.now() });
          changes += 1;
        }
        nextChange = Date.now() + exponential(random, options.meanGapSeconds) * 1000;
      }
      await watch();
      await sleep(250);
    }
    const drainEnd = Date.now() + options.drainSeconds * 1000;
    while (pending.size > 0 && Date.now() < drainEnd) {
      await watch();
      await sleep(250);
    }
    peakMb = Math.max(peakMb, memoryOf(server.pid).peakMb);
  } finally {
    await server.stop();
  }
  const minutes = (Date.now() - windowStart) / 60_000;
  const log = await cliniko.requestsSince(mark);
  const requests = log.length;
  const byPath: Record<string, number> = {};
  for (const r of log) {
    const path = (r.url.split('?')[0] ?? '').replace(/^\/v1\//, '');
    byPath[path] = (byPath[path] ?? 0) + 1;
  }
  await cliniko.control('POST', 'rate-limit', { perMinute: 1_000_000 });
  // A change still not visible counts with its age when the bench stopped waiting: a lower bound,
  // so a service that never delivers cannot report a good percentile.
  const stoppedAt = Date.now();
  const sorted = [...delays, ...[...pending.values()].map((c) => (stoppedAt - c.at) / 1000)].sort(
    (a, b) => a - b,
  );
  const round = (n: number): number => Math.round(n * 100) / 100;
  const share = (count: number): number =>
    Math.round((count / minutes / CLINIKO_LIMIT_PER_MINUTE) * 1000) / 1000;
  return {
    windowSeconds: options.windowSeconds,
    changes,
    visible: delays.length,
    notVisible: pending.size,
    p50Seconds: round(percentile(sorted, 50)),
    p95Seconds: round(percentile(sorted, 95)),
    maxSeconds: round(sorted.at(-1) ?? Number.NaN),
    clinikoRequests: requests,
    clinikoRequestsByPath: byPath,
    budgetShare: share(requests),
    pollShare: share(
      Object.entries(byPath)
        .filter(([path]) => DATA_STREAM_PATHS.has(path))
        .reduce((n, [, count]) => n + count, 0),
    ),
    serviceRssPeakMb: peakMb,
  };
}

/** The list paths the cycle's data streams read (the rest are the cached reference lists). */
const DATA_STREAM_PATHS = new Set<string>(DATA_STREAMS.flatMap((stream) => RESOURCES[stream.key].paths));

/** An exponential variate: the gaps of a Poisson process, so changes land at random times. */
function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
