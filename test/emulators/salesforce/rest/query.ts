/**
 * SOQL: `query` and `queryAll` (which also returns deleted records), paged 2,000 records at a time
 * (fewer with `Sforce-Query-Options: batchSize=N`, 200 at least) through `nextRecordsUrl` cursors.
 * With `columns=true`, the query's columns instead of its rows (`query-columns.ts`). The engine itself
 * is `../soql/`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec } from '../org.js';
import { executeSoql } from '../soql/index.js';
import type { Params } from './common.js';
import { queryColumns } from './query-columns.js';
import { userOf, versionOf } from './common.js';

const DEFAULT_PAGE = 2000;
/** Keep memory bounded in long runs; Salesforce keeps at most a handful of open cursors per user. */
const MAX_CURSORS = 200;

interface Cursor {
  records: Rec[];
  /** As the query engine reports it: differs from records.length only for COUNT(). */
  totalSize?: number;
  userId: string;
  pageSize: number;
  queryAll: boolean;
}

type Cursors = Map<string, Cursor>;

function page(
  cursors: Cursors,
  cursorId: string | undefined,
  cursor: Cursor,
  offset: number,
  version: string,
) {
  const records = cursor.records.slice(offset, offset + cursor.pageSize);
  const next = offset + records.length;
  const done = next >= cursor.records.length;
  if (done && cursorId) cursors.delete(cursorId);
  let id = cursorId;
  if (!done && !id) {
    id = `01g${randomBytes(6).toString('hex').slice(0, 12)}`;
    cursors.set(id, cursor);
    if (cursors.size > MAX_CURSORS) cursors.delete(cursors.keys().next().value ?? '');
  }
  return {
    // COUNT() answers with no rows and the count in totalSize.
    totalSize: cursor.totalSize ?? cursor.records.length,
    done,
    ...(done
      ? {}
      : {
          nextRecordsUrl: `/services/data/v${version}/${cursor.queryAll ? 'queryAll' : 'query'}/${id}-${next}`,
        }),
    records,
  };
}

export function registerQueryRoutes(app: FastifyInstance, org: Org): void {
  const cursors: Cursors = new Map();

  const runQuery = (
    request: FastifyRequest<{ Params: Partial<Params>; Querystring: { q?: string; columns?: string } }>,
    queryAll: boolean,
  ) => {
    const userId = userOf(request);
    const version = versionOf(request);
    const q = request.query.q;
    if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string parameter q is required');
    const ctx = org.soqlContext(userId, queryAll, version);
    if (request.query.columns === 'true') return queryColumns(q, ctx);
    const result = executeSoql(q, ctx);
    const header = request.headers['sforce-query-options'];
    const size = /batchSize=(\d+)/.exec(typeof header === 'string' ? header : '')?.[1];
    const pageSize = size ? Math.min(DEFAULT_PAGE, Math.max(200, Number(size))) : DEFAULT_PAGE;
    return page(
      cursors,
      undefined,
      { records: result.records, totalSize: result.totalSize, userId, pageSize, queryAll },
      0,
      version,
    );
  };
  app.get<{ Params: Partial<Params>; Querystring: { q?: string; columns?: string } }>(
    '/services/data/:version/query',
    (request) => runQuery(request, false),
  );
  app.get<{ Params: Partial<Params>; Querystring: { q?: string; columns?: string } }>(
    '/services/data/:version/queryAll',
    (request) => runQuery(request, true),
  );

  const nextPage = (request: FastifyRequest<{ Params: Partial<Params> }>) => {
    const userId = userOf(request);
    const m = /^(01g[0-9a-zA-Z]+)-(\d+)$/.exec(request.params.cursor ?? '');
    const cursor = m?.[1] ? cursors.get(m[1]) : undefined;
    if (!m || !cursor || cursor.userId !== userId) {
      throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    return page(cursors, m[1], cursor, Number(m[2]), versionOf(request));
  };
  app.get<{ Params: Partial<Params> }>('/services/data/:version/query/:cursor', nextPage);
  app.get<{ Params: Partial<Params> }>('/services/data/:version/queryAll/:cursor', nextPage);
}
