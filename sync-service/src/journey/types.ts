import { z } from 'zod';
import type { ValueBand } from './value-band.js';

/**
 * Plain-data contract of the journey engine. The sync engine maps Cliniko records into these shapes
 * (ids as strings, datetimes as UTC ISO strings, money as decimal strings) and validates them with
 * `parseJourneyInput`; the engine itself never touches Cliniko or Salesforce.
 *
 * Salesforce API names in the outputs follow docs/data-model.md exactly.
 */

/** The eight stages, in the order of docs/data-model.md (`Journey_Stage__c`). */
export const STAGES = [
  'Lead',
  'New Patient Booked',
  'Started Care',
  'In Care',
  'Drop-Off Risk',
  'Lapsed',
  'Long-Term Lead Nurture',
  'Reactivated',
] as const;
export type Stage = (typeof STAGES)[number];

export const TRIGGER_CODES = ['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9'] as const;
export type TriggerCode = (typeof TRIGGER_CODES)[number];

/** `Journey_Transition__c.Trigger__c` picklist values (docs/data-model.md). */
export const TRIGGER_LABELS: Readonly<Record<TriggerCode, string>> = {
  T1: 'T1 New Initial Consult Booked',
  T2: 'T2 First Appointment Attended',
  T3: 'T3 No-Show',
  T4: 'T4 Appointment Cancelled',
  T5: 'T5 Drop-Off Risk',
  T6: 'T6 Lapsed',
  T7: 'T7 Reactivated',
  T8: 'T8 Long-Term Lead Nurture',
  T9: 'T9 Maintenance Reminder',
};

/** `Funding_Source__c` picklist values (Contact and Care_Plan__c). */
export const FUNDING_SOURCES = ['Private', 'WorkCover', 'TAC', 'DVA', 'Medicare', 'Other'] as const;
export type FundingSource = (typeof FUNDING_SOURCES)[number];

const isoInstant = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v), {
    message: 'must be an ISO 8601 date-time with a zone (e.g. 2026-04-05T09:00:00Z)',
  })
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'is not a real date-time' });

const isoDate = z
  .string()
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), {
    message: 'must be a calendar date YYYY-MM-DD',
  });

/** Cliniko money: a decimal string such as "120.00" or "-15.5". Parsed exactly (see money.ts). */
const decimalString = z.string().refine((v) => /^-?\d+(\.\d+)?$/.test(v.trim()), {
  message: 'must be a decimal string such as "120.00"',
});

const id = z.string().min(1, 'must be a non-empty id');

/** An individual appointment (or a group attendee) of one patient. */
export const appointmentSchema = z.object({
  id,
  starts_at: isoInstant,
  ends_at: isoInstant.nullish(),
  /**
   * When the booking was made. Booking triggers (T1, T7) happen at min(created_at, starts_at), so an
   * appointment entered after the fact still counts as booked before it started.
   */
  created_at: isoInstant,
  appointment_type_name: z.string().nullish(),
  patient_arrived: z.boolean().nullish(),
  did_not_arrive: z.boolean().nullish(),
  cancelled_at: isoInstant.nullish(),
  deleted_at: isoInstant.nullish(),
  archived_at: isoInstant.nullish(),
  business_id: z.string().nullish(),
  patient_case_id: z.string().nullish(),
  /**
   * Names as Cliniko showed them when the appointment was last read (appointment events carry them, and
   * the upcoming pass makes no Cliniko request to look them up).
   */
  practitioner_name: z.string().nullish(),
  clinic_name: z.string().nullish(),
});
export type Appointment = z.infer<typeof appointmentSchema>;

export const patientCaseSchema = z.object({
  id,
  issue_date: isoDate.nullish(),
  expiry_date: isoDate.nullish(),
  max_sessions: z.number().int().min(0).nullish(),
  /** Deprecated in Cliniko in favour of closed_at; either one closes the case. */
  closed: z.boolean().nullish(),
  closed_at: isoInstant.nullish(),
  include_cancelled_attendees: z.boolean().nullish(),
  include_dna_attendees: z.boolean().nullish(),
  referral_type: z.string().nullish(),
  max_invoiceable_amount: decimalString.nullish(),
  archived_at: isoInstant.nullish(),
  archived: z.boolean().nullish(),
});
export type PatientCase = z.infer<typeof patientCaseSchema>;

