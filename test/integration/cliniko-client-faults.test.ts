import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClinikoClient,
  type ClinikoClient,
  type ClinikoClientDeps,
  type ResourceStream,
  type StreamEvent,
} from '../../sync-service/src/cliniko/index.js';
import { isSyncError } from '../../sync-service/src/errors.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { startClinikoEmulator, type ClinikoEmulator, type FaultSpec } from '../emulators/cliniko/index.js';

/*
 * The Cliniko client under the emulator's fault injection (429 storms, 5xx bursts, malformed JSON,
 * dropped connections, slow answers) and under the emulator's own rate limit. Sleeps are virtual where
 * a test only cares about what is read, so a 429 pause costs no wall time.
 */

const EMAIL = 'integration@clinic.example';
const logger = createLogger({
  level: 'warn',
  destination: new Writable({
    write(_chunk: Buffer, _enc, done) {
      done();
    },
  }),
});

function clientFor(
  emulator: ClinikoEmulator,
  deps: ClinikoClientDeps = {},
  requestsPerMinute = 200,
): ClinikoClient {
  return createClinikoClient(
    {
      apiKey: emulator.apiKey,
      shard: emulator.shard,
      baseUrl: emulator.baseUrl,
      contactEmail: EMAIL,
      requestsPerMinute,
    },
    logger,
    deps,
  );
}

/** Virtual sleep: advances the client's clock at once and records what was asked. */
function virtualTime() {
  let offset = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    deps: {
      clock: () => Date.now() + offset,
      sleep: (ms: number) => {
        sleeps.push(ms);
        offset += ms;
        return Promise.resolve();
      },
    } satisfies ClinikoClientDeps,
  };
}

async function keysOf<T>(
  events: AsyncIterable<StreamEvent<T>>,
  onPage?: (pageNumber: number) => void,
): Promise<{ keys: string[]; end: Extract<StreamEvent<T>, { kind: 'end' }> | undefined; pages: number }> {
  const keys: string[] = [];
  let end: Extract<StreamEvent<T>, { kind: 'end' }> | undefined;
  let pages = 0;
  for await (const e of events) {
    if (e.kind === 'record') keys.push(`${e.id}@${e.updatedAt}`);
    if (e.kind === 'quarantine') throw new Error(`unexpected quarantine of ${e.item.resource} ${e.item.id}`);
    if (e.kind === 'page') {
      pages += 1;
      onPage?.(e.pageNumber);
    }
    if (e.kind === 'end') end = e;
  }
  return { keys, end, pages };
}

