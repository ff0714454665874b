/**
 * The emulator's mutable state: the practice, the emulated clock, and the mutations that the API
 * (PATCH / archive) and the test controls perform. Every write stamps `updated_at` from the clock.
 */
import { fromId, KIND, toId } from './ids.js';
import type { Appointment, Patient, PatientFields, Practice } from './practice.js';
import { CANCELLATION_REASONS, defaultNow } from './practice.js';
import { parseDateTime } from './query.js';
import type { RenderContext } from './resources.js';

/**
 * Emulated wall clock in UNIX seconds. It runs with real time from its set point unless frozen, so
 * that tests can pin "now" (e.g. several writes in the same second) or jump ahead (lapsed patients).
 */
export class EmulatorClock {
  private base: number;
  private setAtMs: number;
  private frozen = false;

  constructor(nowSeconds: number) {
    this.base = nowSeconds;
    this.setAtMs = Date.now();
  }

  now(): number {
    return this.frozen ? this.base : this.base + Math.floor((Date.now() - this.setAtMs) / 1000);
  }

  set(nowSeconds: number): void {
    this.base = Math.floor(nowSeconds);
    this.setAtMs = Date.now();
  }

  advance(seconds: number): void {
    this.set(this.now() + seconds);
  }

  freeze(frozen = true): void {
    const current = this.now();
    this.frozen = frozen;
    this.set(current);
  }

  get isFrozen(): boolean {
    return this.frozen;
  }
}

/** A client-facing error from a mutation: the HTTP status and the body Cliniko would send. */
export class MutationError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === 'string' ? body.message : 'mutation failed');
  }
}
const notFound = (): MutationError => new MutationError(404, { message: 'Not found' });
const badRequest = (message: string): MutationError => new MutationError(400, { message });

export class EmulatorState {
  readonly clock: EmulatorClock;
  treatmentNoteByAppointment: Int32Array;

  constructor(
    readonly practice: Practice,
    now: number | undefined,
  ) {
    this.clock = new EmulatorClock(now ?? defaultNow(practice.seed));
    this.treatmentNoteByAppointment = new Int32Array(practice.appointments.length).fill(-1);
    for (const t of practice.treatmentNotes) this.treatmentNoteByAppointment[t.appointment] = t.idx;
  }

  /**
   * Data version, bumped by every write; list responses are cached per query and version so that
   * paging through a million rows does not re-filter them for every page.
   */
  version = 0;

  /** The timestamp for a write, and a new data version. */
  private stamp(): number {
    this.version++;
    return this.clock.now();
  }

  context(base: string): RenderContext {
    return {
      base,
      practice: this.practice,
      now: this.clock.now(),
      treatmentNoteByAppointment: this.treatmentNoteByAppointment,
    };
  }

  patient(id: string): Patient {
    const p = this.practice.patients[fromId(KIND.patient, id)];
    if (!p) throw notFound();
    return p;
  }

  appointment(id: string): Appointment {
    const a = this.practice.appointments[fromId(KIND.appointment, id)];
    if (!a) throw notFound();
    return a;
  }

  // ------------------------------------------------------------ patient writes
  /** Apply already-validated wire fields to a patient and bump `updated_at`. */
  applyPatientFields(
    p: Patient,
    changes: Partial<PatientFields>,
    refs?: { concessionType?: number; referringDoctor?: number },
  ): void {
    for (const [key, value] of Object.entries(changes)) {
      (p.f as unknown as Record<string, unknown>)[key] = value;
      if (key === 'notes' || key === 'appointment_notes' || key === 'invoice_extra_information') {
        (p.overridden ??= new Set()).add(key);
      }
    }
    if (refs?.concessionType !== undefined) p.concessionType = refs.concessionType;
    if (refs?.referringDoctor !== undefined) p.referringDoctor = refs.referringDoctor;
    p.updatedAt = this.stamp();
  }

  archivePatient(p: Patient): void {
    const now = this.stamp();
    p.archivedAt = now;
    p.updatedAt = now;
  }

  unarchivePatient(p: Patient): void {
    p.archivedAt = null;
    p.mergedAt = null;
    p.mergedInto = -1;
    p.updatedAt = this.stamp();
  }

