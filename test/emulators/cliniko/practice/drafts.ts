/**
 * Patient histories are generated in patient order as drafts that point at each other by draft index,
 * then re-indexed by created_at (`reindex.ts`) so that index order is Cliniko's default order. The
 * generation context carries the PRNG streams and everything the history generators share.
 */
import type { Prng } from '../prng.js';
import type { Referrers } from './contacts.js';
import type { Appointment, Patient, PatientCase } from './model.js';
import type { Setup } from './setup.js';

export interface DraftPatient extends Omit<Patient, 'idx' | 'latestBooking'> {
  draftId: number;
  mergedIntoDraft: number;
}

export interface DraftAppointment extends Omit<
  Appointment,
  'idx' | 'patient' | 'patientCase' | 'repeatedFrom'
> {
  patientDraft: number;
  caseDraft: number;
}

export interface DraftCase extends Omit<PatientCase, 'idx' | 'patient' | 'appointments'> {
  patientDraft: number;
}

export interface Generation {
  /** The main stream: every draw happens in a fixed order, which the golden digests pin down. */
  readonly rng: Prng;
  /** Own stream, so that adding deletions did not reshuffle every patient that tests already pick by index. */
  readonly deletions: Prng;
  readonly now: number;
  readonly setup: Setup;
  readonly referrers: Referrers;
  readonly patients: DraftPatient[];
  readonly appointments: DraftAppointment[];
  readonly cases: DraftCase[];
  /** The first follow-up is always a deleted booking, so small practices have one. */
  anyDeleted: boolean;
}
