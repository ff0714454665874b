import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalDataMapJson, dataMapSha256 } from './canonical.js';

const entries = [
  {
    resource: 'patients',
    source: 'email',
    classification: 'marketing-safe',
    target: 'Contact.Email',
    direction: 'both',
    transform: 'email',
    rationale: 'Contact detail.',
  },
  {
    resource: 'patients',
    source: ['notes', 'appointment_notes'],
    classification: 'clinician-only',
    rationale: 'Clinical.',
  },
  {
    resource: 'individual_appointments',
    source: 'id',
    classification: 'operations-safe',
    target: 'Cliniko_Appointment__c.Cliniko_Appointment_Id__c',
    rationale: 'Key.',
  },
];
const derived = [
  {
    target: 'Contact.Journey_Stage__c',
    classification: 'marketing-safe',
    from: ['individual_appointments.starts_at'],
    rationale: 'Journey.',
  },
  {
    target: 'Care_Plan__c.Progress_Percent__c',
    classification: 'marketing-safe',
    from: ['patient_cases.max_sessions'],
    rationale: 'Progress.',
  },
];

describe('canonicalDataMapJson', () => {
  it('writes the documented form: sorted lists, sorted keys, one-field sources as lists, no whitespace', () => {
    // Arrange: the documented example from docs/data-map.md, "Canonical form".
    const text = canonicalDataMapJson(
      [
        {
          source: 'email',
          resource: 'patients',
          classification: 'marketing-safe',
          target: 'Contact.Email',
          rationale: 'R',
        },
      ],
      [
        {
          target: 'Contact.X__c',
          classification: 'billing',
          from: ['invoices.total_amount'],
          rationale: 'M',
        },
      ],
    );
    // Assert
    expect(text).toBe(
      '{"derived":[{"classification":"billing","from":["invoices.total_amount"],"rationale":"M","target":"Contact.X__c"}],' +
        '"entries":[{"classification":"marketing-safe","rationale":"R","resource":"patients","source":["email"],"target":"Contact.Email"}]}',
    );
  });

  it('orders entries by resource, then source, then target, and derived by target', () => {
    const parsed = JSON.parse(canonicalDataMapJson(entries, derived)) as {
      entries: { resource: string; source: string[] }[];
      derived: { target: string }[];
    };
    expect(parsed.entries.map((e) => `${e.resource}.${e.source.join('+')}`)).toEqual([
      'individual_appointments.id',
      'patients.email',
      'patients.notes+appointment_notes',
    ]);
    expect(parsed.derived.map((d) => d.target)).toEqual([
      'Care_Plan__c.Progress_Percent__c',
      'Contact.Journey_Stage__c',
    ]);
  });

  it('drops undefined members and refuses values with no JSON form', () => {
    const withUndefined = [{ ...entries[0], transform: undefined }];
    const without = [{ ...entries[0] }];
    delete (without[0] as { transform?: string }).transform;
    expect(canonicalDataMapJson(withUndefined)).toBe(canonicalDataMapJson(without));
    expect(() => canonicalDataMapJson([{ resource: 'patients', weight: Number.NaN }])).toThrow(
      /entries\[0\]\.weight/,
    );
  });
});

describe('dataMapSha256', () => {
  it('is the sha256 hex of the canonical JSON', () => {
    const expected = createHash('sha256')
      .update(canonicalDataMapJson(entries, derived), 'utf8')
      .digest('hex');
    expect(dataMapSha256(entries, derived)).toBe(expected);
    expect(dataMapSha256(entries, derived)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is pinned: a change to the canonical form is a change to every signed map', () => {
    // If this fails, every clinic's sign-off breaks; change it only with a migration note in docs/data-map.md.
    // The value was computed independently with Python (json.dumps(sort_keys=True, separators=(',', ':'),
    // ensure_ascii=False) over the same lists sorted as documented), not copied from this implementation.
    expect(dataMapSha256(entries, derived)).toBe(
      '15a5a3f8b17864705f408ae2a7c558b099cb300d182d433d2f86718dff322d5b',
    );
  });

  it('does not depend on the order of entries or of keys within them', () => {
    const reference = dataMapSha256(entries, derived);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(entries, { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (shuffled, reverseKeys) => {
          const rebuilt = shuffled.map((e) => {
            const keys = Object.keys(e);
            if (reverseKeys) keys.reverse();
            return Object.fromEntries(keys.map((k) => [k, (e as Record<string, unknown>)[k]]));
          });
          return dataMapSha256(rebuilt, [...derived].reverse()) === reference;
        },
      ),
    );
  });

  it('treats a single source and a one-element source list as the same entry', () => {
    const asList = entries.map((e) => ({
      ...e,
      source: typeof e.source === 'string' ? [e.source] : e.source,
    }));
    expect(dataMapSha256(asList, derived)).toBe(dataMapSha256(entries, derived));
  });

  it('changes when any value changes, including the order of a source list', () => {
    const reference = dataMapSha256(entries, derived);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: entries.length - 1 }),
        fc.constantFrom('classification', 'rationale', 'target', 'resource'),
        fc.string({ minLength: 1 }),
        (index, key, suffix) => {
          const changed = entries.map((e, i) =>
            i === index
              ? { ...e, [key]: `${(e as Record<string, string | undefined>)[key] ?? ''}${suffix}` }
              : e,
          );
          return dataMapSha256(changed, derived) !== reference;
        },
      ),
    );
    const reordered = entries.map((e, i) => (i === 1 ? { ...e, source: ['appointment_notes', 'notes'] } : e));
    expect(dataMapSha256(reordered, derived)).not.toBe(reference);
    const derivedChanged = derived.map((d, i) => (i === 0 ? { ...d, classification: 'operations-safe' } : d));
    expect(dataMapSha256(entries, derivedChanged)).not.toBe(reference);
  });
});
