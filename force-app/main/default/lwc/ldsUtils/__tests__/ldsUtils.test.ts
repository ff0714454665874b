import {
  gqlDisplay,
  gqlHas,
  gqlNodes,
  gqlValue,
  quarterOf,
  quarterStart,
  reduceErrors,
  sampleOf,
} from 'c/ldsUtils';

const FIELD = { objectApiName: 'Care_Plan__c', fieldApiName: 'Billing_Limit__c' };

describe('c/ldsUtils', () => {
  describe('GraphQL field helpers', () => {
    it('reads value and display value of a present field', () => {
      const node = { Billing_Limit__c: { value: 1500, displayValue: '$1,500.00' } };
      expect(gqlValue(node, FIELD)).toBe(1500);
      expect(gqlDisplay(node, FIELD)).toBe('$1,500.00');
      expect(gqlHas(node, FIELD)).toBe(true);
    });

    it('tells a field hidden by FLS (absent) from a field with no value (null)', () => {
      expect(gqlValue({}, FIELD)).toBeUndefined();
      expect(gqlDisplay({}, FIELD)).toBeUndefined();
      expect(gqlHas({}, FIELD)).toBe(false);
      const empty = { Billing_Limit__c: { value: null, displayValue: null } };
      expect(gqlValue(empty, FIELD)).toBeNull();
      expect(gqlDisplay(empty, FIELD)).toBe('');
      expect(gqlHas(empty, FIELD)).toBe(true);
    });

    it('falls back to the raw value when there is no display value', () => {
      expect(gqlDisplay({ Sessions_Used__c: { value: 6 } }, 'Sessions_Used__c')).toBe('6');
    });

    it('lists the nodes of a connection and tolerates a missing object', () => {
      const data = {
        uiapi: { query: { Care_Plan__c: { edges: [{ node: { Id: 'a' } }, { node: { Id: 'b' } }] } } },
      };
      expect(gqlNodes(data, 'Care_Plan__c').map((n) => n.Id)).toEqual(['a', 'b']);
      expect(gqlNodes(data, 'Contact')).toEqual([]);
      expect(gqlNodes(undefined, 'Contact')).toEqual([]);
    });
  });

  describe('quarters', () => {
    it.each([
      ['2026-01-01T00:00:00Z', '2026-Q1', '2026-01-01T00:00:00.000Z'],
      ['2026-03-31T23:59:59Z', '2026-Q1', '2026-01-01T00:00:00.000Z'],
      ['2026-04-01T00:00:00Z', '2026-Q2', '2026-04-01T00:00:00.000Z'],
      ['2026-11-22T10:00:00Z', '2026-Q4', '2026-10-01T00:00:00.000Z'],
      ['2026-12-31T23:59:59Z', '2026-Q4', '2026-10-01T00:00:00.000Z'],
    ])('%s is in %s starting %s', (iso, quarter, start) => {
      expect(quarterOf(new Date(iso))).toBe(quarter);
      expect(quarterStart(new Date(iso)).toISOString()).toBe(start);
    });
  });

  describe('sampleOf', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

    it('draws the requested number of distinct items without changing the input', () => {
      const copy = [...items];
      const sample = sampleOf(items, 5);
      expect(sample).toHaveLength(5);
      expect(new Set(sample).size).toBe(5);
      expect(sample.every((s) => items.includes(s))).toBe(true);
      expect(items).toEqual(copy);
    });

    it('returns everything when there are fewer items than asked for', () => {
      expect(sampleOf(['x', 'y'], 5).sort()).toEqual(['x', 'y']);
      expect(sampleOf([], 5)).toEqual([]);
    });

    it('follows the injected random source, so a draw can be reproduced', () => {
      // random() = 0 always keeps the current position: the first items in order.
      expect(sampleOf(items, 3, () => 0)).toEqual(['a', 'b', 'c']);
      // random() just below 1 always takes the last remaining item.
      expect(sampleOf(items, 3, () => 0.999)).toEqual(['g', 'a', 'b']);
    });
  });

  describe('reduceErrors', () => {
    it('flattens UI API field errors and plain messages', () => {
      expect(
        reduceErrors([
          {
            body: {
              output: {
                errors: [{ message: 'Row locked' }],
                fieldErrors: { Notes__c: [{ message: 'Too long' }] },
              },
            },
          },
          'plain',
          { statusText: 'Bad Request' },
        ]),
      ).toEqual(['Row locked', 'Too long', 'plain', 'Bad Request']);
    });
  });
});
