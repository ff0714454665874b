import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalDataMapJson,
  canonicalJson,
  canonicalJsonByParts,
  isInCanonicalOrder,
  dataMapSha256,
  payloadSha256,
} from './canonical.js';

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

// Moved from spec-fields.test.ts with the encoder (formerly `stableJson`, now the one canonicalJson).
describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
    expect(payloadSha256({ a: 1, b: 2 })).toBe(payloadSha256({ b: 2, a: 1 }));
  });

  it('refuses values with no JSON form', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
  });
});

// The encoding is pinned byte for byte: the audit chain's hashes and every signed data map depend on it.
// Each expected text was written by hand from the rules in canonical.ts, not produced by the code.
describe('canonicalJson pins its encoding', () => {
  it('orders keys by UTF-16 code unit, not by locale', () => {
    const value = { b: 1, a: 2, B: 3, é: 4, _: 5, '10': 6, '9': 7 };
    const text = canonicalJson(value);
    expect(text).toBe('{"10":6,"9":7,"B":3,"_":5,"a":2,"b":1,"é":4}');
    // Control: a locale-aware order would differ, so the assertion above can fail.
    const localeOrder = Object.keys(value).sort((x, y) => x.localeCompare(y, 'en'));
    expect(localeOrder.join(',')).not.toBe('10,9,B,_,a,b,é');
  });

  it('writes a Date as its full ISO instant, so two instants on one day differ', () => {
    expect(canonicalJson({ at: new Date('2025-01-31T23:59:59.123Z') })).toBe(
      '{"at":"2025-01-31T23:59:59.123Z"}',
    );
    expect(payloadSha256({ at: new Date('2025-01-31T00:00:00Z') })).not.toBe(
      payloadSha256({ at: new Date('2025-01-31T12:00:00Z') }),
    );
  });

  it('keeps non-ASCII text as is and escapes what JSON must', () => {
    expect(canonicalJson({ name: 'Zoë 名前 😀', q: 'a"b\\c\n', lone: '\ud800' })).toBe(
      '{"lone":"\\ud800","name":"Zoë 名前 😀","q":"a\\"b\\\\c\\n"}',
    );
  });

  it('writes numbers as JSON.stringify does', () => {
    expect(canonicalJson([12.5, -0, 1e21, 0.1 + 0.2, 1e-7, 42])).toBe(
      '[12.5,0,1e+21,0.30000000000000004,1e-7,42]',
    );
    expect(canonicalJson([undefined, null, true])).toBe('[null,null,true]');
    expect(() => canonicalJson({ a: [1, Number.POSITIVE_INFINITY] })).toThrow(/value\.a\[1\]: non-finite/);
  });
});

describe('payloadSha256 is pinned', () => {
  it('matches an independent computation (Python json.dumps sort_keys, no whitespace, ensure_ascii=False)', () => {
    // A change here breaks every stored audit chain and payload hash: change it only with a migration.
    const entry = {
      seq: 3,
      timestamp: '2026-11-21T03:04:05.000Z',
      changedFields: ['Email', 'FirstName'],
      object: 'Contact',
      note: 'Zoë 名前',
      amount: 12.5,
      prevHash: null,
    };
    expect(payloadSha256(entry)).toBe('fb5b360d8ad0df2389209f8fe7ba0523d4eb1334197b21b2024d094091a1e07a');
    // Control: one character more and the hash moves.
    expect(payloadSha256({ ...entry, note: 'Zoë 名前.' })).not.toBe(
      'fb5b360d8ad0df2389209f8fe7ba0523d4eb1334197b21b2024d094091a1e07a',
    );
  });
});

describe('canonicalDataMapJson date rule', () => {
  it('writes a YAML date as the calendar date the clinic wrote, keeping every signed hash', () => {
    const withDate = [{ ...entries[0], reviewed: new Date('2025-01-31T00:00:00Z') }];
    const withText = [{ ...entries[0], reviewed: '2025-01-31' }];
    expect(canonicalDataMapJson(withDate)).toBe(canonicalDataMapJson(withText));
    expect(canonicalDataMapJson(withDate)).toContain('"reviewed":"2025-01-31"');
    // Control: the payload encoding of the same Date is the instant, so the map's rule is not a no-op.
    expect(canonicalJson(withDate)).toContain('"reviewed":"2025-01-31T00:00:00.000Z"');
  });
});

describe('canonicalDataMapJson own keys', () => {
  it('hashes a "__proto__" key like any other key (the former encoder dropped it silently)', () => {
    const plain = JSON.parse('[{"resource":"patients","source":"email"}]') as unknown[];
    const withProto = JSON.parse(
      '[{"resource":"patients","source":"email","__proto__":{"x":1}}]',
    ) as unknown[];
    expect(canonicalDataMapJson(withProto)).toContain('"__proto__":{"x":1}');
    expect(dataMapSha256(withProto)).not.toBe(dataMapSha256(plain));
  });
});

