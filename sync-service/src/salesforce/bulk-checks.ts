/**
 * When to check a Bulk API 2.0 job's state after it is closed (issue #16).
 *
 * A fixed schedule from the close (50, 150, 350, 750 ms, then every 500 ms) finds a job that finishes
 * between two checks up to 500 ms late, and the drain waits for it with nothing to do; against
 * Salesforce, whose jobs take seconds, it spends a dozen checks on each job before the one that
 * matters. So the writer learns how long the org takes per record, for each object, from the jobs it
 * has seen (`BulkPace`), waits for most of the expected time before its first check, and only then
 * checks on the short schedule. The estimate is the middle of what a job's checks showed: after the
 * last check that found it unfinished (or the close) and no later than the one that found it complete;
 * it moves a third of the way towards each new job's, so one slow job (a queue at Salesforce) does not
 * hold the next one's first check for long. The first wait is capped (`FIRST_CHECK_MAX_MS`): a job is never
 * left unchecked for more than that by an estimate.
 */

/** Checks after the first, in ms: short at first, then every `CHECK_MAX_MS`. */
const CHECK_DELAYS_MS = [50, 100, 200, 400];
const CHECK_MAX_MS = 500;
/** The first check is made after this share of the expected time. */
const FIRST_CHECK_SHARE = 0.8;
/** The shortest and the longest wait before the first check, in ms. */
const FIRST_CHECK_MIN_MS = 50;
const FIRST_CHECK_MAX_MS = 30_000;
/** How far each job's estimate moves the learned one. */
const LEARNING_RATE = 1 / 3;

export const BULK_TIMEOUT_MS = 10 * 60_000;

/** What a check of a job answers (jsforce's `IngestJobV2.check()`). */
export interface CheckedJob {
  check(): Promise<{ state: string; errorMessage?: string }>;
}

export interface BulkClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: BulkClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Milliseconds per record, learned per object from the jobs this writer has seen complete. */
export class BulkPace {
  private readonly msPerRecord = new Map<string, number>();

  /** How long after its close a job of `records` records of `object` is expected to be complete. */
  expectedMs(object: string, records: number): number {
    return (this.msPerRecord.get(object) ?? 0) * records;
  }

  /** The first check's delay for such a job. */
  firstCheckMs(object: string, records: number): number {
    const wait = FIRST_CHECK_SHARE * this.expectedMs(object, records);
    return Math.min(FIRST_CHECK_MAX_MS, Math.max(FIRST_CHECK_MIN_MS, wait));
  }

  /**
   * A job was found complete `completeAtMs` after its close; the last check that found it unfinished
   * answered at `unfinishedAtMs` (undefined when the first check found it complete).
   */
  learn(object: string, records: number, completeAtMs: number, unfinishedAtMs: number | undefined): void {
    if (records <= 0) return;
    // Found complete at the first check, it may have finished at any time before it (a first check
    // that the busy thread made late says little): the middle of that, so the next first check is
    // earlier, until one finds a job unfinished and the two checks bracket the time.
    const took = ((unfinishedAtMs ?? 0) + completeAtMs) / 2;
    const sample = took / records;
    const known = this.msPerRecord.get(object);
    this.msPerRecord.set(object, known === undefined ? sample : known + LEARNING_RATE * (sample - known));
  }
}

/**
 * Waits until a closed job is complete: a first check after most of the expected time, then the short
 * schedule; throws as jsforce does for a failed or aborted job, and `JobPollingTimeout` (retryable,
 * classify.ts) after `BULK_TIMEOUT_MS`.
 */
export async function untilComplete(
  job: CheckedJob,
  how: { object: string; records: number; pace: BulkPace; clock: BulkClock },
): Promise<void> {
  const { object, records, pace, clock } = how;
  const closedAt = clock.now();
  let unfinishedAt: number | undefined;
  await clock.sleep(pace.firstCheckMs(object, records));
  for (let i = 0; ; i++) {
    const info = await job.check();
    const elapsed = clock.now() - closedAt;
    if (info.state === 'JobComplete') {
      pace.learn(object, records, elapsed, unfinishedAt);
      return;
    }
    if (info.state === 'Failed')
      throw new Error(`Ingest job failed to complete due to: ${info.errorMessage}`);
    if (info.state === 'Aborted') throw new Error('Job has been aborted');
    if (info.state === 'Open') throw new Error('Job is still open after it was closed');
    unfinishedAt = elapsed;
    if (elapsed >= BULK_TIMEOUT_MS) {
      // Named as jsforce names it, so that it is classified as a retryable time-out (classify.ts).
      throw Object.assign(new Error(`Polling timed out after ${BULK_TIMEOUT_MS}ms`), {
        name: 'JobPollingTimeout',
      });
    }
    await clock.sleep(CHECK_DELAYS_MS[i] ?? CHECK_MAX_MS);
  }
}
