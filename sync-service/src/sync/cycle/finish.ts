import type { RunCounter, RunMode as SyncRunMode } from '../../governance/sync-run.js';
import { describeError, recordRunSummary } from '../common/run-record.js';
import type { DrainResult } from '../outbox/worker.js';
import type { CycleContext, RunSummary } from './context.js';

/**
 * The end of every run: drain the outbox, record the run locally (GET /runs) and, when it changed
 * something, as a Sync_Run__c in Salesforce, and summarise it.
 */

/** Counters taken when the run started, so the summary reports this run's calls only. */
export interface RunStart {
  readonly runId: string;
  readonly mode: RunSummary['mode'];
  readonly started: number;
  readonly counter: RunCounter;
  readonly before: { clinikoRequests: number; salesforceCalls: number; wallMs: number };
}

export function snapshot(ctx: CycleContext): RunStart['before'] {
  return {
    clinikoRequests: ctx.deps.cliniko.stats().requests,
    salesforceCalls: ctx.deps.salesforceCalls?.() ?? 0,
    wallMs: performance.now(),
  };
}

/** Records the start of a run in the store and returns what its end needs. */
export async function startRun(
  ctx: CycleContext,
  runId: string,
  mode: RunSummary['mode'],
  counter: RunCounter,
): Promise<RunStart> {
  const started = ctx.deps.now();
  const before = snapshot(ctx);
  await ctx.deps.store.startRun({ id: runId, mode, startedAt: started, dataMapHash: ctx.deps.dataMapHash });
  return { runId, mode, started, counter, before };
}

/** A run's failure as recorded: the one description shared with the reconciliation. */
export const describeRunError = describeError;

export async function finish(ctx: CycleContext, run: RunStart, failure: string | null): Promise<RunSummary> {
  let error = failure;
  let drain: DrainResult | null = null;
  if (error === null) {
    const drained = await drainInto(ctx, run);
    drain = drained.drain;
    error = drained.error;
  }
  const status = runStatus(error, drain);
  const finished = ctx.deps.now();
  const counts = run.counter.byObject();
  if (changedSomething(error, counts)) await queueRunRecord(ctx, run, finished, counts, error);
  await ctx.deps.store.finishRun({
    id: run.runId,
    status,
    finishedAt: finished,
    counts: JSON.stringify(counts),
    error,
  });
  const summary: RunSummary = {
    runId: run.runId,
    mode: run.mode,
    status,
    startedAt: new Date(run.started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    counts,
    drain,
    clinikoRequests: ctx.deps.cliniko.stats().requests - run.before.clinikoRequests,
    salesforceCalls: (ctx.deps.salesforceCalls?.() ?? 0) - run.before.salesforceCalls,
    durationMs: Math.round(performance.now() - run.before.wallMs),
    error,
  };
  ctx.log.info(
    { runId: run.runId, mode: run.mode, status, counts, clinikoRequests: summary.clinikoRequests },
    'run finished',
  );
  return summary;
}

/**
 * Drains the outbox and counts what it wrote and dead-lettered. A drain that throws (the store
 * unreachable mid-write) fails the run; it must still be finished, or it would show as running forever.
 * Its items stay in the outbox for the next drain.
 */
async function drainInto(
  ctx: CycleContext,
  run: RunStart,
): Promise<{ drain: DrainResult | null; error: string | null }> {
  try {
    const drain = await ctx.deps.worker.drain();
    for (const [object, n] of Object.entries(drain.writtenByObject)) run.counter.add(object, 'written', n);
    for (const [object, n] of Object.entries(drain.deadLetteredByObject))
      run.counter.add(object, 'deadLettered', n);
    return { drain, error: null };
  } catch (err) {
    ctx.log.error({ runId: run.runId, err }, 'outbox drain failed');
    return { drain: null, error: describeRunError(err) };
  }
}

function runStatus(error: string | null, drain: DrainResult | null): 'succeeded' | 'partial' | 'failed' {
  if (error !== null) return 'failed';
  return drain && (drain.deadLettered > 0 || drain.pending > 0) ? 'partial' : 'succeeded';
}

/**
 * A run that changed nothing is kept in the local run history (GET /runs) but not sent to Salesforce:
 * an idle clinic would otherwise add a Sync_Run__c every minute.
 */
function changedSomething(error: string | null, counts: RunSummary['counts']): boolean {
  return error !== null || Object.values(counts).some((c) => c.written + c.quarantined + c.deadLettered > 0);
}

/** Queues the run's Sync_Run__c and drains it (a failure leaves it queued for the next drain). */
async function queueRunRecord(
  ctx: CycleContext,
  run: RunStart,
  finished: number,
  counts: RunSummary['counts'],
  error: string | null,
): Promise<void> {
  const syncRunMode: SyncRunMode =
    run.mode === 'backfill' ? 'backfill' : run.mode === 'journey-daily' ? 'reconcile' : 'incremental';
  await recordRunSummary(
    { store: ctx.deps.store, worker: ctx.deps.worker, log: ctx.log },
    {
      runId: run.runId,
      mode: syncRunMode,
      startedAt: new Date(run.started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      failed: error !== null,
      counts,
      dataMapSha256: ctx.deps.dataMapHash,
    },
    finished,
  );
}

/** The summary of a run that did nothing and recorded nothing: skipped (another holds the lease) or idle. */
export function noRun(mode: RunSummary['mode'], status: 'skipped' | 'succeeded', now: number): RunSummary {
  const at = new Date(now).toISOString();
  return {
    runId: '-',
    mode,
    status,
    startedAt: at,
    finishedAt: at,
    counts: {},
    drain: null,
    clinikoRequests: 0,
    salesforceCalls: 0,
    durationMs: 0,
    error: null,
  };
}
