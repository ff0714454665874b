/**
 * `GET /services/data/vXX.X/limits`: the daily API request budget the org enforces (see
 * `org/budget.ts`); the other limits are reported at their Developer Edition maximum.
 */
import type { FastifyInstance } from 'fastify';
import type { Org } from '../org.js';

export function registerLimitRoutes(app: FastifyInstance, org: Org): void {
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
}
