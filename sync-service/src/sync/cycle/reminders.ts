import { canonicalJson, sha256Hex } from '../../governance/canonical.js';
import { RunCounter } from '../../governance/sync-run.js';
import {
  dueUpcoming,
  reminderMoments,
  upcomingOffsetsFor,
  type Appointment,
  type JourneyConfig,
} from '../../journey/index.js';
import type { BatchCommit, FactInput } from '../../store/index.js';
import { letLoopThrough } from '../../loop.js';
import { newRunId } from '../common/run-record.js';
import { announce, APPOINTMENTS, GO_LIVE, type Announcement } from './appointment-events.js';
import type { CycleContext, RunSummary } from './context.js';
import { describeRunError, finish, noRun, startRun } from './finish.js';

/**
 * Upcoming-appointment events (issue #19; docs/marketing.md "Reminder offsets"), produced by the
 * scheduler's reminder job from stored facts, without a Cliniko request and without decrypting every
 * stored appointment.
 *
 * The reminder index (store `reminders_due`: appointment id and moment, nothing else) holds, per
 * appointment, the moments at which it may owe an upcoming event (journey `reminderMoments`). It is
 * written in the transaction that writes the appointment's facts (`indexRows`, from read-stream.ts's
 * page flush), so a booking, a move, a cancellation or a mark replaces the appointment's moments as the
 * facts change. The job reads only the appointments with a moment at or before now (an index range
 * scan), decrypts those facts alone, asks `dueUpcoming` which offset is owed, and in one transaction
 * queues the events, records their keys and leaves each of those appointments only its future moments.
 *
 * The index is computed with the configured offsets; its fingerprint is stored beside it, and a job
 * that finds another one (after the offsets changed, or over appointments stored before the index had
 * a fingerprint) rebuilds it from every stored appointment once (the one full read). A store that holds
 * no appointment yet has an index current with any offsets: a cycle records the fingerprint before it
 * reads (`markEmptyIndexCurrent`), so the rows each page then commits make the index whole and the job
 * after a first backfill has nothing to rebuild.
 */
type ReminderRow = NonNullable<BatchCommit['reminders']>[number];

/** Appointments handled per transaction. */
const BATCH = 500;

/** The fingerprint of the offsets configuration the index was computed with. */
export function offsetsFingerprint(config: JourneyConfig): string {
  return sha256Hex(canonicalJson(config.appointmentEvents)).slice(0, 16);
}

/** Each appointment fact's reminder moments at `nowMs` (replacing what the index held for it). */
export function indexRows(config: JourneyConfig, facts: readonly FactInput[], nowMs: number): ReminderRow[] {
  return facts
    .filter((f) => f.resource === APPOINTMENTS)
    .map((f) => ({
      appointmentId: f.id,
      dueAt: momentsOf(config, JSON.parse(f.data) as Appointment, nowMs),
    }));
}

function momentsOf(config: JourneyConfig, a: Appointment, nowMs: number): number[] {
  return reminderMoments(a, upcomingOffsetsFor(config, a.clinic_name), nowMs);
}

/**
 * The reminder job: rebuild the index if its fingerprint is not the configuration's, then announce the
 * upcoming events due now. Records a run (and drains the outbox) only when it queued something or
 * failed; a minute with nothing owed leaves no trace but a summary.
 */
export async function remindersJob(ctx: CycleContext): Promise<RunSummary> {
  const { store } = ctx.deps;
  const now = ctx.deps.now();
  await rebuildIfStale(ctx, now);
  const goLiveMs = await store.getSignpost(GO_LIVE);
  if (goLiveMs === undefined) return noRun('reminders', 'succeeded', now);
  const runId = newRunId('reminders', now);
  let queued = 0;
  let error: string | null = null;
  try {
    // Each batch leaves its appointments only moments after `now`, so the next query moves on.
    let due = await store.dueReminders(now, BATCH);
    while (due.length > 0) {
      queued += await announceDue(ctx, due, goLiveMs, now, runId);
      due = await store.dueReminders(now, BATCH);
    }
  } catch (err) {
    error = describeRunError(err);
    ctx.log.error({ runId, err }, 'reminder job failed');
  }
  if (queued === 0 && error === null) return noRun('reminders', 'succeeded', now);
  if (queued > 0) ctx.log.info({ runId, events: queued }, 'upcoming appointment events queued');
  // The run is recorded once there is something to report; its drain publishes what was queued.
  return finish(ctx, await startRun(ctx, runId, 'reminders', new RunCounter()), error);
}

