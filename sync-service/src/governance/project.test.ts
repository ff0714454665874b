import path from 'node:path';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDataMapLookups } from '../governance-io/lookups.js';
import { parseDataMap, type DataMap, type DataMapLookups } from './data-map.js';
import {
  consentOptOutPatch,
  projectInbound,
  projectRecord,
  relationshipName,
  type ProjectionResult,
} from './project.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from './test-fixtures.js';
import type { ProjectionContext } from './transforms.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function mapOf(text: string, lookups: DataMapLookups = FIXTURE_LOOKUPS): DataMap {
  const result = parseDataMap(text, lookups);
  if (!result.ok)
    throw new Error(result.problems.map((p) => `${p.where} ${p.key ?? ''}: ${p.message}`).join('\n'));
  return result.map;
}

const link = (p: string): unknown => ({ links: { self: `https://api.au1.cliniko.com/v1/${p}` } });

/** Any id is known, so name lookups never fail in property runs. */
class AnyName extends Map<string, string> {
  override get(id: string): string {
    return `Name ${id}`;
  }
}
const CONTEXT: ProjectionContext = {
  today: '2026-11-22',
  names: { businesses: new AnyName(), practitioners: new AnyName(), appointmentTypes: new AnyName() },
};

describe('projectRecord (fixture map)', () => {
  const map = mapOf(FIXTURE_MAP);

  it('projects a patient into a Contact with only mapped fields', () => {
    const result = projectRecord(
      'patients',
      {
        id: '1001',
        first_name: ' Ada ',
        last_name: 'Lovelace',
        email: 'Ada@Example.com',
        notes: 'knee pain',
        appointment_notes: 'likes mornings',
        medicare: '1234',
        patient_phone_numbers: [{ number: '0412 345 678', phone_type: 'Mobile' }],
        address_1: '1 Main St',
        address_2: null,
        address_3: null,
        accepted_email_marketing: null,
        archived_at: null,
        merged_at: '2026-01-01T00:00:00Z',
        deleted_at: null,
        merged_with_patient: link('patients/2002'),
        unexpected_new_field: 'whatever',
      },
      map,
    );
    expect(result).toEqual({
      ok: true,
      payloads: [
        {
          object: 'Contact',
          externalIdField: 'Cliniko_Patient_Id__c',
          externalId: '1001',
          fields: {
            Cliniko_Patient_Id__c: '1001',
            FirstName: 'Ada',
            LastName: 'Lovelace',
            Email: 'ada@example.com',
            MobilePhone: '+61412345678',
            HomePhone: null,
            MailingStreet: '1 Main St',
            Email_Marketing_Consent__c: false,
            HasOptedOutOfEmail: true,
            Cliniko_Status__c: 'Merged',
            Merged_Into__r: { Cliniko_Patient_Id__c: '2002' },
          },
          entryKeys: expect.any(Array) as unknown,
        },
      ],
    });
  });

  it('writes parents by external id and names from the context', () => {
    const result = projectRecord(
      'individual_appointments',
      {
        id: '5',
        patient: link('patients/1001'),
        starts_at: '2026-11-22T09:00:00+11:00',
        notes: 'clinical',
        business: link('businesses/9'),
      },
      map,
      { names: { businesses: new Map([['9', 'Fitzroy']]) } },
    );
    expect(result.ok && result.payloads[0]?.fields).toEqual({
      Cliniko_Appointment_Id__c: '5',
      Contact__r: { Cliniko_Patient_Id__c: '1001' },
      Starts_At__c: '2026-11-21T22:00:00.000Z',
      Clinic__c: 'Fitzroy',
    });
  });

  it('leaves absent keys out (never clears a field Cliniko did not send)', () => {
    const result = projectRecord('patients', { id: '1', last_name: 'X' }, map);
    expect(result.ok && result.payloads[0]?.fields).toEqual({ Cliniko_Patient_Id__c: '1', LastName: 'X' });
  });

  it('fails the whole record with problems that name record, entry and field but no value', () => {
    const result = projectRecord(
      'patients',
      { id: '1', last_name: 'X', email: 'SECRET-not-an-email', accepted_email_marketing: 'SECRET' },
      map,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      {
        resource: 'patients',
        recordId: '1',
        entry: 'patients.email -> Contact.Email',
        field: 'Contact.Email',
        message: 'email is not an email address',
      },
      {
        resource: 'patients',
        recordId: '1',
        entry: 'patients.accepted_email_marketing -> Contact.Email_Marketing_Consent__c',
        field: 'Contact.Email_Marketing_Consent__c',
        message: 'flag is not true/false',
      },
      {
        resource: 'patients',
        recordId: '1',
        entry: 'patients.accepted_email_marketing -> Contact.HasOptedOutOfEmail',
        field: 'Contact.HasOptedOutOfEmail',
        message: 'consent is not true/false',
      },
    ]);
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });

  it('refuses a value longer than the target field holds, naming the field', () => {
    const result = projectRecord('patients', { id: '1', last_name: 'X', first_name: 'A'.repeat(41) }, map);
    expect(result.ok ? [] : result.problems.map((p) => [p.field, p.message])).toEqual([
      ['Contact.FirstName', 'value is longer than the 40 characters Contact.FirstName holds'],
    ]);
  });

  it('refuses a record without its external id, and a record that is not an object', () => {
    const result = projectRecord('patients', { last_name: 'X' }, map);
    expect(result.ok ? [] : result.problems.map((p) => p.message)).toEqual([
      'the map gives Contact no Cliniko_Patient_Id__c value',
    ]);
    expect(projectRecord('patients', ['x'], map).ok).toBe(false);
  });

  it('projects nothing for a resource the map does not cover', () => {
    expect(projectRecord('treatment_notes', { id: '1', content: 'x' }, map)).toEqual({
      ok: true,
      payloads: [],
    });
  });
});

