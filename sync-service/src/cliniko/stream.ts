import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { ResourceDefinition } from './resources.js';
import { letRequestsOut } from '../loop.js';
import { SyncError } from '../errors.js';
import type { ClinikoPage, ClinikoTransport } from './transport.js';

/**
 * A resource stream: an async generator over Cliniko list pages that yields records, quarantine items
 * and page markers. The runner owns state (watermark, signpost, checkpoints); the stream only reads.
 *
 * Contract of one `read()`, soft-deleted rows always included, `per_page=100`:
 * - Incremental when `since` is given: `q[]=updated_at:>=(since - overlap)`, sorted by `updated_at`
 *   ascending (ties broken by id), following `links.next`.
 *   Offset pagination over a list that changes while we walk it can skip a row: when a record already
 *   read is updated (it jumps to the end) or one disappears, every later row moves up one place and the
 *   first row of the next page slides onto a page we have already read. The stream notices this (an id
 *   seen twice in one pass, or `total_entries` shrinking) and walks the list again; rows already yielded
 *   are not yielded twice. `end.complete` is false only if the list still moved after `maxPasses` passes.
 * - Full backfill when `since` is omitted: keyset pages, `sort=id&q[]=id:>(last id read)`. Ids never
 *   change, so edits and deletions during a long backfill cannot shift a row past the reader, and the
 *   cost is still one request per 100 rows (the walk stops when `total_entries` fits in the page).
 *   Rows edited during the backfill are caught by the next incremental read from `end.startedAt`.
 * - Error pages are retried by the transport and finally thrown, never read as the end of the list.
 * - De-duplicated by (id, updated_at) across pages, passes and, through `seen`, across reads (a
 *   backfill's keyset pages cannot repeat a row: it de-duplicates within the page unless given `seen`).
 */

export interface QuarantineItem {
  readonly resource: string;
  /** The record's id, or `(unknown)` when the id itself is missing or invalid. */
  readonly id: string;
  /** Dotted path of the first failing field. */
  readonly field: string;
  /** What is wrong, never the value. */
  readonly reason: string;
  readonly updatedAt: string | undefined;
}

export interface ReadOptions {
  /** Watermark (ISO 8601) from the last durable run; omit for a full backfill. */
  readonly since?: string;
  /**
   * Seconds subtracted from `since`; covers Cliniko's non-atomic created_at/updated_at and clock skew.
   * Default 120. The sync runner passes 0: its two bookmarks re-read that window once, after it has
   * settled, instead of at every read (README.md, "Watermarks").
   */
  readonly overlapSeconds?: number;
  /**
   * Keys `${id}@${updated_at}` already delivered (e.g. by the previous run inside the overlap window).
   * The stream skips these and adds every key it yields, so a caller may share one set across reads.
   */
  readonly seen?: Set<string>;
  /** Walks of the whole list allowed when it moves under us; at least 1. */
  readonly maxPasses?: number;
}

export type StreamEvent<T> =
  | {
      readonly kind: 'record';
      readonly resource: string;
      readonly id: string;
      readonly updatedAt: string;
      readonly record: T;
      /** The record as Cliniko sent it, for coverage reports of unmapped keys. Holds PHI: never log it. */
      readonly raw: Readonly<Record<string, unknown>>;
    }
  | { readonly kind: 'quarantine'; readonly item: QuarantineItem }
  | {
      readonly kind: 'page';
      readonly resource: string;
      readonly path: string;
      readonly pass: number;
      readonly pageNumber: number;
      readonly items: number;
      readonly totalEntries: number | undefined;
      /** Greatest updated_at read so far in this read. */
      readonly maxUpdatedAt: string | undefined;
      readonly serverDate: string | undefined;
    }
  | {
      readonly kind: 'end';
      readonly resource: string;
      /** False when the list kept moving for `maxPasses` passes: do not advance the watermark. */
      readonly complete: boolean;
      readonly passes: number;
      readonly pages: number;
      readonly records: number;
      readonly duplicates: number;
      readonly quarantined: number;
      readonly maxUpdatedAt: string | undefined;
      /** Cliniko's clock at the first page: a signpost taken on the server's side. */
      readonly startedAt: string | undefined;
    };

export interface ResourceStream<T> {
  readonly name: string;
  /** The record key and cursor field, for the runner's bookkeeping. */
  readonly key: 'id';
  readonly cursorField: 'updated_at';
  read(options?: ReadOptions): AsyncGenerator<StreamEvent<T>, void, undefined>;
}

export const DEFAULT_OVERLAP_SECONDS = 120;
export const PER_PAGE = 100;

/** Second-precision UTC, the form Cliniko uses and accepts in filters. */
export function toClinikoTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function sinceFilter(since: string, overlapSeconds: number): string {
  const ms = Date.parse(since);
  if (!Number.isFinite(ms)) throw new RangeError('since must be an ISO 8601 date-time');
  return `updated_at:>=${toClinikoTime(ms - Math.max(0, overlapSeconds) * 1000)}`;
}

