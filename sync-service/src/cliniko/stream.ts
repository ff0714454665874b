import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { ResourceDefinition } from './resources.js';
import type { ClinikoTransport } from './transport.js';

/**
 * A resource stream: an async generator over Cliniko list pages that yields records, quarantine items
 * and page markers. The runner owns state (watermark, signpost, checkpoints); the stream only reads.
 *
 * Contract of one `read()`:
 * - Incremental when `since` is given: `q[]=updated_at:>=(since - overlap)`, sorted by `updated_at`
 *   ascending (ties broken by id), soft-deleted rows included. Without `since`: a full backfill.
 * - `per_page=100`, following `links.next`; error pages are retried by the transport and finally thrown,
 *   never read as the end of the list.
 * - De-duplicated by (id, updated_at) across pages, passes and, through `seen`, across reads.
 * - Offset pagination over a list that changes while we walk it can skip a row: when a record already
 *   read is updated (it jumps to the end) or one disappears, every later row moves up one place and the
 *   first row of the next page slides onto a page we have already read. The stream notices this (an id
 *   seen twice in one pass, or `total_entries` shrinking) and walks the list again; rows already yielded
 *   are not yielded twice. `end.complete` is false only if the list still moved after `maxPasses` passes.
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
  /** Seconds subtracted from `since`; covers Cliniko's non-atomic created_at/updated_at and clock skew. */
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
    const seen = options.seen ?? new Set<string>();
    const maxPasses = Math.max(1, options.maxPasses ?? 3);
    const filters = [...definition.revealHidden];
    if (options.since !== undefined) {
      if (!definition.incremental) throw new RangeError(`${definition.name} cannot be read incrementally`);
      filters.push(sinceFilter(options.since, options.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS));
    }
    let pages = 0;
    let records = 0;
    let duplicates = 0;
    let quarantined = 0;
    let maxUpdatedAt: string | undefined;
    let startedAt: string | undefined;
    let pass = 0;
    let moved = true;

    while (moved && pass < maxPasses) {
      pass += 1;
      moved = false;
      for (const path of definition.paths) {
        const idsThisPass = new Set<string>();
        let lastTotal: number | undefined;
        const first = transport.url(path, { per_page: PER_PAGE, sort, 'q[]': filters });
        for await (const page of transport.paginate(first, definition.collectionKey)) {
          pages += 1;
          startedAt ??= page.serverDate;
          if (lastTotal !== undefined && page.totalEntries !== undefined && page.totalEntries < lastTotal)
            moved = true;
          lastTotal = page.totalEntries ?? lastTotal;
          for (const raw of page.items) {
            const rawId = idOf(raw);
            if (rawId !== undefined) {
              if (idsThisPass.has(rawId)) moved = true;
              idsThisPass.add(rawId);
            }
            const parsed = definition.schema.safeParse(raw);
            if (!parsed.success) {
              const issue = parsed.error.issues[0];
              const key = `${rawId ?? '(unknown)'}@${updatedAtOf(raw) ?? ''}`;
              if (rawId !== undefined && seen.has(key)) {
                duplicates += 1;
                continue;
              }
              if (rawId !== undefined) seen.add(key);
              quarantined += 1;
              yield {
                kind: 'quarantine',
                item: {
                  resource: definition.name,
                  id: rawId ?? '(unknown)',
                  field: issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)',
                  reason: issue ? reasonOf(issue) : 'invalid record',
                  updatedAt: updatedAtOf(raw),
                },
              };
              continue;
            }
            const record = parsed.data as z.infer<S> & { id: string; updated_at: string };
            const key = `${record.id}@${record.updated_at}`;
            if (seen.has(key)) {
              duplicates += 1;
              continue;
            }
            seen.add(key);
            records += 1;
            if (maxUpdatedAt === undefined || Date.parse(record.updated_at) > Date.parse(maxUpdatedAt)) {
              maxUpdatedAt = record.updated_at;
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
          yield {
            kind: 'page',
            resource: definition.name,
            path,
            pass,
            pageNumber: page.pageNumber,
            items: page.items.length,
            totalEntries: page.totalEntries,
            maxUpdatedAt,
            serverDate: page.serverDate,
          };
        }
      }
      if (moved) log.info({ pass, maxPasses }, 'cliniko list changed while paging; walking it again');
    }
    const complete = !moved;
    if (!complete) log.warn({ passes: pass }, 'cliniko list kept changing; read is incomplete');
    log.debug({ pages, records, duplicates, quarantined, passes: pass }, 'cliniko read finished');
    yield {
      kind: 'end',
      resource: definition.name,
      complete,
      passes: pass,
      pages,
      records,
      duplicates,
      quarantined,
      maxUpdatedAt,
      startedAt,
    };
  }

  return { name: definition.name, key: 'id', cursorField: 'updated_at', read };
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
