import type { JourneyConfig } from './config.js';
import { isRemoved } from './history.js';
import { isInitialConsultType } from './replay.js';
import type { Appointment } from './types.js';

/**
 * Appointment lifecycle events (Appointment_Event__e, docs/marketing.md "Appointment events"), as pure
 * functions of an appointment's previous and current facts, the go-live instant and "now".
 *
 * Kinds, and what announces each (the outcome rule is the journey's own, history.ts `toVisit`:
 * cancelled wins, then arrived, then did-not-arrive; an appointment nobody marked stays "unmarked"):
 * - `booked`: an appointment seen for the first time, created at or after go-live;
 * - `rescheduled`: a known appointment whose start instant changed, unless it is now cancelled;
 * - `cancelled`: `cancelled_at` set where it was not;
 * - `did_not_arrive`: Cliniko's `did_not_arrive` flag turned on (and the patient is not marked arrived);
 * - `attended`: Cliniko's `patient_arrived` flag turned on, not cancelled. Every attended appointment,
 *   not only the first. An appointment that simply ends unmarked announces nothing: the clinic has not
 *   said whether the patient came, and the journey does not count it as a visit either;
 * - `upcoming`: produced by the clock, not by a change (`dueUpcoming`).
 * Deleted or archived appointments announce nothing (a deleted appointment never happened).
 *
 * Exactly once per appointment, kind and start: the caller keeps every key it announced
 * (`appointmentEventKey`) and drops keys it has already announced. The `rescheduled` and `upcoming`
 * keys carry the start, so a second reschedule (to another start) announces again, and so does each
 * reminder offset for the new start; a move back to a start already announced does not.
 */
export const APPOINTMENT_EVENT_KINDS = [
  'booked',
  'rescheduled',
  'upcoming',
  'cancelled',
  'did_not_arrive',
  'attended',
] as const;
export type AppointmentEventKind = (typeof APPOINTMENT_EVENT_KINDS)[number];

/** The Appointment_Event__e payload (Salesforce API names, the contract in docs/marketing.md). */
export interface AppointmentEventPayload {
  Event_Key__c: string;
  Kind__c: AppointmentEventKind;
  Cliniko_Appointment_Id__c: string;
  Cliniko_Patient_Id__c: string;
  Contact_Id__c: string | null;
  Appointment_Type__c: string | null;
  Practitioner__c: string | null;
  Clinic__c: string | null;
  Starts_At__c: string;
  Is_Initial_Consult__c: boolean;
  Offset_Hours__c: number | null;
  Occurred_At__c: string;
}

const HOUR_MS = 3_600_000;

type Outcome = 'cancelled' | 'arrived' | 'dna' | 'unmarked';

function outcomeOf(a: Appointment): Outcome {
  if (a.cancelled_at) return 'cancelled';
  if (a.patient_arrived) return 'arrived';
  if (a.did_not_arrive) return 'dna';
  return 'unmarked';
}

const KIND_OF_OUTCOME: Readonly<Record<Outcome, AppointmentEventKind | null>> = {
  cancelled: 'cancelled',
  arrived: 'attended',
  dna: 'did_not_arrive',
  unmarked: null,
};

/**
 * The exactly-once key (Text(80)): `<appointment id>:<kind>` for `booked`, `cancelled`,
 * `did_not_arrive` and `attended`; `<appointment id>:rescheduled:<start>` and
 * `<appointment id>:upcoming:<offset hours>:<start>`, where `<start>` is the appointment's (new) start
 * in epoch seconds. So each move to a new start announces its own `rescheduled` event, and a moved
 * appointment gets its reminders again for the new start; exactly once per appointment, kind and start.
 */
export function appointmentEventKey(
  a: Pick<Appointment, 'id' | 'starts_at'>,
  kind: AppointmentEventKind,
  offsetHours?: number,
): string {
  const start = Math.floor(Date.parse(a.starts_at) / 1000);
  if (kind === 'upcoming') return `${a.id}:upcoming:${offsetHours ?? 0}:${start}`;
  if (kind === 'rescheduled') return `${a.id}:rescheduled:${start}`;
  return `${a.id}:${kind}`;
}

/**
 * The kinds the change from `previous` (undefined: never seen) to `current` announces, in the order
 * they happened. Nothing for an unseen appointment created before go-live (the backfill's history).
 */