export function createResourceStream<S extends z.ZodType>(
  transport: ClinikoTransport,
  definition: ResourceDefinition<S>,
  logger: Logger,
  sort = 'updated_at,id',
): ResourceStream<z.infer<S>> {
  const log = logger.child({ stream: definition.name });

  async function* read(options: ReadOptions = {}): AsyncGenerator<StreamEvent<z.infer<S>>, void, undefined> {
    const backfill = options.since === undefined;
    const state: ReadState<S> = {
      definition,
      filters: readFilters(definition, options),
      seen: options.seen ?? new Set<string>(),
      pageSeen: backfill && options.seen === undefined,
      tally: { pages: 0, records: 0, duplicates: 0, quarantined: 0 },
      maxUpdatedAt: undefined,
      startedAt: undefined,
      pass: 0,
      moved: true,
    };
    if (backfill) {
      state.pass = 1;
      state.moved = false;
      yield* backfillPass(transport, state);
    }
    const maxPasses = Math.max(1, options.maxPasses ?? 3);
    while (!backfill && state.moved && state.pass < maxPasses) {
      yield* incrementalPass(transport, state, sort);
      if (state.moved)
        log.info({ pass: state.pass, maxPasses }, 'cliniko list changed while paging; walking it again');
    }
    const complete = !state.moved;
    if (!complete) log.warn({ passes: state.pass }, 'cliniko list kept changing; read is incomplete');
    log.debug({ ...state.tally, passes: state.pass, backfill }, 'cliniko read finished');
    yield {
      kind: 'end',
      resource: definition.name,
      complete,
      passes: state.pass,
      ...state.tally,
      maxUpdatedAt: state.maxUpdatedAt,
      startedAt: state.startedAt,
    };
  }

  return { name: definition.name, key: 'id', cursorField: 'updated_at', read };
}

/** What one `read()` carries from page to page and pass to pass. */
interface ReadState<S extends z.ZodType> {
  readonly definition: ResourceDefinition<S>;
  /** The `q[]` filters of every request of this read. */
  readonly filters: readonly string[];
  readonly seen: Set<string>;
  /**
   * A backfill's keyset pages (`id:>last`) cannot repeat a row, so its own `seen` only needs to span a
   * page and is emptied after each one: memory bounded by the page, not by the practice (issue #16).
   */
  readonly pageSeen: boolean;
  readonly tally: { pages: number; records: number; duplicates: number; quarantined: number };
  maxUpdatedAt: string | undefined;
  startedAt: string | undefined;
  pass: number;
  /** The list moved under the current (or last) pass: walk it again. */
  moved: boolean;
}

type EventOf<S extends z.ZodType> = StreamEvent<z.infer<S>>;

/** The hidden-row filters, plus the overlapped `updated_at` filter of an incremental read. */
function readFilters<S extends z.ZodType>(definition: ResourceDefinition<S>, options: ReadOptions): string[] {
  const filters = [...definition.revealHidden];
  if (options.since !== undefined) {
    if (!definition.incremental) throw new RangeError(`${definition.name} cannot be read incrementally`);
    filters.push(sinceFilter(options.since, options.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS));
  }
  return filters;
}

/** A full backfill: keyset pages by id over every path, one pass. */
async function* backfillPass<S extends z.ZodType>(
  transport: ClinikoTransport,
  state: ReadState<S>,
): AsyncGenerator<EventOf<S>, void, undefined> {
  const { definition, filters } = state;
  for (const path of definition.paths) {
    const fetchPage = (after: bigint | undefined, pageNumber: number): Promise<ClinikoPage> => {
      const url = transport.url(path, {
        per_page: PER_PAGE,
        sort: 'id',
        'q[]': after === undefined ? filters : [...filters, `id:>${after}`],
      });
      return transport.page(url, definition.collectionKey, pageNumber);
    };
    let after: bigint | undefined;
    let ahead: Promise<ClinikoPage> | undefined = fetchPage(undefined, 1);
    for (let pageNumber = 1; ahead !== undefined; pageNumber += 1) {
      const page: ClinikoPage = await ahead;
      state.tally.pages += 1;
      state.startedAt ??= page.serverDate;
      // The next page's key is known from this page's ids: it is asked for now, so Cliniko serves it
      // while this page's rows are validated and handled (issue #16). A key that does not advance
      // fails the read once this page is handled, as before.
      ahead = undefined;
      let failure: Error | undefined;
      if (isFull(page)) {
        try {
          after = nextKey(
            definition.name,
            page.items.flatMap((raw) => idOf(raw) ?? []),
            after,
          );
          ahead = fetchPage(after, pageNumber + 1);
          // Observed now, awaited on the next turn: a read abandoned meanwhile leaves no unhandled rejection.
          ahead.catch(() => undefined);
          // On the wire before the rows are handled, which holds the thread (loop.ts).
          await letRequestsOut();
        } catch (err) {
          failure = err instanceof Error ? err : new Error('the next page could not be asked for');
        }
      }
      yield* rowsOf(state, page.items);
      if (state.pageSeen) state.seen.clear();
      yield pageEvent(state, path, page);
      if (failure !== undefined) throw failure;
    }
  }
}

