import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import type { DmlOperation, DmlRowResult } from '../model.js';
import { bulkIngestPlugin, type BulkIngestOptions } from './index.js';

// ---- a fake org behind applyDml: Contacts upserted by Cliniko_Patient_Id__c -----------------------

interface DmlCall {
  userId: string;
  objectName: string;
  operation: DmlOperation;
  externalIdFieldName: string | undefined;
  rows: Array<Record<string, string | null>>;
}

function fakeOrg() {
  const calls: DmlCall[] = [];
  const byExternalId = new Map<string, string>();
  let next = 1;
  const applyDml: BulkIngestOptions['applyDml'] = (
    userId,
    objectName,
    operation,
    externalIdFieldName,
    rows,
  ) => {
    calls.push({ userId, objectName, operation, externalIdFieldName, rows });
    return Promise.resolve(
      rows.map((row): DmlRowResult => {
        if (row.LastName === '' || row.LastName === null) {
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
        if (row.Email && !row.Email.includes('@')) {
          return {
            success: false,
            errors: [
              {
                statusCode: 'INVALID_EMAIL_ADDRESS',
                message: `Email: invalid email address: ${row.Email}`,
                fields: ['Email'],
              },
            ],
          };
        }
        const key = row[externalIdFieldName ?? 'Id'] ?? '';
        const existing = byExternalId.get(key);
        if (existing) return { success: true, created: false, id: existing };
        const id = `003${String(next++).padStart(12, '0')}AAA`;
        byExternalId.set(key, id);
        return { success: true, created: true, id };
      }),
    );
  };
  return { calls, applyDml };
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function build(overrides: Partial<BulkIngestOptions> = {}) {
  const org = fakeOrg();
  const app = Fastify();
  apps.push(app);
  await app.register(bulkIngestPlugin, {
    authenticate: (request) =>
      Promise.resolve(
        request.headers.authorization === 'Bearer good' ? { userId: '005000000000001AAA' } : undefined,
      ),
    applyDml: org.applyDml,
    now: () => new Date('2026-11-22T01:02:03.000Z'),
    processingDelayMs: 1,
    ...overrides,
  });
  return { app, org };
}

const BASE = '/services/data/v66.0/jobs/ingest';
const auth = { authorization: 'Bearer good' };

async function createJob(app: FastifyInstance, body: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: BASE, headers: auth, payload: body });
  expect(res.statusCode).toBe(200);
  return res.json<{ id: string }>().id;
}

async function upload(app: FastifyInstance, id: string, csv: string) {
  return app.inject({
    method: 'PUT',
    url: `${BASE}/${id}/batches`,
    headers: { ...auth, 'content-type': 'text/csv' },
    payload: csv,
  });
}

async function setState(app: FastifyInstance, id: string, state: string) {
  return app.inject({ method: 'PATCH', url: `${BASE}/${id}`, headers: auth, payload: { state } });
}

interface JobInfo {
  state: string;
  numberRecordsProcessed: number;
  numberRecordsFailed: number;
  errorMessage?: string;
}

async function info(app: FastifyInstance, id: string): Promise<JobInfo> {
  return (await app.inject({ method: 'GET', url: `${BASE}/${id}`, headers: auth })).json();
}

