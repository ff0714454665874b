import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../sync-service/src/logger.js';
import { PostgresStore, type PayloadCipher } from '../../sync-service/src/store/index.js';
import type { CycleMode, RunSummary } from '../../sync-service/src/sync/cycle/runner.js';
import {
  createScheduler,
  type JobOutcome,
  type Scheduler,
} from '../../sync-service/src/runtime/scheduler.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * Two service instances sharing one PostgreSQL database: their schedulers take the `scheduler:poll`
 * lease in the real store before every job, so their polls never overlap, and both keep polling.
 */
const identity: PayloadCipher = {
  encrypt: (text) => Buffer.from(text, 'utf8'),
  decrypt: (bytes) => Buffer.from(bytes).toString('utf8'),
};

let pgServer: TestPostgres;
const stores: PostgresStore[] = [];
const schedulers: Scheduler[] = [];

beforeAll(async () => {
  pgServer = await startTestPostgres();
  const { poolConfig } = await pgServer.newSchema();
  for (let i = 0; i < 2; i += 1) {
    const store = new PostgresStore(poolConfig, identity);
    await store.migrate();
    stores.push(store);
  }
}, 60_000);

afterAll(async () => {
  for (const s of schedulers) await s.stop();
  for (const s of stores) await s.close();
  await pgServer?.stop();
});

describe('scheduler lease on PostgreSQL', () => {
  it('never runs two instances at once', async () => {
    let active = 0;
    let maxActive = 0;
    const ran: Record<string, number> = { a: 0, b: 0 };
    const outcomes: JobOutcome[] = [];
    const runnerFor = (name: string) => ({
      async runCycle(mode: CycleMode): Promise<RunSummary> {
        active += 1;
        maxActive = Math.max(maxActive, active);
        ran[name] = (ran[name] ?? 0) + 1;
        // Long enough that the other instance's polls fall due while this one holds the lease.
        await new Promise((resolve) => setTimeout(resolve, 40));
        active -= 1;
        return {
          runId: `${name}-${ran[name]}`,
          mode,
          status: 'succeeded',
          startedAt: '',
          finishedAt: '',
          counts: {},
          drain: null,
          clinikoRequests: 0,
          salesforceCalls: 0,
          durationMs: 0,
          error: null,
        };
      },
      runJourneyDaily: () => Promise.reject(new Error('not scheduled here')),
    });
    for (const [i, name] of ['a', 'b'].entries()) {
      schedulers.push(
        createScheduler(
          { runner: runnerFor(name), store: stores[i]!, logger: createLogger({ level: 'silent' }) },
          {
            pollIntervalSeconds: 0.025,
            clinicTimezone: 'UTC',
            journeyDailyAt: null,
            useLease: true,
            owner: name,
            onJobFinished: (o) => outcomes.push(o),
          },
        ),
      );
    }
    for (const s of schedulers) s.start();
    // Wait (by count, not by time) until both instances have polled and some polls were skipped.
    for (let i = 0; i < 400; i += 1) {
      const skipped = outcomes.filter((o) => o.error === 'leased-elsewhere').length;
      if (ran.a! >= 3 && ran.b! >= 3 && skipped >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (const s of schedulers) await s.stop();
    expect(maxActive).toBe(1);
    expect(ran.a).toBeGreaterThanOrEqual(3);
    expect(ran.b).toBeGreaterThanOrEqual(3);
    expect(outcomes.filter((o) => o.error === 'leased-elsewhere').length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
