import type { Connection } from 'jsforce';
import type { ClinikoClient } from '../../cliniko/index.js';
import type { DataMap } from '../../governance/data-map.js';
import { RunCounter } from '../../governance/sync-run.js';
import type { JourneyConfig } from '../../journey/index.js';
import type { Logger } from '../../logger.js';
import type { SalesforceWriter } from '../../salesforce/writer.js';
import type { Store } from '../../store/index.js';
import { CYCLE_LEASE, describeError, LEASE_MS, newRunId, recordRunSummary } from '../common/run-record.js';
import type { DrainResult, OutboxWorker } from '../outbox/worker.js';
import { loadReferences } from '../cycle/references.js';
import { accessSnapshot, failedAccessSnapshot } from './access.js';
import { accessPictureStep, failedAccessPicture } from './access-picture.js';
import { reconcileObjects } from './compare.js';
import { consentFrom, writeConsent } from './consent.js';
import { createReconcileContext, type ReconcileContext } from './context.js';
import { readCliniko } from './read-cliniko.js';
import { writeReviewRecords, type NightlyQuarter, type NightlyVerification } from './review-records.js';
import type {
  AccessPictureReport,
  AccessSnapshot,
  ConsentSnapshot,
  ObjectReconciliation,
  ReconcileReport,
  ReconcilerDeps,
} from './types.js';

/**
 * The nightly reconciliation (issue 6): Cliniko is the source of truth, so every synced Salesforce record
 * is compared, field by field, with the payload the runner would write for the current Cliniko record.
 * Anything that differs is written again through the outbox. The steps live beside this file:
 * read-cliniko.ts (the expected payloads), compare.ts (the comparison and repairs), consent.ts,
 * access.ts and access-picture.ts (the compliance snapshots).
 */
export function createReconciler(deps: ReconcilerDeps) {
  const ctx = createReconcileContext(deps);

  /** One reconciliation pass. On a shared PostgreSQL store it takes the cycle lease, or is skipped. */
  async function reconcile(): Promise<ReconcileReport> {
    const runId = newRunId('reconcile', deps.now());
    if (deps.store.kind !== 'postgres') return reconcileOnce(ctx, runId);
    if (!(await deps.store.acquireLease(CYCLE_LEASE, deps.worker.owner, LEASE_MS, Date.now()))) {
      ctx.log.info({}, 'another instance is running a cycle; reconciliation waits for the next night');
      return skippedReport(new Date(deps.now()).toISOString());
    }
    try {
      return await reconcileOnce(ctx, runId);
    } finally {
      await deps.store.releaseLease(CYCLE_LEASE, deps.worker.owner);
    }
  }

  return { reconcile };
}

export type Reconciler = ReturnType<typeof createReconciler>;

/** What a pass found, filled step by step (what a failed step leaves is still reported). */
interface PassState {
  objects: Record<string, ObjectReconciliation>;
  drain: DrainResult | null;
  consent: ConsentSnapshot | null;
  access: AccessSnapshot | null;
  accessPicture: AccessPictureReport | null;
  unprojectable: number;
  unrepaired: number;
}

async function runPass(ctx: ReconcileContext, runId: string, state: PassState): Promise<void> {
  const { deps } = ctx;
  const refs = await loadReferences(deps.cliniko, deps.clinicTimezone, deps.now());
  const side = await readCliniko(ctx, refs);
  state.unprojectable = side.unprojectable;
  const found = await reconcileObjects(ctx, side, runId);
  state.objects = found.objects;
  // The consent snapshot records what the pass found, before repairs: evidence of the drift.
  const counts = consentFrom(ctx, side, found.contactRows);
  if (found.enqueued.size > 0) state.drain = await deps.worker.drain();
  state.unrepaired = await countRepaired(ctx, state.objects, found.enqueued, found.orphanUpdates);
  state.consent = await writeConsent(ctx, counts, runId);
  try {
    state.access = await accessSnapshot(ctx, runId);
  } catch (err) {
    state.access = failedAccessSnapshot(err);
  }
  try {
    state.accessPicture = await accessPictureStep(ctx, runId);
  } catch (err) {
    ctx.log.warn({ runId, err }, 'access picture not taken');
    state.accessPicture = failedAccessPicture(err);
  }
}

async function reconcileOnce(ctx: ReconcileContext, runId: string): Promise<ReconcileReport> {
  const { deps } = ctx;
  const started = deps.now();
  await deps.store.startRun({
    id: runId,
    mode: 'reconcile',
    startedAt: started,
    dataMapHash: deps.dataMapHash,
  });
  const state: PassState = {
    objects: {},
    drain: null,
    consent: null,
    access: null,
    accessPicture: null,
    unprojectable: 0,
    unrepaired: 0,
  };
  let error: string | null = null;
  try {
    await runPass(ctx, runId, state);
  } catch (err) {
    error = describeError(err);
    ctx.log.error({ runId, err }, 'reconciliation failed');
  }
  const finished = deps.now();
  const counts = localCounts(state.objects);
  await recordReconcileRun(ctx, { runId, started, finished, error }, state);
  // After the run summary and its anchor: the verification and the quarter's counts include them.
  const review = await reviewRecords(ctx, runId);
  const status: ReconcileReport['status'] =
    error !== null
      ? 'failed'
      : state.unrepaired > 0 ||
          state.consent?.error ||
          state.access?.error ||
          state.accessPicture?.error ||
          review.verification.error ||
          review.quarter.error
        ? 'partial'
        : 'succeeded';
  await deps.store.finishRun({
    id: runId,
    status,
    finishedAt: finished,
    counts: JSON.stringify(counts),
    error,
  });
  ctx.log.info({ runId, status, counts, unrepaired: state.unrepaired }, 'reconciliation finished');
  return {
    runId,
    status,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    ...state,
    ...review,
    error,
  };
}

