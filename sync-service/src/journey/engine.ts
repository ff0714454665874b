import { SyncError } from '../errors.js';
import { billingTotals, carePlanProgress, contactFundingSource, visitAggregates } from './aggregates.js';
import type { JourneyConfig } from './config.js';
import { isRemoved, prepareVisits } from './history.js';
import { replayJourney } from './replay.js';
import { isValidTimeZone, localDate } from './time.js';
import { valueBand } from './value-band.js';
import {
  journeyInputSchema,
  TRIGGER_LABELS,
  type Appointment,
  type JourneyInput,
  type JourneyResult,
  type JourneyTransitionRecord,
  type ParsedJourneyInput,
  type PatientJourneyEventPayload,
} from './types.js';

const RECORD_OBJECTS: Record<string, string> = {
  appointments: 'individual_appointments',
  patientCases: 'patient_cases',
  invoices: 'invoices',
};

/**
 * Validate one patient's input. A bad value fails this patient only (the caller quarantines it and
 * carries on with the batch) with a CLINIKO_INVALID_RECORD error naming the record and the field,
 * never the value. Unknown keys are dropped, so whole Cliniko records may be passed through.
 */
export function parseJourneyInput(raw: unknown): ParsedJourneyInput {
  const result = journeyInputSchema.safeParse(raw);
  if (result.success) {
    if (!isValidTimeZone(result.data.fallbackTimeZone)) {
      throw new SyncError('CONFIG_INVALID', 'CLINIC_TIMEZONE (fallbackTimeZone) is not an IANA time zone', {
        record: { system: 'config', field: 'CLINIC_TIMEZONE' },
      });
    }
    return result.data;
  }
  const issue = result.error.issues[0];
  const path = issue?.path ?? [];
  const [collection, index, field] = path;
  const patientId =
    typeof raw === 'object' && raw !== null && typeof (raw as { patientId?: unknown }).patientId === 'string'
      ? (raw as { patientId: string }).patientId
      : undefined;
  if (typeof collection === 'string' && typeof index === 'number' && RECORD_OBJECTS[collection]) {
    const list = (raw as Record<string, unknown>)[collection];
    const item = Array.isArray(list) ? (list[index] as { id?: unknown } | undefined) : undefined;
    const recordId = typeof item?.id === 'string' ? item.id : `#${index}`;
    const fieldName = field === undefined ? '(record)' : String(field);
    throw new SyncError(
      'CLINIKO_INVALID_RECORD',
      `${RECORD_OBJECTS[collection]} ${recordId} of patient ${patientId ?? '(unknown)'}: ${fieldName} ${issue?.message ?? 'is invalid'}`,
      { record: { system: 'cliniko', object: RECORD_OBJECTS[collection], id: recordId, field: fieldName } },
    );
  }
  const fieldName = path.length > 0 ? path.map(String).join('.') : '(input)';
  throw new SyncError(
    'CLINIKO_INVALID_RECORD',
    `journey input of patient ${patientId ?? '(unknown)'}: ${fieldName} ${issue?.message ?? 'is invalid'}`,
    {
      record: {
        system: 'cliniko',
        object: 'patients',
        ...(patientId ? { id: patientId } : {}),
        field: fieldName,
      },
    },
  );
}

/**
 * The patient's clinic zone: the business of their latest appointment that has started (else their
 * earliest future one) when Cliniko gives that business a valid zone; otherwise CLINIC_TIMEZONE.
 */
export function patientTimeZone(
  appointments: readonly Appointment[],
  businessTimeZones: Readonly<Record<string, string>>,
  fallback: string,
  nowMs: number,
): string {
  const withZone = appointments
    .filter((a) => !isRemoved(a) && !a.cancelled_at && a.business_id)
    .map((a) => ({ startMs: Date.parse(a.starts_at), zone: businessTimeZones[a.business_id as string] }))
    .filter(
      (a): a is { startMs: number; zone: string } => typeof a.zone === 'string' && isValidTimeZone(a.zone),
    )
    .sort((a, b) => a.startMs - b.startMs);
  const past = withZone.filter((a) => a.startMs <= nowMs).at(-1);
  const future = withZone.find((a) => a.startMs > nowMs);
  return past?.zone ?? future?.zone ?? fallback;
}

