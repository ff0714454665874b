/**
 * Patient histories, generated in patient order: who the patient is, which care pattern they follow,
 * their initial consult and case, the visits booked, and whether they were later archived or
 * registered twice (a duplicate, most of them merged). A few positions are forced so that even a small
 * practice has every case the tests need.
 */
import { DAY, HOUR } from '../time.js';
import { addAppointment } from './appointments.js';
import { closeCaseMaybe, openCase } from './cases.js';
import type { DraftAppointment, DraftPatient, Generation } from './drafts.js';
import type { AppointmentType, Funding } from './model.js';
import { makePatient } from './patients.js';
import type { Archetype } from './visits.js';
import { ARCHETYPES, firstVisitDay, horizonOf, visitSchedule } from './visits.js';

/** The appointment types a history books, looked up once by name. */
interface CareTypes {
  paediatricInitial: AppointmentType;
  initialTypes: AppointmentType[];
  followUpFor: Record<Funding, number>;
  maintenanceType: number;
}

function careTypes(appointmentTypes: AppointmentType[]): CareTypes {
  const typeIdx = (name: string): number => appointmentTypes.findIndex((t) => t.name === name);
  return {
    paediatricInitial: appointmentTypes[typeIdx('Paediatric New Patient')] as AppointmentType,
    initialTypes: appointmentTypes.filter((t) => t.initial && t.archivedAt === null),
    followUpFor: {
      private: typeIdx('Standard Follow Up'),
      family: typeIdx('Standard Follow Up'),
      decompression: typeIdx('Decompression Session'),
      workcover: typeIdx('Workcover Follow Up'),
      tac: typeIdx('TAC Follow Up'),
      paediatric: typeIdx('Paediatric Follow Up'),
    },
    maintenanceType: typeIdx('Maintenance Adjustment'),
  };
}

/** Which duplicates have been forced so far: one merged and one unmerged, early on. */
interface Forced {
  merged: boolean;
  unmerged: boolean;
}

/** Appends `count` patients' drafts (and their duplicates, appointments and cases) to `g`. */
export function generateHistories(g: Generation, count: number): void {
  const types = careTypes(g.setup.appointmentTypes);
  const forced: Forced = { merged: false, unmerged: false };
  for (let n = 0; n < count; n++) patientHistory(g, types, n, forced);
}

function patientHistory(g: Generation, types: CareTypes, n: number, forced: Forced): void {
  const { rng, now } = g;
  const business = rng.weighted([
    [0, 45],
    [1, 35],
    [2, 20],
  ] as const);
  const archetype = rng.weighted(ARCHETYPES);
  const firstVisit = firstVisitDay(g, archetype);
  const p = makePatient(g, g.patients.length, 0, business);
  p.createdAt = Math.min(now - 3600, firstVisit - rng.int(1, 10) * DAY - rng.int(0, 23) * HOUR);
  p.updatedAt = p.createdAt;
  g.patients.push(p);
  if (archetype === 'enquiry') {
    p.updatedAt = Math.min(now, p.createdAt + rng.int(0, 5) * DAY);
    return;
  }
  const last = treat(g, types, { p, archetype, business, firstVisit });
  archiveMaybe(g, p, last, n);
  duplicateMaybe(g, p, n, forced);
}

interface Course {
  p: DraftPatient;
  archetype: Archetype;
  business: number;
  firstVisit: number;
}

/** The course of care: practitioner, initial consult, case, visits; the last appointment booked. */
function treat(g: Generation, types: CareTypes, course: Course): DraftAppointment | null {
  const { rng, now } = g;
  const { p, archetype, business, firstVisit } = course;
  const practitionerPool = g.setup.businesses[business]?.practitioners ?? [0];
  const practitioner = rng.pick(practitionerPool);
  const child = p.f.date_of_birth !== null && Number(p.f.date_of_birth.slice(0, 4)) >= 2012;
  const initial = child
    ? types.paediatricInitial
    : rng.weighted(
        types.initialTypes
          .filter((t) => t.funding !== 'paediatric')
          .map((t) => [t, t.name === 'Initial Appointment' ? 4 : 1] as const),
      );
  const caseDraft = openCase(g, p, initial, business, firstVisit);
  const horizon = horizonOf(now);
  let previous: DraftAppointment | null = null;
  visitSchedule(g, archetype, business, firstVisit).forEach((startsAt, i) => {
    if (startsAt > horizon) return;
    const isInitial = i === 0;
    const afterCarePlan = archetype === 'maintenance' && i > 6;
    const type = isInitial
      ? initial.idx
      : afterCarePlan
        ? types.maintenanceType
        : types.followUpFor[initial.funding];
    const inCase = caseDraft >= 0 && !afterCarePlan;
    const a = addAppointment(
      g,
      p,
      { type, practitioner, startsAt, caseDraft: inCase ? caseDraft : -1 },
      { forceDna: archetype === 'no-show' && isInitial, allowCancel: !isInitial },
    );
    if (a) previous = a;
  });
  const last = previous as DraftAppointment | null;
  p.updatedAt = Math.min(now, Math.max(p.createdAt, (last?.createdAt ?? p.createdAt) + rng.int(0, 2) * DAY));
  if (caseDraft >= 0) closeCaseMaybe(g, caseDraft, last);
  return last;
}

/** Archived patients: moved away or asked to be removed, after their last visit (patient 7 always). */
function archiveMaybe(g: Generation, p: DraftPatient, last: DraftAppointment | null, n: number): void {
  if (n === 7 || g.rng.chance(0.03)) {
    const at = Math.min(g.now - HOUR, (last?.endsAt ?? p.createdAt) + g.rng.int(10, 90) * DAY);
    if (at > p.createdAt) {
      p.archivedAt = at;
      p.updatedAt = at;
    }
  }
}

/**
 * Duplicates: the same person registered again (online booking, typo in the email). Most get merged.
 * Forces one merged and one unmerged duplicate early on (of a patient old enough to merge).
 */
function duplicateMaybe(g: Generation, p: DraftPatient, n: number, forced: Forced): void {
  const { rng, now } = g;
  const oldEnough = p.createdAt < now - 60 * DAY;
  const forceMerged: boolean = !forced.merged && n >= 5 && oldEnough;
  const forceUnmerged: boolean = !forceMerged && !forced.unmerged && n >= 11 && oldEnough;
  forced.merged ||= forceMerged;
  forced.unmerged ||= forceUnmerged;
  if (!(oldEnough && (forceMerged || forceUnmerged || rng.chance(0.03)))) return;
  const dupCreated = Math.min(now - 2 * DAY, p.createdAt + rng.int(20, 200) * DAY);
  const dup = makePatient(g, g.patients.length, dupCreated, p.business);
  dup.f.first_name = p.f.first_name;
  dup.f.last_name = p.f.last_name;
  dup.f.date_of_birth = p.f.date_of_birth;
  dup.f.email = p.f.email ? p.f.email.toUpperCase() : null;
  dup.updatedAt = dupCreated;
  if ((forceMerged || (!forceUnmerged && rng.chance(0.6))) && dupCreated + DAY < now) {
    const mergedAt = Math.min(now - 60, dupCreated + rng.int(1, 30) * DAY);
    dup.mergedAt = mergedAt;
    dup.archivedAt = mergedAt;
    dup.updatedAt = mergedAt;
    dup.mergedIntoDraft = p.draftId;
  }
  g.patients.push(dup);
}
