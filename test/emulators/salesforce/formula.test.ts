import { describe, expect, it } from 'vitest';
import { evaluate, parseFormula, type FormulaScope } from './formula.js';

/** A scope over plain objects: `record` now, `prior` before the save (undefined: a create). */
function scope(record: Record<string, unknown>, prior?: Record<string, unknown>): FormulaScope {
  const get = (rec: Record<string, unknown> | undefined, path: readonly string[]): unknown => {
    let node: unknown = rec;
    for (const part of path) {
      if (typeof node !== 'object' || node === null) return null;
      const key = Object.keys(node).find((k) => k.toLowerCase() === part.toLowerCase());
      node = key === undefined ? null : (node as Record<string, unknown>)[key];
    }
    return node;
  };
  return {
    value: (path) => get(record, path),
    prior: (field) => get(prior, [field]),
    isNew: prior === undefined,
    userId: '005000000000001AAA',
    now: '2025-04-01T00:00:00.000Z',
    customMetadata: (type, rec, field) =>
      type === 'Cliniko_Setting__mdt' && rec === 'Default' && field === 'Base_Url__c'
        ? (record.$baseUrl ?? null)
        : null,
  };
}

const run = (source: string, record: Record<string, unknown>, prior?: Record<string, unknown>) =>
  evaluate(parseFormula(source), scope(record, prior));

describe('the emulator formula engine', () => {
  it('evaluates the shipped Governance_Review__c rules as Salesforce would', () => {
    const locked = 'AND(NOT(ISNEW()), ISPICKVAL(PRIORVALUE(Status__c), "Signed"))';
    expect(run(locked, { Status__c: 'Signed' }, { Status__c: 'Signed' })).toBe(true);
    // Controls: the signing save itself (prior Draft) and a create pass.
    expect(run(locked, { Status__c: 'Signed' }, { Status__c: 'Draft' })).toBe(false);
    expect(run(locked, { Status__c: 'Signed' })).toBe(false);
    const fromDraft = 'AND(ISNEW(), ISPICKVAL(Status__c, "Signed"))';
    expect(run(fromDraft, { Status__c: 'Signed' })).toBe(true);
    expect(run(fromDraft, { Status__c: 'Draft' })).toBe(false);
  });

  it('follows relationships, concatenates and treats blanks as blanks', () => {
    const name =
      'IF(ISPICKVAL(Status__c, "Signed"), TRIM(LastModifiedBy.FirstName & " " & LastModifiedBy.LastName), "")';
    const by = { FirstName: 'Carla', LastName: 'Compliance' };
    expect(run(name, { Status__c: 'Signed', LastModifiedBy: by })).toBe('Carla Compliance');
    expect(run(name, { Status__c: 'Draft', LastModifiedBy: by })).toBe('');
    expect(run('ISBLANK(Attendees__c)', { Attendees__c: '' })).toBe(true);
    expect(run('ISBLANK(Attendees__c)', { Attendees__c: 'Ann' })).toBe(false);
    expect(run('ISCHANGED(Notes__c)', { Notes__c: 'b' }, { Notes__c: 'a' })).toBe(true);
    expect(run('ISCHANGED(Notes__c)', { Notes__c: 'a' }, { Notes__c: 'a' })).toBe(false);
    expect(run('$User.Id = OwnerId', { OwnerId: '005000000000001AAA' })).toBe(true);
    expect(run('1 + 2 >= 3 && !(2 < 1)', {})).toBe(true);
  });

  it('reads custom metadata and renders HYPERLINK as the anchor the REST API returns', () => {
    // The shipped "Open in Cliniko" link (Contact.Cliniko_Patient_Link__c).
    const link =
      'IF(OR(ISBLANK(Cliniko_Patient_Id__c), ISBLANK($CustomMetadata.Cliniko_Setting__mdt.Default.Base_Url__c)), "", ' +
      'HYPERLINK($CustomMetadata.Cliniko_Setting__mdt.Default.Base_Url__c & "/patients/" & Cliniko_Patient_Id__c, "Open in Cliniko", "_blank"))';
    const base = 'https://acme.au1.cliniko.com';
    expect(run(link, { Cliniko_Patient_Id__c: '42', $baseUrl: base })).toBe(
      '<a href="https://acme.au1.cliniko.com/patients/42" target="_blank">Open in Cliniko</a>',
    );
    // Controls: no address set, or no patient id, gives a blank link.
    expect(run(link, { Cliniko_Patient_Id__c: '42' })).toBe('');
    expect(run(link, { $baseUrl: base })).toBe('');
    expect(run('HYPERLINK("a?b=1&c=<2>", "x")', {})).toBe(
      '<a href="a?b=1&amp;c=&lt;2&gt;" target="_blank">x</a>',
    );
  });

  it('refuses what it cannot evaluate, naming it', () => {
    expect(() => parseFormula('$Profile.Name = "Admin"')).toThrow(/unsupported global/);
    expect(() => parseFormula('REGEX(Email__c, ".*")')).toThrow(/unsupported function REGEX/);
    expect(() => parseFormula('AND(')).toThrow(/formula/);
    expect(() => parseFormula('ISNEW(1)')).toThrow(/ISNEW takes 0..0 arguments/);
  });
});
