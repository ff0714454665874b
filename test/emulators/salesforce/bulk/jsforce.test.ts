/**
 * jsforce's own Bulk 2.0 client against the plugin over loopback HTTP: what it sends (CSV with `#N/A`,
 * an empty Id column, JSON PATCHes) and what it expects back (job info, polling states, CSV results,
 * the 401 that triggers its session refresh) must line up with the real API.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DmlRowResult } from '../model.js';
import { bulkIngestPlugin } from './index.js';

const received: Array<Array<Record<string, string | null>>> = [];
let app: FastifyInstance;
let instanceUrl: string;

beforeAll(async () => {
  app = Fastify();
  await app.register(bulkIngestPlugin, {
    authenticate: (request) =>
      Promise.resolve(
        request.headers.authorization === 'Bearer fresh-token' ? { userId: '005000000000001AAA' } : undefined,
      ),
    applyDml: (_userId, _object, _operation, externalIdFieldName, rows) => {
      received.push(rows);
      return Promise.resolve(
        rows.map((row, i): DmlRowResult => {
          if (!row.LastName) {
            return {
              success: false,
              errors: [
                {
                  statusCode: 'REQUIRED_FIELD_MISSING',
                  message: 'Required fields are missing: [LastName]',
                  fields: ['LastName'],
                },
              ],
            };
          }
          const key = row[externalIdFieldName ?? 'Id'] ?? String(i);
          return { success: true, created: true, id: `003${key.padStart(12, '0')}AAA` };
        }),
      );
    },
    now: () => new Date(),
    processingDelayMs: 5,
  });
  instanceUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app.close();
});

function connection(accessToken = 'fresh-token'): Connection {
  return new Connection({ instanceUrl, accessToken, version: '66.0' });
}

describe('Bulk API 2.0 ingest through jsforce', () => {
  it('upserts records and returns successes and failures the way jsforce parses them', async () => {
    received.length = 0;
    const records = Array.from({ length: 50 }, (_, i) => ({
      Cliniko_Patient_Id__c: String(1000 + i),
      LastName: i % 10 === 3 ? '' : `Patient ${i}`,
      Email: i === 0 ? null : `p${i}@example.com`,
    }));
    const results = await connection().bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'Cliniko_Patient_Id__c',
      input: records,
      pollInterval: 20,
      pollTimeout: 20_000,
    });

    expect(results.successfulResults).toHaveLength(45);
    expect(results.failedResults).toHaveLength(5);
    expect(results.unprocessedRecords).toHaveLength(0);
    expect(results.successfulResults[0]).toMatchObject({
      sf__Id: '003000000001000AAA',
      sf__Created: 'true',
      Cliniko_Patient_Id__c: '1000',
      LastName: 'Patient 0',
    });
    expect(results.failedResults[0]).toMatchObject({
      sf__Error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --',
      Cliniko_Patient_Id__c: '1003',
    });
    // jsforce writes null as #N/A; the plugin hands applyDml a real null.
    expect(received.flat()[0]).toEqual({ Cliniko_Patient_Id__c: '1000', LastName: 'Patient 0', Email: null });
  });

  it('refreshes an expired session on 401 INVALID_SESSION_ID and carries on', async () => {
    let refreshes = 0;
    const conn = new Connection({
      instanceUrl,
      accessToken: 'expired-token',
      version: '66.0',
      refreshFn: (_conn, callback) => {
        refreshes++;
        callback(null, 'fresh-token');
      },
    });
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: [{ LastName: 'Lovelace' }],
      pollInterval: 20,
      pollTimeout: 20_000,
    });
    expect(refreshes).toBe(1);
    expect(results.successfulResults).toHaveLength(1);
  });

  it('surfaces a failed job with the reason', async () => {
    const conn = connection();
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName\n"Lovelace\n');
    await job.close();
    await expect(job.poll(20, 20_000)).rejects.toThrow(
      /Ingest job failed to complete due to: InvalidBatch : Failed to parse CSV/,
    );
    await job.delete();
  });
});
