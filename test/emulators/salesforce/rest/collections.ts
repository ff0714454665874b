/**
 * sObject Collections under `composite/sobjects`: create (POST), update (PATCH), upsert by external id
 * (PATCH .../X/{field}), delete (DELETE ?ids=) and retrieve (GET or POST .../X), up to 200 records.
 * Each record succeeds or fails alone unless `allOrNone`, which rolls back the rest. Records of a
 * platform event type in a create are published, not stored.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec, SaveItem, SaveResult } from '../org.js';
import { rolledBack } from '../org.js';
import type { FieldDef, ObjectDef } from '../schema.js';
import { asText } from '../values.js';
import type { Params } from './common.js';
import { MAX_COLLECTION, objectFor, userOf, versionOf } from './common.js';
import { upsertField } from './upsert.js';

interface CollectionBody {
  allOrNone?: boolean;
  records?: Rec[];
}

function collectionRecords(body: CollectionBody | undefined): Rec[] {
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
}

/** The record's type from its `attributes`, or the error message for that record. */
function typeOf(org: Org, userId: string, record: Rec): ObjectDef | string {
  const attributes = record.attributes as { type?: unknown } | undefined;
  if (typeof attributes?.type !== 'string') return 'Must specify a type in the attributes of each record';
  return org.visibleObject(userId, attributes.type) ?? `sObject type '${attributes.type}' is not supported.`;
}

const typeError = (message: string): SaveResult => ({
  success: false,
  errors: [{ statusCode: 'INVALID_TYPE', message, fields: [] }],
});

/** With allOrNone, one record failing before the write rolls back every other. */
function rollBackOthers(pending: Array<SaveItem | SaveResult>): SaveResult[] {
  return pending.map((p) => ('success' in p ? p : rolledBack()));
}

/** Writes the pending items in one batch and puts the results back in request order. */
function writePending(
  org: Org,
  userId: string,
  pending: Array<SaveItem | SaveResult>,
  allOrNone: boolean,
): SaveResult[] {
  const written = org.saveBatch(
    userId,
    pending.filter((p): p is SaveItem => !('success' in p)),
    allOrNone,
  );
  let w = 0;
  return pending.map((p) => ('success' in p ? p : (written[w++] ?? { success: false, errors: [] })));
}

/** Runs a collection: type errors fail that record; allOrNone rolls back the rest. */
function runCollection(
  org: Org,
  userId: string,
  records: Rec[],
  allOrNone: boolean,
  toItem: (object: ObjectDef, record: Rec) => SaveItem,
): SaveResult[] {
  const items: Array<SaveItem | SaveResult> = records.map((record) => {
    const object = typeOf(org, userId, record);
    return typeof object === 'string' ? typeError(object) : toItem(object, record);
  });
  if (allOrNone && items.some((i) => 'success' in i)) return rollBackOthers(items);
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
}

/** A field's value in a request body, whatever the case of its name (as Salesforce matches them). */
function valueOf(record: Rec, name: string): unknown {
  const key = Object.keys(record).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : record[key];
}

/** The same external id twice in one request fails both records (Salesforce cannot order them). */
function duplicateKeys(records: Rec[], f: FieldDef): boolean[] {
  const keyOf = (r: Rec) => {
    const v = valueOf(r, f.name);
    return v === undefined || v === null ? undefined : f.caseSensitive ? asText(v) : asText(v).toLowerCase();
  };
  const counts = new Map<string, number>();
  for (const r of records) {
    const k = keyOf(r);
    if (k !== undefined) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return records.map((r) => {
    const k = keyOf(r);
    return k !== undefined && (counts.get(k) ?? 0) > 1;
  });
}

function upsertCollection(
  org: Org,
  userId: string,
  object: ObjectDef,
  f: FieldDef,
  body: CollectionBody | undefined,
): SaveResult[] {
  const records = collectionRecords(body);
  const allOrNone = body?.allOrNone === true;
  const duplicates = duplicateKeys(records, f);
  const pending: Array<SaveItem | SaveResult> = records.map((record, i) => {
    if (duplicates[i]) {
      return {
        success: false,
        errors: [
          {
            statusCode: 'DUPLICATE_EXTERNAL_ID',
            message: `Duplicate external id specified: ${String(valueOf(record, f.name))}`,
            fields: [f.name],
          },
        ],
      };
    }
    const type = typeOf(org, userId, record);
    if (typeof type === 'string') return typeError(type);
    if (type !== object)
      return typeError(`Record type ${type.name} does not match the upsert type ${object.name}`);
    return { operation: 'upsert', object, values: record, externalIdField: f };
  });
  if (allOrNone && pending.some((p) => 'success' in p)) return rollBackOthers(pending);
  return writePending(org, userId, pending, allOrNone);
}

export function registerCollectionRoutes(app: FastifyInstance, org: Org): void {
  app.post<{ Body: CollectionBody | undefined }>('/services/data/:version/composite/sobjects', (request) =>
    runCollection(
      org,
      userOf(request),
      collectionRecords(request.body),
      request.body?.allOrNone === true,
      (object, values) => ({
        operation: 'insert',
        object,
        values,
      }),
    ),
  );

  app.patch<{ Body: CollectionBody | undefined }>('/services/data/:version/composite/sobjects', (request) =>
    runCollection(
      org,
      userOf(request),
      collectionRecords(request.body),
      request.body?.allOrNone === true,
      (object, record) => {
        // Field names are case-insensitive in Salesforce: jsforce's multi-record update sends `id`.
        const idKey = Object.keys(record).find((k) => k.toLowerCase() === 'id');
        const { [idKey ?? 'Id']: Id, ...values } = record;
        return { operation: 'update', object, values, ...(typeof Id === 'string' ? { id: Id } : {}) };
      },
    ),
  );

  app.patch<{ Params: Partial<Params>; Body: CollectionBody | undefined }>(
    '/services/data/:version/composite/sobjects/:object/:field',
    (request) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const f = upsertField(org, userId, object, request.params.field ?? '');
      return upsertCollection(org, userId, object, f, request.body);
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

  registerRetrieveRoutes(app, org);
}

function registerRetrieveRoutes(app: FastifyInstance, org: Org): void {
  const retrieveMany = (
    request: FastifyRequest<{ Params: Partial<Params> }>,
    ids: string[],
    fields: string[],
  ) => {
    const userId = userOf(request);
    const object = objectFor(org, userId, request.params.object ?? '');
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
}
