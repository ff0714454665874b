import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import type { SalesforceWriter } from '../../salesforce/writer.js';
import type { OutboxItem, Store } from '../../store/index.js';
import { LEASE_MS } from '../common/run-record.js';
import { externalIdOf, groupForWrite, slotKeysOf } from './keys.js';
import type { ContactMatcher } from '../match/matcher.js';
import { emptyTally, writeGroup, type Tally, type WriteContext } from './write.js';

/**
 * Drains the durable outbox into Salesforce. Items are leased (so several instances can drain one
 * PostgreSQL store without writing an item twice), grouped by object, written in collections of 200 or
 * one Bulk 2.0 job for large volumes, and every result is classified (see write.ts): success completes
 * the item with its audit entry; a retryable failure is retried after 1 s, 2 s, 4 s, 8 s and 16 s (plus
 * jitter) and a sixth failure dead-letters it; a permanent failure is dead-lettered at once.
 */
export interface OutboxWorkerOptions {
  /** Delays before retries 1..n, in ms. Default 1, 2, 4, 8, 16 seconds. */
  readonly retryDelaysMs?: readonly number[];
  /** Up to this much random delay is added to each retry. */
  readonly jitterMs?: number;
  /**
   * Above this many records of one object in a claim, use Bulk API 2.0. Default 2,000
   * (`SALESFORCE_BULK_THRESHOLD`).
   */
  readonly bulkThreshold?: number;
  /** Stop writing once this share of the daily API allowance is used. Default 0.9. */
  readonly apiShare?: number;
  /**
   * Items one claim takes (plus the other slots of the records it holds). Default 2,500: above the
   * default Bulk threshold, so a backfill's groups of one slot (appointments, invoices, care plans,
   * journey transitions) go through Bulk API 2.0 (a claim capped at the threshold never could; a
   * backfill's Contacts, two slots a record, are claimed 1,250 records at a time and go in collections
   * unless the threshold is lowered). The claims in flight (payloads, CSV and results) are the service's
   * peak memory, and a drain has four: three with their calls out (CLAIMS_OUT) and the next one asked
   * for ahead (with two out, 245 MB at 20,000 patients; with three, 246-257 MB). With
   * claims of 10,000 and one claim ahead of none the process peaked at 356-370 MB from 10,000 patients
   * up; with the claim asked for ahead, at 20,000 patients, 313 MB with claims of 5,000, 287 MB with
   * 3,500 and 273 MB with 2,500 (docs/benchmarks.md).
   */
  readonly claimLimit?: number;
  /**
   * How long a claim holds its items without renewal. Default LEASE_MS (30 s): the process renews every
   * lease it holds while it lives (runtime/wiring.ts, the lease heartbeat), so a Bulk job polled for
   * minutes keeps its items, and a dead or frozen instance's items are taken over within LEASE_MS.
   */
  readonly leaseMs?: number;
  /** Longest a drain waits for retries that are not yet due. Default 60 s. */
  readonly maxWaitMs?: number;
  /** Who the audit log names for writes made by the service. */
  readonly actor?: string;
  /** The lease owner: the process identity (`<instance>/<incarnation>`, runtime/wiring.ts). */
  readonly owner?: string;
  /** Told of each durable write, for the console's live progress (runtime/progress.ts). */
  readonly onWritten?: (object: string, count: number) => void;
}

export interface DrainResult {
  readonly written: number;
  readonly created: number;
  readonly updated: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** Items parked this drain until their unwritten parent (a quarantined or dead-lettered patient) is written. */
  readonly blocked: number;
  /** Items still waiting (not yet due, or the drain paused). */
  readonly pending: number;
  /** Why the drain stopped early, if it did. */
  readonly paused: 'api-limit' | null;
  readonly writtenByObject: Readonly<Record<string, number>>;
  readonly deadLetteredByObject: Readonly<Record<string, number>>;
}

export interface OutboxWorkerDeps {
  readonly store: Store;
  readonly writer: SalesforceWriter;
  readonly logger: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Matching existing Contacts and Leads, and holds (sync/match/); without it Contacts are upserted as they come. */
  readonly matcher?: ContactMatcher;
}

