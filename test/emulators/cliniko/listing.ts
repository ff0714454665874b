/**
 * The list / get machinery every `/v1` resource route uses: `q[]` filters against the endpoint's
 * allow-list, soft-delete visibility, sort, paging with Cliniko's `links`, and the per-query page
 * cache. Each resource module registers its own routes through the `ApiRoutes` kit built here.
 */
import type { FastifyInstance } from 'fastify';
import { FILTERS } from './filters.js';
import type { Kind } from './ids.js';
import { fromId } from './ids.js';
import type { Practice } from './practice.js';
import type { FieldValue, Filter, FilterType, SortKey } from './query.js';
import { compareValues, parseFilters, parsePaging, parseSort } from './query.js';
import type { Json, RenderContext, ResourceDef } from './resources/common.js';
import type { EmulatorState } from './state.js';
import { MutationError } from './state.js';

const SOFT_COLUMNS = ['archived_at', 'cancelled_at', 'deleted_at'] as const;

export type Source<R> = (params: Record<string, string>, p: Practice) => readonly R[];

export interface ListRoute<R> {
  path: string; // spec path template
  def: ResourceDef<R>;
  source?: Source<R>;
  /** Extra visibility rule of the endpoint (e.g. /practitioners/inactive, /patient_cases/active). */
  where?: (row: R) => boolean;
}

/** What a resource module needs to register its routes. */
export interface ApiRoutes {
  app: FastifyInstance;
  state: EmulatorState;
  /** The render context for the current request (base URL, practice, clock). */
  ctx(): RenderContext;
  /** A list endpoint: `GET /v1<path>` with the spec's filters for that path. */
  list<R>(route: ListRoute<R>): void;
  /** A single-record endpoint: `GET /v1<path>` (path ends in `{id}`). */
  get<R>(path: string, def: ResourceDef<R>): void;
  /** The row index of a parent named in the path; 404 when it does not exist. */
  parent(kind: Kind, rows: readonly unknown[], id: string | undefined): number;
  /** A visible row by id (archived and deleted rows 404 unless the URL filters on the column). */
  findVisible<R>(def: ResourceDef<R>, id: string, url?: string): R;
}

export function createApiRoutes(app: FastifyInstance, state: EmulatorState, base: () => string): ApiRoutes {
  const ctx = (): RenderContext => state.context(base());
  const cache: ListCache = { version: state, entries: new Map() };
  return {
    app,
    state,
    ctx,
    parent(kind, rows, id) {
      const idx = fromId(kind, id ?? '');
      if (idx < 0 || idx >= rows.length) throw new MutationError(404, { message: 'Not found' });
      return idx;
    },
    list(route) {
      const allowed = FILTERS[route.path];
      if (!allowed) throw new Error(`no filter table for ${route.path}`);
      app.get(`/v1${toFastifyPath(route.path)}`, async (req, reply) => {
        const c = ctx();
        const rows = route.source
          ? route.source(req.params as Record<string, string>, state.practice)
          : route.def.rows(state.practice);
        const own = route.where;
        // Rows held back by the late-commit control are not committed yet (state.ts, `held`).
        const where = (row: unknown): boolean =>
          !state.isHeld(row as object) && (own === undefined || own(row as never));
        const body = listResponse(route.def, rows, req.url, allowed, c, where, cache);
        return reply.header('content-type', 'application/json; charset=utf-8').send(body);
      });
    },
    get(path, def) {
      const allowed = FILTERS[path] ?? {};
      app.get(`/v1${toFastifyPath(path)}`, async (req, reply) => {
        const c = ctx();
        const row = findVisible(def, (req.params as { id: string }).id, req.url, allowed, c);
        if (state.isHeld(row as object)) throw new MutationError(404, { message: 'Not found' });
        return reply.send(def.render(row, c));
      });
    },
    findVisible: (def, id, url = '') => findVisible(def, id, url, {}, ctx()),
  };
}

const LIST_CACHE_SIZE = 16;
interface ListCache {
  version: { readonly version: number };
  entries: Map<string, { version: number; rows: readonly unknown[] }>;
}

function toFastifyPath(specPath: string): string {
  return specPath.replace(/\{(\w+)\}/g, ':$1');
}

