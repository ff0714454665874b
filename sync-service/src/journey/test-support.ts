import { DEFAULT_JOURNEY_CONFIG, type JourneyConfig } from './config.js';
import { evaluateJourney } from './engine.js';
import type { Appointment, JourneyInput, JourneyResult, JourneyState } from './types.js';

/**
 * Builders for journey tests (imported by the *.test.ts files beside this one). Times are written
 * as clinic-local wall-clock strings with an explicit offset so each test reads in local dates.
 */

export const PATIENT = '1001';

let seq = 0;

export interface ApptSpec {
  id?: string;
  /** ISO instant with offset, e.g. 2026-03-02T09:00:00+10:00 */
  start: string;
  /** Defaults to 14 days before start (a booking made well ahead). */
  created?: string;
  type?: string;
  outcome?: 'arrived' | 'dna' | 'unmarked';
  cancelledAt?: string;
  caseId?: string;
  businessId?: string;
  deleted?: boolean;
}

export function appt(spec: ApptSpec): Appointment {
  seq += 1;
  const startMs = Date.parse(spec.start);
  const created = spec.created ?? new Date(startMs - 14 * 86_400_000).toISOString();
  return {
    id: spec.id ?? String(5000 + seq),
    starts_at: spec.start,
    ends_at: new Date(startMs + 30 * 60_000).toISOString(),
    created_at: created,
    appointment_type_name: spec.type ?? 'Standard Consultation',
    patient_arrived: spec.outcome === 'arrived',
    did_not_arrive: spec.outcome === 'dna',
    cancelled_at: spec.cancelledAt ?? null,
    deleted_at: spec.deleted ? spec.start : null,
    archived_at: null,
    business_id: spec.businessId ?? null,
    patient_case_id: spec.caseId ?? null,
  };
}

/** Brisbane wall clock (UTC+10 all year) on a 2026 date, e.g. bne('2026-03-02', '09:00'). */
export function bne(date: string, time = '09:00'): string {
  return `${date}T${time}:00+10:00`;
}

export function run(
  appointments: Appointment[],
  now: string,
  options: Partial<Omit<JourneyInput, 'appointments' | 'now'>> & { config?: JourneyConfig } = {},
): JourneyResult {
  const { config = DEFAULT_JOURNEY_CONFIG, ...rest } = options;
  return evaluateJourney(
    {
      patientId: PATIENT,
      appointments,
      fallbackTimeZone: 'Australia/Brisbane',
      now,
      ...rest,
    },
    config,
  );
}

export function triggers(result: JourneyResult): string[] {
  return result.timeline.map((t) => t.trigger);
}

export function stateAfter(result: JourneyResult): JourneyState {
  return result.state;
}