/** Polls until the job leaves UploadComplete/InProgress, like jsforce's poll(). */
async function waitForJob(app: FastifyInstance, id: string): Promise<JobInfo> {
  for (let i = 0; i < 500; i++) {
    const job = await info(app, id);
    if (job.state !== 'UploadComplete' && job.state !== 'InProgress') return job;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${id} did not finish`);
}

async function csvResult(
  app: FastifyInstance,
  id: string,
  kind: string,
): Promise<Array<Record<string, string>>> {
  const res = await app.inject({ method: 'GET', url: `${BASE}/${id}/${kind}`, headers: auth });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/csv/);
  return parse(res.body, { columns: true });
}

const UPSERT = {
  object: 'Contact',
  operation: 'upsert',
  externalIdFieldName: 'Cliniko_Patient_Id__c',
  contentType: 'CSV',
  lineEnding: 'LF',
};

describe('Bulk API 2.0 ingest: job lifecycle', () => {
  it('creates, uploads, completes and reports successes and failures', async () => {
    const { app, org } = await build();
    const created = await app.inject({ method: 'POST', url: BASE, headers: auth, payload: UPSERT });
    expect(created.json()).toMatchObject({
      id: expect.stringMatching(/^750[0-9A-Za-z]{15}$/) as unknown,
      operation: 'upsert',
      object: 'Contact',
      externalIdFieldName: 'Cliniko_Patient_Id__c',
      state: 'Open',
      contentType: 'CSV',
      jobType: 'V2Ingest',
      apiVersion: 66,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
      createdById: '005000000000001AAA',
      createdDate: '2026-11-22T01:02:03.000+0000',
    });
    const id = created.json<{ id: string }>().id;

    const csv =
      'Cliniko_Patient_Id__c,LastName,Email\n1001,Lovelace,ada@example.com\n1002,,x@example.com\n1003,"Hopper, G",not-an-email\n';
    const put = await upload(app, id, csv);
    expect(put.statusCode).toBe(201);
    expect(put.body).toBe('');
    const closed = await setState(app, id, 'UploadComplete');
    expect(closed.json()).toMatchObject({ id, state: 'UploadComplete' });

    const done = await waitForJob(app, id);
    expect(done).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 3, numberRecordsFailed: 2 });
    expect(org.calls).toHaveLength(1);
    expect(org.calls[0]).toMatchObject({
      userId: '005000000000001AAA',
      objectName: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'Cliniko_Patient_Id__c',
    });

    const successes = await csvResult(app, id, 'successfulResults');
    expect(successes).toEqual([
      {
        sf__Id: '003000000000001AAA',
        sf__Created: 'true',
        Cliniko_Patient_Id__c: '1001',
        LastName: 'Lovelace',
        Email: 'ada@example.com',
      },
    ]);
    const failures = await csvResult(app, id, 'failedResults');
    expect(failures).toEqual([
      {
        sf__Id: '',
        sf__Error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --',
        Cliniko_Patient_Id__c: '1002',
        LastName: '',
        Email: 'x@example.com',
      },
      {
        sf__Id: '',
        sf__Error: 'INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --',
        Cliniko_Patient_Id__c: '1003',
        LastName: 'Hopper, G',
        Email: 'not-an-email',
      },
    ]);
    const unprocessed = await app.inject({
      method: 'GET',
      url: `${BASE}/${id}/unprocessedrecords`,
      headers: auth,
    });
    expect(unprocessed.body.trim()).toBe('"Cliniko_Patient_Id__c","LastName","Email"');
  });

  it('reports created false when the same external id is upserted again', async () => {
    const { app } = await build();
    for (const expected of ['true', 'false']) {
      const id = await createJob(app, UPSERT);
      await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1001,Lovelace\n');
      await setState(app, id, 'UploadComplete');
      await waitForJob(app, id);
      expect((await csvResult(app, id, 'successfulResults'))[0]?.sf__Created).toBe(expected);
    }
  });

  it('turns #N/A into null, keeps empty cells as empty strings and drops an empty Id column', async () => {
    const { app, org } = await build();
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Id,Cliniko_Patient_Id__c,LastName,Email,MobilePhone\n,1001,Lovelace,#N/A,\n');
    await setState(app, id, 'UploadComplete');
    expect((await waitForJob(app, id)).state).toBe('JobComplete');
    expect(org.calls[0]?.rows).toEqual([
      { Cliniko_Patient_Id__c: '1001', LastName: 'Lovelace', Email: null, MobilePhone: '' },
    ]);
    // The result repeats the data as uploaded.
    expect((await csvResult(app, id, 'successfulResults'))[0]).toMatchObject({ Id: '', Email: '#N/A' });
  });

  it('keeps the Id column for update and delete jobs', async () => {
    const { app, org } = await build();
    const id = await createJob(app, { object: 'Contact', operation: 'delete' });
    await upload(app, id, 'Id\n003000000000009AAA\n');
    await setState(app, id, 'UploadComplete');
    await waitForJob(app, id);
    expect(org.calls[0]).toMatchObject({ operation: 'delete', rows: [{ Id: '003000000000009AAA' }] });
  });

  it('is InProgress while rows are being applied', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const { app } = await build({
      applyDml: async (_u, _o, _op, _x, rows) => {
        entered = true;
        await gate;
        return rows.map(() => ({ success: true, created: true, id: '003000000000001AAA' }));
      },
    });
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1001,Lovelace\n');
    await setState(app, id, 'UploadComplete');
    while (!entered) await new Promise((r) => setTimeout(r, 2));
    expect((await info(app, id)).state).toBe('InProgress');
    expect(
      (await app.inject({ method: 'GET', url: `${BASE}/${id}/successfulResults`, headers: auth })).statusCode,
    ).toBe(409);
    release();
    expect((await waitForJob(app, id)).state).toBe('JobComplete');
  });

  it('applies rows in chunks and accepts several uploads with the same header', async () => {
    const { app, org } = await build({ chunkSize: 2 });
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1,A\n2,B\n3,C\n');
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n4,D\n5,E\n');
    await setState(app, id, 'UploadComplete');
    expect(await waitForJob(app, id)).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 5 });
    expect(org.calls.map((c) => c.rows.length)).toEqual([2, 2, 1]);
    expect((await csvResult(app, id, 'successfulResults')).map((r) => r.LastName)).toEqual([
      'A',
      'B',
      'C',
      'D',
      'E',
    ]);
  });

  it('reads TAB-delimited CRLF data and answers in the same format', async () => {
    const { app, org } = await build();
    const id = await createJob(app, { ...UPSERT, lineEnding: 'CRLF', columnDelimiter: 'TAB' });
    await upload(app, id, 'Cliniko_Patient_Id__c\tLastName\r\n1001\tLove, lace\r\n');
    await setState(app, id, 'UploadComplete');
    expect((await waitForJob(app, id)).state).toBe('JobComplete');
    expect(org.calls[0]?.rows).toEqual([{ Cliniko_Patient_Id__c: '1001', LastName: 'Love, lace' }]);
    const res = await app.inject({ method: 'GET', url: `${BASE}/${id}/successfulResults`, headers: auth });
    expect(res.body).toBe(
      '"sf__Id"\t"sf__Created"\t"Cliniko_Patient_Id__c"\t"LastName"\r\n"003000000000001AAA"\t"true"\t"1001"\t"Love, lace"\r\n',
    );
  });

  it('lists jobs and deletes a finished job', async () => {
    const { app } = await build();
    const id = await createJob(app, UPSERT);
    const list = await app.inject({ method: 'GET', url: BASE, headers: auth });
    expect(list.json()).toMatchObject({ done: true, nextRecordsUrl: null, records: [{ id, state: 'Open' }] });
    expect((await app.inject({ method: 'DELETE', url: `${BASE}/${id}`, headers: auth })).statusCode).toBe(
      409,
    );
    await setState(app, id, 'Aborted');
    expect((await app.inject({ method: 'DELETE', url: `${BASE}/${id}`, headers: auth })).statusCode).toBe(
      204,
    );
    const gone = await app.inject({ method: 'GET', url: `${BASE}/${id}`, headers: auth });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual([
      { errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' },
    ]);
  });
});

describe('Bulk API 2.0 ingest: processing beside the API (issue #16)', () => {
  /** An org whose every row costs `msPerRow` of this thread's time, as the emulator's real org does. */
  function busyOrg(msPerRow: number) {
    const applied: string[] = [];
    const applyDml: BulkIngestOptions['applyDml'] = (_u, _o, _op, _x, rows) => {
      const until = performance.now() + msPerRow * rows.length;
      while (performance.now() < until) {
        // the work of applying the rows
      }
      applied.push(...rows.map((r) => r.Cliniko_Patient_Id__c ?? ''));
      return Promise.resolve(rows.map(() => ({ success: true, created: true, id: '003000000000001AAA' })));
    };
    return { applied, applyDml };
  }

  const rowsCsv = (prefix: string, n: number) =>
    `Cliniko_Patient_Id__c,LastName\n${Array.from({ length: n }, (_, i) => `${prefix}${i},L`).join('\n')}\n`;

  /** Over real HTTP: while job A (400 rows, about 400 ms) processes, what does a check of A say? */
  async function stateSeenWhileProcessing(sliceRows: number): Promise<string> {
    const org = busyOrg(1);
    const { app } = await build({ applyDml: org.applyDml, sliceRows });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const call = (method: string, path: string, body?: string, type = 'application/json') =>
      fetch(`${address}${BASE}${path}`, {
        method,
        headers: { ...auth, 'content-type': type },
        ...(body === undefined ? {} : { body }),
      });
    const a = ((await (await call('POST', '', JSON.stringify(UPSERT))).json()) as { id: string }).id;
    await call('PUT', `/${a}/batches`, rowsCsv('a', 400), 'text/csv');
    await call('PATCH', `/${a}`, JSON.stringify({ state: 'UploadComplete' }));
    while (org.applied.length === 0) await new Promise((r) => setTimeout(r, 1));
    // Processing has begun: another job is created and uploaded, then A is checked.
    const b = ((await (await call('POST', '', JSON.stringify(UPSERT))).json()) as { id: string }).id;
    expect((await call('PUT', `/${b}/batches`, rowsCsv('b', 1), 'text/csv')).status).toBe(201);
    const seen = ((await (await call('GET', `/${a}`)).json()) as JobInfo).state;
    expect((await waitForJob(app, a)).state).toBe('JobComplete');
    return seen;
  }

  it('answers other requests while a large job is processing (control: applied whole, the check waits for the end)', async () => {
    expect(await stateSeenWhileProcessing(50)).toBe('InProgress');
    expect(await stateSeenWhileProcessing(1_000)).toBe('JobComplete');
  });

  it('processes jobs one at a time in the order they were closed; a queued job shows UploadComplete', async () => {
    const org = busyOrg(0.5);
    const { app } = await build({ applyDml: org.applyDml, sliceRows: 20 });
    const a = await createJob(app, UPSERT);
    const b = await createJob(app, UPSERT);
    await upload(app, a, rowsCsv('a', 200));
    await upload(app, b, rowsCsv('b', 200));
    await setState(app, a, 'UploadComplete');
    await setState(app, b, 'UploadComplete');
    while (org.applied.length === 0) await new Promise((r) => setTimeout(r, 1));
    expect((await info(app, a)).state).toBe('InProgress');
    expect((await info(app, b)).state).toBe('UploadComplete');
    expect((await waitForJob(app, b)).state).toBe('JobComplete');
    // Every row of A was applied before the first of B (taking turns, they would interleave).
    expect(org.applied.findIndex((k) => k.startsWith('b'))).toBe(200);
    expect(org.applied).toHaveLength(400);
  });
});

describe('Bulk API 2.0 ingest: errors', () => {
  it('answers 401 INVALID_SESSION_ID without a valid session, on every route', async () => {
    const { app, org } = await build();
    const id = await createJob(app, UPSERT);
    const requests = [
      { method: 'POST' as const, url: BASE, payload: UPSERT },
      { method: 'GET' as const, url: BASE },
      { method: 'GET' as const, url: `${BASE}/${id}` },
      {
        method: 'PUT' as const,
        url: `${BASE}/${id}/batches`,
        payload: 'LastName\nx\n',
        headers: { 'content-type': 'text/csv' },
      },
      { method: 'PATCH' as const, url: `${BASE}/${id}`, payload: { state: 'UploadComplete' } },
      { method: 'GET' as const, url: `${BASE}/${id}/failedResults` },
      { method: 'DELETE' as const, url: `${BASE}/${id}` },
    ];
    for (const request of requests) {
      const res = await app.inject({
        ...request,
        headers: { ...request.headers, authorization: 'Bearer expired' },
      });
      expect(res.statusCode, `${request.method} ${request.url}`).toBe(401);
      expect(res.json()).toEqual([
        { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
      ]);
    }
    expect((await info(app, id)).state).toBe('Open');
    expect(org.calls).toHaveLength(0);
  });

  it('rejects invalid job definitions', async () => {
    const { app } = await build();
    const bad = async (payload: Record<string, unknown>) => {
      const res = await app.inject({ method: 'POST', url: BASE, headers: auth, payload });
      expect(res.statusCode).toBe(400);
      return res.json<Array<{ errorCode: string; message: string }>>()[0];
    };
    expect(await bad({ operation: 'insert' })).toMatchObject({
      errorCode: 'INVALIDJOB',
      message: expect.stringContaining('object') as unknown,
    });
    expect((await bad({ object: 'Contact', operation: 'merge' }))?.message).toContain(
      'Invalid operation: merge',
    );
    expect((await bad({ object: 'Contact', operation: 'upsert' }))?.message).toContain(
      'External ID was blank',
    );
    expect((await bad({ ...UPSERT, lineEnding: 'CR' }))?.message).toContain('Invalid lineEnding: CR');
    expect((await bad({ ...UPSERT, columnDelimiter: 'COLON' }))?.message).toContain(
      'Invalid columnDelimiter',
    );
    expect((await bad({ ...UPSERT, contentType: 'JSON' }))?.message).toContain('Unsupported contentType');
  });

  it('refuses uploads and state changes that the job state does not allow', async () => {
    const { app } = await build();
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1001,Lovelace\n');
    await setState(app, id, 'UploadComplete');
    const late = await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1002,Hopper\n');
    expect(late.statusCode).toBe(409);
    expect(late.json<Array<{ errorCode: string }>>()[0]?.errorCode).toBe('INVALIDJOBSTATE');
    await waitForJob(app, id);
    expect((await setState(app, id, 'Aborted')).statusCode).toBe(409);
    expect((await setState(app, id, 'Open')).statusCode).toBe(409);
  });

  it('aborts a job: nothing is applied and the uploaded rows are unprocessed', async () => {
    const { app, org } = await build();
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1001,Lovelace\n1002,Hopper\n');
    const aborted = await setState(app, id, 'Aborted');
    expect(aborted.json()).toMatchObject({ id, state: 'Aborted' });
    expect((await setState(app, id, 'UploadComplete')).statusCode).toBe(409);
    expect(await info(app, id)).toMatchObject({ state: 'Aborted', numberRecordsProcessed: 0 });
    expect(await csvResult(app, id, 'unprocessedrecords')).toEqual([
      { Cliniko_Patient_Id__c: '1001', LastName: 'Lovelace' },
      { Cliniko_Patient_Id__c: '1002', LastName: 'Hopper' },
    ]);
    expect(await csvResult(app, id, 'successfulResults')).toEqual([]);
    expect(org.calls).toHaveLength(0);
  });

  it.each([
    [
      'an unclosed quote',
      'Cliniko_Patient_Id__c,LastName\n1001,"Lovelace\n',
      /InvalidBatch : Failed to parse CSV: .*Quote Not Closed/,
    ],
    [
      'CRLF data in an LF job',
      'Cliniko_Patient_Id__c,LastName\r\n1001,Lovelace\r\n',
      /LineEnding is invalid on user data. Current LineEnding setting is LF/,
    ],
    ['a duplicate column', 'LastName,lastname\nA,B\n', /Duplicate field name: lastname/],
    ['an empty column name', 'Cliniko_Patient_Id__c,,LastName\n1,2,3\n', /Field name is empty in column 2/],
    ['no external id column', 'LastName\nLovelace\n', /Field name not provided: Cliniko_Patient_Id__c/],
  ])('fails the job with a clear message for %s', async (_name, csv, message) => {
    const { app, org } = await build();
    const id = await createJob(app, UPSERT);
    await upload(app, id, csv);
    await setState(app, id, 'UploadComplete');
    const job = await waitForJob(app, id);
    expect(job.state).toBe('Failed');
    expect(job.errorMessage).toMatch(message);
    expect(org.calls).toHaveLength(0);
  });

  it('fails a row with too few or too many values on its own and applies the rest', async () => {
    const { app, org } = await build();
    const id = await createJob(app, UPSERT);
    await upload(
      app,
      id,
      'Cliniko_Patient_Id__c,LastName\n1001,Lovelace\n1002\n1003,Hopper,extra\n1004,Dijkstra\n',
    );
    await setState(app, id, 'UploadComplete');
    expect(await waitForJob(app, id)).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 4,
      numberRecordsFailed: 2,
    });
    expect(org.calls[0]?.rows.map((r) => r.Cliniko_Patient_Id__c)).toEqual(['1001', '1004']);
    const failed = await app.inject({ method: 'GET', url: `${BASE}/${id}/failedResults`, headers: auth });
    const rows: string[][] = parse(failed.body, { relax_column_count: true });
    expect(rows.slice(1)).toEqual([
      ['', 'INVALID_ROW:The row at line 3 has 1 values but the header has 2 columns: --', '1002'],
      [
        '',
        'INVALID_ROW:The row at line 4 has 3 values but the header has 2 columns: --',
        '1003',
        'Hopper',
        'extra',
      ],
    ]);
  });

  it('fails a job closed without data', async () => {
    const { app } = await build();
    const id = await createJob(app, UPSERT);
    await setState(app, id, 'UploadComplete');
    expect(await waitForJob(app, id)).toMatchObject({
      state: 'Failed',
      errorMessage: 'InvalidBatch : No data was uploaded for this job',
    });
  });

  it('fails the job when applyDml throws, keeping results so far and listing the rest as unprocessed', async () => {
    let call = 0;
    const { app } = await build({
      chunkSize: 1,
      applyDml: (_u, _o, _op, _x, rows) => {
        if (++call === 2) return Promise.reject(new Error('storage unavailable'));
        return Promise.resolve(rows.map(() => ({ success: true, created: true, id: '003000000000001AAA' })));
      },
    });
    const id = await createJob(app, UPSERT);
    await upload(app, id, 'Cliniko_Patient_Id__c,LastName\n1,A\n2,B\n3,C\n');
    await setState(app, id, 'UploadComplete');
    expect(await waitForJob(app, id)).toMatchObject({
      state: 'Failed',
      errorMessage: 'InternalServerError : storage unavailable',
      numberRecordsProcessed: 1,
    });
    expect((await csvResult(app, id, 'successfulResults')).map((r) => r.LastName)).toEqual(['A']);
    expect((await csvResult(app, id, 'unprocessedrecords')).map((r) => r.LastName)).toEqual(['B', 'C']);
  });
});
