import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/index.js';
import { createKeyring } from '../governance/encryption.js';
import { DEFAULT_JOURNEY_CONFIG } from '../journey/index.js';
import { createLogger } from '../logger.js';
import { SqliteStore, type Store } from '../store/index.js';
import { keyringCipher } from '../runtime/cipher.js';
import type { CycleMode, RunSummary } from '../sync/cycle/runner.js';
import { createScheduler, type Scheduler } from '../runtime/scheduler.js';
import { createMetrics, type Metrics } from './metrics.js';

/**
 * The authenticated admin routes through app.inject, against a real (encrypted) SQLite store seeded the
 * way the sync fills it: commitBatch -> claimOutbox -> deadLetter.
 */
const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';
/** Patient data in the seeded payloads; must never appear in an admin response about them. */
const CANARY = 'Canary-Zebediah-Quattlebaum';
const CANARY_EMAIL = 'zebediah.canary@patient.example';
const PATIENT_ID = '990011223344';
const T0 = Date.parse('2026-11-22T00:00:00.000Z');

const config = loadConfig({
  CLINIKO_API_KEY: 'MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams-au1',
  CLINIKO_CONTACT_EMAIL: 'ops@clinic.example',
  SALESFORCE_CLIENT_ID: 'id',
  SALESFORCE_CLIENT_SECRET: 'secret',
  ADMIN_TOKENS: `viewer:${VIEWER},operator:${OPERATOR}`,
});

let dir: string;
let store: Store;
let app: FastifyInstance;
let metrics: Metrics;
let scheduler: Scheduler;
let deadLetterId: string;
let release: (() => void) | undefined;
const clock = { t: T0 + 600_000 };

/** A runner that records its run in the store like the real one, and finishes when the test says so. */
const runner = {
  async runCycle(mode: CycleMode): Promise<RunSummary> {
    const id = `run-test-${mode}-${clock.t}`;
    await store.startRun({ id, mode, startedAt: clock.t, dataMapHash: 'h' });
    await new Promise<void>((resolve) => (release = resolve));
    await store.finishRun({ id, status: 'succeeded', finishedAt: clock.t, counts: '{}', error: null });
    return {
      runId: id,
      mode,
      status: 'succeeded',
      startedAt: '',
      finishedAt: '',
      counts: { Contact: { read: 3, written: 2, skipped: 1, quarantined: 0, deadLettered: 1 } },
      drain: null,
      clinikoRequests: 0,
      salesforceCalls: 0,
      durationMs: 0,
      error: null,
    };
  },
  runJourneyDaily(): Promise<RunSummary> {
    return Promise.reject(new Error('not used'));
  },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'admin-api-'));
  store = new SqliteStore(join(dir, 'sync.db'), keyringCipher(createKeyring(randomBytes(32))));
  await store.migrate();
  const payload = (n: number) =>
    JSON.stringify({ FirstName: CANARY, Email: CANARY_EMAIL, Cliniko_Patient_Id__c: `${PATIENT_ID}${n}` });
  await store.commitBatch({
    stream: 'patients',
    watermark: new Date(T0).toISOString(),
    outbox: [1, 2].map((n) => ({
      object: 'Contact',
      externalId: `${PATIENT_ID}${n}`,
      operation: 'upsert' as const,
      payload: payload(n),
      payloadHash: `hash-${n}`,
      runId: 'run-seed',
    })),
    quarantine: [
      {
        resource: 'patients',
        recordId: `${PATIENT_ID}9`,
        field: 'email',
        reason: 'not an email address',
        payload: JSON.stringify({ first_name: CANARY }),
        runId: 'run-seed',
      },
    ],
    now: T0,
  });
  const [item] = await store.claimOutbox({ owner: 'test', limit: 1, leaseMs: 60_000, now: T0 + 1 });
  await store.deadLetter(
    item!.id,
    {
      code: 'SALESFORCE_RECORD_REJECTED',
      message: `Contact ${item!.externalId}: field Email rejected (INVALID_EMAIL_ADDRESS)`,
      upstreamCode: 'INVALID_EMAIL_ADDRESS',
      attempts: 1,
    },
    T0 + 2,
  );
  deadLetterId = (await store.listDeadLetters())[0]!.id;
  await store.startRun({ id: 'run-old', mode: 'backfill', startedAt: T0, dataMapHash: 'h' });
  await store.finishRun({
    id: 'run-old',
    status: 'partial',
    finishedAt: T0 + 5_000,
    counts: '{"Contact":{"read":2}}',
    error: null,
  });

  const logger = createLogger({ level: 'silent' });
  scheduler = createScheduler(
    { runner, store, logger, now: () => clock.t },
    {
      pollIntervalSeconds: 60,
      clinicTimezone: 'UTC',
      journeyDailyAt: null,
      useLease: false,
      runAtStart: false,
      onJobFinished: (o) => metrics.recordJob(o),
    },
  );
  metrics = createMetrics(
    {
      clinikoStats: () => ({
        budget: {
          used: 17,
          limit: 180,
          windowMs: 60_000,
          granted: 40,
          waits: 2,
          waitedMs: 1500,
          pauses: 0,
          pausedUntil: null,
        },
        requests: 41,
        retries: 1,
        rateLimited: 1,
      }),
      salesforceUsage: () => ({ used: 1234, max: 15000 }),
      salesforceCalls: () => 9,
      outboxStats: (now) => store.outboxStats(now),
      watermarks: () => store.listWatermarks(),
      nextRun: () => scheduler.nextRun(),
      now: () => clock.t,
    },
    { defaultMetrics: false },
  );
  app = await buildApp({
    config,
    logger,
    version: '0.0.0',
    probes: {},
    now: () => clock.t,
    admin: {
      store,
      trigger: (mode) => scheduler.trigger(mode),
      journeyConfig: DEFAULT_JOURNEY_CONFIG,
      metrics,
    },
  });
});

