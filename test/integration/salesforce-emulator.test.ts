/**
 * Conformance of the Salesforce emulator, driven through jsforce (the client the sync service uses)
 * over loopback HTTP against the repository's own force-app/ schema and permission sets.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { to18 } from '../emulators/salesforce/ids.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { control, signJwt } from '../emulators/salesforce/testing.js';

const VERSION = '66.0';

interface LoggedRequest {
  method: string;
  url: string;
  body: string;
  status: number;
}

let emu: SalesforceEmulator;

async function integrationConnection(): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: emu.clientSecret },
    version: VERSION,
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

async function jwtConnection(username: string): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId },
    version: VERSION,
  });
  const assertion = signJwt(
    { iss: emu.clientId, sub: username, aud: emu.loginUrl, exp: Math.floor(Date.now() / 1000) + 180 },
    emu.jwt.privateKeyPem ?? '',
  );
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  return conn;
}

/** A raw REST call with the connection's token, for asserting exact status codes and bodies. */
async function raw(conn: Connection, method: string, path: string, body?: unknown) {
  const response = await fetch(`${emu.instanceUrl}/services/data/v${VERSION}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${conn.accessToken ?? ''}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as unknown) : undefined,
  };
}

function contact(i: number, extra: Record<string, unknown> = {}) {
  return {
    Cliniko_Patient_Id__c: String(100_000 + i),
    FirstName: `First${i}`,
    LastName: `Last${i}`,
    Email: `patient${i}@example.org`,
    Journey_Stage__c: 'Lead',
    ...extra,
  };
}

beforeAll(async () => {
  emu = await startSalesforceEmulator({ controls: true, bulkProcessingDelayMs: 5 });
  // A user of the marketing audience, to see field-level security from the other side.
  await control(emu.loginUrl, 'POST', 'users', {
    username: 'marketing@cliniko-sync.emulator',
    permissionSets: ['Cliniko_Sync_Marketing'],
  });
});
afterAll(async () => {
  await emu.close();
});

describe('OAuth', () => {
  it('logs in with client credentials as the integration user, who holds the integration permission set', async () => {
    // Act
    const conn = await integrationConnection();
    const identity = await conn.identity();
    // Assert
    expect(conn.userInfo?.id).toBe(emu.userId);
    expect(conn.userInfo?.organizationId).toBe(emu.orgId);
    expect(conn.instanceUrl).toBe(emu.instanceUrl);
    expect(identity.username).toBe(emu.username);
    // The packaged set and its org-setup companion (Contact and user permissions), as go-live assigns them.
    expect(emu.permissionSets).toEqual(['Cliniko_Sync_Integration', 'Cliniko_Sync_Integration_Org']);
  });

  it('rejects a wrong client secret with invalid_client', async () => {
    const conn = new Connection({
      oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: 'wrong' },
      version: VERSION,
    });
    await expect(conn.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({
      name: 'invalid_client',
    });
  });

  it('logs in with a JWT bearer assertion verified against the certificate, checking iss, sub, aud and exp', async () => {
    // Arrange: a second key that the connected app does not trust
    const { createSelfSignedCertificate } = await import('../emulators/salesforce/certificate.js');
    const stranger = createSelfSignedCertificate('stranger');
    const exp = Math.floor(Date.now() / 1000) + 180;
    const good = { iss: emu.clientId, sub: emu.adminUsername, aud: emu.loginUrl, exp };
    const tryLogin = async (assertion: string) => {
      const conn = new Connection({
        oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId },
        version: VERSION,
      });
      await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
      return conn;
    };
    // Act + assert
    const conn = await tryLogin(signJwt(good, emu.jwt.privateKeyPem ?? ''));
    expect((await conn.identity()).username).toBe(emu.adminUsername);
    await expect(tryLogin(signJwt(good, stranger.privateKeyPem))).rejects.toMatchObject({
      name: 'invalid_grant',
    });
    await expect(
      tryLogin(signJwt({ ...good, iss: 'other' }, emu.jwt.privateKeyPem ?? '')),
    ).rejects.toMatchObject({
      name: 'invalid_client_id',
    });
    await expect(
      tryLogin(signJwt({ ...good, aud: 'https://example.com' }, emu.jwt.privateKeyPem ?? '')),
    ).rejects.toMatchObject({
      name: 'invalid_grant',
    });
    await expect(
      tryLogin(signJwt({ ...good, exp: exp - 3600 }, emu.jwt.privateKeyPem ?? '')),
    ).rejects.toMatchObject({
      name: 'invalid_grant',
    });
    await expect(
      tryLogin(signJwt({ ...good, sub: 'nobody@example.org' }, emu.jwt.privateKeyPem ?? '')),
    ).rejects.toMatchObject({
      name: 'invalid_grant',
    });
  });
});

describe('sessions', () => {
  let short: SalesforceEmulator;
  beforeAll(async () => {
    short = await startSalesforceEmulator({ controls: true, tokenLifetimeSeconds: 60 });
  });
  afterAll(async () => {
    await short.close();
  });

  it('answers an expired token with 401 INVALID_SESSION_ID and jsforce refreshes with a refresh token', async () => {
    // Arrange: a refresh token as from an earlier web-server flow, and a token that then expires
    const { refresh_token } = await control<{ refresh_token: string }>(
      short.loginUrl,
      'POST',
      'refresh-tokens',
      {
        username: short.username,
      },
    );
    const conn = new Connection({
      oauth2: { loginUrl: short.loginUrl, clientId: short.clientId, clientSecret: short.clientSecret },
      instanceUrl: short.instanceUrl,
      refreshToken: refresh_token,
      version: VERSION,
    });
    await conn.oauth2.refreshToken(refresh_token).then((res: { access_token: string }) => {
      conn.accessToken = res.access_token;
    });
    const firstToken = conn.accessToken;
    await control(short.loginUrl, 'POST', 'clock', { advanceSeconds: 61 });
    const expired = await fetch(`${short.instanceUrl}/services/data/v${VERSION}/limits`, {
      headers: { authorization: `Bearer ${firstToken ?? ''}` },
    });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);
    let refreshed = 0;
    conn.on('refresh', () => refreshed++);
    // Act
    const result = await conn.query('SELECT Id FROM User');
    // Assert
    expect(refreshed).toBe(1);
    expect(conn.accessToken).not.toBe(firstToken);
    expect(result.totalSize).toBeGreaterThanOrEqual(2);
  });

  it('lets a client-credentials client re-authenticate through refreshFn after a forced session expiry', async () => {
    // Arrange
    const conn = new Connection({
      oauth2: { loginUrl: short.loginUrl, clientId: short.clientId, clientSecret: short.clientSecret },
      version: VERSION,
      refreshFn: (c, callback) => {
        c.oauth2.requestToken({ grant_type: 'client_credentials' }).then(
          (res: { access_token: string }) => {
            callback(null, res.access_token);
          },
          (error: Error) => {
            callback(error);
          },
        );
      },
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    const before = conn.accessToken;
    // Act
    const { expired } = await control<{ expired: number }>(short.loginUrl, 'POST', 'faults', {
      kind: 'expireSessions',
    });
    const limits = await conn.limits();
    // Assert
    expect(expired).toBeGreaterThan(0);
    expect(conn.accessToken).not.toBe(before);
    expect(limits.DailyApiRequests?.Max).toBe(100_000);
  });
});

describe('REST resources', () => {
  it('lists versions and resources, and sends Sforce-Limit-Info on every response', async () => {
    const conn = await integrationConnection();
    const versions = (await (await fetch(`${emu.instanceUrl}/services/data`)).json()) as Array<{
      version: string;
      label: string;
    }>;
    expect(versions.map((v) => v.version)).toContain('66.0');
    expect(versions.find((v) => v.version === '66.0')?.label).toBe("Spring '26");
    const resources = await raw(conn, 'GET', '/');
    expect(resources.body).toMatchObject({
      sobjects: `/services/data/v${VERSION}/sobjects`,
      query: `/services/data/v${VERSION}/query`,
    });
    const first = resources.headers.get('sforce-limit-info');
    expect(first).toMatch(/^api-usage=\d+\/100000$/);
    const second = await raw(conn, 'GET', '/limits');
    const used = (h: string | null) => Number(/api-usage=(\d+)/.exec(h ?? '')?.[1]);
    expect(used(second.headers.get('sforce-limit-info'))).toBe(used(first) + 1);
    expect(await raw(conn, 'GET', '/sobjects/Nope__c/describe')).toMatchObject({
      status: 404,
      body: [{ errorCode: 'NOT_FOUND' }],
    });
  });

  it('reports limits through jsforce', async () => {
    const conn = await integrationConnection();
    const limits = await conn.limits();
    expect(limits.DailyApiRequests?.Max).toBe(100_000);
    expect(limits.DailyApiRequests?.Remaining).toBeLessThan(100_000);
  });

  it('describes Contact from force-app metadata and the running user’s field-level security', async () => {
    // Arrange: a marketing user sees marketing-safe fields only
    const conn = await integrationConnection();
    const marketing = await jwtConnection('marketing@cliniko-sync.emulator');
    // Act
    const describe = await conn.sobject('Contact').describe();
    const marketingDescribe = await marketing.sobject('Contact').describe();
    const globalDescribe = await conn.describeGlobal();
    // Assert
    const field = (name: string) => describe.fields.find((f) => f.name === name);
    expect(field('LastName')).toMatchObject({
      type: 'string',
      length: 80,
      nillable: false,
      createable: true,
    });
    expect(field('FirstName')).toMatchObject({ length: 40 });
    expect(field('MobilePhone')).toMatchObject({ type: 'phone', length: 40 });
    expect(field('Cliniko_Patient_Id__c')).toMatchObject({
      externalId: true,
      unique: true,
      caseSensitive: true,
      length: 20,
      updateable: true,
      custom: true,
    });
    expect(field('Journey_Stage__c')).toMatchObject({ type: 'picklist', restrictedPicklist: true });
    expect(field('Journey_Stage__c')?.picklistValues?.map((p: { value: string }) => p.value)).toContain(
      'Drop-Off Risk',
    );
    expect(field('Name')).toMatchObject({ createable: false, updateable: false });
    const names = marketingDescribe.fields.map((f) => f.name);
    expect(names).toContain('Journey_Stage__c');
    expect(names).not.toContain('Unpaid_Balance__c');
    expect(marketingDescribe.fields.find((f) => f.name === 'Journey_Stage__c')?.updateable).toBe(false);
    expect(globalDescribe.sobjects.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'Contact',
        'Care_Plan__c',
        'Patient_Journey_Event__e',
        'Data_Map_Field__mdt',
        'ContactHistory',
      ]),
    );
    expect(globalDescribe.sobjects.find((s) => s.name === 'Contact')?.keyPrefix).toBe('003');
    expect(describe.childRelationships.map((r) => r.relationshipName)).toEqual(
      expect.arrayContaining(['Care_Plans__r', 'Histories']),
    );
  });
});

describe('writes', () => {
  it('upserts 1,000 Contacts by external id in 200-record collections, then reports created:false on re-upsert', async () => {
    // Arrange
    const conn = await integrationConnection();
    await control(emu.loginUrl, 'DELETE', 'requests');
    const records = Array.from({ length: 1000 }, (_, i) => contact(i));
    // Act
    // jsforce splits an array into 200-record collections only when asked to (allowRecursive)
    const first = await conn
      .sobject('Contact')
      .upsert(records, 'Cliniko_Patient_Id__c', { allowRecursive: true });
    const second = await conn.sobject('Contact').upsert(
      records.map((r) => ({ ...r, Journey_Stage__c: 'New Patient Booked' })),
      'Cliniko_Patient_Id__c',
      {
        allowRecursive: true,
      },
    );
    // Assert
    expect(first).toHaveLength(1000);
    expect(first.every((r) => r.success && (r as { created?: boolean }).created === true)).toBe(true);
    expect(second.every((r) => r.success && (r as { created?: boolean }).created === false)).toBe(true);
    expect(second.map((r) => (r as { id: string }).id)).toEqual(first.map((r) => (r as { id: string }).id));
    const log = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    const upserts = log.filter(
      (e) => e.method === 'PATCH' && e.url.endsWith('/composite/sobjects/Contact/Cliniko_Patient_Id__c'),
    );
    expect(upserts).toHaveLength(10);
    expect(upserts.every((e) => (JSON.parse(e.body) as { records: unknown[] }).records.length === 200)).toBe(
      true,
    );
    // Ids are 18 characters with the Contact prefix and a correct case-safe suffix
    const id = (first[0] as { id: string }).id;
    expect(id).toMatch(/^003[a-zA-Z0-9]{15}$/);
    expect(to18(id.slice(0, 15))).toBe(id);
  });

  it('creates, retrieves, updates and deletes one record with Salesforce’s status codes', async () => {
    const conn = await integrationConnection();
    const created = await raw(conn, 'POST', '/sobjects/Contact', contact(5000));
    expect(created).toMatchObject({ status: 201, body: { success: true, errors: [] } });
    const id = (created.body as { id: string }).id;
    const fetched = await conn.sobject('Contact').retrieve(id);
    expect(fetched).toMatchObject({
      Id: id,
      Name: 'First5000 Last5000',
      OwnerId: emu.userId,
      IsDeleted: false,
    });
    expect((fetched as { attributes: { type: string } }).attributes.type).toBe('Contact');
    expect((await raw(conn, 'PATCH', `/sobjects/Contact/${id}`, { HomePhone: '0299999999' })).status).toBe(
      204,
    );
    expect((await conn.sobject('Contact').retrieve(id)).HomePhone).toBe('0299999999');
    expect((await raw(conn, 'DELETE', `/sobjects/Contact/${id}`)).status).toBe(204);
    expect(await raw(conn, 'GET', `/sobjects/Contact/${id}`)).toMatchObject({
      status: 404,
      body: [{ errorCode: 'NOT_FOUND' }],
    });
    const all = await conn.query(`SELECT Id, IsDeleted FROM Contact WHERE Id = '${id}'`, { scanAll: true });
    expect(all.records).toMatchObject([{ Id: id, IsDeleted: true }]);
  });

  it('reports updated and deleted ids in a window (jsforce updated() / deleted())', async () => {
    const conn = await integrationConnection();
    const start = new Date(Date.now() - 1000);
    const kept = await conn.sobject('Contact').create({ LastName: 'Replicated' });
    const gone = await conn.sobject('Contact').create({ LastName: 'Removed' });
    await conn.sobject('Contact').destroy((gone as { id: string }).id);
    const end = new Date(Date.now() + 60_000);
    const updated = await conn.sobject('Contact').updated(start, end);
    const deleted = await conn.sobject('Contact').deleted(start, end);
    expect(updated.ids).toContain((kept as { id: string }).id);
    expect(updated.ids).not.toContain((gone as { id: string }).id);
    expect(deleted.deletedRecords.map((r) => r.id)).toContain((gone as { id: string }).id);
    expect(deleted.deletedRecords.map((r) => r.id)).not.toContain((kept as { id: string }).id);
  });

  it('upserts one record by external id: 201 created, then 200 with created:false', async () => {
    const conn = await integrationConnection();
    const path = '/sobjects/Contact/Cliniko_Patient_Id__c/777001';
    const first = await raw(conn, 'PATCH', path, { LastName: 'Single' });
    const second = await raw(conn, 'PATCH', path, { LastName: 'Single', FirstName: 'Again' });
    expect(first).toMatchObject({ status: 201, body: { success: true, created: true } });
    expect(second).toMatchObject({ status: 200, body: { success: true, created: false } });
    expect(await raw(conn, 'PATCH', '/sobjects/Contact/No_Such_Field__c/1', { LastName: 'X' })).toMatchObject(
      {
        status: 404,
        body: [{ errorCode: 'NOT_FOUND' }],
      },
    );
  });

  it('resolves parent references by external id (Contact__r: {Cliniko_Patient_Id__c})', async () => {
    const conn = await integrationConnection();
    const contactRow = await conn.sobject('Contact').upsert(contact(9001), 'Cliniko_Patient_Id__c');
    const result = await conn.sobject('Care_Plan__c').upsert(
      {
        Cliniko_Case_Id__c: 'case-1',
        Status__c: 'Open',
        Contact__r: { Cliniko_Patient_Id__c: String(100_000 + 9001) },
      },
      'Cliniko_Case_Id__c',
    );
    expect(result.success).toBe(true);
    const plan = await conn.query<{ Name: string; Contact__c: string; Contact__r: { LastName: string } }>(
      "SELECT Name, Contact__c, Contact__r.LastName FROM Care_Plan__c WHERE Cliniko_Case_Id__c = 'case-1'",
    );
    expect(plan.records[0]?.Contact__c).toBe((contactRow as { id: string }).id);
    expect(plan.records[0]?.Contact__r.LastName).toBe('Last9001');
    expect(plan.records[0]?.Name).toMatch(/^CP-\d{6}$/);
    const withChildren = await conn.query<{ Care_Plans__r: { totalSize: number } }>(
      `SELECT Id, (SELECT Id FROM Care_Plans__r) FROM Contact WHERE Id = '${(contactRow as { id: string }).id}'`,
    );
    expect(withChildren.records[0]?.Care_Plans__r.totalSize).toBe(1);
    await expect(
      conn
        .sobject('Care_Plan__c')
        .upsert(
          { Cliniko_Case_Id__c: 'case-2', Contact__r: { Cliniko_Patient_Id__c: 'missing' } },
          'Cliniko_Case_Id__c',
        ),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: 'Foreign key external ID: missing not found for field Cliniko_Patient_Id__c in entity Contact',
    });
  });

  it('rolls back a whole allOrNone collection with ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const conn = await integrationConnection();
    const body = {
      allOrNone: true,
      records: [
        { attributes: { type: 'Contact' }, LastName: 'Kept?', Cliniko_Patient_Id__c: 'aon-1' },
        {
          attributes: { type: 'Contact' },
          LastName: 'Bad',
          Email: 'not-an-email',
          Cliniko_Patient_Id__c: 'aon-2',
        },
      ],
    };
    const response = await raw(conn, 'POST', '/composite/sobjects', body);
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      {
        success: false,
        errors: [
          {
            statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
            message:
              'Record rolled back because not all records were valid and the request was using AllOrNone header',
            fields: [],
          },
        ],
      },
      {
        success: false,
        errors: [
          {
            statusCode: 'INVALID_EMAIL_ADDRESS',
            message: 'Email: invalid email address: not-an-email',
            fields: ['Email'],
          },
        ],
      },
    ]);
    const found = await conn.query(
      "SELECT Id FROM Contact WHERE Cliniko_Patient_Id__c IN ('aon-1', 'aon-2')",
    );
    expect(found.totalSize).toBe(0);
  });

  it('publishes a platform event with 201 and OPERATION_ENQUEUED', async () => {
    const conn = await integrationConnection();
    const event = {
      Cliniko_Patient_Id__c: '100001',
      Transition_Key__c: '100001:T1:1',
      Trigger__c: 'T1 New Initial Consult Booked',
      From_Stage__c: 'Lead',
      To_Stage__c: 'New Patient Booked',
      Occurred_At__c: '2026-11-22T01:00:00.000Z',
    };
    const response = await raw(conn, 'POST', '/sobjects/Patient_Journey_Event__e', event);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      id: expect.stringMatching(/^e00/) as unknown,
      success: true,
      errors: [
        {
          statusCode: 'OPERATION_ENQUEUED',
          message: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
          fields: [],
        },
      ],
    });
    const viaJsforce = await conn
      .sobject('Patient_Journey_Event__e')
      .create({ ...event, Transition_Key__c: '100001:T1:2' });
    expect(viaJsforce.success).toBe(true);
    const events = await control<Array<{ object: string; payload: Record<string, unknown> }>>(
      emu.loginUrl,
      'GET',
      'events',
    );
    expect(events.map((e) => e.payload.Transition_Key__c)).toEqual(['100001:T1:1', '100001:T1:2']);
    expect(events[0]?.payload.Occurred_At__c).toBe('2026-11-22T01:00:00.000+0000');
  });
});

describe('enforcement', () => {
  async function createError(conn: Connection, object: string, values: Record<string, unknown>) {
    const response = await raw(conn, 'POST', `/sobjects/${object}`, values);
    expect(response.status).toBe(400);
    return (response.body as Array<{ message: string; errorCode: string; fields?: string[] }>)[0];
  }

  it('reports each validation failure with Salesforce’s code, message and fields', async () => {
    const conn = await integrationConnection();
    expect(await createError(conn, 'Contact', { LastName: 'X', FirstName: 'F'.repeat(41) })).toEqual({
      errorCode: 'STRING_TOO_LONG',
      message: `First Name: data value too large: ${'F'.repeat(41)} (max length=40)`,
      fields: ['FirstName'],
    });
    expect(await createError(conn, 'Contact', { LastName: 'X', Email: 'nope@' })).toMatchObject({
      errorCode: 'INVALID_EMAIL_ADDRESS',
      fields: ['Email'],
    });
    expect(await createError(conn, 'Contact', { LastName: 'X', Journey_Stage__c: 'Happy' })).toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      fields: ['Journey_Stage__c'],
    });
    expect(await createError(conn, 'Contact', { FirstName: 'NoLast' })).toEqual({
      errorCode: 'REQUIRED_FIELD_MISSING',
      message: 'Required fields are missing: [LastName]',
      fields: ['LastName'],
    });
    expect(await createError(conn, 'Contact', { LastName: 'X', Not_A_Field__c: 1 })).toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    expect(await createError(conn, 'Contact', { LastName: 'X', Name: 'Computed' })).toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      fields: ['Name'],
    });
    await conn.sobject('Contact').create({ LastName: 'Dup', Cliniko_Patient_Id__c: 'dup-1' });
    expect(
      await createError(conn, 'Contact', { LastName: 'Dup', Cliniko_Patient_Id__c: 'dup-1' }),
    ).toMatchObject({
      errorCode: 'DUPLICATE_VALUE',
      fields: ['Cliniko_Patient_Id__c'],
    });
    // The external id is case-sensitive, so a different case is a different value
    expect(
      (await raw(conn, 'POST', '/sobjects/Contact', { LastName: 'Dup', Cliniko_Patient_Id__c: 'DUP-1' }))
        .status,
    ).toBe(201);
  });

  it('reports the same errors per record through jsforce collections, and the rest of the batch continues', async () => {
    const conn = await integrationConnection();
    const results = await conn
      .sobject('Contact')
      .upsert(
        [
          contact(20_001),
          contact(20_002, { Email: 'bad' }),
          contact(20_001, { FirstName: 'Twin' }),
          contact(20_003),
        ],
        'Cliniko_Patient_Id__c',
      );
    const codes = results.map((r) =>
      r.success ? 'ok' : (r.errors as unknown as Array<{ statusCode: string }>)[0]?.statusCode,
    );
    expect(codes).toEqual(['DUPLICATE_EXTERNAL_ID', 'INVALID_EMAIL_ADDRESS', 'DUPLICATE_EXTERNAL_ID', 'ok']);
  });

  it('enforces field-level security: invisible fields are INVALID_FIELD, read-only ones INVALID_FIELD_FOR_INSERT_UPDATE', async () => {
    const marketing = await jwtConnection('marketing@cliniko-sync.emulator');
    const readOnly = await raw(marketing, 'PATCH', '/sobjects/Contact/Cliniko_Patient_Id__c/100001', {
      Journey_Stage__c: 'Lapsed',
    });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body).toEqual([
      {
        message: expect.stringContaining('Unable to create/update fields: Journey_Stage__c.') as unknown,
        errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
        fields: ['Journey_Stage__c'],
      },
    ]);
    const invisible = await raw(marketing, 'PATCH', '/sobjects/Contact/Cliniko_Patient_Id__c/100001', {
      Unpaid_Balance__c: 5,
    });
    expect(invisible).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD' }] });
    await expect(marketing.query('SELECT Unpaid_Balance__c FROM Contact')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(marketing.query('SELECT Id FROM Cliniko_Invoice__c')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
  });

  it('lets only an administrator assign permission sets through the API, with immediate effect', async () => {
    // Arrange
    const integration = await integrationConnection();
    const admin = await jwtConnection(emu.adminUsername);
    const billing = await admin.query<{ Id: string }>(
      "SELECT Id FROM PermissionSet WHERE Name = 'Cliniko_Sync_Billing'",
    );
    const marketingUser = await admin.query<{ Id: string }>(
      "SELECT Id FROM User WHERE Username = 'marketing@cliniko-sync.emulator'",
    );
    const assignment = { AssigneeId: marketingUser.records[0]?.Id, PermissionSetId: billing.records[0]?.Id };
    // Act + assert: the integration user may not, the admin may
    expect(await raw(integration, 'POST', '/sobjects/PermissionSetAssignment', assignment)).toMatchObject({
      status: 400,
      body: [{ errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' }],
    });
    const created = await admin.sobject('PermissionSetAssignment').create(assignment);
    expect(created.success).toBe(true);
    const marketing = await jwtConnection('marketing@cliniko-sync.emulator');
    const fields = (await marketing.sobject('Contact').describe()).fields.map((f) => f.name);
    expect(fields).toContain('Unpaid_Balance__c');
    await admin.sobject('PermissionSetAssignment').destroy((created as { id: string }).id);
    const after = (await marketing.sobject('Contact').describe()).fields.map((f) => f.name);
    expect(after).not.toContain('Unpaid_Balance__c');
  });

  it('fails locked rows with UNABLE_TO_LOCK_ROW per record and can answer 503', async () => {
    const conn = await integrationConnection();
    await control(emu.loginUrl, 'POST', 'faults', {
      kind: 'lockRow',
      object: 'Contact',
      field: 'Cliniko_Patient_Id__c',
      value: '100002',
      times: 1,
    });
    const results = await conn
      .sobject('Contact')
      .upsert([contact(1), contact(2), contact(3)], 'Cliniko_Patient_Id__c');
    expect(results.map((r) => r.success)).toEqual([true, false, true]);
    expect((results[1]?.errors as unknown as Array<{ statusCode: string }>)[0]?.statusCode).toBe(
      'UNABLE_TO_LOCK_ROW',
    );
    expect((await conn.sobject('Contact').upsert(contact(2), 'Cliniko_Patient_Id__c')).success).toBe(true);
    await control(emu.loginUrl, 'POST', 'faults', { kind: 'http503', times: 1 });
    expect(await raw(conn, 'GET', '/limits')).toMatchObject({
      status: 503,
      body: [{ errorCode: 'SERVER_UNAVAILABLE' }],
    });
    expect((await raw(conn, 'GET', '/limits')).status).toBe(200);
    await control(emu.loginUrl, 'DELETE', 'faults');
  });

  it('answers 403 REQUEST_LIMIT_EXCEEDED once the daily API budget is spent', async () => {
    const conn = await integrationConnection();
    const { used } = await control<{ used: number }>(emu.loginUrl, 'POST', 'limits', {});
    await control(emu.loginUrl, 'POST', 'faults', { kind: 'exhaustLimit' });
    expect(await raw(conn, 'GET', '/limits')).toEqual({
      status: 403,
      headers: expect.anything() as unknown,
      body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
    });
    await expect(conn.query('SELECT Id FROM Contact LIMIT 1')).rejects.toMatchObject({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
    });
    await control(emu.loginUrl, 'POST', 'limits', { used });
    expect((await raw(conn, 'GET', '/limits')).status).toBe(200);
  });
});

describe('history', () => {
  it('writes ContactHistory rows for tracked fields, queryable by SOQL', async () => {
    const conn = await integrationConnection();
    const saved = await conn.sobject('Contact').upsert(contact(30_000), 'Cliniko_Patient_Id__c');
    const id = (saved as { id: string }).id;
    await conn
      .sobject('Contact')
      .update({ Id: id, Journey_Stage__c: 'Started Care', Last_Appointment_Type__c: 'Standard' });
    const rows = await conn.query<{
      Field: string;
      OldValue: unknown;
      NewValue: unknown;
      CreatedById: string;
      CreatedDate: string;
    }>(
      `SELECT Field, OldValue, NewValue, CreatedById, CreatedDate FROM ContactHistory WHERE ContactId = '${id}' ORDER BY Field`,
    );
    // Salesforce sorts text case-insensitively; Last_Appointment_Type__c is not tracked
    expect(rows.records.map((r) => [r.Field, r.OldValue, r.NewValue])).toEqual([
      ['created', null, null],
      ['Journey_Stage__c', 'Lead', 'Started Care'],
    ]);
    expect(rows.records.every((r) => r.CreatedById === emu.userId)).toBe(true);
  });
});

describe('bulk and query paging', () => {
  it('runs a Bulk 2.0 upsert of 10,000 rows and reports the failing rows in failedResults', async () => {
    const conn = await integrationConnection();
    const lines = ['Cliniko_Patient_Id__c,FirstName,LastName,Email,Journey_Stage__c'];
    for (let i = 0; i < 10_000; i++) {
      const email = i % 1000 === 7 ? 'broken-email' : `bulk${i}@example.org`;
      const stage = i % 1000 === 500 ? 'Nonsense' : 'Lead';
      lines.push(`B${i},Bulk,Patient ${i},${email},${stage}`);
    }
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'Cliniko_Patient_Id__c',
      input: lines.join('\n') + '\n',
      pollInterval: 100,
      pollTimeout: 60_000,
    });
    expect(results.successfulResults).toHaveLength(9_980);
    expect(results.failedResults).toHaveLength(20);
    const errors = results.failedResults.map((r) => String(r.sf__Error));
    expect(errors.filter((e) => e.startsWith('INVALID_EMAIL_ADDRESS'))).toHaveLength(10);
    expect(errors.filter((e) => e.startsWith('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST'))).toHaveLength(10);
  });

  it('pages query results 2,000 at a time and jsforce autoFetch follows nextRecordsUrl', async () => {
    const conn = await integrationConnection();
    await control(emu.loginUrl, 'DELETE', 'requests');
    const records: unknown[] = [];
    const result = await conn
      .query("SELECT Id, Cliniko_Patient_Id__c FROM Contact WHERE Cliniko_Patient_Id__c LIKE 'B%'")
      .on('record', (r: unknown) => records.push(r))
      .run({ autoFetch: true, maxFetch: 20_000 });
    void result;
    expect(records).toHaveLength(9_980);
    const log = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    const pages = log.filter((e) => /\/query\/01g[0-9a-zA-Z]+-\d+$/.test(e.url));
    expect(pages.map((e) => e.url.split('-').pop())).toEqual(['2000', '4000', '6000', '8000']);
  });
});
