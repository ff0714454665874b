/**
 * The REST API under /services/data: versions, resources, limits, sobjects and describe, sObject CRUD,
 * upsert by external id, sObject Collections, platform event publish, and query / queryAll with
 * 2,000-record pages. Authentication and the API budget are enforced by the hook in server.ts, which
 * sets `request.sfUserId`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeGlobalEntry, describeObject } from './describe.js';
import { ApiError } from './errors.js';
import type { Org, Rec, SaveItem, SaveResult } from './org.js';
import type { FieldDef, ObjectDef } from './schema.js';
import { executeSoql } from './soql/index.js';
import { asText, formatDateTime, parseDateTime } from './values.js';

const MAX_COLLECTION = 200;
const DEFAULT_PAGE = 2000;

type Params = { version: string; object: string; id: string; field: string; value: string; cursor: string };

function versionOf(request: FastifyRequest<{ Params: Partial<Params> }>): string {
  return (request.params.version ?? 'v66.0').slice(1);
}

function userOf(request: FastifyRequest): string {
  if (!request.sfUserId) throw new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  return request.sfUserId;
}

const notFound = () => new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** Salesforce season names: v50.0 is Winter '21 and there are three releases a year. */
export function releaseLabel(version: string): string {
  const v = Math.trunc(Number(version)) - 50;
  const season = ['Winter', 'Spring', 'Summer'][((v % 3) + 3) % 3] ?? 'Winter';
  return `${season} '${21 + Math.floor(v / 3)}`;
}

/** A single-record failure becomes the top-level error of a single-record request. */
function throwFirst(result: SaveResult, status = 400): never {
  const first = result.errors[0];
  throw new ApiError(
    status,
    first?.statusCode ?? 'UNKNOWN_EXCEPTION',
    first?.message ?? 'failed',
    first?.fields ?? [],
  );
}

interface Cursor {
  records: Rec[];
  /** As the query engine reports it: differs from records.length only for COUNT(). */
  totalSize?: number;
  userId: string;
  pageSize: number;
  queryAll: boolean;
}