/**
 * One batch of due appointments: the upcoming event each owes (if any) queued with its key, and its
 * indexed moments replaced by those still ahead, in one transaction; an appointment whose facts are
 * gone leaves the index. Returns the number of events queued.
 */
async function announceDue(
  ctx: CycleContext,
  ids: readonly string[],
  goLiveMs: number,
  now: number,
  runId: string,
): Promise<number> {
  const { store, journeyConfig } = ctx.deps;
  const facts = new Map((await store.getFacts(APPOINTMENTS, ids)).map((f) => [f.id, f]));
  const list: Announcement[] = [];
  const reminders: ReminderRow[] = [];
  for (const id of ids) {
    const f = facts.get(id);
    const fact = f ? (JSON.parse(f.data) as Appointment) : undefined;
    reminders.push({
      appointmentId: id,
      dueAt: fact ? momentsOf(journeyConfig, fact, now).filter((m) => m > now) : [],
    });
    if (!f || !fact) continue;
    const due = dueUpcoming(fact, upcomingOffsetsFor(journeyConfig, fact.clinic_name), now, goLiveMs);
    if (due) {
      const { offsetHours, dueMs } = due;
      list.push({ fact, patientId: f.patientId, kind: 'upcoming', occurredAtMs: dueMs, offsetHours });
    }
  }
  const { outbox, announced } = await announce(ctx, list, runId);
  await store.commitBatch({ stream: 'appointment-events', outbox, announced, reminders, now });
  return announced.length;
}

/**
 * Before a cycle reads: on a store with no appointment facts and an index of no or other offsets,
 * records the empty index as current with these offsets (as a rebuild over no appointment would), so
 * that the page commits' rows (`indexRows`, these offsets) keep it whole. Issue #16: after a first
 * backfill of 100,000 patients the reminder job otherwise rebuilt the index from ~945,000 appointments,
 * holding the scheduler (and the polls behind it) for seconds, and indexed only moments after its own
 * start, where the pages' rows keep the moments that fell due since (owed an event once past go-live).
 */
export async function markEmptyIndexCurrent(ctx: CycleContext, now: number): Promise<void> {
  // Once per process: a store that held appointments still does, and a fingerprint found or recorded
  // is this process's offsets' (only a rebuild with them replaces it), so idle polls pay nothing.
  if (ctx.reminderIndex.checked) return;
  const { store, journeyConfig } = ctx.deps;
  const fingerprint = offsetsFingerprint(journeyConfig);
  const current = (await store.remindersFingerprint()) === fingerprint;
  if (!current && (await store.listResourceFacts(APPOINTMENTS, null, 1)).length === 0) {
    await store.commitBatch({
      stream: 'reminders-index',
      reminders: [],
      remindersCleared: true,
      remindersRebuilt: fingerprint,
      now,
    });
  }
  ctx.reminderIndex.checked = true;
}

/** Appointments per page of a rebuild: what the job holds at once, whatever the practice's size. */
export const REBUILD_PAGE = 1_000;

/**
 * Rebuilds the index from every stored appointment when it was computed with other offsets (or never),
 * in keyset pages of REBUILD_PAGE (issue #16: at 100,000 patients, reading all appointment facts at once
 * ran the production server out of its heap). The first page's commit clears the index, the last one
 * records the fingerprint: a rebuild cut short leaves no fingerprint, so the next job starts it again.
 */
async function rebuildIfStale(ctx: CycleContext, now: number, pageSize = REBUILD_PAGE): Promise<void> {
  const { store, journeyConfig } = ctx.deps;
  const fingerprint = offsetsFingerprint(journeyConfig);
  if ((await store.remindersFingerprint()) === fingerprint) return;
  let after: string | null = null;
  let appointments = 0;
  let indexed = 0;
  for (let first = true; ; first = false) {
    const facts = await store.listResourceFacts(APPOINTMENTS, after, pageSize);
    const last = facts.length < pageSize;
    const reminders = indexRows(journeyConfig, facts, now).filter((r) => r.dueAt.length > 0);
    await store.commitBatch({
      stream: 'reminders-index',
      reminders,
      ...(first ? { remindersCleared: true } : {}),
      ...(last ? { remindersRebuilt: fingerprint } : {}),
      now,
    });
    appointments += facts.length;
    indexed += reminders.length;
    if (last) break;
    after = facts[facts.length - 1]!.id;
    await letLoopThrough();
  }
  ctx.log.info({ appointments, indexed }, 'reminder index rebuilt');
}
