import path from 'node:path';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDataMapLookups } from '../governance-io/lookups.js';
import { parseDataMap, type DataMap } from './data-map.js';
import { projectRecord } from './project.js';
import { forbiddenCharacter, salesforceValueProblem } from './value-checks.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DATE = { path: 'Contact.Birthdate', type: 'Date', transform: 'date' };
const TEXT = { path: 'Contact.LastName', type: 'Text', transform: 'text' };
const NUMBER = { path: 'Cliniko_Invoice__c.Total__c', type: 'Currency', transform: 'money' };

describe('salesforceValueProblem', () => {
  it('refuses dates outside 1700-01-01..4000-12-31 and keeps the edges (control)', () => {
    for (const bad of ['9999-12-31', '4001-01-01', '1699-12-31', '0001-01-01', '+12345-01-01']) {
      expect(salesforceValueProblem(bad, DATE), bad).toMatch(/outside 1700-01-01\.\.4000-12-31/);
    }
    expect(salesforceValueProblem('9999-12-31T00:00:00.000Z', { ...DATE, type: 'DateTime' })).toBeDefined();
    for (const good of ['1700-01-01', '4000-12-31', '1985-06-15', '2026-12-06T04:00:00.000Z']) {
      expect(salesforceValueProblem(good, DATE), good).toBeUndefined();
    }
    // A text field that happens to hold a date-looking string is not a date target.
    expect(salesforceValueProblem('9999-12-31', TEXT)).toBeUndefined();
  });

  it('refuses NUL, other C0 controls, DEL and bidi overrides; keeps tab and line breaks (control)', () => {
    for (const bad of [
      'A\u0000da',
      'Ad\u0007a',
      'Ada\u001b',
      'Ada\u007f',
      'Ada\u202eecalevoL',
      '\u2066x\u2069',
    ]) {
      expect(salesforceValueProblem(bad, TEXT), JSON.stringify(bad)).toMatch(/character \(U\+/);
    }
    for (const good of ['Ada', 'line 1\nline 2', 'a\tb', 'crlf\r\nok', 'Zoë 李 عربي']) {
      expect(salesforceValueProblem(good, TEXT), JSON.stringify(good)).toBeUndefined();
    }
    expect(forbiddenCharacter('x\u0000')).toBe('a NUL character (U+0000)');
    expect(forbiddenCharacter('x\u202e')).toBe('a bidirectional control character (U+202E)');
  });

  it('refuses numbers beyond 18 digits or exact precision; keeps ordinary amounts (control)', () => {
    for (const bad of [1e18, -1e19, Number.POSITIVE_INFINITY, Number.NaN, 2 ** 53 + 2]) {
      expect(salesforceValueProblem(bad, NUMBER), String(bad)).toBeDefined();
    }
    for (const good of [0, 120.5, -3, 999_999_999_999.99, Number.MAX_SAFE_INTEGER]) {
      expect(salesforceValueProblem(good, NUMBER), String(good)).toBeUndefined();
    }
  });

  it('checks inside external-id references', () => {
    expect(salesforceValueProblem({ Cliniko_Patient_Id__c: '1\u0000' }, TEXT)).toBeDefined();
    expect(salesforceValueProblem({ Cliniko_Patient_Id__c: '12' }, TEXT)).toBeUndefined();
  });

  it('never repeats the value in its message (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 3 }), fc.constantFrom('\u0000', '\u202e', '\u0001'), (s, bad) => {
        const value = `CANARY${s}${bad}`;
        const message = salesforceValueProblem(value, TEXT);
        expect(message).toBeDefined();
        expect(message).not.toContain('CANARY');
      }),
    );
  });
});

describe('the projection quarantines such values (real data map)', () => {
  let map: DataMap;
  beforeAll(async () => {
    const lookups = await readDataMapLookups({
      openApiPath: path.resolve(ROOT, 'reference/cliniko-openapi.yaml'),
      salesforceFieldsPath: path.join(ROOT, 'config/salesforce-fields.json'),
    });
    const parsed = parseDataMap(await readFile(path.join(ROOT, 'config/data-map.yaml'), 'utf8'), lookups);
    if (!parsed.ok) throw new Error('the real data map does not parse');
    map = parsed.map;
  });

  const patient = (extra: Record<string, unknown>) => ({
    id: '4242',
    first_name: 'Ada',
    last_name: 'Lovelace',
    date_of_birth: '1985-06-15',
    ...extra,
  });

  it('a clean patient projects (control)', () => {
    const result = projectRecord('patients', patient({}), map);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.each([
    ['a birthdate of 9999-12-31', { date_of_birth: '9999-12-31' }, 'Contact.Birthdate', /outside/],
    ['a NUL in the first name', { first_name: 'A\u0000da' }, 'Contact.FirstName', /NUL/],
    [
      'a right-to-left override in the last name',
      { last_name: 'Love\u202elace' },
      'Contact.LastName',
      /bidirectional/,
    ],
  ])('%s fails the record, naming record and field, never the value', (_what, extra, field, reason) => {
    const result = projectRecord('patients', patient(extra), map);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    const [p] = result.problems;
    expect(p).toMatchObject({ resource: 'patients', recordId: '4242', field });
    expect(p!.message).toMatch(reason);
    const bad = Object.values(extra)[0] as string;
    expect(JSON.stringify(p)).not.toContain(bad);
  });
});
