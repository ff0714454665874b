/**
 * What every REST route family shares: path parameters, the API version and running user of a request
 * (set by the session hook in server.ts), the visible object named in the path, and how a single-record
 * failure becomes the top-level error of a single-record request.
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec, SaveResult } from '../org.js';
import type { ObjectDef } from '../schema.js';

/** sObject Collections and describeGlobal's `maxBatchSize`. */
export const MAX_COLLECTION = 200;

export type Params = {
  version: string;
  object: string;
  id: string;
  field: string;
  value: string;
  cursor: string;
};

export function versionOf(request: FastifyRequest<{ Params: Partial<Params> }>): string {
  return (request.params.version ?? 'v66.0').slice(1);
}

export function userOf(request: FastifyRequest): string {
  if (!request.sfUserId) throw new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
  return request.sfUserId;
}

export const notFound = (): ApiError =>
  new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** The object named in the path, as the user may see it; 404 when it does not exist or is hidden. */
export function objectFor(org: Org, userId: string, name: string): ObjectDef {
  const object = org.visibleObject(userId, name);
  if (!object) throw notFound();
  return object;
}

/** A single-record failure becomes the top-level error of a single-record request. */
export function throwFirst(result: SaveResult, status = 400): never {
  const first = result.errors[0];
  throw new ApiError(
    status,
    first?.statusCode ?? 'UNKNOWN_EXCEPTION',
    first?.message ?? 'failed',
    first?.fields ?? [],
  );
}

export function requireObjectBody(body: unknown): Rec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
  }
  return body as Rec;
}
