/**
 * Replication: the ids changed (`sobjects/X/updated`) or deleted (`sobjects/X/deleted`) in a window,
 * by SystemModstamp, as jsforce's `getUpdated` / `getDeleted` ask for them.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec } from '../org.js';
import { asText, formatDateTime, parseDateTime } from '../values.js';
import type { Params } from './common.js';
import { objectFor, userOf } from './common.js';

type Window = { start?: string; end?: string };

function replicationWindow(query: Window): { end: Date; within: (r: Rec) => boolean } {
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
}

export function registerReplicationRoutes(app: FastifyInstance, org: Org): void {
  app.get<{ Params: Partial<Params>; Querystring: Window }>(
    '/services/data/:version/sobjects/:object/updated',
    (request) => {
      const object = objectFor(org, userOf(request), request.params.object ?? '');
      const { end, within } = replicationWindow(request.query);
      const ids = [...org.scan(object.name)]
        .filter((r) => r.IsDeleted !== true && within(r))
        .map((r) => asText(r.Id));
      return { ids, latestDateCovered: formatDateTime(end) };
    },
  );
  app.get<{ Params: Partial<Params>; Querystring: Window }>(
    '/services/data/:version/sobjects/:object/deleted',
    (request) => {
      const object = objectFor(org, userOf(request), request.params.object ?? '');
      const { end, within } = replicationWindow(request.query);
      const deletedRecords = [...org.scan(object.name)]
        .filter((r) => r.IsDeleted === true && within(r))
        .map((r) => ({ id: asText(r.Id), deletedDate: asText(r.SystemModstamp) }));
      return {
        deletedRecords,
        earliestDateAvailable: formatDateTime(new Date(0)),
        latestDateCovered: formatDateTime(end),
      };
    },
  );
}
