import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSyncError } from '../errors.js';
import { readDataMapLookups } from '../governance-io/lookups.js';
import { readApproverRegistry } from '../governance-io/signing.js';
import type { ApproverRegistry } from './signatures.js';
import { parseDataMap, type DataMap, type DataMapLookups } from './data-map.js';
import {
  assertSigned,
  checkSignoff,
  currentDataMapSha256,
  diffDataMaps,
  entryDigests,
  signDataMap,
} from './signoff.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP, testApprovers } from './test-fixtures.js';

const APPROVERS = testApprovers();
const TRUST = APPROVERS.trust;
const JANE = { approver: APPROVERS.jane, privateKey: APPROVERS.keys.jane, registry: APPROVERS.registry };

function mapOf(text: string): DataMap {
  const result = parseDataMap(text, FIXTURE_LOOKUPS);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.map;
}

function signed(text = FIXTURE_MAP): string {
  return signDataMap(text, mapOf(text), { ...JANE, signedOn: '2026-11-22' });
}

const ROOT = path.resolve(import.meta.dirname, '../../..');

const CITY_TO_EMAIL_RATIONALE = [
  '    rationale: Email.\n',
  '    rationale: Email address for newsletters.\n',
] as const;

describe('signDataMap', () => {
  it('writes approver, date, hash and per-entry digests, keeping comments and entries as written', () => {
    const text = signed();
    expect(text).toContain('# a comment that signing must keep');
    const map = mapOf(text);
    expect(map.signoff).toMatchObject({
      approvedBy: 'Jane Citizen (Compliance Officer)',
      approvedOn: '2026-11-22',
      sha256: currentDataMapSha256(mapOf(FIXTURE_MAP)),
    });
    expect(map.signoff?.entries).toEqual(entryDigests(map));
    expect(text.slice(text.indexOf('entries:\n  - resource'))).toBe(
      FIXTURE_MAP.slice(FIXTURE_MAP.indexOf('entries:\n  - resource')),
    );
  });

  it('refuses a key that is not the approver’s, a bad date, or text that is not the parsed map', () => {
    const map = mapOf(FIXTURE_MAP);
    expect(() =>
      signDataMap(FIXTURE_MAP, map, {
        approver: APPROVERS.jane,
        privateKey: APPROVERS.keys.stranger,
        registry: APPROVERS.registry,
        signedOn: '2026-11-22',
      }),
    ).toThrow(/not Jane Citizen \(Compliance Officer\)'s registered key/);
    expect(() => signDataMap(FIXTURE_MAP, map, { ...JANE, signedOn: '22/11/2026' })).toThrow(/YYYY-MM-DD/);
    expect(() =>
      signDataMap(FIXTURE_MAP.replace(...CITY_TO_EMAIL_RATIONALE), map, { ...JANE, signedOn: '2026-11-22' }),
    ).toThrow(/not the map that was parsed/);
  });
});

describe('checkSignoff', () => {
  it('passes a signed map', () => {
    expect(checkSignoff(mapOf(signed()), TRUST)).toEqual({
      ok: true,
      sha256: currentDataMapSha256(mapOf(FIXTURE_MAP)),
      approvedBy: 'Jane Citizen (Compliance Officer)',
      approvedOn: '2026-11-22',
    });
  });

  it('names the one changed entry, the approver and the date (from the per-entry digests)', () => {
    const edited = mapOf(signed().replace(...CITY_TO_EMAIL_RATIONALE));
    const check = checkSignoff(edited, TRUST);
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.changedEntries).toEqual(['patients.email -> Contact.Email']);
    expect(check.message).toContain('sign-off by Jane Citizen (Compliance Officer) on 2026-11-22');
    expect(check.message).toContain('Changed since then: patients.email -> Contact.Email.');
    try {
      assertSigned(edited, TRUST);
      expect.unreachable();
    } catch (err) {
      expect(isSyncError(err) && err.code).toBe('DATA_MAP_NOT_SIGNED');
      expect((err as Error).message).toContain('patients.email -> Contact.Email');
    }
  });

  it('names added and removed entries', () => {
    const text = signed()
      .replace(
        '  - resource: individual_appointments\n    source: notes\n    classification: clinician-only\n    rationale: Clinical.\n',
        '',
      )
      .replace(
        'derived:\n',
        '  - resource: patients\n    source: city\n    classification: marketing-safe\n    target: Contact.MailingCity\n    rationale: Mail.\n derived:\n'.replace(
          ' derived',
          'derived',
        ),
      );
    const check = checkSignoff(mapOf(text), TRUST);
    expect(check.ok ? [] : check.changedEntries).toEqual([
      'individual_appointments.notes',
      'patients.city -> Contact.MailingCity',
    ]);
  });

  it('uses the signed map, when given, to name entries even without digests', () => {
    const signedText = signed();
    const withoutDigests = signedText.replace(/\n {2}entries:\n(?: {4}.*\n)+/, '\n');
    expect(mapOf(withoutDigests).signoff?.entries).toBeUndefined();
    const edited = mapOf(withoutDigests.replace(...CITY_TO_EMAIL_RATIONALE));
    const blind = checkSignoff(edited, TRUST);
    expect(blind.ok ? 'ok' : blind.changedEntries).toBeUndefined();
    expect(blind.ok ? '' : blind.message).toMatch(/cannot be named/);
    const informed = checkSignoff(edited, TRUST, { signedMap: mapOf(signedText) });
    expect(informed.ok ? [] : informed.changedEntries).toEqual(['patients.email -> Contact.Email']);
    // A "signed" copy whose hash is not the signed hash is ignored.
    const bogus = checkSignoff(edited, TRUST, { signedMap: edited });
    expect(bogus.ok ? 'ok' : bogus.changedEntries).toBeUndefined();
  });

  it('says so when every entry matches its digest but the hash does not (hand-edited sign-off)', () => {
    const text = signed().replace(/sha256: '?[0-9a-f]{64}'?/, `sha256: '${'f'.repeat(64)}'`);
    const check = checkSignoff(mapOf(text), TRUST);
    expect(check.ok ? 'ok' : check.changedEntries).toEqual([]);
    expect(check.ok ? '' : check.message).toMatch(/edited by hand/);
  });

  it('reports a map that was never signed', () => {
    const unsigned = mapOf(FIXTURE_MAP.replace(/signoff:\n(?: {2}.*\n)+/, ''));
    const check = checkSignoff(unsigned, TRUST);
    expect(check).toMatchObject({
      ok: false,
      approvedBy: undefined,
      message: expect.stringMatching(/never been signed/) as unknown,
    });
    const pending = checkSignoff(mapOf(FIXTURE_MAP), TRUST);
    expect(pending).toMatchObject({
      ok: false,
      approvedBy: 'Jane Citizen (Compliance Officer)',
      signedSha256: 'PENDING',
    });
  });

  it('is not fooled by reordering entries (the canonical form is order-free)', () => {
    const text = signed();
    const start = text.indexOf('  - resource: patients\n    source: first_name');
    const end = text.indexOf('  - resource: patients\n    source: last_name');
    const block = text.slice(start, end);
    const moved = text.slice(0, start) + text.slice(end).replace('derived:\n', `${block}derived:\n`);
    expect(checkSignoff(mapOf(moved), TRUST).ok).toBe(true);
  });
});

