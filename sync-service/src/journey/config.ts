import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SyncError } from '../errors.js';
import { FUNDING_SOURCES, TRIGGER_CODES } from './types.js';
import { valueBandsSchema } from './value-band.js';

/**
 * config/journey.yaml: appointment types, funding tags and every threshold of the journey engine.
 * The caller reads the file; `parseJourneyConfig` only parses text or an object, so it stays pure.
 * docs/journey.md explains each key with examples; keep the two in step.
 */

const positiveDays = z.number().int().min(1).max(365);
const fundingSource = z.enum(FUNDING_SOURCES);

const typeName = z
  .string()
  .min(1)
  .refine((v) => v === v.trim(), { message: 'must not start or end with spaces (names match exactly)' });

/** Hours before an appointment's start at which an `upcoming` Appointment_Event__e is due (Number(5,0)). */
const offsetsHours = z
  .array(z.number().int().min(1).max(2160))
  .max(6)
  .refine((list) => new Set(list).size === list.length, { message: 'must not repeat an offset' });

const tierSchema = z.object({
  maxAverageIntervalDays: z.number().positive().max(365),
  afterDays: positiveDays,
});

export const journeyConfigSchema = z
  .object({
    version: z.literal(1),
    /** Exact, case-sensitive Cliniko appointment type names that open the new-patient journey (T1). */
    initialConsultTypes: z.array(typeName).min(1),
    /** Never an initial consult, even if a name were also listed above (e.g. Paediatric New Patient). */
    excludedTypes: z.array(typeName).default([]),
    /** Appointment type name -> Funding_Source__c. */
    fundingTags: z.record(typeName, fundingSource).default({}),
    /** Patient case referral_type (matched case-insensitively) -> Funding_Source__c. */
    referralTypeFunding: z.record(z.string().min(1), fundingSource).default({}),
    /** Funding source when nothing else says; null leaves the field empty. */
    defaultFundingSource: fundingSource.nullable().default('Private'),
    thresholds: z.object({
      dropOff: z.object({
        /** Ascending by maxAverageIntervalDays; the first tier whose bound the average meets applies. */
        tiers: z.array(tierSchema).min(1),
        /** Schedules longer than the last tier: clamp(round(multiplier x average), minDays, maxDays). */
        longer: z.object({
          multiplier: z
            .number()
            .positive()
            .max(10)
            .refine(
              (v) => Number.isInteger(Math.round(v * 100)) && Math.abs(v * 100 - Math.round(v * 100)) < 1e-9,
              {
                message: 'must have at most two decimal places',
              },
            ),
          minDays: positiveDays,
          maxDays: positiveDays,
        }),
        /** Patients with a single visit have no average interval yet. */
        singleVisitDays: positiveDays,
      }),
      lapsedAfterDays: positiveDays,
      noShowNurtureDays: positiveDays,
      maintenanceReminderPercent: z.number().int().min(1).max(99),
    }),
    events: z
      .object({
        /** New transitions older than this are recorded but publish no platform event (backfills). */
        maxAgeDays: positiveDays,
      })
      .default({ maxAgeDays: 7 }),
    /**
     * Contact.Patient_Value_Band__c tiers by lifetime invoiced amount, ascending (value-band.ts); the
     * band reaches marketing, the amount never does. Empty: no band is computed.
     */
    valueBands: valueBandsSchema.default([]),
    /**
     * Appointment lifecycle events (Appointment_Event__e, docs/marketing.md): the offsets of the
     * `upcoming` event, for every clinic, and per clinic (Cliniko business name) where one differs.
     */
    appointmentEvents: z
      .object({
        upcomingOffsetsHours: offsetsHours.default([48, 2]),
        clinics: z.record(typeName, z.object({ upcomingOffsetsHours: offsetsHours })).default({}),
      })
      .default({ upcomingOffsetsHours: [48, 2], clinics: {} }),
    /** Trigger code -> the Flow (or former GoHighLevel workflow) that listens for it. */
    workflows: z.partialRecord(z.enum(TRIGGER_CODES), z.string().min(1)).default({}),
  })
  .superRefine((cfg, ctx) => {
    const excluded = new Set(cfg.excludedTypes);
    cfg.initialConsultTypes.forEach((name, i) => {
      if (excluded.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['initialConsultTypes', i],
          message: `"${name}" is also in excludedTypes; a type cannot be both`,
        });
      }
    });
    const { dropOff, lapsedAfterDays } = cfg.thresholds;
    dropOff.tiers.forEach((tier, i) => {
      const prev = dropOff.tiers[i - 1];
      if (prev && tier.maxAverageIntervalDays <= prev.maxAverageIntervalDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['thresholds', 'dropOff', 'tiers', i, 'maxAverageIntervalDays'],
          message: 'tiers must be in ascending order of maxAverageIntervalDays',
        });
      }
      if (tier.afterDays >= lapsedAfterDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['thresholds', 'dropOff', 'tiers', i, 'afterDays'],
          message: `must be below thresholds.lapsedAfterDays (${lapsedAfterDays}) so drop-off risk comes before lapse`,
        });
      }
    });
    if (dropOff.longer.minDays > dropOff.longer.maxDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'dropOff', 'longer', 'minDays'],
        message: 'must not exceed thresholds.dropOff.longer.maxDays',
      });
    }
    if (dropOff.longer.maxDays >= lapsedAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'dropOff', 'longer', 'maxDays'],
        message: `must be below thresholds.lapsedAfterDays (${lapsedAfterDays}) so drop-off risk comes before lapse`,
      });
    }
    if (dropOff.singleVisitDays >= lapsedAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'dropOff', 'singleVisitDays'],
        message: `must be below thresholds.lapsedAfterDays (${lapsedAfterDays})`,
      });
    }
  });

