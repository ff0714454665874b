import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumSuffix, makeId, to18 } from './ids.js';

describe('Salesforce ids', () => {
  it('computes the case-safe suffix Salesforce documents for a known id', () => {
    // The pair 0015000000Gv7qJ / 0015000000Gv7qJAAR is the example commonly used to explain the conversion.
    expect(checksumSuffix('0015000000Gv7qJ')).toBe('AAR');
    expect(to18('0015000000Gv7qJ')).toBe('0015000000Gv7qJAAR');
  });

  it('rejects an 18-character id whose suffix does not match', () => {
    expect(to18('0015000000Gv7qJAAA')).toBeUndefined();
    expect(to18('not-an-id')).toBeUndefined();
  });

  it('makes distinct 18-character ids with the prefix and a valid suffix for every counter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 40 }), (a, b) => {
        const id = makeId('003', a);
        expect(id).toMatch(/^003[0-9A-Za-z]{15}$/);
        expect(to18(id.slice(0, 15))).toBe(id);
        expect(makeId('003', b) === id).toBe(a === b);
      }),
    );
  });
});
