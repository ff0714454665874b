import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideMatch, personOf, phoneKey, type Candidate, type PersonFields } from './decide.js';

const patient: PersonFields = {
  email: 'Ada.Lovelace@Example.com ',
  firstName: 'Ada',
  lastName: 'Lovelace',
  phones: ['+61 412 345 678'],
};

const contact = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  email: 'ada.lovelace@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  phones: [],
  externalId: null,
  ...over,
});

describe('decideMatch: the rule by example', () => {
  it('creates when nothing matches, and when the patient has no email', () => {
    expect(decideMatch('1', patient, [], [])).toEqual({ action: 'create', reason: 'no-match' });
    const other = contact('003A', { email: 'someone@else.example' });
    expect(decideMatch('1', patient, [other], [])).toEqual({ action: 'create', reason: 'no-match' });
    expect(decideMatch('1', { ...patient, email: '  ' }, [contact('003A')], [])).toEqual({
      action: 'create',
      reason: 'no-email',
    });
  });

  it('links the one Contact with the same email, ignoring case and spaces', () => {
    expect(decideMatch('1', patient, [contact('003A', { firstName: 'Augusta' })], [])).toEqual({
      action: 'link-contact',
      id: '003A',
      basis: 'email',
    });
  });

  it('breaks a tie by name and phone, then name, then phone', () => {
    const both = contact('003B', { phones: ['0412 345 678'] });
    const nameOnly = contact('003C');
    const phoneOnly = contact('003D', { firstName: 'Byron', phones: ['0412345678'] });
    const neither = contact('003E', { firstName: 'Byron' });
    expect(decideMatch('1', patient, [nameOnly, both, phoneOnly], [])).toEqual({
      action: 'link-contact',
      id: '003B',
      basis: 'email+name+phone',
    });
    expect(decideMatch('1', patient, [neither, nameOnly], [])).toEqual({
      action: 'link-contact',
      id: '003C',
      basis: 'email+name',
    });
    expect(decideMatch('1', patient, [neither, phoneOnly], [])).toEqual({
      action: 'link-contact',
      id: '003D',
      basis: 'email+phone',
    });
  });

  it('queues for review when the tie-breakers cannot choose', () => {
    expect(decideMatch('1', patient, [contact('003Z'), contact('003Y')], [])).toEqual({
      action: 'review',
      object: 'Contact',
      candidates: ['003Y', '003Z'],
    });
    const a = contact('003A', { firstName: 'X' });
    const b = contact('003B', { firstName: 'Y' });
    expect(decideMatch('1', patient, [a, b], [])).toEqual({
      action: 'review',
      object: 'Contact',
      candidates: ['003A', '003B'],
    });
  });

  it('never takes a Contact that belongs to another patient; recognises its own', () => {
    const sibling = contact('003S', { externalId: '2' });
    expect(decideMatch('1', patient, [sibling], [])).toEqual({ action: 'create', reason: 'no-match' });
    expect(decideMatch('1', patient, [sibling, contact('003O', { externalId: '1' })], [])).toEqual({
      action: 'existing',
      id: '003O',
    });
  });

  it('falls back to Leads only when no Contact matches', () => {
    const lead = contact('00QA');
    expect(decideMatch('1', patient, [], [lead])).toEqual({
      action: 'link-lead',
      id: '00QA',
      basis: 'email',
    });
    expect(decideMatch('1', patient, [contact('003A')], [lead])).toMatchObject({ action: 'link-contact' });
    expect(decideMatch('1', patient, [], [contact('00QA'), contact('00QB')])).toEqual({
      action: 'review',
      object: 'Lead',
      candidates: ['00QA', '00QB'],
    });
  });

  it("never takes a Lead marked with another patient's id, and re-links one marked with this patient's", () => {
    const family = contact('00QF', { externalId: '2' });
    expect(decideMatch('1', patient, [], [family])).toEqual({ action: 'create', reason: 'no-match' });
    expect(decideMatch('1', patient, [], [family, contact('00QB')])).toEqual({
      action: 'link-lead',
      id: '00QB',
      basis: 'email',
    });
    // A retried write: the Lead it marked is found again even beside a new, unmarked one.
    expect(decideMatch('1', patient, [], [contact('00QA'), contact('00QM', { externalId: '1' })])).toEqual({
      action: 'link-lead',
      id: '00QM',
      basis: 'patient-id',
    });
    // Control: unmarked, the same pair goes to review.
    expect(decideMatch('1', patient, [], [contact('00QA'), contact('00QM')])).toMatchObject({
      action: 'review',
    });
  });

  it('compares phones on their last nine digits, ignoring short numbers', () => {
    expect(phoneKey('+61 412 345 678')).toBe(phoneKey('0412-345-678'));
    expect(phoneKey('12345')).toBeNull();
    expect(personOf({ Email: 'a@b.c', LastName: 'L', MobilePhone: '0412', Phone: '' })).toEqual({
      email: 'a@b.c',
      firstName: null,
      lastName: 'L',
      phones: ['0412'],
    });
  });
});

