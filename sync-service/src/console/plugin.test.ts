import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/index.js';
import { createMetrics } from '../http/metrics.js';
import { createLogger } from '../logger.js';

const OPERATOR = 'operator-token-for-plugin-tests-0001';
const VIEWER = 'viewer-token-for-plugin-tests-00001';
const config = loadConfig({
  CLINIKO_API_KEY: 'MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams-au1',
  CLINIKO_CONTACT_EMAIL: 'ops@clinic.example',
  SALESFORCE_CLIENT_ID: 'id',
  SALESFORCE_CLIENT_SECRET: 'secret',
  ADMIN_TOKENS: `viewer:${VIEWER},operator:${OPERATOR}`,
});
let app: FastifyInstance;
const paused = { paused: false, since: null as string | null, by: null as string | null };
const actors: string[] = [];

beforeAll(async () => {
  app = await buildApp({
    config,
    logger: createLogger({ level: 'silent' }),
    version: '9.9.9',
    probes: {},
    admin: {
      store: {
        listDeadLetters: () => Promise.resolve([]),
        getDeadLetter: () => Promise.resolve(undefined),
        replayDeadLetter: () => Promise.resolve(false),
        listRuns: () => Promise.resolve([]),
        listContactHolds: () => Promise.resolve([]),
        listQuarantine: () => Promise.resolve({ items: [], total: 0 }),
      },
      trigger: () => Promise.resolve({ accepted: false, reason: 'stopped' }),
      journeyConfig: {} as never,
      metrics: createMetrics({}, { defaultMetrics: false }),
      control: {
        pause: (actor) => {
          actors.push(actor);
          Object.assign(paused, { paused: true, since: '2026-12-01T00:00:00.000Z', by: actor });
          return Promise.resolve({ ...paused });
        },
        resume: (actor) => {
          actors.push(actor);
          Object.assign(paused, { paused: false, by: actor });
          return Promise.resolve({ ...paused });
        },
        state: () => ({ ...paused }),
      },
      overview: () => Promise.resolve({ version: '9.9.9' }),
    },
  });
});
afterAll(async () => {
  await app.close();
});

function cookieOf(setCookie: string | string[] | undefined): string {
  const value = Array.isArray(setCookie) ? setCookie[0]! : setCookie!;
  return value.split(';')[0]!;
}

describe('console plugin', () => {
  it('serves the page with a strict content security policy and no inline script', async () => {
    const page = await app.inject({ url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).not.toMatch(/<script>(?!<\/script>)/);
    expect(page.body).toContain('<label for="token">Admin token</label>');
    expect((await app.inject({ url: '/console/console.js' })).headers['content-type']).toContain(
      'javascript',
    );
  });

  it('signs in with a token into an HTTP-only cookie; a wrong token gets 401 and no cookie', async () => {
    const bad = await app.inject({ method: 'POST', url: '/console/session', payload: { token: 'nope' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const good = await app.inject({ method: 'POST', url: '/console/session', payload: { token: VIEWER } });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ role: 'viewer' });
    expect(String(good.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(String(good.headers['set-cookie'])).not.toContain(VIEWER);
    const cookie = cookieOf(good.headers['set-cookie']);
    const overview = await app.inject({
      url: '/console/api/overview',
      headers: { cookie, 'x-console': '1' },
    });
    expect(overview.json()).toEqual({ version: '9.9.9', role: 'viewer' });
    expect((await app.inject({ url: '/console/api/overview' })).statusCode).toBe(401);
    // Secure when the request came over HTTPS (behind a TLS-terminating router).
    const https = await app.inject({
      method: 'POST',
      url: '/console/session',
      payload: { token: VIEWER },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(https.headers['set-cookie'])).toContain('; Secure');
  });

  it('pause and resume need the operator role and name the acting token, never the token', async () => {
    const viewer = await app.inject({
      method: 'POST',
      url: '/sync/pause',
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(viewer.statusCode).toBe(403);
    const op = await app.inject({
      method: 'POST',
      url: '/sync/pause',
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    expect(op.statusCode).toBe(200);
    expect(op.json()).toMatchObject({ paused: true });
    const session = await app.inject({
      method: 'POST',
      url: '/console/session',
      payload: { token: OPERATOR },
    });
    const cookie = cookieOf(session.headers['set-cookie']);
    const resumed = await app.inject({
      method: 'POST',
      url: '/sync/resume',
      headers: { cookie, 'x-console': '1' },
    });
    expect(resumed.json()).toMatchObject({ paused: false });
    expect(actors).toHaveLength(2);
    expect(actors[0]).toMatch(/^api:operator:[0-9a-f]{12}$/);
    expect(actors[1]).toBe(actors[0]!.replace('api:', 'console:'));
    expect(actors.join()).not.toContain(OPERATOR);
  });
});