export type JourneyConfig = z.output<typeof journeyConfigSchema>;

/** The defaults config/journey.yaml ships with (a test keeps the two identical). */
export const DEFAULT_JOURNEY_CONFIG: JourneyConfig = Object.freeze(
  journeyConfigSchema.parse({
    version: 1,
    initialConsultTypes: [
      'Facebook Initial Appointment',
      'Initial Appointment',
      'NC Family Initial Appointment',
      'Decompression New Patient',
      'Workcover Initial',
      'TAC Initial',
    ],
    excludedTypes: ['Paediatric New Patient'],
    fundingTags: { 'Workcover Initial': 'WorkCover', 'TAC Initial': 'TAC' },
    referralTypeFunding: { dva: 'DVA', medicare: 'Medicare', workcover: 'WorkCover', tac: 'TAC' },
    defaultFundingSource: 'Private',
    thresholds: {
      dropOff: {
        tiers: [
          { maxAverageIntervalDays: 10, afterDays: 14 },
          { maxAverageIntervalDays: 17, afterDays: 21 },
        ],
        longer: { multiplier: 1.5, minDays: 30, maxDays: 42 },
        singleVisitDays: 14,
      },
      lapsedAfterDays: 45,
      noShowNurtureDays: 10,
      maintenanceReminderPercent: 80,
    },
    events: { maxAgeDays: 7 },
    valueBands: [
      { band: 'Bronze', fromAmount: 0 },
      { band: 'Silver', fromAmount: 500 },
      { band: 'Gold', fromAmount: 2000 },
      { band: 'Platinum', fromAmount: 5000 },
    ],
    appointmentEvents: { upcomingOffsetsHours: [48, 2], clinics: {} },
    workflows: {
      T1: 'New Patient Welcome',
      T2: 'Started Care Follow-Up',
      T3: 'Missed Appointment',
      T4: 'Cancellation Follow-Up',
      T5: 'Drop-Off Risk Nurture',
      T6: 'Lapsed Patient Win-Back',
      T7: 'Reactivated - Stop Funnels',
      T8: 'Long-Term Lead Nurture',
      T9: 'Maintenance Reminder',
    },
  }),
);

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Parse config/journey.yaml (its text, or an already-parsed object). Throws a CONFIG_INVALID
 * SyncError whose message lists every problem, each naming its key (e.g.
 * `thresholds.lapsedAfterDays: ...`); `record.field` holds the first key.
 */
export function parseJourneyConfig(source: unknown): JourneyConfig {
  let raw: unknown = source;
  if (typeof source === 'string') {
    try {
      raw = parseYaml(source);
    } catch (err) {
      throw new SyncError(
        'CONFIG_INVALID',
        `config/journey.yaml is not valid YAML: ${(err as Error).message}`,
        {
          record: { system: 'config', object: 'journey.yaml' },
          cause: err,
        },
      );
    }
  }
  const result = journeyConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    const firstPath = result.error.issues[0] ? formatPath(result.error.issues[0].path) : undefined;
    throw new SyncError('CONFIG_INVALID', `config/journey.yaml is invalid:\n- ${problems.join('\n- ')}`, {
      record: { system: 'config', object: 'journey.yaml', ...(firstPath ? { field: firstPath } : {}) },
    });
  }
  return result.data;
}
