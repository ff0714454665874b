import type { QuarantineItem as ClinikoQuarantine, StreamEvent } from '../../cliniko/index.js';
import { toClinikoTime } from '../../cliniko/index.js';
import { SyncError } from '../../errors.js';
import { letRequestsOut } from '../../loop.js';
import { appliesCallsInOrder, type FactInput, type QuarantineInput } from '../../store/index.js';
import { MERGED_FACT, survivorOf, type PayloadCandidate } from '../payloads.js';
import { APPOINTMENTS, GO_LIVE, pageAnnouncements } from './appointment-events.js';
import {
  advances,
  afterBackfill,
  afterPage,
  afterRead,
  bookmarksOf,
  clinikoNow,
  readFrom,
  recheckDue,
  type Bookmarks,
} from './bookmarks.js';
import { changedItems } from './changes.js';
import { LEASE_MS, type CycleContext, type CycleMode, type CycleRun, type DataStream } from './context.js';
import { pointChildrenAtSurvivors } from './merges.js';
import { indexRows } from './reminders.js';

/**
 * One stream's incremental read, page by page: validate and project each record, keep its facts, and
 * commit each page's outbox items, quarantine and facts in the transaction that moves the watermark.
 *
 * Bookmark discipline: the signpost is Cliniko's clock when the read starts (the Date header of the
 * first page); the watermark never passes it, and only moves in the transaction that makes the page's
 * work durable. The watermark is two bookmarks (bookmarks.ts): an ordinary read starts at the cursor,
 * with no overlap; once the window before it has settled, one read starts at the settled point instead
 * and re-reads that window once, for records Cliniko committed late. Reads filter `updated_at >=`, so
 * records updated in the same second across a page boundary are not missed.
 */
type Event = StreamEvent<Record<string, unknown>>;

const SURVIVOR_CACHE_LIMIT = 5_000;
type RecordEvent = Extract<Event, { kind: 'record' }>;

interface StreamRead {
  readonly ctx: CycleContext;
  readonly run: CycleRun;
  readonly stream: DataStream;
  /** The bookmarks when the read began; undefined for a backfill. */
  readonly start: Bookmarks | undefined;
  /** The bookmarks as last committed by this read (the start until a flush moves them). */
  mark: Bookmarks | undefined;
  /** An incremental read from the settled point (a recheck), not from the cursor. */
  readonly recheck: boolean;
  /**
   * A read without `since` pages by id, so only its end may move the watermark (to Cliniko's clock when
   * it started); an incremental read is ordered by updated_at and may advance page by page.
   */
  readonly backfilling: boolean;
  /**
   * Appointment events (issue #19): the go-live instant when this read announces the changes it sees
   * (an incremental read of appointments that began after go-live); undefined when it only records.
   */
  readonly announceFrom: number | undefined;
  pending: PayloadCandidate[];
  quarantine: QuarantineInput[];
  facts: FactInput[];
  /**
   * Records read and projected cleanly since the last flush: any quarantine row of theirs is stale (the
   * record changed since it was quarantined and now passes), so it is released once the page is durable.
   */
  clean: string[];
  /** Patients whose journey must be derived again, queued with this page (store: `journey_due`). */
  due: Set<string>;
  complete: boolean;
  pages: number;
  read: number;
  signpostMs: number | undefined;
  /** Cliniko's clock at the latest page. */
  lastServerMs: number | undefined;
  /** A page flush advanced the watermark during this read. */
  moved: boolean;
  /** The stream's end was reached (its last flush). */
  ended: boolean;
  /**
   * The last page's commit, still being applied by a store that applies calls in order (the next page
   * is read and projected meanwhile); awaited before the next commit is sent and at the read's end.
   */
  committing: Promise<void>;
}