/** The review's records (review-records.ts); a store that cannot be read is reported, not thrown. */
async function reviewRecords(
  ctx: ReconcileContext,
  runId: string,
): Promise<{ verification: NightlyVerification; quarter: NightlyQuarter }> {
  try {
    return await writeReviewRecords(ctx, runId);
  } catch (err) {
    const error = describeError(err);
    ctx.log.warn({ runId, err }, 'audit verification and quarter summary not written');
    return {
      verification: { result: null, firstFailingSeq: null, detail: '', recordId: null, error },
      quarter: { summary: null, recordId: null, error },
    };
  }
}

/** The run history's counts per object (GET /runs). */
function localCounts(objects: Readonly<Record<string, ObjectReconciliation>>) {
  return Object.fromEntries(
    Object.entries(objects).map(([object, o]) => [
      object,
      {
        compared: o.compared,
        drifted: o.drifted,
        missingInSalesforce: o.missingInSalesforce,
        repaired: o.repaired,
        orphaned: o.orphaned,
      },
    ]),
  );
}

/** Which enqueued repairs were written: the record's state now holds the repair's payload hash. */
async function countRepaired(
  ctx: ReconcileContext,
  objects: Record<string, ObjectReconciliation>,
  enqueued: ReadonlyMap<string, ReadonlyMap<string, string>>,
  orphanUpdates: ReadonlySet<string>,
): Promise<number> {
  let unrepaired = 0;
  for (const [object, keys] of enqueued) {
    const states = await ctx.deps.store.getRecordStates(object, [...keys.keys()]);
    let repaired = 0;
    for (const [key, hash] of keys) {
      const done = states.get(key)?.payloadHash === hash;
      if (orphanUpdates.has(`${object}:${key}`)) {
        if (!done) unrepaired += 1;
        continue;
      }
      if (done) repaired += 1;
      else unrepaired += 1;
    }
    const current = objects[object];
    if (current) objects[object] = { ...current, repaired };
  }
  return unrepaired;
}

/**
 * A pass that repaired something (or failed) leaves a Sync_Run__c (mode Reconcile) like any run that
 * wrote, so the governance review sees it; a quiet pass stays in the local run history only.
 */
async function recordReconcileRun(
  ctx: ReconcileContext,
  run: { runId: string; started: number; finished: number; error: string | null },
  state: Pick<PassState, 'objects' | 'drain' | 'unprojectable'>,
): Promise<void> {
  const counter = new RunCounter();
  for (const [object, o] of Object.entries(state.objects)) {
    counter.add(object, 'read', o.compared + o.missingInSalesforce);
    counter.add(object, 'skipped', o.compared - o.drifted);
    counter.add(object, 'written', o.repaired);
    counter.add(object, 'deadLettered', state.drain?.deadLetteredByObject[object] ?? 0);
  }
  if (state.unprojectable > 0) counter.add('cliniko', 'quarantined', state.unprojectable);
  const counts = counter.byObject();
  const wrote = Object.values(counts).some((c) => c.written + c.deadLettered > 0);
  if (!wrote && run.error === null) return;
  const input = {
    runId: run.runId,
    mode: 'reconcile' as const,
    startedAt: new Date(run.started).toISOString(),
    finishedAt: new Date(run.finished).toISOString(),
    failed: run.error !== null,
    counts,
    dataMapSha256: ctx.deps.dataMapHash,
  };
  try {
    await recordRunSummary(
      { store: ctx.deps.store, worker: ctx.deps.worker, log: ctx.log },
      input,
      run.finished,
    );
  } catch (err) {
    // Reconciliation's own rule: a summary that cannot even be queued does not fail the pass.
    ctx.log.warn({ runId: run.runId, err }, 'run summary not written yet');
  }
}

function skippedReport(at: string): ReconcileReport {
  return {
    runId: '-',
    status: 'skipped',
    startedAt: at,
    finishedAt: at,
    objects: {},
    unprojectable: 0,
    unrepaired: 0,
    drain: null,
    consent: null,
    access: null,
    accessPicture: null,
    verification: null,
    quarter: null,
    error: null,
  };
}

/**
 * The parts of a wired service (runtime's composition root) a reconciler uses; structural, so `sync/`
 * never imports the composition root.
 */
export interface ReconcilerService {
  readonly store: Store;
  readonly cliniko: ClinikoClient;
  readonly salesforce: { readonly connection: Connection };
  readonly writer: SalesforceWriter;
  readonly worker: OutboxWorker;
  readonly dataMap: DataMap;
  readonly dataMapHash: string;
  readonly journeyConfig: JourneyConfig;
  readonly config: { readonly clinicTimezone: string };
}

/** A reconciler over a wired service (the CLI and the server's nightly schedule use this). */
export function reconcilerForService(
  service: ReconcilerService,
  logger: Logger,
  now: () => number = Date.now,
): Reconciler {
  return createReconciler({
    store: service.store,
    cliniko: service.cliniko,
    connection: service.salesforce.connection,
    writer: service.writer,
    worker: service.worker,
    dataMap: service.dataMap,
    dataMapHash: service.dataMapHash,
    journeyConfig: service.journeyConfig,
    clinicTimezone: service.config.clinicTimezone,
    logger,
    now,
  });
}
