import { describe, expect, it } from 'vitest';
import { loadDataMap } from '../../governance/data-map.js';
import { payloadSha256 } from '../../governance/canonical.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { soqlString } from '../common/soql.js';
import { sameSalesforceValue as sameValue } from '../common/value-equality.js';
import {
  currentValuesQuery,
  diffRecord,
  flattenFields,
  formatPreview,
  runDryRun,
  DRIFT_NOTE,
  type RecordPreview,
  valueAt,
  type DesiredRecord,
} from './index.js';

const desired = (fields: Record<string, unknown>): DesiredRecord => ({
  object: 'Contact',
  externalIdField: 'Cliniko_Patient_Id__c',
  externalId: '1100',
  fields,
});

describe('flattenFields / valueAt', () => {
  it('turns a lookup by external id into the path SOQL reads it back by', () => {
    expect(
      flattenFields({ Contact__r: { Cliniko_Patient_Id__c: '7' }, Contact__c: undefined, Name: 'x' }),
    ).toEqual({ 'Contact__r.Cliniko_Patient_Id__c': '7', Contact__c: undefined, Name: 'x' });
    expect(
      valueAt(
        { Contact__r: { attributes: {}, Cliniko_Patient_Id__c: '7' } },
        'Contact__r.Cliniko_Patient_Id__c',
      ),
    ).toBe('7');
    expect(valueAt({ Contact__r: null }, 'Contact__r.Cliniko_Patient_Id__c')).toBeNull();
    expect(valueAt({}, 'Email')).toBeNull();
  });
});

describe('sameValue', () => {
  it('compares meaning, not the spelling Salesforce answers with', () => {
    expect(sameValue('12.50', 12.5)).toBe(true);
    expect(sameValue(3, '3')).toBe(true);
    expect(sameValue('2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000+0000')).toBe(true);
    expect(sameValue('2026-01-02T03:04:05Z', '2026-01-02T03:04:06.000+0000')).toBe(false);
    expect(sameValue('2026-01-02', '2026-01-02')).toBe(true);
    expect(sameValue(null, '')).toBe(true);
    expect(sameValue('', null)).toBe(true);
    expect(sameValue(null, false)).toBe(true); // writing null to a checkbox stores false
    expect(sameValue(false, null)).toBe(false);
    expect(sameValue(true, false)).toBe(false);
    // A multi-select picklist is a set of selections; the same text in a plain text field is not
    // (issue 14: decided by the field's metadata type, see common/value-equality.test.ts).
    expect(sameValue('Email;SMS', 'SMS;Email', 'MultiselectPicklist')).toBe(true);
    expect(sameValue('Email;SMS', 'SMS;Email', 'Text')).toBe(false);
    expect(sameValue('a@example.com', 'A@example.com')).toBe(false);
    expect(sameValue('x', null)).toBe(false);
  });
});

describe('diffRecord', () => {
  it('reports a record Salesforce does not have as a create of its non-empty fields', () => {
    const p = diffRecord(desired({ LastName: 'Doe', Email: 'a@example.com', Phone: null }), undefined);
    expect(p.action).toBe('create');
    expect(p.changes.map((c) => [c.field, c.kind])).toEqual([
      ['LastName', 'set'],
      ['Email', 'set'],
    ]);
  });

  it('reports set, changed and cleared fields, and nothing for equal ones', () => {
    const p = diffRecord(
      desired({
        LastName: 'Doe',
        Email: 'new@example.com',
        Phone: null,
        MobilePhone: '0400',
        Birthdate: '1990-01-01',
      }),
      {
        LastName: 'Doe',
        Email: 'old@example.com',
        Phone: '02 9999',
        MobilePhone: null,
        Birthdate: '1990-01-01',
      },
    );
    expect(p.action).toBe('update');
    expect(p.changes.map((c) => [c.field, c.kind])).toEqual([
      ['Email', 'changed'],
      ['Phone', 'cleared'],
      ['MobilePhone', 'set'],
    ]);
  });

  it('is unchanged when Salesforce already holds every value', () => {
    const p = diffRecord(desired({ 'Contact__r.Cliniko_Patient_Id__c': '7', Amount__c: '10.00' }), {
      Contact__r: { Cliniko_Patient_Id__c: '7' },
      Amount__c: 10,
    });
    expect(p).toMatchObject({ action: 'unchanged', changes: [] });
  });
});

describe('formatPreview', () => {
  const update = diffRecord(desired({ Email: 'new@example.com' }), { Email: 'old@example.com' });

  it('prints field names and kinds, never values, by default', () => {
    expect(formatPreview(update)).toBe('UPDATE Contact 1100: Email: changed');
    expect(formatPreview(diffRecord(desired({ LastName: 'Doe' }), undefined))).toBe(
      'CREATE Contact 1100: LastName',
    );
    expect(formatPreview(diffRecord(desired({ Email: 'x' }), { Email: 'x' }))).toBeUndefined();
  });

  it('prints values only when asked, cut to a readable length', () => {
    expect(formatPreview(update, true)).toBe(
      'UPDATE Contact 1100: Email: changed "old@example.com" -> "new@example.com"',
    );
    const long = formatPreview(diffRecord(desired({ Notes__c: 'x'.repeat(200) }), undefined), true)!;
    expect(long.length).toBeLessThan(120);
    expect(long.endsWith('...')).toBe(true);
  });
});