describe('diffDataMaps', () => {
  it('lists added, removed and changed entries with what changed', () => {
    const before = mapOf(FIXTURE_MAP);
    const after = mapOf(
      FIXTURE_MAP.replace(...CITY_TO_EMAIL_RATIONALE)
        .replace('    target: Contact.FirstName\n    direction: both\n', '    target: Contact.FirstName\n')
        .replace(
          'from: [individual_appointments.starts_at]',
          'from: [individual_appointments.starts_at, individual_appointments.business]',
        ),
    );
    expect(diffDataMaps(before, after)).toEqual({
      added: [],
      removed: [],
      changed: [
        {
          key: 'derived -> Contact.Journey_Stage__c',
          fields: ['from'],
          values: [
            {
              field: 'from',
              before: 'individual_appointments.starts_at',
              after: 'individual_appointments.starts_at,individual_appointments.business',
            },
          ],
        },
        {
          key: 'patients.email -> Contact.Email',
          fields: ['rationale'],
          values: [{ field: 'rationale', before: 'Email.', after: 'Email address for newsletters.' }],
        },
        {
          key: 'patients.first_name -> Contact.FirstName',
          fields: ['direction'],
          values: [{ field: 'direction', before: 'both', after: 'cliniko-to-salesforce' }],
        },
      ],
    });
    expect(diffDataMaps(before, before)).toEqual({ added: [], removed: [], changed: [] });
  });
});

describe('the real config/data-map.yaml', () => {
  let text: string;
  let lookups: DataMapLookups;
  beforeAll(async () => {
    lookups = await readDataMapLookups({
      openApiPath: path.resolve(ROOT, 'reference/cliniko-openapi.yaml'),
      salesforceFieldsPath: path.join(ROOT, 'config/salesforce-fields.json'),
    });
    text = await readFile(path.join(ROOT, 'config/data-map.yaml'), 'utf8');
    demoRegistry = await readApproverRegistry(path.join(ROOT, 'config/approvers.yaml'), { mode: 'test' });
  });
  let demoRegistry: ApproverRegistry;

  function parse(yaml: string): DataMap {
    const result = parseDataMap(yaml, lookups);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return result.map;
  }

  it('is signed as committed, with the published demo key: accepted in test and demo mode only', () => {
    expect(checkSignoff(parse(text), { registry: demoRegistry, mode: 'test' })).toMatchObject({ ok: true });
    expect(checkSignoff(parse(text), { registry: demoRegistry, mode: 'demo' })).toMatchObject({ ok: true });
    const production = checkSignoff(parse(text), { registry: demoRegistry, mode: 'production' });
    expect(production.ok).toBe(false);
    if (!production.ok) {
      expect(production.message).toContain(
        'Demo Compliance Officer (DEMO ONLY) signed the data-map with a published demo key, which production refuses',
      );
    }
  });

  it('once signed with digests, one changed entry stops the sync with a message naming it', () => {
    const signedText = signDataMap(text, parse(text), { ...JANE, signedOn: '2026-11-22' });
    // Only the signoff block changes.
    const body = (t: string): string => t.slice(t.indexOf('\nentries:\n'));
    expect(body(signedText)).toBe(body(text));
    const edited = signedText.replace(
      /( {2}- resource: patients\n {4}source: date_of_birth\n {4}classification: )operations-safe/,
      '$1marketing-safe',
    );
    expect(edited).not.toBe(signedText);
    const check = checkSignoff(parse(edited), TRUST);
    expect(check.ok ? [] : check.changedEntries).toEqual(['patients.date_of_birth -> Contact.Birthdate']);
    expect(() => assertSigned(parse(edited), TRUST)).toThrow(
      /Changed since then: patients\.date_of_birth -> Contact\.Birthdate\./,
    );
  });
});
