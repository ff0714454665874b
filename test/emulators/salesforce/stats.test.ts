import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from './server.js';
import { control } from './testing.js';

/**
 * The benchmark's counters (`/__emulator/stats`) and the one-record lookup of `/__emulator/records`:
 * the benchmark compares the service's Salesforce writes with their minimum through these, so they must
 * count what a client did, and only that.
 */
let sf: SalesforceEmulator;
let token: string;

interface Stats {
  apiUsed: number;
  requests: Record<string, number>;
  writes: Record<string, number>;
  records: Record<string, number>;
  events: number;
}

beforeAll(async () => {
  sf = await startSalesforceEmulator({ controls: true, requestLogLimit: 5 });
  const response = await fetch(`${sf.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sf.clientId,
      client_secret: sf.clientSecret,
    }).toString(),
  });
  token = ((await response.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await sf.close();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${sf.loginUrl}/services/data/v${sf.apiVersion}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('benchmark counters', () => {
  it('counts record writes by object, records held, and requests by route', async () => {
    const before = await control<Stats>(sf.loginUrl, 'GET', 'stats');
    for (const lastName of ['First', 'Second']) {
      const r = await api('PATCH', 'sobjects/Contact/Cliniko_Patient_Id__c/9001', { LastName: lastName });
      expect(r.status).toBeLessThan(300);
    }
    // Control: a read is a request but no write.
    expect((await api('GET', 'query?q=SELECT+Id+FROM+Contact')).status).toBe(200);
    const after = await control<Stats>(sf.loginUrl, 'GET', 'stats');
    expect((after.writes.Contact ?? 0) - (before.writes.Contact ?? 0)).toBe(2);
    expect((after.records.Contact ?? 0) - (before.records.Contact ?? 0)).toBe(1);
    const upserts = 'PATCH /services/data/:version/sobjects/:object/:field/:value';
    const counted = Object.entries(after.requests).filter(([route]) => route.startsWith('PATCH '));
    expect(counted.map(([route]) => route)).toContain(upserts);
    expect((after.requests[upserts] ?? 0) - (before.requests[upserts] ?? 0)).toBe(2);
    expect(after.apiUsed - before.apiUsed).toBe(3);
  });

  it('finds one record by an external id, and keeps only the configured number of log entries', async () => {
    const found = await control<Array<Record<string, unknown>>>(
      sf.loginUrl,
      'GET',
      'records/Contact?field=Cliniko_Patient_Id__c&value=9001',
    );
    expect(found.map((c) => c.LastName)).toEqual(['Second']);
    const none = await control<unknown[]>(
      sf.loginUrl,
      'GET',
      'records/Contact?field=Cliniko_Patient_Id__c&value=404',
    );
    expect(none).toEqual([]);
    const log = await control<unknown[]>(sf.loginUrl, 'GET', 'requests');
    expect(log.length).toBeLessThanOrEqual(5);
  });
});