const idArb = fc.stringMatching(/^003[A-Z0-9]{3}$/);
const candidateArb = fc.record({
  id: idArb,
  email: fc.constantFrom('ada@example.com', 'ADA@example.com', 'bob@example.com', null),
  firstName: fc.constantFrom('Ada', 'ada', 'Bob', null),
  lastName: fc.constantFrom('Lovelace', 'Byron'),
  phones: fc.array(fc.constantFrom('0412 345 678', '+61 412 345 678', '0299 999 999'), { maxLength: 2 }),
  externalId: fc.constantFrom(null, '1', '2'),
});
const candidatesArb = fc.uniqueArray(candidateArb, { selector: (c) => c.id, maxLength: 6 });
const patientArb = fc.record({
  email: fc.constantFrom('ada@example.com', null),
  firstName: fc.constantFrom('Ada', 'Bob'),
  lastName: fc.constantFrom('Lovelace', 'Byron'),
  phones: fc.array(fc.constantFrom('0412345678', '0299999999'), { maxLength: 2 }),
});

describe('decideMatch: properties', () => {
  it('never links or proposes a record with another email or another patient id', () => {
    fc.assert(
      fc.property(patientArb, candidatesArb, candidatesArb, (p, contacts, leads) => {
        const d = decideMatch('1', p, contacts, leads);
        const pool =
          d.action === 'link-lead' || (d.action === 'review' && d.object === 'Lead') ? leads : contacts;
        const ids = d.action === 'review' ? d.candidates : 'id' in d ? [d.id] : [];
        for (const id of ids) {
          const c = pool.find((x) => x.id === id)!;
          if (d.action === 'existing' || (d.action === 'link-lead' && d.basis === 'patient-id'))
            expect(c.externalId).toBe('1');
          else {
            expect(c.email?.toLowerCase()).toBe(p.email);
            expect(c.externalId).toBeNull();
          }
        }
      }),
    );
  });

  it('does not depend on the order Salesforce returned the records in', () => {
    fc.assert(
      fc.property(patientArb, candidatesArb, candidatesArb, (p, contacts, leads) => {
        expect(decideMatch('1', p, [...contacts].reverse(), [...leads].reverse())).toEqual(
          decideMatch('1', p, contacts, leads),
        );
      }),
    );
  });

  it('asks for review only when two or more records are candidates, and creates only when none is', () => {
    fc.assert(
      fc.property(patientArb, candidatesArb, candidatesArb, (p, contacts, leads) => {
        const d = decideMatch('1', p, contacts, leads);
        if (d.action === 'review') expect(d.candidates.length).toBeGreaterThanOrEqual(2);
        const free = contacts.filter((c) => c.externalId === null && c.email?.toLowerCase() === p.email);
        const openLeads = leads.filter((c) => c.externalId !== '2' && c.email?.toLowerCase() === p.email);
        if (d.action === 'create' && p.email !== null) expect(free.length + openLeads.length).toBe(0);
      }),
    );
  });
});