describe('projectInbound and the consent opt-out path', () => {
  const map = mapOf(FIXTURE_MAP);
  const patient = {
    id: '1001',
    email: 'old@example.com',
    first_name: 'Ada',
    patient_phone_numbers: [
      { number: '0400 000 001', phone_type: 'Mobile' },
      { number: '(03) 9000 1111', phone_type: 'Home' },
    ],
    address_1: '1 Main St',
    address_2: null,
    address_3: null,
  };

  it('writes back only changed `both` fields', () => {
    const result = projectInbound(
      {
        Email: 'new@example.com',
        LastName: 'Changed in Salesforce',
        MobilePhone: '0411 111 111',
        HomePhone: '0390001111',
        MailingStreet: '2 High St\nLevel 3',
        FirstName: 'Ada',
      },
      patient,
      map,
      ['Email', 'LastName', 'MobilePhone', 'HomePhone', 'MailingStreet'],
    );
    expect(result.problems).toEqual([]);
    expect(result.patch).toEqual({
      email: 'new@example.com',
      patient_phone_numbers: [
        { number: '0411 111 111', phone_type: 'Mobile' },
        { number: '(03) 9000 1111', phone_type: 'Home' },
      ],
      address_1: '2 High St',
      address_2: 'Level 3',
      address_3: null,
    });
    // LastName is cliniko-to-salesforce only; FirstName did not change.
    expect(result.entryKeys).not.toContain('patients.last_name -> Contact.LastName');
    expect(result.consentOptOuts).toEqual([]);
  });

  it('never writes consent back as an opt-in, only as an opt-out', () => {
    const optIn = projectInbound(
      { Email_Marketing_Consent__c: true, HasOptedOutOfEmail: false },
      patient,
      map,
      ['Email_Marketing_Consent__c', 'HasOptedOutOfEmail'],
      { before: { Email_Marketing_Consent__c: false, HasOptedOutOfEmail: true } },
    );
    expect(optIn.patch).toEqual({});
    const optOut = projectInbound({ HasOptedOutOfEmail: true }, patient, map, ['HasOptedOutOfEmail'], {
      before: { HasOptedOutOfEmail: false },
    });
    expect(optOut.patch).toEqual({ accepted_email_marketing: false });
    expect(optOut.consentOptOuts).toEqual(['email']);
  });

  it('reads the opt-out fields from the map: SMS consent cleared or DoNotCall ticked, only when mapped', () => {
    const withSms = mapOf(
      FIXTURE_MAP.replace(
        'derived:\n',
        '  - resource: patients\n    source: accepted_sms_marketing\n    classification: marketing-safe\n    target: Contact.DoNotCall\n    transform: consent-opt-out\n    rationale: x.\n' +
          '  - resource: patients\n    source: accepted_sms_marketing\n    classification: marketing-safe\n    target: Contact.MailingCountry\n    transform: text\n    rationale: nonsense, but not a consent transform.\n' +
          'derived:\n',
      ),
    );
    expect(consentOptOutPatch({ DoNotCall: false }, { DoNotCall: true }, withSms)).toEqual({
      patch: { unsubscribe_sms_marketing: true },
      channels: ['sms'],
    });
    expect(consentOptOutPatch({ DoNotCall: true }, { DoNotCall: false }, withSms)).toEqual({
      patch: {},
      channels: [],
    });
    expect(consentOptOutPatch({ MailingCountry: true }, { MailingCountry: false }, withSms).channels).toEqual(
      [],
    );
    // The fixture map alone does not map DoNotCall, so ticking it carries nothing.
    expect(consentOptOutPatch({ DoNotCall: false }, { DoNotCall: true }, map)).toEqual({
      patch: {},
      channels: [],
    });
    expect(
      consentOptOutPatch(
        { Email_Marketing_Consent__c: true, HasOptedOutOfEmail: false },
        { Email_Marketing_Consent__c: false, HasOptedOutOfEmail: true },
        map,
      ),
    ).toEqual({ patch: { accepted_email_marketing: false }, channels: ['email'] });
  });
});

