/**
 * Wire details a raw HTTP client (or jsforce's error parser) sees: the error shapes of routes the
 * emulator does not serve, and the OAuth error codes for an unknown client id versus a wrong secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from './server.js';

let sf: SalesforceEmulator;
let token = '';

async function tokenRequest(body: Record<string, string>) {
  const response = await fetch(`${sf.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function api(method: string, path: string) {
  const response = await fetch(`${sf.instanceUrl}/services/data/v66.0${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    limitInfo: response.headers.get('sforce-limit-info'),
    body: (await response.json()) as unknown,
  };
}

beforeAll(async () => {
  sf = await startSalesforceEmulator();
  const login = await tokenRequest({
    grant_type: 'client_credentials',
    client_id: sf.clientId,
    client_secret: sf.clientSecret,
  });
  token = (login.body as { access_token: string }).access_token;
});
afterAll(async () => {
  await sf.close();
});

describe('routes the emulator does not serve', () => {
  it('answers an unknown REST resource with Salesforce’s NOT_FOUND array, not a framework error', async () => {
    const response = await api('GET', '/no/such/resource');
    expect(response.status).toBe(404);
    expect(response.body).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
    expect(response.limitInfo).toMatch(/^api-usage=\d+\/\d+$/);
  });

  it('answers an unknown Bulk 2.0 sub-resource the same way', async () => {
    const response = await api('GET', '/jobs/ingest/750000000000001AAA/no-such-list');
    expect(response.status).toBe(404);
    expect(response.body).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
  });
});

describe('OAuth client errors', () => {
  it('rejects an unknown client id with invalid_client_id', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: 'not-a-connected-app',
      client_secret: sf.clientSecret,
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
  });

  it('rejects a known client id with a wrong secret with invalid_client', async () => {
    const response = await tokenRequest({
      grant_type: 'client_credentials',
      client_id: sf.clientId,
      client_secret: 'wrong',
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_client',
      error_description: 'invalid client credentials',
    });
  });

  it('rejects a refresh with an unknown client id with invalid_client_id', async () => {
    const response = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: 'not-a-connected-app',
      refresh_token: 'whatever',
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
  });
});

describe('Bulk 2.0 job creation', () => {
  async function createJob(body: Record<string, unknown>) {
    const response = await fetch(`${sf.instanceUrl}/services/data/v66.0/jobs/ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  }

  it('refuses an upsert job whose externalIdFieldName is not an external id, when the job is created', async () => {
    const response = await createJob({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'LastName',
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      {
        errorCode: 'INVALIDJOB',
        message:
          'InvalidJob : Field name provided, LastName does not match an External ID, Salesforce Id, or indexed field for Contact',
      },
    ]);
  });

  it('refuses a job on an object the running user cannot see, when the job is created', async () => {
    const response = await createJob({ object: 'No_Such_Object__c', operation: 'insert' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual([
      { errorCode: 'INVALIDJOB', message: 'InvalidJob : Unable to find object: No_Such_Object__c' },
    ]);
  });

  it('still opens a job on a real external id', async () => {
    const response = await createJob({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'Cliniko_Patient_Id__c',
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ state: 'Open', externalIdFieldName: 'Cliniko_Patient_Id__c' });
  });
});

describe('updates without an Id', () => {
  it('fail per record with MISSING_ARGUMENT "Id not specified in an update call", as Salesforce reports it', async () => {
    const response = await fetch(`${sf.instanceUrl}/services/data/v66.0/composite/sobjects`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ attributes: { type: 'Contact' }, LastName: 'No Id' }] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([
      {
        success: false,
        errors: [
          { statusCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] },
        ],
      },
    ]);
  });

  it('still reports a present but malformed Id as MALFORMED_ID', async () => {
    const response = await fetch(`${sf.instanceUrl}/services/data/v66.0/composite/sobjects`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ records: [{ attributes: { type: 'Contact' }, Id: 'zzz', LastName: 'Bad Id' }] }),
    });
    const [result] = (await response.json()) as Array<{ errors: Array<{ statusCode: string }> }>;
    expect(result?.errors[0]?.statusCode).toBe('MALFORMED_ID');
  });
});

describe('SOQL OFFSET', () => {
  it('refuses an OFFSET above 2,000 with NUMBER_OUTSIDE_VALID_RANGE, and allows 2,000 itself', async () => {
    const tooFar = await api(
      'GET',
      `/query?q=${encodeURIComponent('SELECT Id FROM Contact LIMIT 10 OFFSET 2001')}`,
    );
    expect(tooFar.status).toBe(400);
    expect(tooFar.body).toEqual([
      { message: 'Maximum SOQL offset allowed is 2000', errorCode: 'NUMBER_OUTSIDE_VALID_RANGE' },
    ]);
    const limit = await api(
      'GET',
      `/query?q=${encodeURIComponent('SELECT Id FROM Contact LIMIT 10 OFFSET 2000')}`,
    );
    expect(limit.status).toBe(200);
  });
});
