import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDataMapLookups } from '../governance-io/lookups.js';
import { isSyncError } from '../errors.js';
import {
  formatDataMapProblems,
  loadDataMap,
  parseDataMap,
  type DataMapLookups,
  type DataMapProblem,
} from './data-map.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from './test-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function problemsOf(text: string, lookups: DataMapLookups = FIXTURE_LOOKUPS): DataMapProblem[] {
  const result = parseDataMap(text, lookups);
  if (result.ok) throw new Error('expected problems');
  return [...result.problems];
}

/** FIXTURE_MAP with one more entry appended under `entries:`. */
function withEntry(entry: string): string {
  return FIXTURE_MAP.replace('derived:\n', `${entry}derived:\n`);
}

describe('parseDataMap on a valid map', () => {
  it('parses entries, defaults and derived fields', () => {
    const result = parseDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { map } = result;
    expect(map.entries).toHaveLength(17);
    const street = map.entries.find((e) => e.target?.path === 'Contact.MailingStreet');
    expect(street).toMatchObject({
      key: 'patients.address_1+address_2+address_3 -> Contact.MailingStreet',
      sources: ['address_1', 'address_2', 'address_3'],
      direction: 'both',
      transform: 'address-join',
      target: { object: 'Contact', field: 'MailingStreet' },
    });
    const lastName = map.entries.find((e) => e.target?.path === 'Contact.LastName');
    expect(lastName?.direction).toBe('cliniko-to-salesforce');
    const clinical = map.entries.find((e) => e.key === 'patients.notes+appointment_notes+medicare');
    expect(clinical).toMatchObject({ classification: 'clinician-only', target: undefined });
    expect(map.derived.map((d) => d.key)).toEqual(['derived -> Contact.Journey_Stage__c']);
    expect(map.signoff).toMatchObject({
      approvedBy: 'Jane Citizen (Compliance Officer)',
      approvedOn: '2026-11-01',
    });
  });
});