// ---------------------------------------------------------------------------------------------------
// Zero-leak property: over arbitrary Cliniko payloads (extra keys, canaries in every clinician-only
// field and every unmapped key), no projection contains an unmapped key or a canary.

const CANARY = 'CANARY-7Q3Z';

const canaryValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string().map((s) => `${s}${CANARY}${s}`),
  fc.record({ text: fc.constant(CANARY), links: fc.record({ self: fc.constant(`https://x/${CANARY}/1`) }) }),
  fc.array(fc.constant(CANARY), { minLength: 1, maxLength: 3 }),
  fc.constant({ number: CANARY, phone_type: 'Mobile' }),
);

const cleanString = fc.string({ maxLength: 20 }).filter((s) => !s.includes('CANARY'));
const id = fc.bigInt(1n, 2n ** 63n - 1n).map(String);
const isoInstant = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
const isoDate = isoInstant.map((s) => s.slice(0, 10));
const money = fc.integer({ min: 0, max: 10_000_000 }).map((c) => (c / 100).toFixed(2));
const linkTo = (resource: string): fc.Arbitrary<unknown> =>
  fc.option(
    id.map((i) => link(`${resource}/${i}`)),
    { nil: null },
  );

/** A plausible value for a Cliniko field, by its name. */
function validValue(field: string): fc.Arbitrary<unknown> {
  if (field === 'id') return id;
  if (field.endsWith('_at')) return fc.option(isoInstant, { nil: null });
  if (['date_of_birth', 'issue_date', 'expiry_date'].includes(field))
    return fc.option(isoDate, { nil: null });
  if (field.startsWith('accepted_') || ['did_not_arrive', 'patient_arrived', 'closed'].includes(field)) {
    return fc.option(fc.boolean(), { nil: null });
  }
  if (['patient', 'merged_with_patient'].includes(field)) return linkTo('patients');
  if (field === 'patient_case') return linkTo('patient_cases');
  if (field === 'appointment') return linkTo('individual_appointments');
  if (field === 'business') return linkTo('businesses');
  if (field === 'practitioner') return linkTo('practitioners');
  if (field === 'appointment_type') return linkTo('appointment_types');
  if (field.endsWith('_amount')) return fc.option(money, { nil: null });
  if (field === 'max_sessions' || field === 'number')
    return fc.option(fc.integer({ min: 1, max: 200 }), { nil: null });
  if (field === 'email')
    return fc.option(
      fc.emailAddress().filter((e) => e.length <= 80),
      { nil: null },
    );
  if (field === 'reminder_type') return fc.constantFrom(null, 'None', 'SMS', 'Email', 'SMS & Email');
  if (field === 'status_description') return fc.constantFrom(null, 'Open', 'Paid', 'Closed', 'Open credit');
  if (field === 'referral_type') return fc.constantFrom(null, 'dva', 'medicare');
  if (field === 'patient_phone_numbers') {
    return fc.option(
      fc.array(
        fc.record({
          number: fc.stringMatching(/^[0-9 ()+-]{6,16}$/),
          phone_type: fc.constantFrom('Mobile', 'Home', 'Work', 'Other', 'Fax'),
        }),
        { maxLength: 4 },
      ),
      { nil: null },
    );
  }
  return fc.option(cleanString, { nil: null });
}