/**
 * Everything the journey derives for one patient at `now`: Contact fields, care plans, the
 * transitions and platform events not emitted before, and the state to persist.
 *
 * Pure: the same input and config always give the same result. Accepts raw input (validated here)
 * so callers cannot forget to validate.
 */
export function evaluateJourney(
  rawInput: JourneyInput | ParsedJourneyInput,
  config: JourneyConfig,
): JourneyResult {
  const input = parseJourneyInput(rawInput);
  const nowMs = Date.parse(input.now);
  const zone = patientTimeZone(input.appointments, input.businessTimeZones, input.fallbackTimeZone, nowMs);
  const today = localDate(nowMs, zone);
  const visits = prepareVisits(input.appointments, zone);

  const replay = replayJourney({ patientId: input.patientId, visits, config, zone, nowMs });
  const alreadyFired = new Set(input.previousState?.fired ?? []);
  const fresh = replay.timeline.filter((t) => !alreadyFired.has(t.key));

  const aggregates = visitAggregates(visits, nowMs);
  const funding = contactFundingSource(visits, input.patientCases, config, today);
  const billing = billingTotals(input.invoices);
  const contactRef = { Cliniko_Patient_Id__c: input.patientId };

  const transitions: JourneyTransitionRecord[] = fresh.map((t) => ({
    Transition_Key__c: t.key,
    Contact__r: contactRef,
    Trigger__c: TRIGGER_LABELS[t.trigger],
    From_Stage__c: t.from,
    To_Stage__c: t.to,
    Occurred_At__c: t.occurredAt,
  }));
  // Backfilled history is recorded, but Flows only hear about what is recent enough to act on.
  const oldestEventMs = nowMs - config.events.maxAgeDays * 86_400_000;
  const events: PatientJourneyEventPayload[] = fresh
    .filter((t) => Date.parse(t.occurredAt) >= oldestEventMs)
    .map((t) => ({
      Cliniko_Patient_Id__c: input.patientId,
      Transition_Key__c: t.key,
      Trigger__c: TRIGGER_LABELS[t.trigger],
      From_Stage__c: t.from,
      To_Stage__c: t.to,
      Occurred_At__c: t.occurredAt,
      Funding_Source__c: funding,
    }));

  const fired = [...new Set([...alreadyFired, ...replay.timeline.map((t) => t.key)])].sort();
  const since = replay.sinceMs === null ? null : new Date(replay.sinceMs).toISOString();

  return {
    contact: {
      Cliniko_Patient_Id__c: input.patientId,
      Journey_Stage__c: replay.stage,
      Journey_Stage_Since__c: since,
      Appointments_Attended__c: aggregates.attended,
      First_Appointment_Date__c: aggregates.firstDate,
      Last_Appointment_Date__c: aggregates.lastDate,
      Next_Appointment_Date__c: aggregates.nextDate,
      Average_Visit_Interval_Days__c: aggregates.averageIntervalDays,
      Last_Appointment_Type__c: aggregates.lastType,
      Funding_Source__c: funding,
      Lifetime_Invoiced__c: billing.lifetime,
      Unpaid_Balance__c: billing.unpaid,
      Patient_Value_Band__c: valueBand(billing.lifetime, config.valueBands),
    },
    carePlans: input.patientCases.map((c) =>
      carePlanProgress(input.patientId, c, visits, input.invoices, config, today),
    ),
    transitions,
    events,
    state: { version: 1, stage: replay.stage, since, fired },
    timeline: replay.timeline,
    timeZone: zone,
  };
}
