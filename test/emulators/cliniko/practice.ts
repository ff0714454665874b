/**
 * The synthetic practice: a deterministic chiropractic group (3 clinics, 9 practitioners) whose patients
 * follow the care patterns the sync and the journey engine must recognise. This module composes the
 * generators in `practice/` (one per thing generated) in a fixed order: the PRNG draws of each step
 * depend on the ones before, and `practice-digest.test.ts` pins the result byte for byte.
 *
 * Memory: rows are small objects holding numbers and short strings; free text (notes, case names,
 * treatment notes, medical alerts) is not stored but rebuilt from the canary function when served, and
 * attendees / bookings / invoice items are views over appointment and invoice rows. That keeps 100,000
 * patients and 1,000,000 appointments within a few hundred MB (see scripts/bench-cliniko-emulator.ts).
 */
import { Prng } from './prng.js';
import { DAY } from './time.js';
import { generateContacts } from './practice/contacts.js';
import type { Generation } from './practice/drafts.js';
import { generateHistories } from './practice/histories.js';
import { generateInvoicesAndNotes } from './practice/invoices-and-notes.js';
import { generateMedicalAlerts } from './practice/medical-alerts.js';
import type { Practice } from './practice/model.js';
import { reindex } from './practice/reindex.js';
import { generateSetup } from './practice/setup.js';

export type * from './practice/model.js';
export { CANCELLATION_REASONS, INVOICE_STATUS } from './practice/model.js';
export { asciiSlug } from './practice/names.js';

/** The default emulated "now" for a seed: a fixed date, so data and clock agree run after run. */
export function defaultNow(seed: number): number {
  return Date.UTC(2025, 5, 2, 4, 0, 0) / 1000 + (Math.abs(seed) % 28) * DAY;
}

export interface GenerateOptions {
  seed: number;
  patients: number;
  now: number;
}

/** Build the whole practice. Deterministic for (seed, patients, now). */
export function generatePractice(opts: GenerateOptions): Practice {
  const rng = new Prng(opts.seed);
  const now = opts.now;
  const accountCreatedAt = now - 4 * 365 * DAY;
  const setup = generateSetup(accountCreatedAt);
  const referrers = generateContacts(rng, accountCreatedAt);
  const g: Generation = {
    rng,
    deletions: new Prng(opts.seed ^ 0xde1e7e),
    now,
    setup,
    referrers,
    patients: [],
    appointments: [],
    cases: [],
    anyDeleted: false,
  };
  generateHistories(g, opts.patients);
  const { patients, patientCases, appointments } = reindex(g);
  const { invoices, treatmentNotes, invoiceByAppointment } = generateInvoicesAndNotes(g, appointments);
  const medicalAlerts = generateMedicalAlerts(g, patients);
  return {
    seed: opts.seed,
    accountCreatedAt,
    businesses: setup.businesses,
    users: setup.users,
    practitioners: setup.practitioners,
    appointmentTypes: setup.appointmentTypes,
    concessionTypes: setup.concessionTypes,
    contacts: referrers.contacts,
    patients,
    appointments,
    patientCases,
    invoices,
    treatmentNotes,
    medicalAlerts,
    invoiceByAppointment,
    nextInvoiceNumber: 1001 + invoices.length,
  };
}
