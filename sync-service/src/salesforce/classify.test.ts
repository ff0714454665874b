import { describe, expect, it } from 'vitest';
import { callFailure, classifySalesforceCode, salesforceSyncError } from './classify.js';
import { buildJwtAssertion } from './connection.js';
import { generateKeyPairSync, createVerify } from 'node:crypto';

describe('Salesforce error classification', () => {
  it.each([
    ['UNABLE_TO_LOCK_ROW', undefined, 'transient'],
    ['SERVER_UNAVAILABLE', undefined, 'transient'],
    ['REQUEST_LIMIT_EXCEEDED', undefined, 'limit'],
    ['INVALID_SESSION_ID', undefined, 'session'],
    ['STRING_TOO_LONG', undefined, 'permanent'],
    ['INVALID_FIELD_FOR_INSERT_UPDATE', undefined, 'permanent'],
    ['DUPLICATE_EXTERNAL_ID', undefined, 'permanent'],
    [undefined, 503, 'transient'],
    [undefined, 400, 'permanent'],
  ] as const)('%s / HTTP %s is %s', (code, status, kind) => {
    expect(classifySalesforceCode(code, status)).toBe(kind);
  });

  it('maps record errors to catalogue codes with the record named', () => {
    const locked = salesforceSyncError('UNABLE_TO_LOCK_ROW', 'row locked', { object: 'Contact', id: '123' });
    expect(locked).toMatchObject({
      code: 'SALESFORCE_RECORD_LOCKED',
      retryable: true,
      upstreamCode: 'UNABLE_TO_LOCK_ROW',
    });
    const rejected = salesforceSyncError('STRING_TOO_LONG', 'too long', {
      object: 'Contact',
      id: '123',
      field: 'LastName',
    });
    expect(rejected).toMatchObject({ code: 'SALESFORCE_RECORD_REJECTED', retryable: false });
    expect(rejected.record).toEqual({
      system: 'salesforce',
      object: 'Contact',
      id: '123',
      field: 'LastName',
    });
  });

  it('classifies whole-call failures from jsforce and the network', () => {
    expect(
      callFailure(
        { errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' },
        'Contact',
      ),
    ).toMatchObject({
      code: 'SALESFORCE_REQUEST_LIMIT',
      retryable: true,
    });
    expect(
      callFailure(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNRESET' } }), 'Contact'),
    ).toMatchObject({
      code: 'SALESFORCE_UNAVAILABLE',
      retryable: true,
      upstreamCode: 'ECONNRESET',
    });
    expect(
      callFailure({ name: 'ERROR_HTTP_503', statusCode: 503, message: 'unavailable' }, 'Contact').retryable,
    ).toBe(true);
    expect(
      callFailure({ errorCode: 'INVALID_TYPE', message: "sObject type 'X' is not supported." }, 'X'),
    ).toMatchObject({
      code: 'SALESFORCE_RECORD_REJECTED',
      retryable: false,
    });
  });

  it('retries a Bulk API job that outlasted its polling time rather than dead-lettering every row', () => {
    // jsforce's JobPollingTimeoutError: the job may still finish; re-sending the upserts is harmless.
    const timedOut = Object.assign(new Error('Polling timed out after 600000ms. Job Id = 750x'), {
      name: 'JobPollingTimeout',
    });
    expect(callFailure(timedOut, 'Cliniko_Appointment__c')).toMatchObject({
      code: 'SALESFORCE_UNAVAILABLE',
      retryable: true,
      upstreamCode: 'JobPollingTimeout',
    });
  });
});

describe('JWT bearer assertion', () => {
  it('is an RS256 JWT with iss, sub, aud and a short expiry, verifiable with the certificate key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwt = buildJwtAssertion(
      { clientId: 'consumer-key', username: 'integration@clinic.example' },
      'https://login.salesforce.com',
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      1_800_000_000,
    );
    const [header, claims, signature] = jwt.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(claims!, 'base64url').toString())).toEqual({
      iss: 'consumer-key',
      sub: 'integration@clinic.example',
      aud: 'https://login.salesforce.com',
      exp: 1_800_000_180,
    });
    const ok = createVerify('RSA-SHA256')
      .update(`${header}.${claims}`)
      .verify(publicKey, Buffer.from(signature!, 'base64url'));
    expect(ok).toBe(true);
  });
});
