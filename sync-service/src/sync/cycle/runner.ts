import { randomUUID } from 'node:crypto';
import { DEFAULT_OVERLAP_SECONDS } from '../../cliniko/index.js';
import { RunCounter } from '../../governance/sync-run.js';
import { newRunId } from '../common/run-record.js';
import { createPayloadRules } from '../payloads.js';
import {
  CYCLE_LEASE,
  DATA_STREAMS,
  LEASE_MS,
  type CycleContext,
  type CycleMode,
  type CycleRun,
  type DataStream,
  type RunSummary,
  type SyncRunnerDeps,
} from './context.js';
import { describeRunError, finish, noRun, startRun } from './finish.js';
import { deriveJourneys } from './journeys.js';
import { reparentMerged } from './merges.js';
import { readStream } from './read-stream.js';
import { createReferenceCache } from './references.js';
import { markEmptyIndexCurrent, remindersJob } from './reminders.js';

export type { CycleMode, RunSummary, SyncRunnerDeps } from './context.js';

/**
 * One sync cycle: read every stream incrementally from Cliniko, validate, project through the signed
 * data map, derive journey and care-plan facts, skip what is unchanged, and enqueue the rest to the
 * durable outbox in the same transaction that advances the stream's watermark; then drain the outbox
 * into Salesforce and record the run.
 *
 * Bookmark discipline (per stream, see read-stream.ts): the signpost is Cliniko's clock when the read
 * starts; the watermark never passes it, and only moves in the transaction that makes the page's work
 * durable. Incremental reads start at the cursor and re-read the overlap window once, after it has
 * settled (bookmarks.ts), de-duplicating what they see again.
 */
export function createSyncRunner(deps: SyncRunnerDeps) {
  const ctx: CycleContext = {
    deps,
    log: deps.logger.child({ module: 'runner' }),
    rules: createPayloadRules(deps),
    overlapSeconds: deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
    references: createReferenceCache({
      cliniko: deps.cliniko,
      clinicTimezone: deps.clinicTimezone,
      maxAgeMs: deps.referenceMaxAgeMs,
      store: deps.store,
    }),
    reminderIndex: { checked: false },
  };
  return {
    /** One full cycle: streams, derivations, outbox drain, run record. Skipped while another instance runs one. */
    runCycle: async (mode: CycleMode): Promise<RunSummary> =>
      (await exclusive(ctx, (lease) => cycle(ctx, mode, lease))) ?? noRun(mode, 'skipped', ctx.deps.now()),
    /**
     * The daily pass: time-based triggers (drop-off risk, lapsed, lead nurture, maintenance) for every
     * patient with history, not only those that changed. Each occurrence fires once (the journey state
     * remembers it).
     */
    runJourneyDaily: async (): Promise<RunSummary> =>
      (await exclusive(ctx, () => journeyDaily(ctx))) ?? noRun('journey-daily', 'skipped', ctx.deps.now()),
    /**
     * The reminder job (reminders.ts): the upcoming-appointment events due now, from the reminder index
     * and the stored facts of the appointments it names; no Cliniko request. The scheduler runs it on
     * its own cadence (every minute by default).
     */
    runReminders: async (): Promise<RunSummary> =>
      (await exclusive(ctx, () => remindersJob(ctx))) ?? noRun('reminders', 'skipped', ctx.deps.now()),
  };
}

export type SyncRunner = ReturnType<typeof createSyncRunner>;

/** Reference records (businesses, practitioners, appointment types): cached, read whole when stale. */
function references(ctx: CycleContext) {
  return ctx.references.forCycle(ctx.deps.now());
}

async function cycle(ctx: CycleContext, mode: CycleMode, lease: string | undefined): Promise<RunSummary> {
  const runId = newRunId('run', ctx.deps.now());
  const counter = new RunCounter();
  const start = await startRun(ctx, runId, mode, counter);
  let error: string | null = null;
  try {
    const run: CycleRun = {
      runId,
      counter,
      refs: await references(ctx),
      lease,
      merges: { survivors: new Map<string, string | null>(), discovered: new Map<string, string>() },
    };
    await markEmptyIndexCurrent(ctx, ctx.deps.now());
    await readStreams(ctx, run, mode);
    await reparentMerged(ctx, run.merges.discovered, runId, counter);
    // The patients the streams queued (store: journey_due), page by page, each leaving the queue with
    // its journey: a crash before this point leaves them queued for the next cycle.
    await deriveJourneys(ctx, 'queued', run.refs, runId, counter);
  } catch (err) {
    error = describeRunError(err);
    ctx.log.error({ runId, err }, 'run failed');
  }
  return finish(ctx, start, error);
}

/**
 * Streams read at once (issue #16). One stream's pages follow one another (each asks for the rows after
 * the last id of the page before), so while one page is projected and committed the service only waits
 * for the next; a second stream's page fills that wait. Two, because the service's one thread that
 * projects is then busy: more streams would only queue their pages there.
 */
export const STREAMS_AT_ONCE = 2;

/**
 * Reads every stream, STREAMS_AT_ONCE at a time, in DATA_STREAMS order. Their reads share nothing but
 * the run (its counter, reference lists and merges; see merges.ts for children read before their
 * patient's merge) and each commits its own pages and watermark, so the order in which their pages
 * interleave changes nothing that is written; the drain starts only after every read (finish.ts). A
 * stream that fails lets the reads already under way end and starts no other, as when streams were
 * read one by one; the run fails with the first failure.
 */
async function readStreams(ctx: CycleContext, run: CycleRun, mode: CycleMode): Promise<void> {
  const waiting: DataStream[] = [...DATA_STREAMS];
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (failures.length === 0) {
      const stream = waiting.shift();
      if (stream === undefined) return;
      try {
        await readStream(ctx, run, stream, mode);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: STREAMS_AT_ONCE }, lane));
  if (failures.length > 0) throw failures[0];
}

async function journeyDaily(ctx: CycleContext): Promise<RunSummary> {
  const runId = `journey-${new Date(ctx.deps.now()).toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  const counter = new RunCounter();
  const start = await startRun(ctx, runId, 'journey-daily', counter);
  let error: string | null = null;
  try {
    const refs = await references(ctx);
    await deriveJourneys(ctx, 'all', refs, runId, counter);
  } catch (err) {
    error = err instanceof Error ? err.message : 'unknown error';
    ctx.log.error({ runId, err }, 'daily journey pass failed');
  }
  return finish(ctx, start, error);
}

/** Runs `work` under the cycle lease on PostgreSQL; undefined when another instance holds it. */
async function exclusive(
  ctx: CycleContext,
  work: (lease: string | undefined) => Promise<RunSummary>,
): Promise<RunSummary | undefined> {
  const { store, worker } = ctx.deps;
  if (store.kind !== 'postgres') return work(undefined);
  if (!(await store.acquireLease(CYCLE_LEASE, worker.owner, LEASE_MS, Date.now()))) {
    ctx.log.info({}, 'another instance is running a cycle; this one waits for the next');
    return undefined;
  }
  try {
    return await work(CYCLE_LEASE);
  } finally {
    await store.releaseLease(CYCLE_LEASE, worker.owner);
  }
}