  /** Merge `from` into `into`: Cliniko moves the history and archives the duplicate with a link. */
  mergePatients(from: Patient, into: Patient): void {
    if (from === into) throw badRequest('A patient cannot be merged into itself');
    if (into.mergedInto >= 0) throw badRequest('Cannot merge into a patient that was itself merged');
    const now = this.stamp();
    for (const a of this.practice.appointments) {
      if (a.patient === from.idx) {
        a.patient = into.idx;
        a.updatedAt = now;
      }
    }
    for (const rec of [...this.practice.patientCases, ...this.practice.medicalAlerts]) {
      if (rec.patient === from.idx) {
        rec.patient = into.idx;
        rec.updatedAt = now;
      }
    }
    from.mergedAt = now;
    from.mergedInto = into.idx;
    from.archivedAt = now;
    from.updatedAt = now;
    from.latestBooking = -1;
    into.updatedAt = now;
    this.refreshLatestBooking(into);
  }

  createPatient(fields: Partial<PatientFields> & Pick<PatientFields, 'first_name' | 'last_name'>): Patient {
    const now = this.stamp();
    const p: Patient = {
      idx: this.practice.patients.length,
      f: { ...emptyPatientFields(), ...fields },
      overridden: new Set(['notes', 'appointment_notes', 'invoice_extra_information']),
      business: 0,
      concessionType: -1,
      referringDoctor: -1,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
      mergedAt: null,
      mergedInto: -1,
      latestBooking: -1,
    };
    this.practice.patients.push(p);
    return p;
  }

  // ------------------------------------------------------------ appointment writes (test controls)
  book(input: {
    patient_id: string;
    starts_at: string;
    ends_at?: string;
    practitioner_id?: string;
    appointment_type_id?: string;
    business_id?: string;
    patient_case_id?: string;
    notes?: string;
  }): Appointment {
    const p = this.patient(String(input.patient_id));
    const pr = this.practice;
    const practitioner = input.practitioner_id
      ? fromId(KIND.practitioner, input.practitioner_id)
      : (pr.businesses[p.business]?.practitioners[0] ?? 0);
    if (!pr.practitioners[practitioner]) throw badRequest('practitioner_id does not exist');
    const type = input.appointment_type_id
      ? fromId(KIND.appointmentType, input.appointment_type_id)
      : pr.appointmentTypes.findIndex((t) => t.name === 'Standard Follow Up');
    const t = pr.appointmentTypes[type];
    if (!t) throw badRequest('appointment_type_id does not exist');
    const business = input.business_id
      ? fromId(KIND.business, input.business_id)
      : (pr.practitioners[practitioner]?.business ?? 0);
    if (!pr.businesses[business]) throw badRequest('business_id does not exist');
    const patientCase = input.patient_case_id ? fromId(KIND.patientCase, input.patient_case_id) : -1;
    if (input.patient_case_id && !pr.patientCases[patientCase])
      throw badRequest('patient_case_id does not exist');
    const startsAt = seconds(input.starts_at, 'starts_at');
    const endsAt = input.ends_at ? seconds(input.ends_at, 'ends_at') : startsAt + t.durationMinutes * 60;
    if (endsAt <= startsAt) throw badRequest('ends_at must be after starts_at');
    const now = this.stamp();
    const a: Appointment = {
      idx: pr.appointments.length,
      patient: p.idx,
      practitioner,
      business,
      type,
      patientCase,
      startsAt,
      endsAt,
      createdAt: now,
      updatedAt: now,
      cancelledAt: null,
      cancellationReason: null,
      arrived: null,
      didNotArrive: false,
      archivedAt: null,
      deletedAt: null,
      repeatedFrom: -1,
      notesOverride: input.notes ?? null,
      cancellationNoteOverride: null,
      hasCancellationNote: false,
    };
    pr.appointments.push(a);
    pr.invoiceByAppointment = grow(pr.invoiceByAppointment, pr.appointments.length);
    this.treatmentNoteByAppointment = grow(this.treatmentNoteByAppointment, pr.appointments.length);
    if (patientCase >= 0) pr.patientCases[patientCase]?.appointments.push(a.idx);
    this.refreshLatestBooking(p);
    return a;
  }

  reschedule(a: Appointment, startsAtIso: string, endsAtIso?: string): void {
    const startsAt = seconds(startsAtIso, 'starts_at');
    const endsAt = endsAtIso ? seconds(endsAtIso, 'ends_at') : startsAt + (a.endsAt - a.startsAt);
    if (endsAt <= startsAt) throw badRequest('ends_at must be after starts_at');
    a.startsAt = startsAt;
    a.endsAt = endsAt;
    a.updatedAt = this.stamp();
    this.refreshLatestBookingOf(a);
  }

