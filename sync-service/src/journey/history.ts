import type { Appointment } from './types.js';
import { localDate } from './time.js';

/**
 * An appointment reduced to what the journey needs, with instants as epoch milliseconds and the
 * clinic-local date of its start. Deleted and archived appointments never get here: a deleted
 * appointment did not happen and was never a booking.
 */
export interface Visit {
  readonly id: string;
  readonly startMs: number;
  /** min(created_at, starts_at): an appointment typed in after the fact was still booked before it. */
  readonly bookedMs: number;
  /** When the booking stopped standing, or null. Never before bookedMs. */
  readonly cancelledMs: number | null;
  /** cancelled wins over the arrival flags; a cancelled appointment is neither a visit nor a no-show. */
  readonly outcome: 'arrived' | 'dna' | 'unmarked' | 'cancelled';
  readonly typeName: string | null;
  readonly caseId: string | null;
  readonly businessId: string | null;
  readonly localDate: string;
}

/** Compare Cliniko ids (64-bit integers as strings) numerically, falling back to text. */
export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isRemoved(a: Appointment): boolean {
  return Boolean(a.deleted_at) || Boolean(a.archived_at);
}

export function toVisit(a: Appointment, zone: string): Visit {
  const startMs = Date.parse(a.starts_at);
  const bookedMs = Math.min(Date.parse(a.created_at), startMs);
  const cancelledMs = a.cancelled_at ? Math.max(Date.parse(a.cancelled_at), bookedMs) : null;
  const outcome =
    cancelledMs !== null
      ? 'cancelled'
      : a.patient_arrived
        ? 'arrived'
        : a.did_not_arrive
          ? 'dna'
          : 'unmarked';
  return {
    id: a.id,
    startMs,
    bookedMs,
    cancelledMs,
    outcome,
    typeName: a.appointment_type_name ?? null,
    caseId: a.patient_case_id ?? null,
    businessId: a.business_id ?? null,
    localDate: localDate(startMs, zone),
  };
}

/** Appointments in start order (ties by id), without deleted or archived ones. */
export function prepareVisits(appointments: readonly Appointment[], zone: string): Visit[] {
  return appointments
    .filter((a) => !isRemoved(a))
    .map((a) => toVisit(a, zone))
    .sort((x, y) => x.startMs - y.startMs || compareIds(x.id, y.id));
}

/** The booking stands at `t`: made by then and not cancelled by then. */
export function standsAt(v: Visit, t: number): boolean {
  return v.bookedMs <= t && (v.cancelledMs === null || v.cancelledMs > t);
}

/** The patient holds a booking that starts after `t`. */
export function hasFutureBookingAt(visits: readonly Visit[], t: number): boolean {
  return visits.some((v) => v.startMs > t && standsAt(v, t));
}

/** Attended visits that have started by `t`, in order. */
export function attendedBy(visits: readonly Visit[], t: number): Visit[] {
  return visits.filter((v) => v.outcome === 'arrived' && v.startMs <= t);
}
