import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { Connection } from 'jsforce';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { withoutValues } from './classify.js';
import { bulkCsv, createSalesforceWriter } from './writer.js';

describe('Salesforce error messages never carry the rejected value', () => {
  it.each([
    ['Email: invalid email address: zoe.obrien@example', 'Email: invalid email address: [value withheld]'],
    [
      'First Name: data value too large: Zoëëëëëëëë (max length=4)',
      'First Name: data value too large: [value withheld] (max length=4)',
    ],
    [
      'Gender: bad value for restricted picklist field: Unspecified-X',
      'Gender: bad value for restricted picklist field: [value withheld]',
    ],
    [
      'Birthdate: value not of required type: 1990-02-31',
      'Birthdate: value not of required type: [value withheld]',
    ],
    [
      'Amount: value outside of valid range on numeric field: 123456789012',
      'Amount: value outside of valid range on numeric field: [value withheld]',
    ],
  ])('%s', (message, expected) => {
    expect(withoutValues(message)).toBe(expected);
  });

  it('withholds any text value of the record sent, but keeps its identifiers', () => {
    const record = {
      Cliniko_Patient_Id__c: '1000042',
      LastName: "O'Brien-Canary",
      Contact__r: { Cliniko_Patient_Id__c: '1000041' },
    };
    expect(
      withoutValues("Last name O'Brien-Canary is not allowed (Foreign key external ID: 1000041)", record),
    ).toBe('Last name [value withheld] is not allowed (Foreign key external ID: 1000041)');
    expect(withoutValues('Required fields are missing: [LastName]', record)).toBe(
      'Required fields are missing: [LastName]',
    );
  });

  it('the writer returns per-record errors without the value Salesforce echoed', async () => {
    const connection = {
      upsert: () =>
        Promise.resolve([
          {
            success: false,
            errors: [
              {
                statusCode: 'INVALID_EMAIL_ADDRESS',
                message: 'Email: invalid email address: canary@@example.com',
                fields: ['Email'],
              },
            ],
          },
        ]),
      limitInfo: {},
    } as unknown as Connection;
    const writer = createSalesforceWriter(connection, createLogger({ level: 'silent', pretty: false }));
    const [result] = await writer.upsert('Contact', 'Cliniko_Patient_Id__c', [
      { Cliniko_Patient_Id__c: '7', Email: 'canary@@example.com' },
    ]);
    expect(result?.success).toBe(false);
    expect(result?.error).toMatchObject({ code: 'INVALID_EMAIL_ADDRESS', fields: ['Email'] });
    expect(result?.error?.message).toBe('Email: invalid email address: [value withheld]');
  });
});

describe('a whole-call failure', () => {
  it('keeps its code but not the value Salesforce echoed', async () => {
    const connection = {
      upsert: () =>
        Promise.reject(
          Object.assign(
            new Error(
              'Cannot deserialize instance of date from VALUE_STRING value 1990-02-31 or request may be missing a required field',
            ),
            { errorCode: 'JSON_PARSER_ERROR' },
          ),
        ),
      limitInfo: {},
    } as unknown as Connection;
    const writer = createSalesforceWriter(connection, createLogger({ level: 'silent', pretty: false }));
    const failure = await writer
      .upsert('Contact', 'Cliniko_Patient_Id__c', [{ Cliniko_Patient_Id__c: '7', Birthdate: '1990-02-31' }])
      .then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    expect(failure).toMatchObject({ code: 'SALESFORCE_RECORD_REJECTED', upstreamCode: 'JSON_PARSER_ERROR' });
    expect(failure?.message).not.toContain('1990-02-31');
  });
});

describe('a Bulk API 2.0 upsert', () => {
  it('leaves a field a record does not carry unchanged (empty cell) and clears a null one (#N/A, the control)', async () => {
    let rows: Array<Record<string, string>> = [];
    let csv = '';
    const connection = {
      bulk2: {
        createJob: () => ({
          open: () => Promise.resolve(),
          // The writer hands jsforce a stream of the text (so that jsforce does not copy it).
          uploadData: async (input: Readable) => {
            csv = await text(input);
            // The oracle: csv-parse reads the upload back into one object per row, by header.
            rows = parse<Record<string, string>>(csv, { columns: true });
          },
          close: () => Promise.resolve(),
          check: () => Promise.resolve({ state: 'JobComplete' }),
          // The results as Salesforce sends them: CSV files, each row with the columns it was sent.
          getSuccessfulResults: () =>
            Promise.resolve(
              stringify(
                rows.map((r) => ({ sf__Id: `003${r.Cliniko_Patient_Id__c}`, sf__Created: 'true', ...r })),
                { header: true },
              ),
            ),
          getFailedResults: () => Promise.resolve('sf__Id,sf__Error,Cliniko_Patient_Id__c\n'),
          getUnprocessedRecords: () => Promise.resolve(''),
          delete: () => Promise.resolve(),
        }),
      },
      limitInfo: {},
    } as unknown as Connection;
    const writer = createSalesforceWriter(connection, createLogger({ level: 'silent', pretty: false }));
    // A merged record (projection + journey slot) beside one with the projection only.
    const results = await writer.upsert(
      'Contact',
      'Cliniko_Patient_Id__c',
      [
        { Cliniko_Patient_Id__c: '1', LastName: 'A', Journey_Stage__c: 'Active', Phone: null },
        { Cliniko_Patient_Id__c: '2', LastName: 'O"Brien, B', Account__r: { Cliniko_Business_Id__c: '9' } },
      ],
      { bulk: true },
    );
    expect(results.map((r) => r.success)).toEqual([true, true]);
    expect(csv).toBe(
      [
        'Cliniko_Patient_Id__c,LastName,Journey_Stage__c,Phone,Account__r.Cliniko_Business_Id__c',
        '1,A,Active,#N/A,',
        '2,"O""Brien, B",,,9',
        '',
      ].join('\n'),
    );
    expect(rows).toEqual([
      {
        Cliniko_Patient_Id__c: '1',
        LastName: 'A',
        Journey_Stage__c: 'Active',
        Phone: '#N/A',
        'Account__r.Cliniko_Business_Id__c': '',
      },
      {
        Cliniko_Patient_Id__c: '2',
        LastName: 'O"Brien, B',
        'Account__r.Cliniko_Business_Id__c': '9',
        Journey_Stage__c: '',
        Phone: '',
      },
    ]);
  });
});