  cancel(a: Appointment, reason: number | string | undefined, note: string | undefined): void {
    let code = 50;
    if (typeof reason === 'number') code = reason;
    else if (typeof reason === 'string') {
      const found = Object.entries(CANCELLATION_REASONS).find(([, d]) => d === reason);
      if (!found) throw badRequest(`Unknown cancellation reason "${reason}"`);
      code = Number(found[0]);
    }
    if (!CANCELLATION_REASONS[code]) throw badRequest(`Unknown cancellation reason ${code}`);
    const now = this.stamp();
    a.cancelledAt = now;
    a.cancellationReason = code;
    a.cancellationNoteOverride = note ?? null;
    a.hasCancellationNote = note === undefined;
    a.updatedAt = now;
    this.refreshLatestBookingOf(a);
  }

  markArrived(a: Appointment, arrived: boolean): void {
    a.arrived = arrived;
    a.didNotArrive = !arrived;
    a.updatedAt = this.stamp();
  }

  /**
   * Rows whose latest write is not committed yet: left out of every list and single read until
   * released, while keeping the `updated_at` that write stamped. This is Cliniko's late commit (a
   * record visible some time after the time it carries), which an incremental reader must still catch.
   * A real late update would show its previous version meanwhile; an incremental read filtering on
   * `updated_at` cannot tell the two apart, since that version's stamp is older than the read.
   */
  private readonly held = new Set<object>();

  isHeld(row: object): boolean {
    return this.held.size > 0 && this.held.has(row);
  }

  /** Holds rows back (see `held`); returns how many. */
  hold(resource: 'patients' | 'individual_appointments', ids: readonly string[]): number {
    for (const id of ids) this.held.add(resource === 'patients' ? this.patient(id) : this.appointment(id));
    this.version++;
    return ids.length;
  }

  /** Commits every held row: they become visible with the `updated_at` they already carry. */
  release(): number {
    const n = this.held.size;
    this.held.clear();
    this.version++;
    return n;
  }

  /** Bump `updated_at` without changing anything else (same-second and overlap-window tests). */
  touch(resource: 'patients' | 'individual_appointments', ids: readonly string[]): number {
    const now = this.stamp();
    for (const id of ids) {
      const row = resource === 'patients' ? this.patient(id) : this.appointment(id);
      row.updatedAt = now;
    }
    return ids.length;
  }

  private refreshLatestBookingOf(a: Appointment): void {
    const p = this.practice.patients[a.patient];
    if (p) this.refreshLatestBooking(p);
  }

  private refreshLatestBooking(p: Patient): void {
    let best = -1;
    let bestStart = -Infinity;
    for (const a of this.practice.appointments) {
      if (a.patient === p.idx && a.cancelledAt === null && a.deletedAt === null && a.startsAt > bestStart) {
        best = a.idx;
        bestStart = a.startsAt;
      }
    }
    p.latestBooking = best;
  }

  idOf(kind: keyof typeof KIND, idx: number): string {
    return toId(KIND[kind], idx);
  }
}

function seconds(iso: string, field: string): number {
  try {
    return Math.floor(parseDateTime(String(iso)) / 1000);
  } catch {
    throw badRequest(`${field} must be an ISO 8601 date-time`);
  }
}

function grow(a: Int32Array, length: number): Int32Array {
  if (a.length >= length) return a;
  const next = new Int32Array(Math.max(length, a.length * 2)).fill(-1);
  next.set(a);
  return next;
}

export function emptyPatientFields(): PatientFields {
  return {
    title: null,
    first_name: '',
    last_name: '',
    preferred_first_name: null,
    date_of_birth: null,
    sex: null,
    gender_identity: null,
    email: null,
    address_1: null,
    address_2: null,
    address_3: null,
    city: null,
    state: null,
    post_code: null,
    country_code: null,
    occupation: null,
    emergency_contact: null,
    medicare: null,
    medicare_reference_number: null,
    dva_card_number: null,
    old_reference_id: null,
    referral_source: null,
    invoice_default_to: null,
    invoice_email: null,
    reminder_type: null,
    receives_confirmation_emails: null,
    receives_cancellation_emails: null,
    accepted_email_marketing: null,
    accepted_sms_marketing: null,
    accepted_privacy_policy: null,
    time_zone: null,
    pronouns: null,
    patient_phone_numbers: [],
    notes: null,
    appointment_notes: null,
    invoice_extra_information: null,
  };
}