/** A page as long as asked for, with more entries in the list: there may be a page after it. */
function isFull(page: ClinikoPage): boolean {
  return (
    page.items.length >= PER_PAGE &&
    (page.totalEntries === undefined || page.totalEntries > page.items.length)
  );
}

/** The greatest id of a full page, which must move past the previous one. */
function nextKey(resource: string, ids: readonly string[], after: bigint | undefined): bigint {
  const last = ids.reduce<bigint | undefined>(
    (max, id) => (max === undefined || BigInt(id) > max ? BigInt(id) : max),
    undefined,
  );
  if (last === undefined || (after !== undefined && last <= after)) {
    // The server ignored the id filter or sent no usable ids: going on could loop forever.
    throw new SyncError(
      'CLINIKO_MALFORMED_RESPONSE',
      `Cliniko's ${resource} page did not advance past id ${String(after ?? 'start')}`,
      {
        record: { system: 'cliniko', object: resource },
        retryable: false,
      },
    );
  }
  return last;
}

/** One incremental walk of every path, following `links.next`; sets `state.moved` if the list moved. */
async function* incrementalPass<S extends z.ZodType>(
  transport: ClinikoTransport,
  state: ReadState<S>,
  sort: string,
): AsyncGenerator<EventOf<S>, void, undefined> {
  const { definition, filters } = state;
  state.pass += 1;
  state.moved = false;
  for (const path of definition.paths) {
    const idsThisPass = new Set<string>();
    let lastTotal: number | undefined;
    const first = transport.url(path, { per_page: PER_PAGE, sort, 'q[]': filters });
    for await (const page of transport.paginate(first, definition.collectionKey)) {
      state.tally.pages += 1;
      state.startedAt ??= page.serverDate;
      if (lastTotal !== undefined && page.totalEntries !== undefined && page.totalEntries < lastTotal)
        state.moved = true;
      lastTotal = page.totalEntries ?? lastTotal;
      const ids = yield* rowsOf(state, page.items);
      for (const id of ids) {
        if (idsThisPass.has(id)) state.moved = true;
        idsThisPass.add(id);
      }
      yield pageEvent(state, path, page);
    }
  }
}

/** Validates, de-duplicates and yields one page's rows; returns the ids it saw (valid or not). */
function* rowsOf<S extends z.ZodType>(
  state: ReadState<S>,
  items: readonly unknown[],
): Generator<EventOf<S>, string[], undefined> {
  const { definition, seen, tally } = state;
  const ids: string[] = [];
  for (const raw of items) {
    const rawId = idOf(raw);
    if (rawId !== undefined) ids.push(rawId);
    const parsed = definition.schema.safeParse(raw);
    if (!parsed.success) {
      const key = `${rawId ?? '(unknown)'}@${updatedAtOf(raw) ?? ''}`;
      if (rawId !== undefined && seen.has(key)) {
        tally.duplicates += 1;
        continue;
      }
      if (rawId !== undefined) seen.add(key);
      tally.quarantined += 1;
      yield quarantineEvent(definition.name, raw, rawId, parsed.error.issues[0]);
      continue;
    }
    const record = parsed.data as z.infer<S> & { id: string; updated_at: string };
    const key = `${record.id}@${record.updated_at}`;
    if (seen.has(key)) {
      tally.duplicates += 1;
      continue;
    }
    seen.add(key);
    tally.records += 1;
    if (state.maxUpdatedAt === undefined || Date.parse(record.updated_at) > Date.parse(state.maxUpdatedAt)) {
      state.maxUpdatedAt = record.updated_at;
    }
    yield {
      kind: 'record',
      resource: definition.name,
      id: record.id,
      updatedAt: record.updated_at,
      record,
      raw: raw as Record<string, unknown>,
    };
  }
  return ids;
}

function quarantineEvent(
  resource: string,
  raw: unknown,
  rawId: string | undefined,
  issue: z.core.$ZodIssue | undefined,
): StreamEvent<never> {
  return {
    kind: 'quarantine',
    item: {
      resource,
      id: rawId ?? '(unknown)',
      field: issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)',
      reason: issue ? reasonOf(issue) : 'invalid record',
      updatedAt: updatedAtOf(raw),
    },
  };
}

function pageEvent<S extends z.ZodType>(state: ReadState<S>, path: string, page: ClinikoPage): EventOf<S> {
  return {
    kind: 'page',
    resource: state.definition.name,
    path,
    pass: state.pass,
    pageNumber: page.pageNumber,
    items: page.items.length,
    totalEntries: page.totalEntries,
    maxUpdatedAt: state.maxUpdatedAt,
    serverDate: page.serverDate,
  };
}

function idOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const id = (raw as { id?: unknown }).id;
  // A numeric id has already lost precision in JSON.parse; it is reported, not trusted.
  return typeof id === 'string' && /^\d{1,20}$/.test(id) ? id : undefined;
}

function updatedAtOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const value = (raw as { updated_at?: unknown }).updated_at;
  return typeof value === 'string' ? value : undefined;
}

/** zod's issue, described without the input value (zod 4's default messages never include it). */
function reasonOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  return issue.message;
}
