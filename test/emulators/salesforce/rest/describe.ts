/**
 * Describe: `sobjects` (describeGlobal), `sobjects/X` (basic information) and `sobjects/X/describe`,
 * computed from the schema and the running user's object and field security (`../describe.ts`).
 */
import type { FastifyInstance } from 'fastify';
import { describeGlobalEntry, describeObject } from '../describe.js';
import type { Org } from '../org.js';
import type { Params } from './common.js';
import { MAX_COLLECTION, objectFor, userOf, versionOf } from './common.js';

export function registerDescribeRoutes(app: FastifyInstance, org: Org): void {
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
    const object = objectFor(org, userId, request.params.object ?? '');
    return { objectDescribe: describeGlobalEntry(org, userId, object, versionOf(request)), recentItems: [] };
  });

  app.get<{ Params: Partial<Params> }>('/services/data/:version/sobjects/:object/describe', (request) => {
    const userId = userOf(request);
    return describeObject(
      org,
      userId,
      objectFor(org, userId, request.params.object ?? ''),
      versionOf(request),
    );
  });
}