describe('canonicalJson through JSON.stringify (issue #16)', () => {
  // Keys that JSON.stringify would reorder (array indices) or that assigning would not copy.
  const key = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '0',
      '7',
      '10',
      '4294967294',
      '4294967295',
      '01',
      '-1',
      '1e3',
      '__proto__',
      'constructor',
    ),
  );
  const scalar = fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.date({ noInvalidDate: true }),
  );
  const value = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('object')),
    list: fc.array(tie('tree'), { maxLength: 5 }),
    object: fc.array(fc.tuple(key, tie('tree')), { maxLength: 6 }).map((members) => {
      const obj: Record<string, unknown> = {};
      for (const [k, v] of members)
        Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
      return obj;
    }),
  }));

  it('writes exactly what the member-by-member encoder writes, for any JSON-able value', () => {
    fc.assert(
      fc.property(value.tree, (v) => {
        if (v === undefined) return;
        expect(canonicalJson(v)).toBe(canonicalJsonByParts(v));
      }),
      { numRuns: 2000 },
    );
  });

  /** `v` with every object's keys inserted in code-unit order (own `__proto__` kept as an own key). */
  const sortedCopy = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortedCopy);
    if (v === null || typeof v !== 'object' || v instanceof Date) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort())
      Object.defineProperty(out, k, {
        value: sortedCopy((v as Record<string, unknown>)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  };

  it('writes a value already in canonical order as JSON.stringify does, and only such a value', () => {
    let ordered = 0;
    fc.assert(
      fc.property(value.tree, (v) => {
        if (v === undefined) return;
        for (const candidate of [v, sortedCopy(v), JSON.parse(canonicalJsonByParts(v)) as unknown]) {
          // The claim the shortcut rests on: where it applies, JSON.stringify is the canonical text.
          if (isInCanonicalOrder(candidate)) {
            ordered += 1;
            expect(JSON.stringify(candidate)).toBe(canonicalJsonByParts(candidate));
          }
          expect(canonicalJson(candidate)).toBe(canonicalJsonByParts(v));
        }
        // A payload read back from its canonical text takes the shortcut unless it has integer-like
        // or __proto__ keys (which JSON.parse cannot give back in code-unit order / as plain members).
        const text = canonicalJsonByParts(v);
        if (!/"(?:0|[1-9]\d{0,9}|__proto__)":/.test(text))
          expect(isInCanonicalOrder(JSON.parse(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(ordered).toBeGreaterThan(1000);
  });

  it('takes no shortcut for a key out of order, an integer-like key, a Date or a class instance', () => {
    expect(isInCanonicalOrder({ a: 1, b: { c: [1, 'x', null, true] } })).toBe(true);
    expect(isInCanonicalOrder({ b: 1, a: 2 })).toBe(false);
    expect(isInCanonicalOrder({ a: { d: 1, c: 2 } })).toBe(false);
    expect(isInCanonicalOrder({ '10': 1, a: 2 })).toBe(false);
    expect(isInCanonicalOrder({ a: new Date(0) })).toBe(false);
    expect(isInCanonicalOrder({ a: new (class Point {})() })).toBe(false);
    expect(isInCanonicalOrder({ a: Number.POSITIVE_INFINITY })).toBe(false);
    expect(isInCanonicalOrder(JSON.parse('{"__proto__":1}'))).toBe(false);
    // Control: the cases above are ones where JSON.stringify is not the canonical text.
    expect(JSON.stringify({ b: 1, a: 2 })).not.toBe(canonicalJson({ b: 1, a: 2 }));
  });

  it('keeps integer-like keys in code-unit order and an own __proto__ key (the cases it hands back)', () => {
    const obj = JSON.parse('{"b":1,"10":2,"9":3,"__proto__":{"x":1},"a":[{"2":0,"1":0}]}') as unknown;
    expect(canonicalJson(obj)).toBe('{"10":2,"9":3,"__proto__":{"x":1},"a":[{"1":0,"2":0}],"b":1}');
    // Control: JSON.stringify alone puts integer keys first in numeric order.
    expect(JSON.stringify({ b: 1, 10: 2, 9: 3 })).toBe('{"9":3,"10":2,"b":1}');
  });

  it('names where a value with no JSON form is, as before', () => {
    expect(() => canonicalJson({ a: [1, { b: Number.NaN }] }, 'payload')).toThrow(
      'payload.a[1].b: non-finite number NaN has no JSON form',
    );
    expect(() => canonicalJson({ a: () => 1 })).toThrow('value.a: a function has no JSON form');
  });
});
