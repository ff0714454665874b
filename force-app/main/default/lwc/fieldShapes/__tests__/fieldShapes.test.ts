import { checkShape, hasSomethingToCheck, spotFieldsOf } from 'c/fieldShapes';
// eslint-disable-next-line no-unused-vars -- type-only import: the JavaScript rule misses type positions; tsc checks them
import type { MappedField } from 'c/fieldShapes';

describe('c/fieldShapes checkShape', () => {
  // Each row: a value that fits its shape, and (the control) one that does not.
  const cases: Array<[Parameters<typeof checkShape>[0], string, string, string]> = [
    ['email', 'sam.citizen@example.com.au', 'Sam reports knee pain', 'not an email address'],
    ['phone', '+61 412 345 678', 'call after 5pm re: MRI', 'not a phone number'],
    ['phone', '(02) 9876 5432', '12', 'not a phone number'],
    ['postcode', '2000', 'post-op', 'not a postcode'],
    ['postcode', 'SW1A 1AA', '0412 345 678 99', 'not a postcode'],
    ['date', '1984-02-29', '1985-02-29', 'not a date'],
    ['picklist', 'SMS & Email', 'Patient prefers a phone call after work hours', 'not a single choice'],
    ['name', "O'Brien-Núñez", 'Sam 2', 'a name with digits'],
    ['name', 'Mary Jane', 'Diagnosis: lumbar disc herniation', 'a name with other characters'],
  ];

  it.each(cases)('%s: %j fits, %j does not', (shape, good, bad, reason) => {
    expect(checkShape(shape, good)).toEqual({ fits: true, reason: '' });
    expect(checkShape(shape, bad)).toEqual({ fits: false, reason });
  });

  it('flags a second line in any shape (free text), and lets an empty value pass', () => {
    expect(checkShape('name', 'Sam\nhistory of falls').fits).toBe(false);
    expect(checkShape('email', null).fits).toBe(true);
    expect(checkShape('date', '').fits).toBe(true);
  });

  it('never puts the value in the reason', () => {
    expect(checkShape('name', 'Secret Diagnosis 42').reason).not.toContain('Secret');
  });
});

describe('c/fieldShapes spotFieldsOf', () => {
  const mapped: MappedField[] = [
    { targetObject: 'Contact', targetField: 'FirstName', shape: 'name' },
    { targetObject: 'Contact', targetField: 'Email', shape: 'email' },
    { targetObject: 'Contact', targetField: 'MailingStreet', shape: null },
    { targetObject: 'Contact', targetField: 'Birthdate', shape: 'date' },
    { targetObject: 'Care_Plan__c', targetField: 'Name', shape: 'name' },
  ];

  it('labels each synced field, checks its value, leaves out fields the user cannot read', () => {
    const fields = {
      FirstName: { value: 'Sam', displayValue: null },
      Email: { value: 'knee pain since March', displayValue: null },
      MailingStreet: { value: '1 Main St', displayValue: null },
      // Birthdate is absent: field-level security hides it.
    };
    const rows = spotFieldsOf('Contact', mapped, fields, { FirstName: 'First Name', Email: 'Email' });
    expect(rows.map((r) => [r.label, r.display, r.checked, r.fits])).toEqual([
      ['First Name', 'Sam', true, true],
      ['Email', 'knee pain since March', true, false],
      ['MailingStreet', '1 Main St', false, true],
    ]);
    expect(rows[1]?.reason).toBe('not an email address');
    expect(hasSomethingToCheck(rows)).toBe(true);
  });

  it('has nothing to check when every shaped value is empty or hidden (control: one value is enough)', () => {
    const empty = spotFieldsOf(
      'Contact',
      mapped,
      { FirstName: { value: null, displayValue: null }, MailingStreet: { value: 'x', displayValue: null } },
      {},
    );
    expect(hasSomethingToCheck(empty)).toBe(false);
    const one = spotFieldsOf(
      'Contact',
      mapped,
      { Birthdate: { value: '1990-01-01', displayValue: '1/1/1990' } },
      {},
    );
    expect(one[0]?.display).toBe('1/1/1990');
    expect(hasSomethingToCheck(one)).toBe(true);
  });
});