function searchParams(url: string): URLSearchParams {
  const q = url.indexOf('?');
  // URLSearchParams decodes keys, so `q%5B%5D=` and `q[]=` both arrive as `q[]`.
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

/** Soft-deleted rows (archived, cancelled, deleted) are hidden unless the request filters on that column. */
function visibility<R>(
  def: ResourceDef<R>,
  allowed: Readonly<Record<string, FilterType>>,
  filters: readonly Filter[],
  c: RenderContext,
): (row: R) => boolean {
  const mentioned = new Set(filters.map((f) => f.field));
  const hidden = SOFT_COLUMNS.filter((col) => Object.hasOwn(allowed, col) && !mentioned.has(col));
  return (row) =>
    hidden.every((col) => def.field(row, col, c) === null) &&
    filters.every((f) => f.test(def.field(row, f.field, c)));
}

function findVisible<R>(
  def: ResourceDef<R>,
  id: string,
  url: string,
  allowed: Readonly<Record<string, FilterType>>,
  c: RenderContext,
): R {
  const filters = parseFilters(searchParams(url).getAll('q[]'), allowed);
  const row = def.rows(c.practice)[fromId(def.kind, id)];
  // Archived (and, for appointments, cancelled) records 404 unless the request filters on the column.
  const soft = ['archived_at', 'cancelled_at', 'deleted_at'];
  const mentioned = new Set(filters.map((f) => f.field));
  const hiddenBySoft =
    row !== undefined && soft.some((col) => !mentioned.has(col) && def.field(row, col, c) !== null);
  if (!row || hiddenBySoft || !filters.every((f) => f.test(def.field(row, f.field, c)))) {
    throw new MutationError(404, { message: 'Not found' });
  }
  return row;
}

function listResponse<R>(
  def: ResourceDef<R>,
  rows: readonly R[],
  url: string,
  allowed: Readonly<Record<string, FilterType>>,
  c: RenderContext,
  where: ((row: R) => boolean) | undefined,
  cache: ListCache,
): Buffer {
  const sp = searchParams(url);
  const raw = sp.getAll('q[]');
  const filters = parseFilters(raw, allowed);
  const sort = parseSort(sp.get('sort'), sp.get('order'), allowed);
  const paging = parsePaging(sp.get('page'), sp.get('per_page'));
  const path = url.split('?')[0] ?? '';

  // A lower bound on the id when the list is sorted by id (the sync's keyset pages, `sort=id&q[]=id:>X`)
  // selects a suffix of the list read without it, so it is left out of the cached query and found by
  // binary search: every page of a keyset walk then shares one filtered list (one scan per resource and
  // data version; rows are already in id order, so no sort) and costs O(log n + page). Other bounds
  // (an incremental `updated_at:>=T`) stay in the query: filtering first leaves few rows to sort, and
  // the walk's pages share that query's cache entry.
  const range = filters.filter((f) => isSuffixFilter(f, sort));
  const residual = filters.filter((f) => !range.includes(f));
  const residualRaw = raw.filter((_, i) => !range.includes(filters[i] as Filter));

  // Consecutive pages of one query share the filtered, sorted rows until the next write. Reminder
  // flags depend on the clock, so queries on them are never cached. Soft-delete visibility depends on
  // the columns mentioned, so a range filter on a soft column would not be left out (none is one).
  const key = `${path}?${residualRaw.map((v) => `q[]=${v}`).join('&')}&sort=${sp.get('sort') ?? ''}&order=${sp.get('order') ?? ''}`;
  const cacheable = !filters.some((f) => f.field.endsWith('_reminder_sent'));
  const hit = cacheable ? cache.entries.get(key) : undefined;
  let sorted: R[];
  if (hit && hit.version === cache.version.version) {
    sorted = hit.rows as R[];
  } else {
    const visible = visibility(def, allowed, residual, c);
    sorted = [];
    for (const row of rows) if ((!where || where(row)) && visible(row)) sorted.push(row);
    sortRows(def, sorted, sort, c);
    if (cacheable) {
      cache.entries.delete(key);
      cache.entries.set(key, { version: cache.version.version, rows: sorted });
      if (cache.entries.size > LIST_CACHE_SIZE) cache.entries.delete(cache.entries.keys().next().value ?? '');
    }
  }
  let from = 0;
  for (const f of range)
    from = Math.max(
      from,
      firstPassing(sorted, (row) => f.test(def.field(row, f.field, c))),
    );
  const total = sorted.length - from;

  const start = (paging.page - 1) * paging.perPage;
  const page = sorted.slice(from + start, from + start + paging.perPage).map((row) => def.render(row, c));
  const linkFor = (n: number): string => {
    const params = new URLSearchParams();
    for (const [k, v] of sp) if (k !== 'page') params.append(k, v);
    params.set('page', String(n));
    return `${c.base}${path.replace(/^\/v1/, '')}?${params.toString()}`;
  };
  const links: Record<string, string> = { self: linkFor(paging.page) };
  if (start + paging.perPage < total) links.next = linkFor(paging.page + 1);
  if (paging.page > 1) links.previous = linkFor(paging.page - 1);
  return pageBody(def.plural, page, total, links);
}

/**
 * The page as JSON.stringify would write `{ [plural]: rows, total_entries, links }`, byte for byte, but
 * encoded a record at a time (issue #16). One name outside Latin-1 (a patient called Kōwhai) makes a
 * whole page's string two-byte, and every byte of it then took V8's slow paths twice, in
 * JSON.stringify and in the UTF-8 encoding on the way to the socket: two-thirds of the emulator's CPU
 * in a backfill. Encoded on their own, the records without one stay on the fast paths.
 */
function pageBody(plural: string, rows: readonly Json[], total: number, links: Json): Buffer {
  const parts: Buffer[] = [Buffer.from(`{${JSON.stringify(plural)}:[`)];
  rows.forEach((row, i) =>
    parts.push(Buffer.from(i === 0 ? JSON.stringify(row) : `,${JSON.stringify(row)}`)),
  );
  parts.push(Buffer.from(`],"total_entries":${JSON.stringify(total)},"links":${JSON.stringify(links)}}`));
  return Buffer.concat(parts);
}

/**
 * `id:>v` / `id:>=v` with the list sorted by id ascending: false for a prefix of the sorted list and
 * true for the rest (ids are never null), so the rows it keeps are a suffix.
 */
function isSuffixFilter(f: Filter, sort: readonly SortKey[]): boolean {
  const lead = sort[0];
  return (
    lead !== undefined &&
    !lead.desc &&
    lead.field === 'id' &&
    f.field === 'id' &&
    (f.op === '>' || f.op === '>=')
  );
}

/** The first index whose row passes a predicate that is false for a prefix and true after it. */
function firstPassing<R>(rows: readonly R[], passes: (row: R) => boolean): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (passes(rows[mid] as R)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Rows arrive in id order (row index order), so `sort=id` needs no work. They are stored in
 * (created_at, id) order, so the default sort usually needs none either; rows created
 * through the controls after the clock was moved back are the exception, hence the check.
 */
function sortRows<R>(def: ResourceDef<R>, rows: R[], keys: readonly SortKey[], c: RenderContext): void {
  if (keys.length >= 1 && keys[0]?.field === 'id' && !keys[0].desc) return; // ids are unique: the rest never decides
  const isDefault = keys.length === 1 && keys[0]?.field === 'created_at' && !keys[0].desc;
  if (isDefault) {
    let ordered = true;
    for (let i = 1; i < rows.length && ordered; i++) {
      ordered =
        (def.field(rows[i - 1] as R, 'created_at', c) as number) <=
        (def.field(rows[i] as R, 'created_at', c) as number);
    }
    if (ordered) return;
  }
  // Columns of sort keys; timestamps and counts compare as plain numbers (the hot path: the sync sorts
  // a million appointments by `updated_at,id`). Rows arrive in id order, so equal keys fall back to
  // input position, which is id order.
  // `id` is input position: rows arrive in id order, and a position is cheaper than a 64-bit BigInt.
  const cols = keys.map((k) =>
    k.field === 'id' ? rows.map((_, i) => i) : rows.map((row) => def.field(row, k.field, c)),
  );
  const numeric = cols.map((col) => col.every((v) => v === null || typeof v === 'number'));
  const order = rows.map((_, i) => i);
  order.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const col = cols[i] as FieldValue[];
      const x = col[a] as FieldValue;
      const y = col[b] as FieldValue;
      let cmp: number;
      if (numeric[i]) cmp = x === y ? 0 : x === null ? 1 : y === null ? -1 : (x as number) - (y as number);
      else cmp = compareValues(x, y);
      if (cmp !== 0) return keys[i]?.desc ? -cmp : cmp;
    }
    return a - b;
  });
  const copy = rows.slice();
  order.forEach((from, to) => (rows[to] = copy[from] as R));
}