function recordArbitrary(
  map: DataMap,
  resource: string,
  mappedValue: (field: string) => fc.Arbitrary<unknown>,
) {
  const mapped = new Set<string>();
  const clinical = new Set<string>();
  for (const e of map.entries.filter((x) => x.resource === resource)) {
    for (const s of e.sources) (e.classification === 'clinician-only' ? clinical : mapped).add(s);
  }
  for (const s of clinical) mapped.delete(s);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of mapped) shape[f] = mappedValue(f);
  for (const f of clinical) shape[f] = canaryValue;
  const extras = fc.dictionary(
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !mapped.has(k) && !clinical.has(k) && k !== '__proto__'),
    canaryValue,
    { maxKeys: 4 },
  );
  return fc
    .tuple(fc.record(shape, { requiredKeys: [...mapped, ...clinical].filter((f) => f === 'id') }), extras)
    .map(([record, extra]) => ({ ...extra, ...record }));
}

/** Keys in a payload that no outbound entry of the map allows, and canaries anywhere in the result. */
function leaks(result: ProjectionResult, map: DataMap, resource: string): string[] {
  const found: string[] = [];
  if (JSON.stringify(result).includes(CANARY)) found.push('canary in projection result');
  if (!result.ok) return found;
  const allowed = new Set<string>();
  for (const e of map.entries) {
    if (e.resource !== resource || e.classification === 'clinician-only' || e.target === undefined) continue;
    allowed.add(`${e.target.object}.${e.target.field}`);
    allowed.add(`${e.target.object}.${relationshipName(e.target.field)}`);
  }
  for (const p of result.payloads) {
    for (const key of Object.keys(p.fields))
      if (!allowed.has(`${p.object}.${key}`)) found.push(`${p.object}.${key}`);
  }
  return found;
}

