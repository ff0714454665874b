import { z } from 'zod';
import { toCents } from './money.js';

/**
 * The patient-value band (Contact.Patient_Value_Band__c): a coarse tier of what the patient has been
 * invoiced over their lifetime, so marketing can segment by value without ever seeing an amount
 * (Lifetime_Invoiced__c stays billing-only, docs/data-map.md). The clinic sets the thresholds in
 * config/journey.yaml (`valueBands`); the band names are the picklist's values, fixed by the package.
 *
 * Example with the shipped tiers (Bronze from 0, Silver from 500, Gold from 2000, Platinum from 5000):
 * 0.00 -> Bronze, 499.99 -> Bronze, 500.00 -> Silver, 12000.00 -> Platinum. With tiers starting
 * above zero, a patient below the first one has no band (null).
 */

/** Contact.Patient_Value_Band__c picklist values, lowest first. */
export const VALUE_BANDS = ['Bronze', 'Silver', 'Gold', 'Platinum'] as const;
export type ValueBand = (typeof VALUE_BANDS)[number];

const amount = z
  .number()
  .min(0)
  .max(1_000_000_000)
  .refine((v) => Number.isInteger(Math.round(v * 100)) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, {
    message: 'must have at most two decimal places',
  });

export const valueBandsSchema = z
  .array(z.object({ band: z.enum(VALUE_BANDS), fromAmount: amount }))
  .superRefine((tiers, ctx) => {
    tiers.forEach((tier, i) => {
      const prev = tiers[i - 1];
      if (prev && tier.fromAmount <= prev.fromAmount)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'fromAmount'],
          message: 'tiers must be in ascending order of fromAmount',
        });
      if (prev && VALUE_BANDS.indexOf(tier.band) <= VALUE_BANDS.indexOf(prev.band))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'band'],
          message: `bands go up in the order ${VALUE_BANDS.join(', ')}, each at most once`,
        });
    });
  });
export type ValueBandTiers = z.output<typeof valueBandsSchema>;

/**
 * The band of a lifetime invoiced amount (a decimal string, as the engine computes it): the highest
 * tier whose `fromAmount` the amount reaches, or null below the first tier or with no tiers.
 */
export function valueBand(lifetimeInvoiced: string, tiers: ValueBandTiers): ValueBand | null {
  const cents = toCents(lifetimeInvoiced);
  let band: ValueBand | null = null;
  for (const tier of tiers) {
    if (cents >= toCents(tier.fromAmount.toFixed(2))) band = tier.band;
    else break;
  }
  return band;
}
