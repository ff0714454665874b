/**
 * The REST API under /services/data, one module per API family: discovery (versions and resources),
 * limits, describe, describe layouts, sObject rows (create / read / update / delete, platform event publish), upsert by
 * external id, replication (updated / deleted), sObject Collections, and query / queryAll. Authentication
 * and the API budget are enforced by the hook in server.ts, which sets `request.sfUserId`; Bulk API 2.0
 * is its own plugin (`../bulk/`).
 */
import type { FastifyInstance } from 'fastify';
import type { Org } from '../org.js';
import { registerCollectionRoutes } from './collections.js';
import { registerDescribeRoutes } from './describe.js';
import { registerLayoutRoutes } from './layouts.js';
import { registerLimitRoutes } from './limits.js';
import { registerQueryRoutes } from './query.js';
import { registerReplicationRoutes } from './replication.js';
import { registerSObjectRoutes } from './sobjects.js';
import { registerUpsertRoutes } from './upsert.js';
import { registerVersionRoutes } from './versions.js';

export function registerRest(app: FastifyInstance, org: Org): void {
  registerVersionRoutes(app, org);
  registerLimitRoutes(app, org);
  registerDescribeRoutes(app, org);
  registerLayoutRoutes(app, org);
  registerReplicationRoutes(app, org);
  registerSObjectRoutes(app, org);
  registerUpsertRoutes(app, org);
  registerCollectionRoutes(app, org);
  registerQueryRoutes(app, org);
}