export function registerRest(app: FastifyInstance, org: Org): void {
  const cursors = new Map<string, Cursor>();

  const objectFor = (userId: string, name: string): ObjectDef => {
    const object = org.visibleObject(userId, name);
    if (!object) throw notFound();
    return object;
  };

  app.get('/services/data', () => listVersions());
  app.get('/services/data/', () => listVersions());
  function listVersions() {
    return [
      '50.0',
      '51.0',
      '52.0',
      '53.0',
      '54.0',
      '55.0',
      '56.0',
      '57.0',
      '58.0',
      '59.0',
      '60.0',
      '61.0',
      '62.0',
      '63.0',
      '64.0',
      '65.0',
      '66.0',
    ].map((version) => ({
      label: releaseLabel(version),
      url: `/services/data/v${version}`,
      version,
    }));
  }

  const resources = (request: FastifyRequest<{ Params: Partial<Params> }>) => {
    const base = `/services/data/v${versionOf(request)}`;
    return {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      limits: `${base}/limits`,
      composite: `${base}/composite`,
      jobs: `${base}/jobs`,
      identity: `${request.protocol}://${request.host}/id/${org.orgId}/${userOf(request)}`,
    };
  };
  app.get<{ Params: Partial<Params> }>('/services/data/:version', (request) => resources(request));
  app.get<{ Params: Partial<Params> }>('/services/data/:version/', (request) => resources(request));

  app.get('/services/data/:version/limits', () => {
    const fixed = (max: number) => ({ Max: max, Remaining: max });
    return {
      DailyApiRequests: { Max: org.api.max, Remaining: Math.max(0, org.api.max - org.api.used) },
      DailyBulkApiBatches: fixed(15_000),
      DailyBulkV2QueryFileStorageMB: fixed(976_562),
      DailyBulkV2QueryJobs: fixed(10_000),
      DailyAsyncApexExecutions: fixed(250_000),
      DailyStandardVolumePlatformEvents: fixed(10_000),
      HourlyPublishedPlatformEvents: fixed(50_000),
      HourlyPublishedStandardVolumePlatformEvents: fixed(1_000),
      DataStorageMB: fixed(1_024),
      FileStorageMB: fixed(1_024),
      SingleEmail: fixed(5_000),
    };
  });

  app.get<{ Params: Partial<Params> }>('/services/data/:version/sobjects', (request) => {
    const userId = userOf(request);
    const version = versionOf(request);
    const sobjects = [...org.schema.objects.values()]
      .filter((o) => org.objectAccess(userId, o).read)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((o) => describeGlobalEntry(org, userId, o, version));
    return { encoding: 'UTF-8', maxBatchSize: MAX_COLLECTION, sobjects };
  });

  app.get<{ Params: Partial<Params> }>('/services/data/:version/sobjects/:object', (request) => {
    const userId = userOf(request);
    const object = objectFor(userId, request.params.object ?? '');
    return { objectDescribe: describeGlobalEntry(org, userId, object, versionOf(request)), recentItems: [] };
  });

  app.get<{ Params: Partial<Params> }>('/services/data/:version/sobjects/:object/describe', (request) => {
    const userId = userOf(request);
    return describeObject(org, userId, objectFor(userId, request.params.object ?? ''), versionOf(request));
  });

  // Replication: ids changed or deleted in a window (by SystemModstamp), as `getUpdated` / `getDeleted`.
  const replicationWindow = (query: { start?: string; end?: string }) => {
    const start = parseDateTime(query.start ?? '');
    const end = parseDateTime(query.end ?? '');
    if (!start || !end)
      throw new ApiError(400, 'MISSING_ARGUMENT', 'start and end must be ISO 8601 date-times');
    if (end.getTime() <= start.getTime())
      throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'end must be after start');
    const within = (r: Rec) => {
      const t = parseDateTime(asText(r.SystemModstamp))?.getTime() ?? 0;
      return t >= start.getTime() && t < end.getTime();
    };
    return { end, within };
  };
  app.get<{ Params: Partial<Params>; Querystring: { start?: string; end?: string } }>(
    '/services/data/:version/sobjects/:object/updated',
    (request) => {
      const object = objectFor(userOf(request), request.params.object ?? '');
      const { end, within } = replicationWindow(request.query);
      const ids = [...org.records(object.name)]
        .filter((r) => r.IsDeleted !== true && within(r))
        .map((r) => asText(r.Id));
      return { ids, latestDateCovered: formatDateTime(end) };
    },
  );
  app.get<{ Params: Partial<Params>; Querystring: { start?: string; end?: string } }>(
    '/services/data/:version/sobjects/:object/deleted',
    (request) => {
      const object = objectFor(userOf(request), request.params.object ?? '');
      const { end, within } = replicationWindow(request.query);
      const deletedRecords = [...org.records(object.name)]
        .filter((r) => r.IsDeleted === true && within(r))
        .map((r) => ({ id: asText(r.Id), deletedDate: asText(r.SystemModstamp) }));
      return {
        deletedRecords,
        earliestDateAvailable: formatDateTime(new Date(0)),
        latestDateCovered: formatDateTime(end),
      };
    },
  );

  // Create, or publish a platform event.
  app.post<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const values = requireObjectBody(request.body);
      if (object.category === 'event') {
        const result = org.publish(userId, object, values);
        if (!result.success) throwFirst(result);
        return reply.code(201).send(result);
      }
      const [result] = org.saveBatch(userId, [{ operation: 'insert', object, values }], false);
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      return reply.code(201).send({ id: result.id, success: true, errors: [] });
    },
  );

  app.get<{ Params: Partial<Params>; Querystring: { fields?: string } }>(
    '/services/data/:version/sobjects/:object/:id',
    (request) => {
      const userId = userOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object || hit.record.IsDeleted === true) throw notFound();
      const fields = request.query.fields
        ?.split(',')
        .map((f) => f.trim())
        .filter(Boolean);
      return org.present(userId, object, hit.record, versionOf(request), fields);
    },
  );

  app.patch<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object/:id',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object) throw notFound();
      if (hit.record.IsDeleted === true) throw new ApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
      const values = requireObjectBody(request.body);
      const [result] = org.saveBatch(
        userId,
        [{ operation: 'update', object, values, id: String(hit.record.Id) }],
        false,
      );
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Partial<Params> }>(
    '/services/data/:version/sobjects/:object/:id',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object) throw notFound();
      const [result] = org.deleteBatch(userId, [String(hit.record.Id)], false);
      if (!result?.success)
        throwFirst(
          result ?? { success: false, errors: [] },
          result?.errors[0]?.statusCode === 'ENTITY_IS_DELETED' ? 404 : 400,
        );
      return reply.code(204).send();
    },
  );

  const upsertField = (userId: string, object: ObjectDef, name: string): FieldDef => {
    const f = org.visibleField(userId, object, name);
    if (!f)
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${name}`,
      );
    if (!(f.externalId || f.idLookup || f.name === 'Id')) {
      throw new ApiError(
        400,
        'INVALID_FIELD',
        `Field ${f.name} is not an External ID or indexed field for ${object.name}`,
      );
    }
    return f;
  };

  app.get<{ Params: Partial<Params> }>(
    '/services/data/:version/sobjects/:object/:field/:value',
    (request, reply) => {
      const userId = userOf(request);
      const version = versionOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const f = upsertField(userId, object, request.params.field ?? '');
      const matches = org.matchByField(object, f, request.params.value ?? '');
      if (matches.length === 0) throw notFound();
      // Like an ambiguous upsert: 300 with the URLs of the matching records, not an error array.
      if (matches.length > 1)
        return reply
          .code(300)
          .send(matches.map((m) => `/services/data/v${version}/sobjects/${object.name}/${String(m.Id)}`));
      return org.present(userId, object, matches[0] ?? {}, version);
    },
  );

  // Single upsert: 201 created / 200 updated (with `created` from v46.0), 300 when several records match.
  app.patch<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object/:field/:value',
    async (request, reply) => {
      const userId = userOf(request);
      const version = versionOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const f = upsertField(userId, object, request.params.field ?? '');
      const value = request.params.value ?? '';
      const body = requireObjectBody(request.body);
      if (f.name !== 'Id') {
        const matches = org.matchByField(object, f, value);
        if (matches.length > 1) {
          return reply
            .code(300)
            .send(matches.map((m) => `/services/data/v${version}/sobjects/${object.name}/${String(m.Id)}`));
        }
      }
      const [result] = org.saveBatch(
        userId,
        [{ operation: 'upsert', object, values: { ...body, [f.name]: value }, externalIdField: f }],
        false,
      );
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      const modern = Number(version) >= 46;
      if (result.created)
        return reply
          .code(201)
          .send({ id: result.id, success: true, errors: [], ...(modern ? { created: true } : {}) });
      if (!modern) return reply.code(204).send();
      return reply.code(200).send({ id: result.id, success: true, errors: [], created: false });
    },
  );

  // ---------------------------------------------------------------- sObject Collections

  interface CollectionBody {
    allOrNone?: boolean;
    records?: Rec[];
  }

  const collectionRecords = (body: CollectionBody | undefined): Rec[] => {
    const records = body?.records;
    if (!Array.isArray(records))
      throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must hold a records array');
    if (records.length > MAX_COLLECTION) {
      throw new ApiError(
        400,
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION} records into this call`,
      );
    }
    return records;
  };

  const typeOf = (userId: string, record: Rec): ObjectDef | string => {
    const attributes = record.attributes as { type?: unknown } | undefined;
    if (typeof attributes?.type !== 'string') return 'Must specify a type in the attributes of each record';
    return (
      org.visibleObject(userId, attributes.type) ?? `sObject type '${attributes.type}' is not supported.`
    );
  };

  const typeError = (message: string): SaveResult => ({
    success: false,
    errors: [{ statusCode: 'INVALID_TYPE', message, fields: [] }],
  });

  /** Runs a collection: type errors fail that record; allOrNone rolls back the rest. */
  const runCollection = (
    userId: string,
    records: Rec[],
    allOrNone: boolean,
    toItem: (object: ObjectDef, record: Rec) => SaveItem,
  ): SaveResult[] => {
    const items: Array<SaveItem | SaveResult> = records.map((record) => {
      const object = typeOf(userId, record);
      return typeof object === 'string' ? typeError(object) : toItem(object, record);
    });
    const bad = items.filter((i): i is SaveResult => 'success' in i);
    if (allOrNone && bad.length > 0) {
      return items.map((i) =>
        'success' in i
          ? i
          : {
              success: false,
              errors: [
                {
                  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  message:
                    'Record rolled back because not all records were valid and the request was using AllOrNone header',
                  fields: [],
                },
              ],
            },
      );
    }
    const events = items.filter((i): i is SaveItem => !('success' in i) && i.object.category === 'event');
    const writes = items.filter((i): i is SaveItem => !('success' in i) && i.object.category !== 'event');
    const written = org.saveBatch(userId, writes, allOrNone);
    const results: SaveResult[] = [];
    let w = 0;
    for (const item of items) {
      if ('success' in item) results.push(item);
      else if (events.includes(item)) results.push(org.publish(userId, item.object, item.values));
      else results.push(written[w++] ?? { success: false, errors: [] });
    }
    return results;
  };

  app.post<{ Body: CollectionBody | undefined }>('/services/data/:version/composite/sobjects', (request) => {
    const userId = userOf(request);
    const records = collectionRecords(request.body);
    return runCollection(userId, records, request.body?.allOrNone === true, (object, values) => ({
      operation: 'insert',
      object,
      values,
    }));
  });

  app.patch<{ Body: CollectionBody | undefined }>('/services/data/:version/composite/sobjects', (request) => {
    const userId = userOf(request);
    const records = collectionRecords(request.body);
    return runCollection(userId, records, request.body?.allOrNone === true, (object, record) => {
      const { Id, ...values } = record;
      return { operation: 'update', object, values, ...(typeof Id === 'string' ? { id: Id } : {}) };
    });
  });

  app.patch<{ Params: Partial<Params>; Body: CollectionBody | undefined }>(
    '/services/data/:version/composite/sobjects/:object/:field',
    (request) => {
      const userId = userOf(request);
      const object = objectFor(userId, request.params.object ?? '');
      const f = upsertField(userId, object, request.params.field ?? '');
      const records = collectionRecords(request.body);
      const allOrNone = request.body?.allOrNone === true;
      // The same external id twice in one request fails both records (Salesforce cannot order them).
      const counts = new Map<string, number>();
      const keyOf = (r: Rec) => {
        const v = r[f.name];
        return v === undefined || v === null
          ? undefined
          : f.caseSensitive
            ? asText(v)
            : asText(v).toLowerCase();
      };
      for (const r of records) {
        const k = keyOf(r);
        if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const duplicates = records.map((r) => {
        const k = keyOf(r);
        return k !== undefined && (counts.get(k) ?? 0) > 1;
      });
      const pending: Array<SaveItem | SaveResult> = records.map((record, i) => {
        if (duplicates[i]) {
          return {
            success: false,
            errors: [
              {
                statusCode: 'DUPLICATE_EXTERNAL_ID',
                message: `Duplicate external id specified: ${String(record[f.name])}`,
                fields: [f.name],
              },
            ],
          };
        }
        const type = typeOf(userId, record);
        if (typeof type === 'string') return typeError(type);
        if (type !== object)
          return typeError(`Record type ${type.name} does not match the upsert type ${object.name}`);
        return { operation: 'upsert', object, values: record, externalIdField: f };
      });
      const failed = pending.some((p) => 'success' in p);
      if (allOrNone && failed) {
        return pending.map((p) =>
          'success' in p
            ? p
            : {
                success: false,
                errors: [
                  {
                    statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                    message:
                      'Record rolled back because not all records were valid and the request was using AllOrNone header',
                    fields: [],
                  },
                ],
              },
        );
      }
      const written = org.saveBatch(
        userId,
        pending.filter((p): p is SaveItem => !('success' in p)),
        allOrNone,
      );
      let w = 0;
      return pending.map((p) => ('success' in p ? p : (written[w++] ?? { success: false, errors: [] })));
    },
  );

  app.delete<{ Querystring: { ids?: string; allOrNone?: string } }>(
    '/services/data/:version/composite/sobjects',
    (request) => {
      const userId = userOf(request);
      const ids = (request.query.ids ?? '').split(',').filter(Boolean);
      if (ids.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
      if (ids.length > MAX_COLLECTION)
        throw new ApiError(
          400,
          'EXCEEDED_ID_LIMIT',
          `ids limit exceeded. cannot submit more than ${MAX_COLLECTION} ids`,
        );
      return org.deleteBatch(userId, ids, request.query.allOrNone === 'true');
    },
  );

  const retrieveMany = (
    request: FastifyRequest<{ Params: Partial<Params> }>,
    ids: string[],
    fields: string[],
  ) => {
    const userId = userOf(request);
    const object = objectFor(userId, request.params.object ?? '');
    if (ids.length > 2000) throw new ApiError(400, 'EXCEEDED_ID_LIMIT', 'cannot retrieve more than 2000 ids');
    if (fields.length === 0) throw new ApiError(400, 'MISSING_ARGUMENT', 'fields parameter is required');
    return ids.map((id) => {
      const hit = org.byId(id);
      return hit && hit.object === object && hit.record.IsDeleted !== true
        ? org.present(userId, object, hit.record, versionOf(request), fields)
        : null;
    });
  };
  app.get<{ Params: Partial<Params>; Querystring: { ids?: string; fields?: string } }>(
    '/services/data/:version/composite/sobjects/:object',
    (request) =>
      retrieveMany(
        request,
        (request.query.ids ?? '').split(',').filter(Boolean),
        (request.query.fields ?? '').split(',').filter(Boolean),
      ),
  );
  app.post<{ Params: Partial<Params>; Body: { ids?: string[]; fields?: string[] } | undefined }>(
    '/services/data/:version/composite/sobjects/:object',
    (request) => retrieveMany(request, request.body?.ids ?? [], request.body?.fields ?? []),
  );

  // ---------------------------------------------------------------- query / queryAll

  const page = (cursorId: string | undefined, cursor: Cursor, offset: number, version: string) => {
    const records = cursor.records.slice(offset, offset + cursor.pageSize);
    const next = offset + records.length;
    const done = next >= cursor.records.length;
    if (done && cursorId) cursors.delete(cursorId);
    let id = cursorId;
    if (!done && !id) {
      id = `01g${randomBytes(6).toString('hex').slice(0, 12)}`;
      cursors.set(id, cursor);
      // Keep memory bounded in long runs; Salesforce keeps at most a handful of open cursors per user.
      if (cursors.size > 200) cursors.delete(cursors.keys().next().value ?? '');
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
  };

  const runQuery = (
    request: FastifyRequest<{ Params: Partial<Params>; Querystring: { q?: string } }>,
    queryAll: boolean,
  ) => {
    const userId = userOf(request);
    const version = versionOf(request);
    const q = request.query.q;
    if (!q) throw new ApiError(400, 'MALFORMED_QUERY', 'A query string parameter q is required');
    const result = executeSoql(q, org.soqlContext(userId, queryAll, version));
    const header = request.headers['sforce-query-options'];
    const size = /batchSize=(\d+)/.exec(typeof header === 'string' ? header : '')?.[1];
    const pageSize = size ? Math.min(DEFAULT_PAGE, Math.max(200, Number(size))) : DEFAULT_PAGE;
    return page(
      undefined,
      { records: result.records, totalSize: result.totalSize, userId, pageSize, queryAll },
      0,
      version,
    );
  };
  app.get<{ Params: Partial<Params>; Querystring: { q?: string } }>(
    '/services/data/:version/query',
    (request) => runQuery(request, false),
  );
  app.get<{ Params: Partial<Params>; Querystring: { q?: string } }>(
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
    return page(m[1], cursor, Number(m[2]), versionOf(request));
  };
  app.get<{ Params: Partial<Params> }>('/services/data/:version/query/:cursor', nextPage);
  app.get<{ Params: Partial<Params> }>('/services/data/:version/queryAll/:cursor', nextPage);
}

function requireObjectBody(body: unknown): Rec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Rec;
}