afterAll(async () => {
  release?.();
  await scheduler?.stop();
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe('admin API authentication', () => {
  const routes = [
    ['GET', '/metrics'],
    ['GET', '/dlq'],
    ['GET', '/quarantine'],
    ['GET', '/matches'],
    ['GET', '/runs'],
    ['GET', '/appointment-types/validate?name=Initial%20Consultation'],
    ['POST', '/sync/run'],
    ['POST', '/dlq/x/replay'],
  ] as const;

  it.each(routes)('%s %s answers 401 UNAUTHORIZED without a valid token', async (method, url) => {
    for (const headers of [{}, as('wrong-token-wrong-token-wrong'), { authorization: VIEWER }]) {
      const response = await app.inject({ method, url, headers });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      const body = response.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe('UNAUTHORIZED');
      expect(body.error.message).toMatch(/token/);
    }
  });

  it.each(routes.filter(([m]) => m === 'POST'))(
    '%s %s answers 403 FORBIDDEN to a viewer',
    async (method, url) => {
      const response = await app.inject({ method, url, headers: as(VIEWER) });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    },
  );

  it('lets viewers and operators read', async () => {
    for (const token of [VIEWER, OPERATOR]) {
      expect((await app.inject({ method: 'GET', url: '/runs', headers: as(token) })).statusCode).toBe(200);
    }
  });

  it('answers unknown routes with the same error body', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope', headers: as(VIEWER) });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('never echoes the query string of an unknown route', async () => {
    const secret = 'token-in-query-0123456789';
    const response = await app.inject({
      method: 'GET',
      url: `/nope/deeper?access_token=${secret}&email=${CANARY_EMAIL}#frag`,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nope/deeper' } });
    expect(response.body).not.toContain(secret);
    expect(response.body).not.toContain(CANARY_EMAIL);
  });

  it.each(routes.filter(([m]) => m === 'POST'))(
    '%s %s authenticates before it parses the body',
    async (method, url) => {
      // A malformed and an oversized body: without a token both answer 401, never 400 or 413 (the
      // parser never ran). With a token the same malformed body reaches the parser (the control).
      for (const payload of ['{"mode": nope', `{"mode":"${'x'.repeat(2_000_000)}"}`]) {
        const response = await app.inject({
          method,
          url,
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(response.statusCode).toBe(401);
      }
      const parsed = await app.inject({
        method,
        url,
        headers: { ...as(OPERATOR), 'content-type': 'application/json' },
        payload: '{"mode": nope',
      });
      expect(parsed.statusCode).toBe(400);
    },
  );

  it('leaves /health open', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect([200, 503]).toContain(response.statusCode);
  });
});

describe('GET /dlq and POST /dlq/:id/replay', () => {
  it('lists dead letters by key and error, never payload values', async () => {
    const response = await app.inject({ method: 'GET', url: '/dlq', headers: as(VIEWER) });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ items: Array<Record<string, unknown>> }>();
    expect(body.items).toEqual([
      {
        id: deadLetterId,
        object: 'Contact',
        externalId: `${PATIENT_ID}1`,
        operation: 'upsert',
        code: 'SALESFORCE_RECORD_REJECTED',
        upstreamCode: 'INVALID_EMAIL_ADDRESS',
        message: `Contact ${PATIENT_ID}1: field Email rejected (INVALID_EMAIL_ADDRESS)`,
        attempts: 1,
        totalAttempts: 1,
        occurrences: 1,
        firstFailedAt: new Date(T0 + 2).toISOString(),
        runId: 'run-seed',
        createdAt: new Date(T0 + 2).toISOString(),
        replayedAt: null,
        replayOutcome: null,
      },
    ]);
    expect(response.body).not.toContain(CANARY);
    expect(response.body).not.toContain(CANARY_EMAIL);
  });

  it('rejects a bad limit with BAD_REQUEST', async () => {
    const response = await app.inject({ method: 'GET', url: '/dlq?limit=0', headers: as(VIEWER) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });

  it('replays a dead letter into the outbox once, then 409; unknown ids 404', async () => {
    const before = await store.outboxStats(clock.t);
    const response = await app.inject({
      method: 'POST',
      url: `/dlq/${deadLetterId}/replay`,
      headers: as(OPERATOR),
    });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ id: deadLetterId, replayed: true });
    const after = await store.outboxStats(clock.t);
    expect(after.deadLettered).toBe(before.deadLettered - 1);
    expect(after.pending).toBe(before.pending + 1);
    expect((await store.getDeadLetter(deadLetterId))?.replayedAt).not.toBeNull();

    const again = await app.inject({
      method: 'POST',
      url: `/dlq/${deadLetterId}/replay`,
      headers: as(OPERATOR),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'ALREADY_REPLAYED' } });
    const missing = await app.inject({ method: 'POST', url: '/dlq/nope/replay', headers: as(OPERATOR) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const listed = await app.inject({ method: 'GET', url: '/dlq?includeReplayed=true', headers: as(VIEWER) });
    expect(
      listed.json<{ items: Array<{ replayedAt: string | null }> }>().items[0]?.replayedAt,
    ).not.toBeNull();
    const open = await app.inject({ method: 'GET', url: '/dlq', headers: as(VIEWER) });
    expect(open.json<{ items: unknown[] }>().items).toEqual([]);
  });
});

describe('GET /quarantine', () => {
  it('lists quarantined records by resource, id, field and reason, never values', async () => {
    const response = await app.inject({ method: 'GET', url: '/quarantine', headers: as(VIEWER) });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      items: [
        {
          resource: 'patients',
          id: `${PATIENT_ID}9`,
          field: 'email',
          reason: 'not an email address',
          firstSeen: new Date(T0).toISOString(),
          lastSeen: new Date(T0).toISOString(),
        },
      ],
      total: 1,
    });
    expect(response.body).not.toContain(CANARY);
  });

  it('takes ?limit= from 1 to 1000 and rejects anything else with BAD_REQUEST', async () => {
    const one = await app.inject({ method: 'GET', url: '/quarantine?limit=1000', headers: as(VIEWER) });
    expect(one.statusCode).toBe(200);
    for (const limit of ['0', '1001', 'x']) {
      const response = await app.inject({
        method: 'GET',
        url: `/quarantine?limit=${limit}`,
        headers: as(VIEWER),
      });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
  });
});

describe('GET /matches', () => {
  it('lists held patients by patient and Salesforce ids, open ones unless ?all=true', async () => {
    // Arrange: one patient in match review, one resolved.
    const hold = (patientId: string) => ({
      patientId,
      kind: 'review' as const,
      object: 'Contact' as const,
      candidates: ['003000000000001AAA', '003000000000002AAA'],
      reason: 'two Contacts share the email',
    });
    await store.holdContact(hold(`${PATIENT_ID}7`), null, () => [], T0);
    await store.holdContact(hold(`${PATIENT_ID}8`), null, () => [], T0);
    await store.resolveContactHold(`${PATIENT_ID}8`, { resolution: 'create', by: 'cli:admin' }, () => [], T0);

    // Act
    const open = await app.inject({ method: 'GET', url: '/matches', headers: as(VIEWER) });
    const all = await app.inject({ method: 'GET', url: '/matches?all=true', headers: as(VIEWER) });

    // Assert
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual({
      items: [
        { ...hold(`${PATIENT_ID}7`), createdAt: T0, resolvedAt: null, resolution: null, resolvedBy: null },
      ],
      total: 1,
    });
    expect(all.json<{ total: number }>().total).toBe(2);
    expect(open.body).not.toContain(CANARY);
    expect(
      (await app.inject({ method: 'GET', url: '/matches?limit=0', headers: as(VIEWER) })).statusCode,
    ).toBe(400);
  });
});

describe('POST /sync/run and GET /runs', () => {
  it('rejects a body that is not a run mode', async () => {
    for (const payload of [{ mode: 'everything' }, { mode: 'backfill', extra: 1 }]) {
      const response = await app.inject({ method: 'POST', url: '/sync/run', headers: as(OPERATOR), payload });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
  });

  it('starts a run (202 with its id), refuses a second while it runs (409), and lists it', async () => {
    const first = await app.inject({
      method: 'POST',
      url: '/sync/run',
      headers: as(OPERATOR),
      payload: { mode: 'backfill' },
    });
    expect(first.statusCode).toBe(202);
    const runId = `run-test-backfill-${clock.t}`;
    expect(first.json()).toEqual({ runId, mode: 'backfill' });

    const second = await app.inject({ method: 'POST', url: '/sync/run', headers: as(OPERATOR) });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ error: { code: 'RUN_IN_PROGRESS', reason: 'running' } });

    const runs = await app.inject({ method: 'GET', url: '/runs?limit=5', headers: as(VIEWER) });
    const listed = runs.json<{ runs: Array<Record<string, unknown>> }>().runs;
    expect(listed.find((r) => r.id === runId)).toMatchObject({
      mode: 'backfill',
      status: 'running',
      finishedAt: null,
    });
    expect(listed.find((r) => r.id === 'run-old')).toMatchObject({
      mode: 'backfill',
      status: 'partial',
      durationSeconds: 5,
      counts: { Contact: { read: 2 } },
    });

    release?.();
    release = undefined;
    await scheduler.stop();
    const done = await app.inject({ method: 'GET', url: '/runs', headers: as(VIEWER) });
    expect(
      done.json<{ runs: Array<Record<string, unknown>> }>().runs.find((r) => r.id === runId),
    ).toMatchObject({
      status: 'succeeded',
    });
  });
});

describe('GET /metrics', () => {
  it('exposes the sync metrics with object and stream labels only', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: as(VIEWER) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    for (const line of [
      'cliniko_sync_records_total{object="Contact",outcome="read"} 3',
      'cliniko_sync_records_total{object="Contact",outcome="written"} 2',
      'cliniko_sync_records_total{object="Contact",outcome="dead_lettered"} 1',
      'cliniko_sync_runs_total{kind="backfill",status="succeeded"} 1',
      'cliniko_sync_cliniko_budget_used 17',
      'cliniko_sync_cliniko_budget_limit 180',
      'cliniko_sync_cliniko_requests_total 41',
      'cliniko_sync_cliniko_rate_limited_total 1',
      'cliniko_sync_cliniko_budget_wait_seconds_total 1.5',
      'cliniko_sync_salesforce_api_requests_used 1234',
      'cliniko_sync_salesforce_api_requests_max 15000',
      'cliniko_sync_salesforce_calls_total 9',
      'cliniko_sync_outbox_items{state="quarantined"} 1',
      'cliniko_sync_stream_lag_seconds{stream="patients"} 600',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/cliniko_sync_run_duration_seconds_count\{kind="backfill"\} 1/);
    expect(text).toMatch(/cliniko_sync_outbox_items\{state="pending"\} \d+/);
    expect(text).toMatch(/cliniko_sync_outbox_oldest_pending_age_seconds \d+/);
  });

  it('never shows patient data or record ids', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics', headers: as(OPERATOR) })).body;
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(CANARY_EMAIL);
    expect(text).not.toContain(PATIENT_ID);
  });
});

describe('GET /appointment-types/validate', () => {
  it("explains a configured initial-consult type with the journey's own logic", async () => {
    const name = DEFAULT_JOURNEY_CONFIG.initialConsultTypes[0]!;
    const response = await app.inject({
      method: 'GET',
      url: `/appointment-types/validate?name=${encodeURIComponent(name)}`,
      headers: as(VIEWER),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ name, category: 'initial-consult', trigger: 'T1' });
  });

  it('suggests the configured spelling for a near miss, and needs a name', async () => {
    const name = DEFAULT_JOURNEY_CONFIG.initialConsultTypes[0]!;
    const typo = name.toUpperCase();
    const response = await app.inject({
      method: 'GET',
      url: `/appointment-types/validate?name=${encodeURIComponent(typo)}`,
      headers: as(VIEWER),
    });
    expect(response.json()).toMatchObject({ category: 'standard', nearMatches: [name] });
    const missing = await app.inject({
      method: 'GET',
      url: '/appointment-types/validate',
      headers: as(VIEWER),
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
  });
});

describe('metrics with an unreachable store', () => {
  it('still answers, without the store-backed series', async () => {
    const broken = createMetrics(
      {
        outboxStats: () => Promise.reject(new Error('ECONNREFUSED')),
        watermarks: () => Promise.reject(new Error('ECONNREFUSED')),
        salesforceCalls: () => 4,
      },
      { defaultMetrics: false },
    );
    const text = await broken.registry.metrics();
    expect(text).toContain('cliniko_sync_salesforce_calls_total 4');
    expect(text).not.toMatch(/cliniko_sync_outbox_items\{/);
    expect(text).not.toMatch(/cliniko_sync_stream_lag_seconds\{/);
  });
});
