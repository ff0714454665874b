/**
 * Cliniko's list query language: `q[]=field:OPvalue` filters (ANDed), `sort=a,b:desc`, `page`, `per_page`.
 *
 * Operators by filter type (Cliniko's "Filtering results" guide; the per-endpoint allow-lists come from
 * the OpenAPI spec, see filters.ts):
 *   int64 / integer   =  !=  >  >=  <  <=
 *   string            =  !=  ~ (contains, case-insensitive)  ~~ (SQL LIKE with % and _, case-insensitive)
 *   boolean           =
 *   date              =  !=  >  >=  <  <=
 *   date-time         >  >=  <  <=  ? (is set)  !? (is not set)  * (any, including unset); no `=`
 *   array (of ids)    ~ (contains)  !~ (does not contain)
 */
import { parseInt64 } from './ids.js';

export type FilterType = 'int64' | 'integer' | 'string' | 'boolean' | 'date' | 'date-time' | 'array';
/** What a resource's accessor returns for a filterable/sortable field. */
export type FieldValue = bigint | number | string | boolean | null | readonly bigint[];

export const OPERATORS: Readonly<Record<FilterType, readonly string[]>> = {
  int64: ['=', '!=', '>', '>=', '<', '<='],
  integer: ['=', '!=', '>', '>=', '<', '<='],
  string: ['=', '!=', '~', '~~'],
  boolean: ['='],
  date: ['=', '!=', '>', '>=', '<', '<='],
  'date-time': ['>', '>=', '<', '<=', '?', '!?', '*'],
  array: ['~', '!~'],
};
// Longest first, so that `>=` is not read as `>` followed by `=...`.
const ALL_OPERATORS = ['>=', '<=', '!=', '!?', '!~', '~~', '>', '<', '=', '~', '?', '*'];

export class QueryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
export const NOT_SEARCHABLE = 'This column is not searchable.';
export const INVALID_QUERY = 'Invalid search query.';
export const NOT_SORTABLE = 'This column is not sortable.';

export interface Filter {
  field: string;
  op: string;
  test: (v: FieldValue) => boolean;
}

export function parseFilters(
  raw: readonly string[],
  allowed: Readonly<Record<string, FilterType>>,
): Filter[] {
  return raw.map((expr) => parseFilter(expr, allowed));
}

function parseFilter(expr: string, allowed: Readonly<Record<string, FilterType>>): Filter {
  const colon = expr.indexOf(':');
  const field = colon < 0 ? expr : expr.slice(0, colon);
  const type = Object.hasOwn(allowed, field) ? allowed[field] : undefined;
  if (!type) throw new QueryError(400, NOT_SEARCHABLE);
  if (colon < 0) throw new QueryError(400, INVALID_QUERY);
  const rest = expr.slice(colon + 1);
  const op = ALL_OPERATORS.find((o) => rest.startsWith(o));
  if (!op || !OPERATORS[type].includes(op)) throw new QueryError(400, INVALID_QUERY);
  const value = rest.slice(op.length);
  return { field, op, test: compile(type, op, value) };
}

function compile(type: FilterType, op: string, value: string): (v: FieldValue) => boolean {
  switch (type) {
    case 'int64':
    case 'integer': {
      const n = parseInt64(value);
      if (n === null) throw new QueryError(400, INVALID_QUERY);
      return (v) => {
        if (v === null || typeof v === 'boolean' || typeof v === 'string' || Array.isArray(v))
          return op === '!=';
        return compare(op, BigInt(v as bigint | number), n);
      };
    }
    case 'string': {
      const needle = value.toLowerCase();
      const like = op === '~~' ? likeToRegExp(value) : null;
      return (v) => {
        if (typeof v !== 'string') return op === '!=';
        if (op === '=') return v === value;
        if (op === '!=') return v !== value;
        if (op === '~') return v.toLowerCase().includes(needle);
        return like?.test(v) ?? false;
      };
    }
    case 'boolean': {
      if (value !== 'true' && value !== 'false') throw new QueryError(400, INVALID_QUERY);
      const want = value === 'true';
      return (v) => v === want;
    }
    case 'date': {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new QueryError(400, INVALID_QUERY);
      return (v) => (typeof v === 'string' ? compare(op, v, value) : op === '!=');
    }
    case 'date-time': {
      if (op === '*') return () => true;
      if (op === '?') return (v) => v !== null;
      if (op === '!?') return (v) => v === null;
      const ms = parseDateTime(value);
      return (v) => typeof v === 'number' && compare(op, v * 1000, ms);
    }
    case 'array': {
      const n = parseInt64(value);
      if (n === null) throw new QueryError(400, INVALID_QUERY);
      return (v) => {
        const has = Array.isArray(v) && (v as readonly bigint[]).includes(n);
        return op === '~' ? has : !has;
      };
    }
  }
}

function compare<T extends number | bigint | string>(op: string, a: T, b: T): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default:
      return false;
  }
}

/** ISO 8601 date-time (offset or Z, optional fraction) or a bare date meaning midnight UTC. */
export function parseDateTime(value: string): number {
  const ok = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(
    value,
  );
  const ms = ok ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms)) throw new QueryError(400, INVALID_QUERY);
  return ms;
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

export interface SortKey {
  field: string;
  desc: boolean;
}

/** `sort=a,b:desc`; the deprecated `order=asc|desc` sets the direction of keys that name none. */
export function parseSort(
  sort: string | null,
  order: string | null,
  allowed: Readonly<Record<string, FilterType>>,
): SortKey[] {
  const defaultDesc = order === 'desc';
  if (order !== null && order !== 'asc' && order !== 'desc') throw new QueryError(400, INVALID_QUERY);
  if (sort === null || sort === '') return [{ field: 'created_at', desc: defaultDesc }];
  return sort.split(',').map((part) => {
    const [field = '', dir] = part.split(':');
    if (
      !Object.hasOwn(allowed, field) &&
      field !== 'created_at' &&
      field !== 'updated_at' &&
      field !== 'id'
    ) {
      throw new QueryError(400, NOT_SORTABLE);
    }
    if (dir !== undefined && dir !== 'asc' && dir !== 'desc') throw new QueryError(400, INVALID_QUERY);
    return { field, desc: dir === undefined ? defaultDesc : dir === 'desc' };
  });
}

/** Compare two field values; nulls sort last in ascending order (PostgreSQL's default). */
export function compareValues(a: FieldValue, b: FieldValue): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (Array.isArray(a) || Array.isArray(b)) return 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : 1;
  if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) - Number(b);
  return (a as number | bigint) < (b as number | bigint) ? -1 : 1;
}

export interface Paging {
  page: number;
  perPage: number;
}

export function parsePaging(page: string | null, perPage: string | null): Paging {
  const p = page === null || page === '' ? 1 : Number(page);
  const pp = perPage === null || perPage === '' ? 50 : Number(perPage);
  if (!Number.isInteger(p) || p < 1) throw new QueryError(400, 'page must be a positive integer');
  if (!Number.isInteger(pp) || pp < 1 || pp > 100)
    throw new QueryError(400, 'per_page must be between 1 and 100');
  return { page: p, perPage: pp };
}