export async function readStream(
  ctx: CycleContext,
  run: CycleRun,
  stream: DataStream,
  mode: CycleMode,
): Promise<void> {
  const overlap = ctx.overlapSeconds * 1000;
  const watermark = mode === 'backfill' ? undefined : await ctx.deps.store.getWatermark(stream.resource);
  const start = watermark && bookmarksOf(watermark, overlap);
  const recheck =
    watermark !== undefined &&
    start !== undefined &&
    recheckDue(start, clinikoNow(watermark, ctx.deps.now()), overlap);
  const clinikoClock = await readOnce(ctx, run, stream, start, recheck);
  if (mode !== 'backfill' || clinikoClock === undefined) return;
  // A backfill that outlasted the overlap has let the window before it settle (by Cliniko's clock at
  // its last page): recheck it now, so that the first cycle after a backfill of any length is an
  // ordinary one (one request per stream when idle).
  const stored = await ctx.deps.store.getWatermark(stream.resource);
  const after = stored && bookmarksOf(stored, overlap);
  if (after && recheckDue(after, clinikoClock, overlap)) await readOnce(ctx, run, stream, after, true);
}

/**
 * One read of the stream: a backfill without bookmarks, else incremental from them (from the settled
 * point for a recheck). Returns Cliniko's clock at its last page, when it completed.
 */
async function readOnce(
  ctx: CycleContext,
  run: CycleRun,
  stream: DataStream,
  start: Bookmarks | undefined,
  recheck: boolean,
): Promise<number | undefined> {
  const goLive = stream.resource === APPOINTMENTS ? await ctx.deps.store.getSignpost(GO_LIVE) : undefined;
  const s: StreamRead = {
    ctx,
    run,
    stream,
    start,
    mark: start,
    recheck,
    backfilling: start === undefined,
    announceFrom: start === undefined ? undefined : goLive,
    pending: [],
    quarantine: [],
    facts: [],
    clean: [],
    due: new Set<string>(),
    complete: true,
    pages: 0,
    read: 0,
    signpostMs: undefined,
    lastServerMs: undefined,
    moved: false,
    ended: false,
    committing: Promise.resolve(),
  };
  const events = ctx.deps.cliniko.streams[stream.key].read({
    // The bookmarks carry the overlap (a recheck starts δ or more before the cursor): none is added.
    ...(start ? { since: readFrom(start, recheck) } : {}),
    overlapSeconds: 0,
  }) as AsyncGenerator<Event>;
  if (recheck) ctx.log.debug({ stream: stream.resource }, 'rechecking the settled window for late commits');
  try {
    for await (const ev of readAhead(events)) await onEvent(s, ev);
  } catch (err) {
    await s.committing.catch(() => undefined);
    throw err;
  }
  await s.committing;
  if (!s.complete)
    ctx.log.warn({ stream: stream.resource }, 'list kept moving; watermark held back for the next cycle');
  return s.complete ? s.lastServerMs : undefined;
}

/**
 * Pipelining (issue #16): asks the stream for its next event before the current one is handled, so
 * the request for the next Cliniko page is made before this page is committed (a backfill's stream asks
 * for it as soon as the page arrives; an incremental read's once this page's rows are handled, and
 * `onPage` lets it out onto the wire before the commit: docs/benchmarks.md).
 * Order is unchanged (events are handled one by one, as read) and so is the bookmark discipline: a page
 * fetched ahead is only read, never committed, before its own turn.
 */
export async function* readAhead<T>(source: AsyncGenerator<T>): AsyncGenerator<T, void, undefined> {
  const ask = (): Promise<IteratorResult<T>> => {
    const next = source.next();
    // Handled now, awaited later: a failing read-ahead must not count as an unhandled rejection
    // while the consumer is still busy with the event before it.
    next.catch(() => undefined);
    return next;
  };
  let pending: Promise<IteratorResult<T>> | undefined = ask();
  try {
    for (;;) {
      const result: IteratorResult<T> = await pending;
      if (result.done === true) {
        pending = undefined;
        return;
      }
      pending = ask();
      yield result.value;
    }
  } finally {
    if (pending !== undefined) {
      // The consumer stopped early (or failed): the read-ahead's outcome no longer matters.
      await source.return(undefined).catch(() => undefined);
    }
  }
}

