import { describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../logger.js';
import type { HealthProbes } from './health.js';

const config = loadConfig({
  CLINIKO_API_KEY: 'MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams-au1',
  CLINIKO_CONTACT_EMAIL: 'ops@clinic.example',
  SALESFORCE_CLIENT_ID: 'id',
  SALESFORCE_CLIENT_SECRET: 'secret',
});

async function healthWith(probes: HealthProbes, clock = { t: 1_000_000 }) {
  const app = await buildApp({
    config,
    logger: createLogger({ level: 'silent' }),
    version: '1.2.3',
    probes,
    now: () => clock.t,
    startedAt: 1_000_000 - 42_500,
  });
  try {
    const response = await app.inject({ method: 'GET', url: '/health' });
    return { statusCode: response.statusCode, body: response.json<Record<string, unknown>>() };
  } finally {
    await app.close();
  }
}

const allOk: HealthProbes = {
  cliniko: () => Promise.resolve('ok'),
  salesforce: () => Promise.resolve('ok'),
  database: () => Promise.resolve('ok'),
  jobQueue: () => Promise.resolve({ status: 'ok', pending: 4, failed: 1 }),
  scheduler: () => ({ status: 'ok', nextRun: '2026-11-22T03:00:00.000Z' }),
};

describe('GET /health', () => {
  it('has exactly the specified shape with values from the probes', async () => {
    const { statusCode, body } = await healthWith(allOk);
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      status: 'healthy',
      version: '1.2.3',
      uptime: 42,
      services: {
        cliniko: { status: 'ok', latency: 0 },
        salesforce: { status: 'ok', latency: 0 },
        jobQueue: { status: 'ok', pending: 4, failed: 1 },
        scheduler: { status: 'ok', nextRun: '2026-11-22T03:00:00.000Z' },
        database: { status: 'ok', latency: 0 },
      },
    });
  });

  it('measures latency with the injected clock', async () => {
    const clock = { t: 1_000_000 };
    const { body } = await healthWith(
      {
        ...allOk,
        cliniko: () => {
          clock.t += 37;
          return Promise.resolve('ok');
        },
      },
      clock,
    );
    expect((body.services as { cliniko: { latency: number } }).cliniko.latency).toBe(37);
  });

  it('reports degraded (200) when one external system fails, and never invents ok for missing probes', async () => {
    const { statusCode, body } = await healthWith({
      ...allOk,
      salesforce: () => Promise.reject(new Error('boom')),
    });
    expect(statusCode).toBe(200);
    expect(body.status).toBe('degraded');
    expect((body.services as { salesforce: unknown }).salesforce).toEqual({ status: 'error', latency: 0 });

    const bare = await healthWith({ database: () => Promise.resolve('ok') });
    expect(bare.body.services).toMatchObject({
      cliniko: { status: 'error' },
      salesforce: { status: 'error' },
      jobQueue: { status: 'error', pending: 0, failed: 0 },
      scheduler: { status: 'error', nextRun: null },
    });
  });

  it('reports down (503) when the database is unreachable', async () => {
    const { statusCode, body } = await healthWith({
      ...allOk,
      database: () => Promise.reject(new Error('ECONNREFUSED')),
    });
    expect(statusCode).toBe(503);
    expect(body.status).toBe('down');
  });
});