describe('currentValuesQuery', () => {
  it('selects only the target fields and escapes the external ids', () => {
    expect(soqlString("o'brien\\x")).toBe("'o\\'brien\\\\x'");
    expect(currentValuesQuery('Contact', 'Cliniko_Patient_Id__c', ['Email', 'Id'], ['1', "2'"])).toBe(
      "SELECT Id, Cliniko_Patient_Id__c, Email FROM Contact WHERE Cliniko_Patient_Id__c IN ('1', '2\\'')",
    );
  });
});

describe('runDryRun', () => {
  const map = loadDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);
  const patient = (i: number, extra: Record<string, unknown> = {}) => {
    const raw = { id: String(1000 + i), first_name: 'Pat', last_name: `Doe${i}`, ...extra };
    return {
      kind: 'record',
      resource: 'patients',
      id: raw.id,
      updatedAt: '2026-01-01T00:00:00Z',
      record: raw,
      raw,
    };
  };

  /** A Cliniko client whose patients stream yields `patients` and records how far it was read. */
  function fakeCliniko(patients: unknown[], appointments: unknown[] = []) {
    const reads: Array<{ since?: string }> = [];
    let pulled = 0;
    async function* stream(events: unknown[], options: { since?: string } = {}, record = true) {
      if (record) reads.push(options);
      for (const ev of events) {
        if (record) pulled += 1;
        yield await Promise.resolve(ev);
      }
    }
    const empty = () => stream([], {}, false);
    return {
      client: {
        stats: () => ({ requests: 0 }),
        streams: {
          businesses: {
            read: () =>
              stream(
                [{ kind: 'record', id: '1', record: { id: '1', display_name: 'Clinic One' } }],
                {},
                false,
              ),
          },
          practitioners: { read: empty },
          appointmentTypes: { read: empty },
          patients: { read: (o?: { since?: string }) => stream(patients, o) },
          patientCases: { read: empty },
          individualAppointments: { read: () => stream(appointments, {}, false) },
          invoices: { read: empty },
        },
      } as never,
      reads,
      pulled: () => pulled,
    };
  }

  /** External id -> the payload hash the store says the sync last wrote. */
  const storedHashes = new Map<string, string>();
  /** Merged-away patient -> survivor, as the runner's `merged-patient` facts record them. */
  const storedMerges = new Map<string, string>();

  function deps(cliniko: unknown, query: (soql: string) => Promise<Array<Record<string, unknown>>>) {
    return {
      cliniko: cliniko as never,
      store: {
        getWatermark: () =>
          Promise.resolve({
            stream: 'patients',
            cursor: '2026-01-01T00:00:00Z',
            settled: null,
            updatedAt: 0,
          }),
        // No patient is held (matching existing records: test/e2e/contact-matching.test.ts).
        listContactHolds: () => Promise.resolve([]),
        getFacts: (resource: string, ids: readonly string[]) =>
          Promise.resolve(
            ids.flatMap((id) => {
              if (resource !== 'merged-patient') return [];
              const survivor = storedMerges.get(id);
              return survivor
                ? [{ resource: 'merged-patient', id, patientId: id, data: JSON.stringify({ survivor }) }]
                : [];
            }),
          ),
        getRecordStates: (object: string, ids: readonly string[]) =>
          Promise.resolve(
            new Map(
              ids.flatMap((id) => {
                const hash = storedHashes.get(id);
                return hash
                  ? [[id, { object, externalId: id, salesforceId: null, payloadHash: hash, updatedAt: 0 }]]
                  : [];
              }),
            ),
          ),
      } as never,
      dataMap: map,
      journeyConfig: {} as never,
      clinicTimezone: 'Australia/Sydney',
      now: () => Date.parse('2026-02-01T00:00:00Z'),
      query,
    };
  }

  it('queries Salesforce in chunks of at most 200 external ids and counts per object', async () => {
    const fake = fakeCliniko(Array.from({ length: 450 }, (_, i) => patient(i)));
    const queries: string[] = [];
    const result = await runDryRun(
      deps(fake.client, (soql) => {
        queries.push(soql);
        // Salesforce already holds patients 0..99 exactly as projected.
        const ids = [...soql.matchAll(/'(\d+)'/g)].map((m) => m[1]!).filter((id) => Number(id) < 1100);
        return Promise.resolve(
          ids.map((id) => ({
            Cliniko_Patient_Id__c: id,
            FirstName: 'Pat',
            LastName: `Doe${Number(id) - 1000}`,
          })),
        );
      }),
      { full: true },
    );
    expect(queries).toHaveLength(3);
    for (const q of queries) {
      expect([...q.matchAll(/'\d+'/g)].length).toBeLessThanOrEqual(200);
      expect(q).toMatch(/^SELECT Id, Cliniko_Patient_Id__c, FirstName, LastName FROM Contact WHERE/);
    }
    expect(result.counts.Contact).toEqual({ create: 350, update: 0, drift: 0, unchanged: 100 });
    expect(result.salesforceQueries).toBe(3);
    expect(fake.reads).toHaveLength(1);
    expect(fake.reads[0]).not.toHaveProperty('since');
  });

  it('reads from the stored watermark by default and stops at --limit', async () => {
    const fake = fakeCliniko(Array.from({ length: 50 }, (_, i) => patient(i)));
    const result = await runDryRun(
      deps(fake.client, () => Promise.resolve([])),
      { limit: 5 },
    );
    // As the cycle would: from the settled point (the cursor minus the overlap for a watermark without
    // one), since a month later that window has settled and is due for its recheck (bookmarks.ts).
    expect(fake.reads[0]).toMatchObject({ since: '2025-12-31T23:58:00Z' });
    expect(fake.pulled()).toBe(5);
    expect(result.streams[0]).toMatchObject({ resource: 'patients', read: 5, limited: true });
    expect(result.counts.Contact?.create).toBe(5);
  });

  it('reports a record the sync would quarantine, naming the field and not its value, and goes on', async () => {
    const long = 'Verylongname'.repeat(10);
    const fake = fakeCliniko([patient(1, { first_name: long }), patient(2)]);
    const problems: string[] = [];
    const result = await runDryRun(
      deps(fake.client, () => Promise.resolve([])),
      {
        onProblem: (p) => problems.push(`${p.recordId} ${p.reason}`),
      },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^1001 .*Contact\.FirstName/);
    expect(problems[0]).not.toContain(long);
    expect(result.problems).toBe(1);
    expect(result.counts.Contact?.create).toBe(1);
  });

  it('tells drift (Salesforce edited, Cliniko unchanged since the last write) from an update', async () => {
    // What the runner hashed when it last wrote patients 1001 and 1002: the projected payload.
    storedHashes.set(
      '1001',
      payloadSha256({ Cliniko_Patient_Id__c: '1001', FirstName: 'Pat', LastName: 'Doe1' }),
    );
    storedHashes.set(
      '1002',
      payloadSha256({ Cliniko_Patient_Id__c: '1002', FirstName: 'Pat', LastName: 'Before' }),
    );
    const fake = fakeCliniko([patient(1), patient(2)]);
    const previews: RecordPreview[] = [];
    const result = await runDryRun(
      deps(fake.client, () =>
        Promise.resolve([
          { Cliniko_Patient_Id__c: '1001', FirstName: 'Pat', LastName: 'Edited in Salesforce' },
          { Cliniko_Patient_Id__c: '1002', FirstName: 'Pat', LastName: 'Before' },
        ]),
      ),
      { onRecord: (p) => previews.push(p) },
    );
    storedHashes.clear();
    expect(previews.map((p) => [p.externalId, p.action])).toEqual([
      ['1001', 'drift'],
      ['1002', 'update'],
    ]);
    expect(result.counts.Contact).toEqual({ create: 0, update: 1, drift: 1, unchanged: 0 });
    expect(formatPreview(previews[0]!)).toBe(`DRIFT Contact 1001: LastName: changed ${DRIFT_NOTE}`);
  });

  it('writes children of a merged-away patient against the survivor, as the runner does', async () => {
    const link = (id: string) => ({ links: { self: `https://api.au1.cliniko.com/v1/patients/${id}` } });
    const appointment = (id: string, patientId: string) => {
      // The fields a validated appointment always has (the journey facts read them).
      const raw = {
        id,
        patient: link(patientId),
        starts_at: '2026-01-10T00:00:00Z',
        ends_at: '2026-01-10T00:30:00Z',
        created_at: '2026-01-01T00:00:00Z',
        appointment_type: { links: { self: 'https://api.au1.cliniko.com/v1/appointment_types/1' } },
        business: { links: { self: 'https://api.au1.cliniko.com/v1/businesses/1' } },
        practitioner: { links: { self: 'https://api.au1.cliniko.com/v1/practitioners/1' } },
      };
      return {
        kind: 'record',
        resource: 'individual_appointments',
        id,
        updatedAt: '2026-01-10T00:00:00Z',
        record: raw,
        raw,
      };
    };
    storedMerges.set('1003', '1004'); // merged in an earlier cycle
    const fake = fakeCliniko(
      [patient(1, { merged_with_patient: link('1002') }), patient(2)], // merged in this read
      [appointment('5001', '1001'), appointment('5002', '1003'), appointment('5003', '1002')],
    );
    const previews: RecordPreview[] = [];
    const problems: string[] = [];
    await runDryRun(
      deps(fake.client, () => Promise.resolve([])),
      {
        onRecord: (p) => previews.push(p),
        onProblem: (p) => problems.push(`${p.recordId}: ${p.reason}`),
      },
    );
    storedMerges.clear();
    expect(problems).toEqual([]);
    const parentOf = (id: string) =>
      previews
        .find((p) => p.externalId === id)
        ?.changes.find((c) => c.field === 'Contact__r.Cliniko_Patient_Id__c')?.after;
    expect([parentOf('5001'), parentOf('5002'), parentOf('5003')]).toEqual(['1002', '1004', '1002']);
  });
});
