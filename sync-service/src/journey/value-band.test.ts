import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOURNEY_CONFIG, parseJourneyConfig } from './config.js';
import { formatCents } from './money.js';
import { VALUE_BANDS, valueBand, valueBandsSchema, type ValueBandTiers } from './value-band.js';

const SHIPPED = DEFAULT_JOURNEY_CONFIG.valueBands;

describe('valueBand', () => {
  it('places amounts by the shipped tiers, boundaries included', () => {
    expect(valueBand('0.00', SHIPPED)).toBe('Bronze');
    expect(valueBand('499.99', SHIPPED)).toBe('Bronze');
    expect(valueBand('500.00', SHIPPED)).toBe('Silver');
    expect(valueBand('1999.99', SHIPPED)).toBe('Silver');
    expect(valueBand('2000.00', SHIPPED)).toBe('Gold');
    expect(valueBand('5000.00', SHIPPED)).toBe('Platinum');
    expect(valueBand('123456.78', SHIPPED)).toBe('Platinum');
  });

  it('gives no band below the first tier, or with no tiers', () => {
    const fromHundred: ValueBandTiers = [{ band: 'Silver', fromAmount: 100 }];
    expect(valueBand('99.99', fromHundred)).toBeNull();
    // Control: at the tier the band appears.
    expect(valueBand('100.00', fromHundred)).toBe('Silver');
    expect(valueBand('10000.00', [])).toBeNull();
  });

  it('compares exact cents, not floats', () => {
    const tiers: ValueBandTiers = [
      { band: 'Bronze', fromAmount: 0 },
      { band: 'Gold', fromAmount: 0.3 },
    ];
    // 0.1 + 0.2 > 0.3 in floating point; in cents 0.29 stays below and 0.30 reaches it.
    expect(valueBand('0.29', tiers)).toBe('Bronze');
    expect(valueBand('0.30', tiers)).toBe('Gold');
  });

  it('never goes down as the amount goes up (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.bigInt({ min: 0n, max: 10_000_000n }), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const rank = (cents: bigint) => {
          const band = valueBand(formatCents(cents), SHIPPED);
          return band === null ? -1 : VALUE_BANDS.indexOf(band);
        };
        expect(rank(low)).toBeLessThanOrEqual(rank(high));
      }),
    );
  });

  it('never returns anything but a band name or null: the amount cannot leak through it (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 100_000_000n }), (cents) => {
        const band = valueBand(formatCents(cents), SHIPPED);
        expect(band === null || (VALUE_BANDS as readonly string[]).includes(band)).toBe(true);
      }),
    );
  });
});

describe('valueBands configuration', () => {
  it('refuses tiers out of order, a band repeated or out of order, and a third decimal place', () => {
    const problems = valueBandsSchema.safeParse([
      { band: 'Silver', fromAmount: 500 },
      { band: 'Bronze', fromAmount: 100 },
      { band: 'Gold', fromAmount: 2000.005 },
    ]);
    expect(problems.success).toBe(false);
    const messages = problems.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages).toEqual(
      expect.arrayContaining([
        '1.fromAmount: tiers must be in ascending order of fromAmount',
        expect.stringMatching(/^1\.band: bands go up in the order Bronze, Silver, Gold, Platinum/),
        '2.fromAmount: must have at most two decimal places',
      ]),
    );
    // Control: the shipped tiers parse.
    expect(valueBandsSchema.safeParse(SHIPPED).success).toBe(true);
  });

  it('names the key when config/journey.yaml carries a bad band', () => {
    expect(() =>
      parseJourneyConfig({ ...DEFAULT_JOURNEY_CONFIG, valueBands: [{ band: 'Diamond', fromAmount: 0 }] }),
    ).toThrow(/valueBands\[0\]\.band/);
  });
});