async function onEvent(s: StreamRead, ev: Event): Promise<void> {
  if (ev.kind === 'page') await onPage(s, ev);
  else if (ev.kind === 'end') await onEnd(s, ev);
  else if (ev.kind === 'quarantine') {
    s.run.counter.add(s.stream.resource, 'quarantined');
    s.quarantine.push(toQuarantine(ev.item, s.run.runId));
  } else {
    // A record linking a reference record created since the lists were cached: read them again first.
    const fresh = await s.ctx.references.forRecord(ev.raw, s.run.refs, s.ctx.deps.now());
    if (fresh) s.run.refs = fresh;
    onRecord(s, ev);
  }
}

async function onPage(s: StreamRead, ev: Extract<Event, { kind: 'page' }>): Promise<void> {
  const { deps } = s.ctx;
  s.pages += 1;
  deps.onProgress?.({
    stream: s.stream.resource,
    pages: s.pages,
    records: s.read,
    ...(ev.totalEntries !== undefined ? { totalEntries: ev.totalEntries } : {}),
  });
  const lease = s.run.lease;
  if (lease && !(await deps.store.acquireLease(lease, deps.worker.owner, LEASE_MS, Date.now()))) {
    throw new SyncError('STORE_CONFLICT', `lost the ${lease} lease to another instance`);
  }
  s.signpostMs ??= Date.parse(ev.serverDate ?? new Date(deps.now()).toISOString());
  const served = ev.serverDate === undefined ? NaN : Date.parse(ev.serverDate);
  if (Number.isFinite(served)) s.lastServerMs = Math.max(served, s.lastServerMs ?? served);
  const at = s.signpostMs;
  const next =
    s.mark && !s.backfilling ? afterPage(s.mark, s.recheck, ev.maxUpdatedAt, at, overlapMs(s)) : undefined;
  // An incremental read's stream asks for its next page once this page's rows are handled (a backfill's
  // asked as the page arrived), but the request is not on the wire until the event loop turns, and a
  // store that answers synchronously (SQLite opened on this thread) holds the thread through the commit:
  // without the turn, Cliniko began on the next page only after the commit, about 5 ms a page
  // (docs/benchmarks.md).
  await letRequestsOut();
  await flush(s, next);
}

const overlapMs = (s: StreamRead): number => s.ctx.overlapSeconds * 1000;

async function onEnd(s: StreamRead, ev: Extract<Event, { kind: 'end' }>): Promise<void> {
  s.complete = ev.complete;
  s.ended = true;
  s.signpostMs ??= Date.parse(ev.startedAt ?? new Date(s.ctx.deps.now()).toISOString());
  // A complete pass has read everything visible up to the signpost, whichever order it read in: the
  // cursor goes to the signpost, so an idle stream's lag stays honest. Rows committed late with an
  // earlier updated_at are read by the recheck once the window has settled (bookmarks.ts).
  const startedAt = Date.parse(ev.startedAt ?? toClinikoTime(s.signpostMs));
  const signpost = Number.isFinite(startedAt) ? Math.min(startedAt, s.signpostMs) : s.signpostMs;
  const next = !s.complete
    ? undefined
    : s.mark && !s.backfilling
      ? afterRead(s.mark, s.recheck, signpost, overlapMs(s))
      : afterBackfill(signpost, overlapMs(s));
  await flush(s, next, !s.complete);
}

/** Validates and projects one record into pending payloads (or quarantine), and keeps its facts. */
function onRecord(s: StreamRead, ev: RecordEvent): void {
  const { counter, refs, runId } = s.run;
  const resource = s.stream.resource;
  counter.add(resource, 'read');
  s.read += 1;
  const built = s.ctx.rules.recordPayloads(resource, ev.raw, ev.record, refs);
  if (!built.ok) {
    counter.add(resource, 'quarantined');
    const first = built.problems[0];
    s.quarantine.push({
      resource,
      recordId: ev.id,
      field: first?.field ?? first?.entry ?? '(record)',
      reason: built.problems.map((p) => `${p.entry ?? p.field ?? 'record'}: ${p.message}`).join('; '),
      payload: JSON.stringify(ev.raw),
      runId,
    });
    return;
  }
  s.pending.push(...built.payloads);
  s.clean.push(ev.id);
  if (built.fact) {
    s.facts.push(built.fact);
    s.due.add(built.fact.patientId);
  }
  if (resource === 'patients') notePatient(s, ev);
}

