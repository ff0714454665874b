/**
 * Appointments of a patient's history: each visit is booked some days ahead, then cancelled, attended,
 * missed (did not arrive) or, rarely, deleted as a mistake. Deletions draw from their own stream so
 * that adding them did not reshuffle the patients tests pick by index.
 */
import { DAY, HOUR, MINUTE } from '../time.js';
import type { DraftAppointment, DraftPatient, Generation } from './drafts.js';

const CANCELLATION_CODES = [10, 20, 30, 40, 50, 60, 70];

export interface BookingOptions {
  forceDna?: boolean;
  allowCancel?: boolean;
}

interface Outcome {
  cancelledAt: number | null;
  cancellationReason: number | null;
  arrived: boolean | null;
  didNotArrive: boolean;
  updatedAt: number;
  deletedAt: number | null;
}

/** Books one appointment for the draft patient; null when the type does not exist. */
export function addAppointment(
  g: Generation,
  p: DraftPatient,
  booking: { type: number; practitioner: number; startsAt: number; caseDraft: number },
  opts: BookingOptions,
): DraftAppointment | null {
  const { rng, now } = g;
  const { type, practitioner, startsAt, caseDraft } = booking;
  const t = g.setup.appointmentTypes[type];
  if (!t) return null;
  const leadDays = rng.int(0, 14);
  const createdAt = Math.min(now, Math.max(p.createdAt, startsAt - leadDays * DAY - rng.int(0, 8) * HOUR));
  const endsAt = startsAt + t.durationMinutes * MINUTE;
  const o = attendance(g, { startsAt, endsAt, createdAt }, opts);
  deleteByMistake(g, o, createdAt, opts);
  const a: DraftAppointment = {
    patientDraft: p.draftId,
    caseDraft,
    practitioner,
    business: g.setup.practitioners[practitioner]?.business ?? p.business,
    type,
    startsAt,
    endsAt,
    createdAt,
    updatedAt: Math.max(o.updatedAt, createdAt),
    cancelledAt: o.cancelledAt,
    cancellationReason: o.cancellationReason,
    arrived: o.arrived,
    didNotArrive: o.didNotArrive,
    archivedAt: null,
    deletedAt: o.deletedAt,
    notesOverride: null,
    cancellationNoteOverride: null,
    hasCancellationNote: o.cancelledAt !== null && rng.chance(0.7),
  };
  g.appointments.push(a);
  return a;
}

/** Cancelled ahead of time, or (once past) arrived or did not arrive. */
function attendance(
  g: Generation,
  at: { startsAt: number; endsAt: number; createdAt: number },
  opts: BookingOptions,
): Outcome {
  const { rng, now } = g;
  const o: Outcome = {
    cancelledAt: null,
    cancellationReason: null,
    arrived: null,
    didNotArrive: false,
    updatedAt: at.createdAt,
    deletedAt: null,
  };
  if (opts.allowCancel !== false && rng.chance(0.08)) {
    o.cancelledAt = Math.min(now, Math.max(at.createdAt + 60, at.startsAt - rng.int(1, 72) * HOUR));
    o.cancellationReason = rng.pick(CANCELLATION_CODES);
    o.updatedAt = o.cancelledAt;
  } else if (at.endsAt <= now) {
    if (opts.forceDna === true || rng.chance(0.03)) {
      o.didNotArrive = true;
      o.arrived = false;
    } else {
      o.arrived = true;
    }
    o.updatedAt = Math.min(now, at.endsAt + rng.int(0, 30) * MINUTE);
  }
  return o;
}

/** A few bookings made by mistake and deleted: hidden unless a request filters on deleted_at. */
function deleteByMistake(g: Generation, o: Outcome, createdAt: number, opts: BookingOptions): void {
  const deleteThis =
    o.cancelledAt === null && opts.allowCancel !== false && (!g.anyDeleted || g.deletions.chance(0.004));
  if (!deleteThis) return;
  g.anyDeleted = true;
  o.deletedAt = Math.min(g.now, createdAt + g.rng.int(0, 3) * HOUR);
  o.arrived = null;
  o.didNotArrive = false;
  o.updatedAt = o.deletedAt;
}