const DEFAULT_DELAYS = [1_000, 2_000, 4_000, 8_000, 16_000];
const DEFAULT_CLAIM_LIMIT = 2_500;
/**
 * Claims with their calls out at once (issue #16). With two, the next claim's Bulk job was created
 * only once the job before the one processing was answered, and Salesforce sat idle between jobs
 * while the store completed one claim and leased the next; with three, a job is closed and waiting
 * when the one before it ends.
 */
const CLAIMS_OUT = 3;

interface DrainContext extends WriteContext {
  readonly sleep: (ms: number) => Promise<void>;
  readonly apiShare: number;
  readonly claimLimit: number;
  readonly leaseMs: number;
  readonly maxWaitMs: number;
  readonly owner: string;
  /** Set by stop(): the drain ends after the group being written, leaving the rest for later. */
  readonly stopping: { value: boolean };
}

export function createOutboxWorker(deps: OutboxWorkerDeps, options: OutboxWorkerOptions = {}) {
  const ctx: DrainContext = {
    store: deps.store,
    writer: deps.writer,
    log: deps.logger.child({ module: 'outbox' }),
    now: deps.now,
    sleep: deps.sleep,
    random: deps.random ?? Math.random,
    delays: options.retryDelaysMs ?? DEFAULT_DELAYS,
    jitterMs: options.jitterMs ?? 250,
    bulkThreshold: options.bulkThreshold ?? 2_000,
    apiShare: options.apiShare ?? 0.9,
    claimLimit: options.claimLimit ?? DEFAULT_CLAIM_LIMIT,
    leaseMs: options.leaseMs ?? LEASE_MS,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    actor: options.actor ?? 'sync-service',
    ...(options.onWritten ? { onWritten: options.onWritten } : {}),
    ...(deps.matcher ? { matcher: deps.matcher } : {}),
    owner: options.owner ?? `worker-${randomUUID()}`,
    stopping: { value: false },
  };
  /** Writes everything due now, then waits (up to maxWaitMs) for retries that come due, until empty. */
  const drainNow = (): Promise<DrainResult> => drain(ctx);
  /**
   * Shutdown: a drain in progress finishes the group it is writing and returns; the items it claimed
   * but did not write stay leased to `owner` until the caller releases them (`Store.releaseLeases`).
   * Later drains write nothing.
   */
  const stop = (): void => {
    ctx.stopping.value = true;
  };
  return { drain: drainNow, owner: ctx.owner, leaseMs: ctx.leaseMs, stop };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;

function overAllowance(ctx: DrainContext): boolean {
  const usage = ctx.writer.apiUsage();
  return usage !== undefined && usage.max > 0 && usage.used / usage.max >= ctx.apiShare;
}

async function drain(ctx: DrainContext): Promise<DrainResult> {
  const tally = emptyTally();
  const deadline = ctx.now() + ctx.maxWaitMs;
  const line: Line = { completing: Promise.resolve(), sending: Promise.resolve(), failed: false };
  // The claims with calls out, oldest first, each answered only after the one before it (writeClaim
  // awaits `after`): the newest one answered, all are.
  let claimsOut: InFlight[] = [];
  // The completions chained up to the claim before the oldest one out (see the end of the loop).
  let completedBefore: Promise<void> = Promise.resolve();
  // The share of the last claim its own items were (withOtherSlots): the next claim asks for that
  // share of the limit, so that with their other slots its items fill it.
  let share = 1;
  const claimNext = async (): Promise<{ items: OutboxItem[]; share: number }> =>
    withOtherSlots(
      ctx,
      await ctx.store.claimOutbox({
        owner: ctx.owner,
        limit: Math.max(1, Math.round(ctx.claimLimit * share)),
        leaseMs: ctx.leaseMs,
        now: ctx.now(),
      }),
    );
  // The next claim, asked for while the claims before it are written (issue #16): the store reads and
  // leases it meanwhile (on its own thread with SQLite). Its items are only leased, never sent before
  // their turn; a drain that ends before its turn lets them go (below).
  let claiming: Promise<{ items: OutboxItem[]; share: number }> | undefined;
  try {
    for (;;) {
      if (ctx.stopping.value || line.failed) break;
      if (overAllowance(ctx)) {
        tally.paused = 'api-limit';
        break;
      }
      const claim = await (claiming ?? claimNext());
      claiming = undefined;
      const items = claim.items;
      share = claim.share;
      if (items.length === 0) {
        // Items written but not yet completed are still leased: settle them before asking what waits.
        await claimsOut.at(-1)?.answered;
        claimsOut = [];
        await line.completing;
        const stats = await ctx.store.outboxStats(ctx.now());
        if (stats.pending === 0 || ctx.now() >= deadline) break;
        // Something is waiting for its retry time (or leased by another instance): wait a little.
        await ctx.sleep(Math.min(250, Math.max(10, deadline - ctx.now())));
        continue;
      }
      const groups = groupForWrite(items);
      const shape = shapeOf(groups);
      if (!claimsOut.every((claim) => mayOverlap(claim, shape))) {
        await claimsOut.at(-1)?.answered;
        claimsOut = [];
      }
      const previous = claimsOut.at(-1);
      // The gate opens once this claim's calls are out. Beside a claim still in flight, that one's
      // completion waits for it (Line.sending); a claim of Contacts waits for the one before it to
      // be out before it screens (its links are made by then).
      const gate = openingGate();
      line.sending = previous ? gate.opened : Promise.resolve();
      const answered = writeClaim(ctx, groups, tally, line, {
        after: previous?.answered ?? Promise.resolve(),
        before: shape.object === 'Contact' ? previous?.out : undefined,
        sent: gate.open,
      });
      // Observed now, awaited below or on the way out: never an unhandled rejection meanwhile.
      answered.catch(() => undefined);
      if (!ctx.stopping.value && !overAllowance(ctx)) {
        claiming = claimNext();
        claiming.catch(() => undefined);
      }
      // At most CLAIMS_OUT claims out at once: with this one, the oldest must be answered before the
      // next is written.
      if (claimsOut.length + 1 >= CLAIMS_OUT) await claimsOut.shift()?.answered;
      // And their completions at most one claim behind: the completions of the claims before the
      // one just answered are made durable before the next claim is written. Chained but not
      // awaited, they queued without bound whenever the store committed more slowly than Salesforce
      // answered, each holding its claim's payloads, results and audit rows (issue #16: 130 MB more
      // over the last 80 s of a 100,000-patient backfill's drain, its journey transitions). A failed
      // one is seen by `line.failed` (the loop stops) and thrown on the way out, as before.
      await completedBefore.catch(() => undefined);
      completedBefore = line.completing;
      claimsOut.push({ answered, out: gate.opened, ...shape });
      if (tally.paused || ctx.stopping.value) break;
    }
  } finally {
    try {
      await claimsOut.at(-1)?.answered;
    } finally {
      await line.completing;
      await letGo(ctx, claiming);
    }
  }
  return result(tally, (await ctx.store.outboxStats(ctx.now())).pending);
}

/** A claim asked for ahead that the drain did not reach: its items are released for the next drain. */
async function letGo(
  ctx: DrainContext,
  claiming: Promise<{ items: OutboxItem[] }> | undefined,
): Promise<void> {
  const claim = await claiming?.catch(() => undefined);
  if (claim === undefined || claim.items.length === 0) return;
  await ctx.store.releaseLeases({ owner: ctx.owner, ids: claim.items.map((item) => item.id) });
}

/** The drain's completions: chained in claim and group order (the audit chain keeps its order). */
interface Line {
  completing: Promise<void>;
  /**
   * Opens once the newest claim's call is out (or it writes nothing more): a completion waits for it.
   * A completion holds the one thread for hundreds of milliseconds (a Bulk job's five thousand record
   * states and audit entries in one transaction); started before the next claim's job was uploaded
   * and closed, it held that upload, and Salesforce had nothing to process while it ran (issue #16).
   */
  sending: Promise<void>;
  /** A completion failed: nothing more is written, and the drain fails with it. */
  failed: boolean;
}

/** A gate that opens once, by `open()` (a second call does nothing). */
function openingGate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A claim that may still have calls out, and what a next claim may overlap with. */
interface InFlight {
  /** Settles once every call of the claim is answered and its completions are chained. */
  readonly answered: Promise<void>;
  /** Opens once the claim's calls are out (or it writes nothing more). */
  readonly out: Promise<void>;
  /** The one object the claim only upserts, else null: then nothing overlaps it. */
  readonly object: string | null;
  /** The records it writes (slots counted as their record). */
  readonly keys: ReadonlySet<string>;
}

/**
 * Which claims may have their calls out together (issue #16): claims that only upsert the same object,
 * with no record in common, e.g. claims of a backfill's appointments (a claim overlaps the claims out
 * only if it may overlap each of them). Siblings never depend on each other, and the claim order
 * already put their parents in earlier calls, answered by then (any other pair waits: a child is never
 * sent before its parent's call is answered). Platform events never overlap: they read the ledger of
 * published keys. Contacts do, as a backfill's thousands
 * of them would otherwise leave both sides idle in turn: the screen (sync/match) decides a first write
 * by the patient's own record state, which no other claim writes (no record in common), and by the
 * Contacts and Leads Salesforce holds with the patient's email, of which one carrying another patient's
 * id is never a candidate; so a claim of Contacts screens only once the claim before it has its calls
 * out, when that one's links (ids set on existing Contacts and Leads) are made (`ClaimOrder.before`).
 */
function shapeOf(groups: ReadonlyArray<{ object: string; operation: string; items: OutboxItem[] }>) {
  const object = groups[0]?.object ?? null;
  const single = object !== null && groups.every((g) => g.object === object && g.operation === 'upsert');
  return {
    object: single ? object : null,
    keys: new Set(groups.flatMap((g) => g.items.map(externalIdOf))),
  };
}

function mayOverlap(previous: InFlight, next: ReturnType<typeof shapeOf>): boolean {
  if (previous.object === null || previous.object !== next.object) return false;
  for (const key of next.keys) if (previous.keys.has(key)) return false;
  return true;
}

/** Where a claim's writes stand against the claim before it (writeClaim). */
interface ClaimOrder {
  /** Settles once the claim before has chained its completions. */
  readonly after: Promise<void>;
  /** Awaited before the first group: the calls of the claim before are out (Contacts, see shapeOf). */
  readonly before: Promise<void> | undefined;
  /** Tells that this claim's calls are out (or that it writes nothing more). */
  readonly sent: () => void;
}

/**
 * Writes a claim group by group, in claim order (parents first). Pipelined (issue #16): once Salesforce
 * has answered a group, the next group's call goes out while the answered group's completion (outbox,
 * record state, chained audit) is committed, and a claim that may overlap the one before it (shapeOf)
 * has its call out while that one's Bulk job is still processing; the earlier claim's completion then
 * waits until that call is out (`sent`, told by the writer once the job is closed), so Salesforce
 * processes the job while the completion commits. Completions run one after another in claim and group
 * order: a claim's first completion waits until the claim before it has chained all of its own
 * (`after`). A failed completion fails the drain as before: its items stay leased and are
 * claimed again after the lease (idempotent upserts). Returns once every call is answered and chained.
 */
async function writeClaim(
  ctx: DrainContext,
  groups: ReadonlyArray<{ object: string; operation: OutboxItem['operation']; items: OutboxItem[] }>,
  tally: Tally,
  line: Line,
  order: ClaimOrder,
): Promise<void> {
  const { after, before, sent } = order;
  // Observed here so that a failure is not "unhandled" while the next group is being written.
  const watch = (p: Promise<void>): Promise<void> => {
    p.catch(() => {
      line.failed = true;
    });
    return p;
  };
  const seen = new Set<string>();
  try {
    await before;
    for (const group of groups) {
      if (ctx.stopping.value || line.failed) break;
      // A group that reads what earlier completions record (the event ledger before publishing, a
      // repeat of an object already written in this claim) waits for them first.
      if (group.operation === 'publish' || seen.has(group.object)) {
        sent();
        await after;
        await line.completing;
      }
      seen.add(group.object);
      const held = await stillHeld(ctx, group.items);
      if (held.length === 0) continue;
      const completion = await writeGroup(ctx, group.object, group.operation, held, tally, sent);
      sent();
      await after;
      // Run once the newest claim's call is out (Line.sending), read when the completion comes due.
      line.completing = watch(line.completing.then(() => line.sending).then(completion));
      if (tally.paused) break;
    }
    await after;
  } finally {
    sent();
  }
}

/**
 * A claim plus the due slots of the records it holds that it did not reach (`123#journey` when it
 * claimed `123`, and the other way round): a backfill queues a patient's Contact while reading and its
 * journey slot at the end, far apart in claim order, and both go to Salesforce as one write.
 */
async function withOtherSlots(
  ctx: DrainContext,
  items: OutboxItem[],
): Promise<{ items: OutboxItem[]; share: number }> {
  const claimed = new Set(items.map((i) => objectKey(i.object, i.externalId)));
  const wanted = new Map<string, string[]>();
  for (const item of items) {
    if (item.operation !== 'upsert') continue;
    const keys = slotKeysOf(item.object, externalIdOf(item)).filter(
      (k) => !claimed.has(objectKey(item.object, k)),
    );
    if (keys.length === 0) continue;
    const list = wanted.get(item.object);
    if (list) list.push(...keys);
    else wanted.set(item.object, keys);
  }
  const more: OutboxItem[] = [];
  for (const [object, keys] of wanted) {
    const unique = [...new Set(keys)];
    more.push(
      ...(await ctx.store.claimOutbox({
        owner: ctx.owner,
        limit: unique.length,
        leaseMs: ctx.leaseMs,
        now: ctx.now(),
        objects: [object],
        externalIds: unique,
      })),
    );
  }
  const share = items.length === 0 ? 1 : items.length / (items.length + more.length);
  const all = more.length === 0 ? items : [...items, ...more];
  return { items: all.length > ctx.claimLimit ? await withinLimit(ctx, items.length, all) : all, share };
}

/** One key for an outbox key (or a record's external id) of one object. */
const objectKey = (object: string, key: string): string => `${object}\u0000${key}`;

/**
 * A claim its records' other slots took past the claim limit (a backfill's first claim of Contacts,
 * each with its journey slot: twice the items) keeps its first records in claim order (the first
 * `claimed` of `all` are the claim itself), each with every slot it claimed, up to the limit, and
 * releases the rest at once for the next claim (which asks for less: `share` in drain). The limit
 * bounds what a drain holds, whatever the objects (issue #16). At least one record is kept.
 */
async function withinLimit(ctx: DrainContext, claimed: number, all: OutboxItem[]): Promise<OutboxItem[]> {
  const records = all.map((item) => objectKey(item.object, externalIdOf(item)));
  const size = new Map<string, number>();
  for (const record of records) size.set(record, (size.get(record) ?? 0) + 1);
  const kept = new Set<string>();
  let count = 0;
  for (const record of records.slice(0, claimed)) {
    if (kept.has(record)) continue;
    const n = size.get(record) ?? 1;
    if (kept.size > 0 && count + n > ctx.claimLimit) break;
    kept.add(record);
    count += n;
  }
  const keep: OutboxItem[] = [];
  const release: string[] = [];
  all.forEach((item, i) => (kept.has(records[i]!) ? keep.push(item) : release.push(item.id)));
  await ctx.store.releaseLeases({ owner: ctx.owner, ids: release });
  return keep;
}

/**
 * The items of a group this worker still holds, their leases extended. A claim is written group by
 * group; if this process was frozen (or starved) past its lease, another instance may have taken some
 * over and be writing them: those are left to it rather than written twice.
 */
async function stillHeld<T extends { readonly id: string }>(
  ctx: DrainContext,
  items: readonly T[],
): Promise<T[]> {
  // Held for at least half a lease from now: the heartbeat renews every lease each third of one, so a
  // lease it renewed is left as it is, and only one about to lapse is moved (a row rewritten).
  const now = ctx.now();
  const held = await ctx.store.holdOutboxItems(
    ctx.owner,
    items.map((i) => i.id),
    now + ctx.leaseMs,
    now + ctx.leaseMs / 2,
  );
  if (held.size < items.length) {
    ctx.log.warn(
      { lost: items.length - held.size },
      'items taken over by another instance; not writing them',
    );
  }
  return items.filter((i) => held.has(i.id));
}

function result(tally: Tally, pending: number): DrainResult {
  return {
    written: tally.written,
    created: tally.created,
    updated: tally.updated,
    retried: tally.retried,
    deadLettered: tally.deadLettered,
    blocked: tally.blocked,
    pending,
    paused: tally.paused,
    writtenByObject: tally.writtenByObject,
    deadLetteredByObject: tally.deadByObject,
  };
}