describe('parseDataMap errors name the entry and the key', () => {
  it('unknown classification', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: secret\n    target: Contact.MailingCity\n    rationale: x.\n',
      ),
    );
    expect(problems).toEqual([
      {
        where: 'entries[17] (patients.city -> Contact.MailingCity)',
        key: 'classification',
        message: 'must be one of marketing-safe, operations-safe, billing, clinician-only',
      },
    ]);
  });

  it('a shape the review cannot check (control: a known shape parses and is kept)', () => {
    const entry = (shape: string) =>
      withEntry(
        `  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.MailingCity\n    shape: ${shape}\n    rationale: x.\n`,
      );
    expect(problemsOf(entry('freeform'))).toEqual([
      {
        where: 'entries[17] (patients.city -> Contact.MailingCity)',
        key: 'shape',
        message: 'must be one of email, phone, postcode, date, picklist, name',
      },
    ]);
    const ok = parseDataMap(entry('name'), FIXTURE_LOOKUPS);
    expect(ok.ok && ok.map.entries.find((e) => e.target?.path === 'Contact.MailingCity')?.shape).toBe('name');
  });

  it('clinician-only entry with a target', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: clinician-only\n    target: Contact.MailingCity\n    rationale: x.\n',
      ),
    );
    expect(problems).toContainEqual({
      where: 'entries[17] (patients.city -> Contact.MailingCity)',
      key: 'target',
      message: 'a clinician-only field must not have a target',
    });
  });

  it('non-clinical entry without a target', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    rationale: x.\n',
      ),
    );
    expect(problems).toContainEqual({
      where: 'entries[17] (patients.city)',
      key: 'target',
      message: 'a marketing-safe field needs a target (Object.Field)',
    });
  });

  it('duplicate targets, across entries and derived fields', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.Email\n    rationale: x.\n',
      ).replace('target: Contact.Journey_Stage__c', 'target: Contact.FirstName'),
    );
    expect(problems).toContainEqual({
      where: 'entries[17] (patients.city -> Contact.Email)',
      key: 'target',
      message: 'Contact.Email is already the target of entries[3] (patients.email -> Contact.Email)',
    });
    expect(problems).toContainEqual({
      where: 'derived[0] (Contact.FirstName)',
      key: 'target',
      message:
        'Contact.FirstName is already the target of entries[1] (patients.first_name -> Contact.FirstName)',
    });
  });

  it('targets the package does not have', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.Favourite_Colour__c\n    rationale: x.\n',
      ),
    );
    expect(problems).toContainEqual({
      where: 'entries[17] (patients.city -> Contact.Favourite_Colour__c)',
      key: 'target',
      message: 'Contact.Favourite_Colour__c is not a field of the package (force-app) or a standard field',
    });
  });

  it('fields and resources the Cliniko spec does not have', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: shoe_size\n    classification: clinician-only\n    rationale: x.\n' +
          '  - resource: horoscopes\n    source: sign\n    classification: clinician-only\n    rationale: x.\n',
      ),
    );
    expect(problems).toEqual([
      {
        where: 'entries[17] (patients.shoe_size)',
        key: 'source',
        message: 'the Cliniko spec has no field "shoe_size" on patients',
      },
      {
        where: 'entries[18] (horoscopes.sign)',
        key: 'resource',
        message: 'Cliniko has no resource "horoscopes" in the OpenAPI spec',
      },
    ]);
  });

  it('unknown transforms, transforms that do not fit the sources or the target type', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.MailingCity\n    transform: rot13\n    rationale: x.\n' +
          '  - resource: patients\n    source: [city, email]\n    classification: marketing-safe\n    target: Contact.MailingState\n    transform: text\n    rationale: x.\n' +
          '  - resource: patients\n    source: accepted_sms_marketing\n    classification: marketing-safe\n    target: Contact.MailingCountry\n    transform: boolean\n    rationale: x.\n',
      ),
    );
    expect(problems.map((p) => [p.where, p.key])).toEqual([
      ['entries[17] (patients.city -> Contact.MailingCity)', 'transform'],
      ['entries[18] (patients.city+email -> Contact.MailingState)', 'source'],
      ['entries[19] (patients.accepted_sms_marketing -> Contact.MailingCountry)', 'transform'],
    ]);
    expect(problems[0]?.message).toMatch(/^unknown transform "rot13" \(known: none, text, /);
    expect(problems[1]?.message).toBe('transform "text" takes exactly one source field');
    expect(problems[2]?.message).toBe(
      'transform "boolean" writes Checkbox but Contact.MailingCountry is Text',
    );
  });

  it('bad direction, and both on a field that cannot flow back', () => {
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.MailingCity\n    direction: sideways\n    rationale: x.\n' +
          '  - resource: patients\n    source: accepted_sms_marketing\n    classification: marketing-safe\n    target: Contact.DoNotCall\n    direction: both\n    transform: consent-opt-out\n    rationale: x.\n' +
          '  - resource: individual_appointments\n    source: starts_at\n    classification: operations-safe\n    target: Contact.Birthdate\n    direction: both\n    transform: date\n    rationale: x.\n',
      ),
    );
    expect(problems).toEqual([
      {
        where: 'entries[17] (patients.city -> Contact.MailingCity)',
        key: 'direction',
        message: 'must be one of cliniko-to-salesforce, both',
      },
      {
        where: 'entries[18] (patients.accepted_sms_marketing -> Contact.DoNotCall)',
        key: 'direction',
        message: 'transform "consent-opt-out" has no way back, so the field cannot be "both"',
      },
      {
        where: 'entries[19] (individual_appointments.starts_at -> Contact.Birthdate)',
        key: 'direction',
        message: 'only patients fields can flow back to Cliniko',
      },
    ]);
  });

  it('every object a resource writes needs its upsert key mapped from the record id', () => {
    const problems = problemsOf(
      FIXTURE_MAP.replace(
        '  - resource: individual_appointments\n    source: id\n    classification: operations-safe\n    target: Cliniko_Appointment__c.Cliniko_Appointment_Id__c\n    transform: id\n    rationale: Upsert key.\n',
        '',
      ),
    );
    expect(problems).toEqual([
      {
        where: 'individual_appointments -> Cliniko_Appointment__c',
        key: 'target',
        message:
          'no entry maps individual_appointments.id to Cliniko_Appointment__c.Cliniko_Appointment_Id__c, the upsert key',
      },
    ]);
  });

  it('write-back only from Contact fields', () => {
    const lookups: DataMapLookups = {
      ...FIXTURE_LOOKUPS,
      packageFields: new Map([
        ...FIXTURE_LOOKUPS.packageFields,
        ['Cliniko_Appointment__c.City__c', { type: 'Text' }],
      ]),
    };
    const problems = problemsOf(
      withEntry(
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Cliniko_Appointment__c.City__c\n    direction: both\n    rationale: x.\n',
      ),
      lookups,
    );
    expect(problems).toContainEqual({
      where: 'entries[17] (patients.city -> Cliniko_Appointment__c.City__c)',
      key: 'direction',
      message: 'only Contact fields are written back to Cliniko patients',
    });
  });

  it('collects every problem in one pass, including missing keys and unknown top-level keys', () => {
    const text = FIXTURE_MAP.replace('version: 1', 'version: 2\nextra: true').replace(
      '    rationale: Upsert key.\n  - resource: patients\n    source: first_name',
      '    rationale: ""\n  - resource: patients\n    source: first_name',
    );
    const problems = problemsOf(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        {
          where: 'data map',
          key: 'extra',
          message: expect.stringMatching(/unknown top-level key/) as unknown,
        },
        { where: 'data map', key: 'version', message: 'must be 1' },
        {
          where: 'entries[0] (patients.id -> Contact.Cliniko_Patient_Id__c)',
          key: 'rationale',
          message: 'rationale is empty',
        },
      ]),
    );
    expect(formatDataMapProblems(problems)).toContain('- data map version: must be 1');
  });

  it('tells a missing key from a key of the wrong type', () => {
    const problems = problemsOf(
      withEntry('  - resource: patients\n    source: 42\n    rationale: x.\n').replace(
        'sha256: PENDING',
        'sha256: 12',
      ),
    );
    expect(problems).toEqual([
      { where: 'signoff', key: 'sha256', message: 'sha256 must be text' },
      {
        where: 'entries[17] (patients.?)',
        key: 'source',
        message: 'source must be a field name or a list of field names',
      },
      { where: 'entries[17] (patients.?)', key: 'classification', message: 'classification is required' },
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('version: 1\nentries:\n  - resource: [unclosed\n');
    expect(problems[0]?.where).toMatch(/^data map line \d+$/);
  });

  it('loadDataMap throws DATA_MAP_INVALID listing the problems', () => {
    try {
      loadDataMap('version: 3\nentries: []\n', FIXTURE_LOOKUPS);
      expect.unreachable();
    } catch (err) {
      expect(isSyncError(err) && err.code).toBe('DATA_MAP_INVALID');
      expect((err as Error).message).toContain('version: must be 1');
    }
  });
});

describe('the real config/data-map.yaml', () => {
  let lookups: DataMapLookups;
  let text: string;
  beforeAll(async () => {
    lookups = await readDataMapLookups({
      openApiPath: path.resolve(ROOT, 'reference/cliniko-openapi.yaml'),
      salesforceFieldsPath: path.join(ROOT, 'config/salesforce-fields.json'),
    });
    text = await readFile(path.join(ROOT, 'config/data-map.yaml'), 'utf8');
  });

  it('validates against the official Cliniko spec and the package', () => {
    const result = parseDataMap(text, lookups);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it('is rejected when a clinician-only entry is given a target', () => {
    const clinical =
      '  - resource: patients\n    source: [appointment_notes, notes]\n    classification: clinician-only\n';
    const broken = text.replace(clinical, `${clinical}    target: Contact.Last_Appointment_Type__c\n`);
    expect(broken).not.toBe(text);
    const result = parseDataMap(broken, lookups);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toContainEqual({
      where: expect.stringMatching(
        /^entries\[\d+\] \(patients\.appointment_notes\+notes -> Contact\.Last_Appointment_Type__c\)$/,
      ) as unknown,
      key: 'target',
      message: 'a clinician-only field must not have a target',
    });
  });
});