describe('the Cliniko client under injected faults', () => {
  let emulator: ClinikoEmulator;
  let baseline: string[];
  beforeAll(async () => {
    emulator = await startClinikoEmulator({ seed: 11, patients: 2_000, rateLimitPerMinute: 100_000 });
    const clean = clientFor(emulator);
    try {
      baseline = (await keysOf(clean.streams.patients.read())).keys;
    } finally {
      await clean.close();
    }
    expect(baseline.length).toBeGreaterThan(2_000);
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('loses nothing and duplicates nothing through a 429 storm and 5xx, malformed and dropped answers', async () => {
    emulator.controls.clearRequestLog();
    const bursts: Array<Omit<FaultSpec, 'path' | 'method'>> = [
      { kind: '503', count: 3 },
      { kind: '429', count: 6, resetSeconds: 30 },
      { kind: '502', count: 2 },
      { kind: 'malformed', count: 2 },
      { kind: '500', count: 3 },
      { kind: 'drop', count: 2 },
      { kind: '504', count: 1 },
    ];
    // A storm before the first page, then a burst after every page.
    emulator.controls.injectFault({
      path: '/v1/patients',
      method: 'GET',
      kind: '429',
      count: 15,
      resetSeconds: 60,
    });
    let injected = 15;
    const time = virtualTime();
    const client = clientFor(emulator, { ...time.deps, random: () => 0.5 });
    try {
      const out = await keysOf(client.streams.patients.read(), (pageNumber) => {
        const burst = bursts[pageNumber % bursts.length]!;
        emulator.controls.injectFault({ path: '/v1/patients', method: 'GET', ...burst });
        injected += burst.count ?? 1;
      });
      expect(out.keys).toHaveLength(baseline.length);
      expect(new Set(out.keys).size).toBe(out.keys.length);
      expect(new Set(out.keys)).toEqual(new Set(baseline));
      expect(out.end).toMatchObject({ complete: true, duplicates: 0 });

      const log = emulator.requestLog();
      const faulted = log.filter((r) => r.fault !== null);
      // What was never hit: the burst injected after the last page, and (the next page is asked for as
      // soon as a page arrives) part or all of the one before it. Everything else was hit and retried.
      const unhit = emulator.controls.faults().reduce((n, f) => n + f.remaining, 0);
      const lastTwo = [out.pages, out.pages - 1].reduce(
        (n, p) => n + (bursts[p % bursts.length]!.count ?? 1),
        0,
      );
      expect(unhit).toBeGreaterThanOrEqual(bursts[out.pages % bursts.length]!.count ?? 1);
      expect(unhit).toBeLessThanOrEqual(lastTwo);
      expect(faulted).toHaveLength(injected - unhit);
      expect(log.filter((r) => r.fault === null && r.status === 200)).toHaveLength(out.pages);
      expect(new Set(faulted.map((r) => r.fault))).toEqual(
        new Set(['429', '500', '502', '503', '504', 'malformed', 'drop']),
      );
      const stats = client.stats();
      expect(stats.retries).toBe(faulted.length);
      expect(stats.rateLimited).toBe(log.filter((r) => r.fault === '429').length);
      // 429s paused the budget for about their reset time (29-61 s, measured on the server's clock).
      expect(stats.budget.pauses).toBeGreaterThan(0);
      expect(Math.max(...time.sleeps)).toBeGreaterThanOrEqual(28_000);
    } finally {
      emulator.controls.clearFaults();
      await client.close();
    }
  });

  it('fails with CLINIKO_UNAVAILABLE, not an early end of the list, when a 5xx burst outlasts the retries', async () => {
    emulator.controls.clearRequestLog();
    const time = virtualTime();
    const client = clientFor(emulator, { ...time.deps, maxAttempts: 4 });
    const kinds: string[] = [];
    let pagesRead = 0;
    try {
      const err = await (async () => {
        for await (const e of client.streams.patients.read()) {
          kinds.push(e.kind);
          if (e.kind === 'page' && ++pagesRead === 3) {
            emulator.controls.injectFault({ path: '/v1/patients', kind: '503', count: 10 });
          }
        }
      })().catch((e: unknown) => e);
      expect(isSyncError(err) && err.code).toBe('CLINIKO_UNAVAILABLE');
      expect(isSyncError(err) && err.retryable).toBe(true);
      expect(kinds).not.toContain('end');
      expect(emulator.requestLog().filter((r) => r.fault === '503')).toHaveLength(4);
    } finally {
      emulator.controls.clearFaults();
      await client.close();
    }
  });

  it('retries an answer slower than its time-out', async () => {
    emulator.controls.clearRequestLog();
    emulator.controls.injectFault({ path: '/v1/businesses', kind: 'slow', delayMs: 1_500 });
    const client = clientFor(emulator, { ...virtualTime().deps, timeoutMs: 300 });
    try {
      const out = await keysOf(client.streams.businesses.read());
      expect(out.keys.length).toBeGreaterThan(0);
      expect(out.end?.complete).toBe(true);
      expect(client.stats().retries).toBe(1);
      expect(emulator.requestLog().filter((r) => r.url.startsWith('/v1/businesses'))).toHaveLength(2);
    } finally {
      emulator.controls.clearFaults();
      await client.close();
    }
  });
});

describe('the request budget against the emulator rate limit', () => {
  let emulator: ClinikoEmulator;
  beforeAll(async () => {
    // A one-second window stands in for Cliniko's minute so the test runs in seconds.
    emulator = await startClinikoEmulator({
      seed: 5,
      patients: 400,
      rateLimitPerMinute: 20,
      rateLimitWindowSeconds: 1,
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('never exceeds the configured budget, shared by concurrent streams, and so never meets a 429', async () => {
    // The client's rolling window is a little longer than the server's fixed one: loopback latency
    // jitter must not let 21 requests land inside one server second.
    const client = clientFor(emulator, { budgetWindowMs: 1_200 }, 20);
    try {
      const streams: Array<ResourceStream<unknown>> = [
        client.streams.patients,
        client.streams.individualAppointments,
        client.streams.patientCases,
        client.streams.invoices,
        client.streams.appointmentTypes,
        client.streams.practitioners,
        client.streams.businesses,
      ];
      const results = await Promise.all(streams.map((s) => keysOf(s.read())));
      for (const r of results) expect(r.end?.complete).toBe(true);

      const log = emulator.requestLog();
      // Enough requests to cross several windows.
      expect(log.length).toBeGreaterThan(50);
      expect(log.length).toBe(client.stats().requests);
      // The server's own limiter (20 a second) never refused one: without the budget it would have.
      expect(log.filter((r) => r.status === 429)).toEqual([]);
      // That the budget never grants more than its limit in any rolling window is proved on virtual
      // time in sync-service/src/cliniko/budget.test.ts. Arrival times here are not a measure of it:
      // client and emulator share one event loop, and a stall on a busy machine delivers requests sent
      // 1.2 s apart within one second (a sliding-window count over arrivals once read 21 here).
      expect(client.stats().budget.used).toBeLessThanOrEqual(20);
      expect(client.stats().budget.waits).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });
});