export const invoiceSchema = z.object({
  id,
  appointment_id: z.string().nullish(),
  /** Cliniko `status_description` (Open, Paid, Closed, Open credit) or the Salesforce value. */
  status: z.string().nullish(),
  total_amount: decimalString.nullish(),
  net_amount: decimalString.nullish(),
  /** Not in Cliniko's invoice resource; when absent an Open invoice is unpaid for its total. */
  amount_outstanding: decimalString.nullish(),
  deleted_at: isoInstant.nullish(),
  archived_at: isoInstant.nullish(),
});
export type Invoice = z.infer<typeof invoiceSchema>;

/** What the engine persists per patient between runs (opaque JSON for the store). */
export const journeyStateSchema = z.object({
  version: z.literal(1),
  stage: z.enum(STAGES),
  /** UTC ISO instant the stage was entered, or null for a Lead with no history. */
  since: isoInstant.nullable(),
  /** Transition keys already emitted; a key is never emitted twice. */
  fired: z.array(z.string()),
});
export type JourneyState = z.infer<typeof journeyStateSchema>;

export const journeyInputSchema = z.object({
  patientId: id,
  appointments: z.array(appointmentSchema),
  patientCases: z.array(patientCaseSchema).default([]),
  invoices: z.array(invoiceSchema).default([]),
  /** Cliniko business id -> IANA zone (`time_zone_identifier`). */
  businessTimeZones: z.record(z.string(), z.string()).default({}),
  /** CLINIC_TIMEZONE: used when the patient's business has no (valid) zone. */
  fallbackTimeZone: z.string(),
  previousState: journeyStateSchema.nullish(),
  now: isoInstant,
});
export type JourneyInput = z.input<typeof journeyInputSchema>;
export type ParsedJourneyInput = z.output<typeof journeyInputSchema>;

// ---------- outputs (Salesforce API names, docs/data-model.md) ----------

export interface ContactJourneyFields {
  Cliniko_Patient_Id__c: string;
  Journey_Stage__c: Stage;
  Journey_Stage_Since__c: string | null;
  Appointments_Attended__c: number;
  First_Appointment_Date__c: string | null;
  Last_Appointment_Date__c: string | null;
  Next_Appointment_Date__c: string | null;
  Average_Visit_Interval_Days__c: number | null;
  Last_Appointment_Type__c: string | null;
  Funding_Source__c: FundingSource | null;
  /** Decimal strings with two places (Currency(16,2)); never floats. */
  Lifetime_Invoiced__c: string;
  Unpaid_Balance__c: string;
  /** The clinic's band for Lifetime_Invoiced__c (value-band.ts): marketing-safe, never the amount. */
  Patient_Value_Band__c: ValueBand | null;
}

export interface CarePlanFields {
  Cliniko_Case_Id__c: string;
  Contact__r: { Cliniko_Patient_Id__c: string };
  Status__c: 'Open' | 'Closed' | 'Expired';
  Sessions_Allowed__c: number | null;
  Sessions_Used__c: number;
  Sessions_Remaining__c: number | null;
  Progress_Percent__c: number | null;
  Issue_Date__c: string | null;
  Expiry_Date__c: string | null;
  Referral_Type__c: string | null;
  Funding_Source__c: FundingSource | null;
  Billing_Limit__c: string | null;
  Amount_Invoiced__c: string;
}

export interface JourneyTransitionRecord {
  Transition_Key__c: string;
  Contact__r: { Cliniko_Patient_Id__c: string };
  Trigger__c: string;
  From_Stage__c: Stage;
  To_Stage__c: Stage;
  Occurred_At__c: string;
}

export interface PatientJourneyEventPayload {
  Cliniko_Patient_Id__c: string;
  Transition_Key__c: string;
  Trigger__c: string;
  From_Stage__c: Stage;
  To_Stage__c: Stage;
  Occurred_At__c: string;
  Funding_Source__c: string | null;
}

/** One step of the replayed history (every transition, old and new), for tests and explanations. */
export interface TimelineTransition {
  key: string;
  trigger: TriggerCode;
  /** The appointment the trigger is about (booking, visit, no-show, cancellation or gap anchor). */
  appointmentId: string;
  from: Stage;
  to: Stage;
  occurredAt: string;
}

export interface JourneyResult {
  contact: ContactJourneyFields;
  carePlans: CarePlanFields[];
  /** Transitions not emitted before (their keys were not in previousState.fired). */
  transitions: JourneyTransitionRecord[];
  /** Platform events for new transitions recent enough to act on (config events.maxAgeDays). */
  events: PatientJourneyEventPayload[];
  state: JourneyState;
  timeline: TimelineTransition[];
  /** The IANA zone used for dates and day counts. */
  timeZone: string;
}