export function lifecycleKinds(
  previous: Appointment | undefined,
  current: Appointment,
  goLiveMs: number,
): AppointmentEventKind[] {
  if (isRemoved(current)) return [];
  if (previous !== undefined && isRemoved(previous)) return [];
  if (previous === undefined && !(Date.parse(current.created_at) >= goLiveMs)) return [];
  const kinds: AppointmentEventKind[] = [];
  const now = outcomeOf(current);
  if (previous === undefined) kinds.push('booked');
  else if (now !== 'cancelled' && Date.parse(previous.starts_at) !== Date.parse(current.starts_at))
    kinds.push('rescheduled');
  const before = previous === undefined ? 'unmarked' : outcomeOf(previous);
  const kind = KIND_OF_OUTCOME[now];
  if (kind !== null && now !== before) kinds.push(kind);
  return kinds;
}

/** The upcoming offsets of a clinic: its own if config lists it, else the default. */
export function upcomingOffsetsFor(config: JourneyConfig, clinicName: string | null | undefined): number[] {
  const own = clinicName ? config.appointmentEvents.clinics[clinicName] : undefined;
  return [...(own?.upcomingOffsetsHours ?? config.appointmentEvents.upcomingOffsetsHours)];
}

/**
 * The upcoming event due for a still-booked, unmarked appointment at `nowMs`: of the offsets whose
 * moment (start minus offset) has come, the latest one, if that moment is at or after both go-live and
 * the booking. Only the latest: a service that was down through the 48-hour moment and is back 1 hour
 * before sends the 2-hour reminder, not a "48 hours to go" message an hour before. None once the
 * appointment has started.
 */
export function dueUpcoming(
  a: Appointment,
  offsetsHours: readonly number[],
  nowMs: number,
  goLiveMs: number,
): { offsetHours: number; dueMs: number } | undefined {
  if (isRemoved(a) || outcomeOf(a) !== 'unmarked') return undefined;
  const startMs = Date.parse(a.starts_at);
  if (!(nowMs < startMs)) return undefined;
  const earliest = Math.max(goLiveMs, Date.parse(a.created_at));
  let best: { offsetHours: number; dueMs: number } | undefined;
  for (const offsetHours of offsetsHours) {
    const dueMs = startMs - offsetHours * HOUR_MS;
    if (dueMs > nowMs || dueMs < earliest) continue;
    if (!best || dueMs > best.dueMs) best = { offsetHours, dueMs };
  }
  return best;
}

/**
 * The moments (epoch ms, ascending) at which an appointment may owe an upcoming event, for the
 * reminder index (store `reminders_due`): start minus each offset, at or after the booking, while the
 * appointment stands unmarked and has not started at `nowMs`. Moments already past are kept (a service
 * that was down, or an appointment first seen inside its window): `dueUpcoming` decides at each moment
 * which offset, if any, is owed. None for a cancelled, marked, deleted or started appointment.
 */
export function reminderMoments(a: Appointment, offsetsHours: readonly number[], nowMs: number): number[] {
  if (isRemoved(a) || outcomeOf(a) !== 'unmarked') return [];
  const startMs = Date.parse(a.starts_at);
  if (!(nowMs < startMs)) return [];
  const booked = Date.parse(a.created_at);
  const moments = offsetsHours.map((h) => startMs - h * HOUR_MS).filter((m) => !(m < booked));
  return [...new Set(moments)].sort((x, y) => x - y);
}

/**
 * The event's payload: facts only (names, times, flags), never notes, reasons or free text. The
 * appointment facts carry no such field to begin with (sync/cycle/facts.ts).
 */
export function appointmentEventPayload(
  a: Appointment,
  event: {
    readonly patientId: string;
    readonly kind: AppointmentEventKind;
    readonly occurredAtMs: number;
    readonly offsetHours?: number;
    readonly contactId: string | null;
  },
  config: JourneyConfig,
): AppointmentEventPayload {
  const typeName = a.appointment_type_name ?? null;
  return {
    Event_Key__c: appointmentEventKey(a, event.kind, event.offsetHours),
    Kind__c: event.kind,
    Cliniko_Appointment_Id__c: a.id,
    Cliniko_Patient_Id__c: event.patientId,
    Contact_Id__c: event.contactId,
    Appointment_Type__c: typeName,
    Practitioner__c: a.practitioner_name ?? null,
    Clinic__c: a.clinic_name ?? null,
    Starts_At__c: new Date(Date.parse(a.starts_at)).toISOString(),
    Is_Initial_Consult__c: isInitialConsultType(typeName, config),
    Offset_Hours__c: event.kind === 'upcoming' ? (event.offsetHours ?? null) : null,
    Occurred_At__c: new Date(event.occurredAtMs).toISOString(),
  };
}
