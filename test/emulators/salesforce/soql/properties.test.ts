/**
 * Rules that hold for every input: date literal ranges, LIKE against plain text, and ORDER BY with
 * LIMIT/OFFSET agreeing with a reference sort.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SoqlContext, SoqlField, SoqlObject } from '../model.js';
import { dateLiteralRange, executeSoql } from './index.js';

const DAY = 86_400_000;
const instant = fc.date({
  min: new Date('1990-01-01T00:00:00Z'),
  max: new Date('2090-12-31T23:59:59Z'),
  noInvalidDate: true,
});

describe('date literal ranges', () => {
  it('the "this" ranges contain now, and last/this/next ranges tile without gaps', () => {
    fc.assert(
      fc.property(instant, fc.constantFrom('WEEK', 'MONTH', 'QUARTER', 'YEAR'), (now, unit) => {
        const last = dateLiteralRange(`LAST_${unit}`, now);
        const current = dateLiteralRange(`THIS_${unit}`, now);
        const next = dateLiteralRange(`NEXT_${unit}`, now);
        expect(current.start).toBeLessThanOrEqual(now.getTime());
        expect(current.end).toBeGreaterThan(now.getTime());
        expect(last.end).toBe(current.start);
        expect(current.end).toBe(next.start);
        expect(current.start % DAY).toBe(0);
      }),
    );
  });

  it('THIS_WEEK starts on a Sunday and lasts seven days', () => {
    fc.assert(
      fc.property(instant, (now) => {
        const week = dateLiteralRange('THIS_WEEK', now);
        expect(new Date(week.start).getUTCDay()).toBe(0);
        expect(week.end - week.start).toBe(7 * DAY);
      }),
    );
  });

  it('LAST_N_DAYS:n covers n days back through today; NEXT_N_DAYS:n the n days after today', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 1000 }), (now, n) => {
        const today = dateLiteralRange('TODAY', now);
        const last = dateLiteralRange(`LAST_N_DAYS:${n}`, now);
        const next = dateLiteralRange(`NEXT_N_DAYS:${n}`, now);
        const ago = dateLiteralRange(`N_DAYS_AGO:${n}`, now);
        expect(last).toEqual({ start: today.start - n * DAY, end: today.end });
        expect(next).toEqual({ start: today.end, end: today.end + n * DAY });
        expect(ago).toEqual({ start: today.start - n * DAY, end: today.end - n * DAY });
      }),
    );
  });
});

// ---- a one-object org filled by fast-check --------------------------------------------------------

const fields = new Map<string, SoqlField>(
  (
    [
      ['Id', 'id'],
      ['Name', 'string'],
      ['Score__c', 'double'],
    ] as const
  ).map(([name, type]) => [name.toLowerCase(), { name, type }]),
);
const ITEM: SoqlObject = { name: 'Item__c', fields };

function org(rows: Array<Record<string, unknown>>): SoqlContext {
  return {
    describe: (name) => (name.toLowerCase() === 'item__c' ? ITEM : undefined),
    records: () => rows,
    byId: () => undefined,
    canRead: () => true,
    now: new Date('2026-11-22T00:00:00Z'),
    includeDeleted: false,
    apiVersion: '66.0',
  };
}

const rowsArb = fc
  .array(
    fc.record({
      Name: fc.option(fc.string({ unit: fc.constantFrom('a', 'B', 'c', 'D', ' ', 'é'), maxLength: 4 }), {
        nil: null,
      }),
      Score__c: fc.option(fc.integer({ min: -5, max: 5 }), { nil: null }),
    }),
    { maxLength: 30 },
  )
  .map((rows) => rows.map((r, i) => ({ Id: `a00${String(i).padStart(15, '0')}`, ...r })));

describe('SOQL over generated records', () => {
  it('LIKE without wildcards is case-insensitive equality', () => {
    fc.assert(
      fc.property(
        rowsArb,
        fc.string({ unit: fc.constantFrom('a', 'b', 'C', 'd'), minLength: 1, maxLength: 3 }),
        (rows, text) => {
          const got = executeSoql(`SELECT Id FROM Item__c WHERE Name LIKE '${text}'`, org(rows)).records.map(
            (r) => r.Id,
          );
          const want = rows
            .filter((r) => r.Name !== null && r.Name.toLowerCase() === text.toLowerCase())
            .map((r) => r.Id);
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it('ORDER BY with NULLS and LIMIT/OFFSET equals a reference stable sort and slice', () => {
    fc.assert(
      fc.property(
        rowsArb,
        fc.constantFrom('ASC', 'DESC'),
        fc.constantFrom('FIRST', 'LAST'),
        fc.integer({ min: 0, max: 35 }),
        fc.integer({ min: 0, max: 35 }),
        (rows, direction, nulls, limit, offset) => {
          const soql = `SELECT Id FROM Item__c ORDER BY Score__c ${direction} NULLS ${nulls}, Name LIMIT ${limit} OFFSET ${offset}`;
          const got = executeSoql(soql, org(rows)).records.map((r) => r.Id);
          const key = (v: number | null) =>
            v === null ? (nulls === 'FIRST' ? -Infinity : Infinity) : direction === 'DESC' ? -v : v;
          // Salesforce keeps no empty strings: '' is null, so it sorts with the nulls.
          const byName = (x: string | null, y: string | null) => compareNames(x || null, y || null);
          const compareNames = (a: string | null, b: string | null) =>
            a === b
              ? 0
              : a === null
                ? -1
                : b === null
                  ? 1
                  : a.toLowerCase() < b.toLowerCase()
                    ? -1
                    : a.toLowerCase() > b.toLowerCase()
                      ? 1
                      : 0;
          const want = [...rows]
            .sort((a, b) => key(a.Score__c) - key(b.Score__c) || byName(a.Name, b.Name))
            .slice(offset, offset + limit)
            .map((r) => r.Id);
          expect(got).toEqual(want);
        },
      ),
    );
  });

  it('IN over names, numbers and ids finds exactly the rows a reference comparison finds', () => {
    const nameArb = fc.string({
      unit: fc.constantFrom('a', 'A', 'b', 'B', 'c', 'C', 'D', 'É', 'é'),
      minLength: 1,
      maxLength: 3,
    });
    fc.assert(
      fc.property(
        rowsArb,
        fc.array(nameArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 35 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (rows, names, scores, picks, negate) => {
          const ctx = org(rows);
          const op = negate ? 'NOT IN' : 'IN';
          const ids = (where: string) =>
            executeSoql(`SELECT Id FROM Item__c WHERE ${where}`, ctx).records.map((r) => r.Id);
          // The reference: case-folded string equality, plain numbers, and an id in either length.
          const folded = new Set(names.map((n) => n.toLowerCase()));
          const nameHit = (r: (typeof rows)[number]) => r.Name !== null && folded.has(r.Name.toLowerCase());
          const quoted = names.map((n) => `'${n}'`).join(', ');
          expect(ids(`Name ${op} (${quoted})`)).toEqual(
            rows.filter((r) => (negate ? !nameHit(r) : nameHit(r))).map((r) => r.Id),
          );
          const scoreHit = (r: (typeof rows)[number]) => r.Score__c !== null && scores.includes(r.Score__c);
          expect(ids(`Score__c ${op} (${scores.join(', ')})`)).toEqual(
            rows.filter((r) => (negate ? !scoreHit(r) : scoreHit(r))).map((r) => r.Id),
          );
          // Some ids in their 15-character form, the others in 18: a 15-character id names every record
          // whose id starts with it (these generated ids differ only in their last characters).
          const listed = rows
            .filter((_, i) => picks.includes(i))
            .map((r, i) => (i % 2 === 0 ? r.Id.slice(0, 15) : r.Id));
          const idHit = (id: string) => listed.some((l) => (l.length === 15 ? id.startsWith(l) : id === l));
          if (listed.length > 0)
            expect(ids(`Id IN (${listed.map((l) => `'${l}'`).join(', ')})`)).toEqual(
              rows.filter((r) => idHit(r.Id)).map((r) => r.Id),
            );
        },
      ),
    );
  });

  it('COUNT() agrees with the number of matching records, and GROUP BY counts add up to it', () => {
    fc.assert(
      fc.property(rowsArb, fc.integer({ min: -5, max: 5 }), (rows, threshold) => {
        const ctx = org(rows);
        const where = `WHERE Score__c >= ${threshold}`;
        const count = executeSoql(`SELECT COUNT() FROM Item__c ${where}`, ctx).totalSize;
        expect(count).toBe(rows.filter((r) => r.Score__c !== null && r.Score__c >= threshold).length);
        const groups = executeSoql(`SELECT Name, COUNT(Id) FROM Item__c ${where} GROUP BY Name`, ctx).records;
        expect(groups.reduce((sum, g) => sum + (g.expr0 as number), 0)).toBe(count);
      }),
    );
  });
});