/** A patient read this run: its journey is derived again, and a merge it records is remembered. */
function notePatient(s: StreamRead, ev: RecordEvent): void {
  s.due.add(ev.id);
  const survivor = survivorOf(ev.raw, ev.id);
  if (!survivor) return;
  s.run.merges.survivors.set(ev.id, survivor);
  s.run.merges.discovered.set(ev.id, survivor);
  s.facts.push({ resource: MERGED_FACT, id: ev.id, patientId: ev.id, data: JSON.stringify({ survivor }) });
}

/**
 * Commits what was read since the last flush (changed payloads, quarantine, facts) and, when the read
 * is complete so far and `next` moves a bookmark, the bookmarks in the same transaction. `restore`: a
 * read that never saw the list hold still may have had a row slide past it, so the page flushes must
 * not keep the bookmarks they moved: they go back to where this read began.
 */
async function flush(s: StreamRead, next: Bookmarks | undefined, restore = false): Promise<void> {
  const { deps } = s.ctx;
  await pointChildrenAtSurvivors(s.ctx, s.pending, s.run.merges.survivors);
  // A cache of store lookups (merges read this run are facts committed with their page): bounded, so a
  // backfill does not keep an entry for every patient it met (issue #16).
  if (s.run.merges.survivors.size > SURVIVOR_CACHE_LIMIT) s.run.merges.survivors.clear();
  const changed = await changedItems(s.ctx, s.pending, s.run.runId, s.run.counter);
  // Judged against the facts stored before this page, and committed with it: announced exactly once.
  const events =
    s.announceFrom === undefined
      ? { outbox: [], announced: [] }
      : await pageAnnouncements(s.ctx, s.facts, s.announceFrom, s.run.runId);
  const outbox = [...changed, ...events.outbox];
  const advance = next !== undefined && s.complete && advances(next, s.mark);
  const target = advance ? next : restore && s.moved && s.start ? s.start : undefined;
  if (advance) s.moved = true;
  // A page is sent only once the page before it is durable: a failed commit fails the read, and no
  // later page (nor bookmark) lands after it.
  await s.committing;
  const commit = deps.store.commitBatch({
    stream: s.stream.resource,
    ...(target !== undefined ? { watermark: target.cursor, settled: target.settled } : {}),
    outbox,
    quarantine: s.quarantine,
    facts: s.facts,
    journeyDue: [...s.due],
    announced: events.announced,
    signposts: goLiveAt(s),
    // The reminder index follows the appointment facts in the same transaction (reminders.ts).
    reminders: indexRows(deps.journeyConfig, s.facts, deps.now()),
    now: deps.now(),
  });
  const clean = s.clean;
  const resource = s.stream.resource;
  s.committing = commit.then(async () => {
    if (clean.length > 0) await deps.store.releaseQuarantine(resource, clean);
  });
  // Observed now; awaited by the next flush or at the read's end.
  s.committing.catch(() => undefined);
  if (target !== undefined) s.mark = target;
  s.pending = [];
  s.quarantine = [];
  s.facts = [];
  s.due = new Set<string>();
  s.clean = [];
  // The SQLite store applies calls in the order they are made (one connection on one thread), so the
  // next page's reads see this commit and it may be applied while the next page is read (issue #16);
  // PostgreSQL's pool could answer them from another connection first.
  if (!appliesCallsInOrder(deps.store)) await s.committing;
}

/**
 * The go-live of appointment events, at the end of the first complete read of appointments: that
 * read's signpost (a signpost once set never moves; the store keeps the first).
 */
function goLiveAt(s: StreamRead): Array<{ name: string; at: number }> {
  if (s.stream.resource !== APPOINTMENTS || !s.ended || !s.complete) return [];
  return s.signpostMs === undefined ? [] : [{ name: GO_LIVE, at: s.signpostMs }];
}

function toQuarantine(item: ClinikoQuarantine, runId: string): QuarantineInput {
  return {
    resource: item.resource,
    recordId: item.id,
    field: item.field,
    reason: item.reason,
    // The stream already dropped the invalid record's value; keep what identifies it for replay.
    payload: JSON.stringify({ resource: item.resource, id: item.id, updated_at: item.updatedAt ?? null }),
    runId,
  };
}