describe('waiting for a Bulk API 2.0 job', () => {
  /** A job that answers `states` to its checks, one after another. */
  function jobAnswering(...states: Array<{ state: string; errorMessage?: string }>) {
    const seen = { checks: 0, deleted: 0 };
    const job = {
      open: () => Promise.resolve(),
      uploadData: () => Promise.resolve(),
      close: () => Promise.resolve(),
      check: () => Promise.resolve(states[Math.min(seen.checks++, states.length - 1)]!),
      getSuccessfulResults: () => Promise.resolve('sf__Id,sf__Created,Cliniko_Patient_Id__c\n0031,false,1\n'),
      getFailedResults: () => Promise.resolve(''),
      getUnprocessedRecords: () => Promise.resolve(''),
      delete: () => {
        seen.deleted += 1;
        return Promise.resolve();
      },
    };
    const connection = { bulk2: { createJob: () => job }, limitInfo: {} } as unknown as Connection;
    const writer = createSalesforceWriter(connection, createLogger({ level: 'silent', pretty: false }));
    const upsert = () =>
      writer.upsert('Contact', 'Cliniko_Patient_Id__c', [{ Cliniko_Patient_Id__c: '1' }], { bulk: true });
    return { seen, upsert };
  }

  it('checks until the job is complete, then reads its results', async () => {
    const { seen, upsert } = jobAnswering(
      { state: 'UploadComplete' },
      { state: 'InProgress' },
      { state: 'JobComplete' },
    );
    const results = await upsert();
    expect(results).toMatchObject([{ key: '1', success: true, id: '0031', created: false }]);
    expect(seen.checks).toBe(3);
    expect(seen.deleted).toBe(0);
  });

  it('a failed job is a classified whole-call failure, and the job is deleted', async () => {
    const { seen, upsert } = jobAnswering(
      { state: 'InProgress' },
      { state: 'Failed', errorMessage: 'InvalidBatch' },
    );
    await expect(upsert()).rejects.toMatchObject({ name: 'SyncError' });
    expect(seen.checks).toBe(2);
    expect(seen.deleted).toBe(1);
  });
});

describe('bulkCsv', () => {
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: fc.constantFrom('"', ',', '\r', '\n', 'a', ' ', 'é', '名', '#', "'", '=') }),
  );
  const scalar = fc.oneof(
    text,
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const field = fc.constantFrom('A__c', 'B__c', 'LastName', 'Email', 'Has "quote"', 'Comma,Name');
  const record = fc
    .tuple(
      fc.dictionary(field, scalar),
      fc.option(fc.record({ Cliniko_Patient_Id__c: text }), { nil: undefined }),
    )
    .map(([fields, parent]) => (parent ? { ...fields, Contact__r: parent } : fields));

  /** What csv-stringify writes for the same header and rows (its defaults). */
  function byStringify(records: ReadonlyArray<Record<string, unknown>>): string {
    const columns: string[] = [];
    const rows = records.map((r) => {
      const row: Record<string, string> = {};
      for (const [k, v] of Object.entries(r)) {
        const cells: Array<[string, unknown]> =
          v && typeof v === 'object'
            ? Object.entries(v as Record<string, unknown>).map(([f, x]): [string, unknown] => [
                `${k}.${f}`,
                x,
              ])
            : [[k, v]];
        for (const [name, value] of cells) {
          if (!columns.includes(name)) columns.push(name);
          row[name] = value === null ? '#N/A' : typeof value === 'string' ? value : JSON.stringify(value);
        }
      }
      return row;
    });
    return stringify(
      rows.map((row) => columns.map((c) => row[c] ?? '')),
      { header: true, columns },
    );
  }

  it("writes exactly csv-stringify's RFC 4180 text for the same rows", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const csv = bulkCsv(records);
        expect(csv).toBe(byStringify(records));
      }),
      { numRuns: 1500 },
    );
  });
});