describe('zero-leak property', () => {
  let realMap: DataMap;
  let lookups: DataMapLookups;
  let realText: string;
  beforeAll(async () => {
    lookups = await readDataMapLookups({
      openApiPath: path.resolve(ROOT, 'reference/cliniko-openapi.yaml'),
      salesforceFieldsPath: path.join(ROOT, 'config/salesforce-fields.json'),
    });
    realText = await readFile(path.join(ROOT, 'config/data-map.yaml'), 'utf8');
    realMap = mapOf(realText, lookups);
  });

  const resources = ['patients', 'individual_appointments', 'patient_cases', 'invoices'];

  it.each(resources)(
    'real map, %s: valid payloads project, with no unmapped key and no canary',
    (resource) => {
      let projected = 0;
      fc.assert(
        fc.property(recordArbitrary(realMap, resource, validValue), (record) => {
          const result = projectRecord(resource, record, realMap, CONTEXT);
          expect(result.ok ? [] : result.problems).toEqual([]);
          expect(leaks(result, realMap, resource)).toEqual([]);
          if (result.ok && result.payloads.length > 0) projected++;
        }),
        { numRuns: 150 },
      );
      // The property is only meaningful if projections actually happened.
      expect(projected).toBeGreaterThan(100);
    },
  );

  it.each(resources)('real map, %s: arbitrary JSON in mapped fields never leaks either', (resource) => {
    fc.assert(
      fc.property(
        recordArbitrary(realMap, resource, (f) =>
          fc.oneof(
            validValue(f),
            fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes('CANARY')),
          ),
        ),
        (record) => {
          expect(leaks(projectRecord(resource, record, realMap, CONTEXT), realMap, resource)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('real map, write-back: only `both` fields reach Cliniko, and consent only ever as an opt-out', () => {
    const contactFields = realMap.entries
      .filter((e) => e.target?.object === 'Contact')
      .map((e) => e.target!.field);
    const bothSources = new Set(
      realMap.entries
        .filter((e) => e.direction === 'both' && e.target?.object === 'Contact')
        .flatMap((e) => e.sources),
    );
    const sfValue = fc.oneof(fc.string({ maxLength: 30 }), fc.boolean(), fc.constant(null), fc.integer());
    const contact = fc.dictionary(fc.constantFrom(...contactFields, 'OwnerId', 'Description'), sfValue);
    fc.assert(
      fc.property(contact, contact, fc.subarray([...contactFields, 'OwnerId']), (after, before, changed) => {
        const result = projectInbound(after, { id: '1' }, realMap, changed, { before });
        for (const [key, value] of Object.entries(result.patch)) {
          if (key === 'accepted_email_marketing') expect(value).toBe(false);
          else if (key === 'unsubscribe_sms_marketing') expect(value).toBe(true);
          else expect(bothSources).toContain(key);
        }
      }),
      { numRuns: 300 },
    );
    // Sanity: the real map does write something back.
    expect(bothSources.size).toBeGreaterThan(3);
  });

  it('detects a leak when a clinical field is mapped (the property can fail)', () => {
    // Since the clinical deny-list (issue #17), a map that sends notes anywhere is refused before it can
    // be projected, so the leak detector's own proof plants the canary in a field the map does send.
    const notesMapped = FIXTURE_MAP.replace(
      '  - resource: patients\n    source: [notes, appointment_notes, medicare]\n    classification: clinician-only\n    rationale: Clinical.\n',
      '  - resource: patients\n    source: notes\n    classification: marketing-safe\n    target: Contact.Notes_For_Test__c\n    transform: text\n    rationale: Oops.\n' +
        '  - resource: patients\n    source: [appointment_notes, medicare]\n    classification: clinician-only\n    rationale: Clinical.\n',
    );
    expect(notesMapped).not.toBe(FIXTURE_MAP);
    expect(() => mapOf(notesMapped)).toThrow(/patients\.notes is on the clinical deny-list/);
    const map = mapOf(FIXTURE_MAP);
    const planted = { id: '1', last_name: `X ${CANARY}`, notes: 'left knee' };
    expect(leaks(projectRecord('patients', planted, map), map, 'patients')).toEqual([
      'canary in projection result',
    ]);
    const record = { id: '1', last_name: 'X', notes: `left knee ${CANARY}` };
    expect(leaks(projectRecord('patients', record, map), map, 'patients')).toEqual([]);
  });
});
