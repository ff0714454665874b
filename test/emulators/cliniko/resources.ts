/**
 * How each Cliniko resource is served: its JSON shape (exactly the properties of the spec's schema for
 * it) and the values its filterable / sortable fields take. Relations are `{ links: { self } }` objects;
 * the spec does not mark them nullable, so an absent relation (no case, no referrer) is left out.
 */
import { canary } from './canary.js';
import type { Kind } from './ids.js';
import { KIND, idBig, toId } from './ids.js';
import type {
  Appointment,
  AppointmentType,
  Business,
  ConcessionType,
  Contact,
  Invoice,
  MedicalAlert,
  Patient,
  PatientCase,
  Practice,
  Practitioner,
  TreatmentNote,
  User,
} from './practice.js';
import { CANCELLATION_REASONS, INVOICE_STATUS } from './practice.js';
import type { FieldValue } from './query.js';
import { isoOrNull, isoSeconds } from './time.js';

export interface RenderContext {
  /** Absolute API base, e.g. http://127.0.0.1:41234/v1 */
  base: string;
  practice: Practice;
  now: number;
  treatmentNoteByAppointment: Int32Array;
}

export type Json = Record<string, unknown>;

export interface ResourceDef<R> {
  kind: Kind;
  /** Envelope key of list responses. */
  plural: string;
  /** Path segment of the record's own URL (`/patients/{id}`). */
  segment: string;
  rows(p: Practice): readonly R[];
  field(row: R, name: string, ctx: RenderContext): FieldValue;
  render(row: R, ctx: RenderContext): Json;
}

const link = (ctx: RenderContext, path: string): Json => ({ links: { self: `${ctx.base}${path}` } });
const qLink = (ctx: RenderContext, path: string, field: string, id: string): Json =>
  link(ctx, `${path}?q%5B%5D=${field}%3A%3D${id}`);
const b = (kind: Kind, idx: number): bigint | null => (idx >= 0 ? idBig(kind, idx) : null);

function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function patientLabel(p: Patient): string {
  return `${p.f.first_name} ${p.f.last_name}`;
}

function normalizedPhone(number: string): string {
  const digits = number.replace(/\D/g, '');
  return digits.startsWith('0') ? `+61${digits.slice(1)}` : `+${digits}`;
}

/** Generic accessor for the timestamp columns every resource has. */
function common(
  row: { idx: number; createdAt: number; updatedAt: number },
  kind: Kind,
  name: string,
): FieldValue {
  if (name === 'id') return idBig(kind, row.idx);
  if (name === 'created_at') return row.createdAt;
  if (name === 'updated_at') return row.updatedAt;
  return null;
}

// ---------------------------------------------------------------- patients
export const patients: ResourceDef<Patient> = {
  kind: KIND.patient,
  plural: 'patients',
  segment: 'patients',
  rows: (p) => p.patients,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'accepted_privacy_policy':
        return row.f.accepted_privacy_policy;
      case 'date_of_birth':
        return row.f.date_of_birth;
      case 'email':
      case 'first_name':
      case 'last_name':
      case 'old_reference_id':
      case 'preferred_first_name':
        return row.f[name];
      default:
        return common(row, KIND.patient, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.patient, row.idx);
    const seed = ctx.practice.seed;
    const f = row.f;
    const text = (
      field: 'notes' | 'appointment_notes' | 'invoice_extra_information',
      generated: string | null,
    ) => (row.overridden?.has(field) ? f[field] : generated);
    const out: Json = {
      accepted_email_marketing: f.accepted_email_marketing,
      accepted_privacy_policy: f.accepted_privacy_policy,
      accepted_sms_marketing: f.accepted_sms_marketing,
      address_1: f.address_1,
      address_2: f.address_2,
      address_3: f.address_3,
      appointment_notes: text(
        'appointment_notes',
        `Prefers the adjusting table by the window. ${canary(seed, 'patientAppointmentNotes', row.idx)}`,
      ),
      appointments: link(ctx, `/patients/${id}/appointments`),
      archived_at: isoOrNull(row.archivedAt),
      attendees: qLink(ctx, '/attendees', 'patient_id', id),
      city: f.city,
      country: f.country_code === 'AU' ? 'Australia' : null,
      country_code: f.country_code,
      created_at: isoSeconds(row.createdAt),
      custom_fields: null,
      date_of_birth: f.date_of_birth,
      deleted_at: null,
      dva_card_number: f.dva_card_number,
      email: f.email,
      emergency_contact: f.emergency_contact,
      first_name: f.first_name,
      gender: null,
      gender_identity: f.gender_identity,
      id,
      invoice_default_to: f.invoice_default_to,
      invoice_email: f.invoice_email,
      invoice_extra_information: text('invoice_extra_information', null),
      invoices: link(ctx, `/patients/${id}/invoices`),
      label: patientLabel(row),
      last_name: f.last_name,
      links: { self: `${ctx.base}/patients/${id}` },
      medical_alerts: link(ctx, `/patients/${id}/medical_alerts`),
      medicare: f.medicare,
      medicare_reference_number: f.medicare_reference_number,
      merged_at: isoOrNull(row.mergedAt),
      notes: text(
        'notes',
        `Intake: history of lower back stiffness. ${canary(seed, 'patientNotes', row.idx)}`,
      ),
      occupation: f.occupation,
      old_reference_id: f.old_reference_id,
      patient_attachments: link(ctx, `/patients/${id}/patient_attachments`),
      patient_phone_numbers: f.patient_phone_numbers.map((ph) => ({
        normalized_number: normalizedPhone(ph.number),
        number: ph.number,
        phone_type: ph.phone_type,
      })),
      post_code: f.post_code,
      preferred_first_name: f.preferred_first_name,
      pronouns: f.pronouns,
      receives_cancellation_emails: f.receives_cancellation_emails,
      receives_confirmation_emails: f.receives_confirmation_emails,
      referral_source: f.referral_source,
      relationships: qLink(ctx, '/relationships', 'patient_id', id),
      reminder_type: f.reminder_type,
      sex: f.sex,
      state: f.state,
      time_zone: f.time_zone,
      title: f.title,
      updated_at: isoSeconds(row.updatedAt),
    };
    if (row.concessionType >= 0)
      out.concession_type = link(ctx, `/concession_types/${toId(KIND.concessionType, row.concessionType)}`);
    if (row.latestBooking >= 0)
      out.latest_booking = link(ctx, `/bookings/${toId(KIND.appointment, row.latestBooking)}`);
    if (row.mergedInto >= 0)
      out.merged_with_patient = link(ctx, `/patients/${toId(KIND.patient, row.mergedInto)}`);
    if (row.referringDoctor >= 0)
      out.referring_doctor = link(ctx, `/contacts/${toId(KIND.contact, row.referringDoctor)}`);
    return sortKeys(out);
  },
};

// ---------------------------------------------------------------- appointments and their views
function appointmentField(row: Appointment, name: string, ctx: RenderContext, kind: Kind): FieldValue {
  switch (name) {
    case 'appointment_type_id':
      return idBig(KIND.appointmentType, row.type);
    case 'archived_at':
      return row.archivedAt;
    case 'business_id':
      return idBig(KIND.business, row.business);
    case 'cancelled_at':
      return row.cancelledAt;
    case 'deleted_at':
      return row.deletedAt;
    case 'did_not_arrive':
      return row.didNotArrive;
    case 'ends_at':
      return row.endsAt;
    case 'starts_at':
      return row.startsAt;
    case 'patient_id':
      return idBig(KIND.patient, row.patient);
    case 'patient_ids':
      return [idBig(KIND.patient, row.patient)];
    case 'practitioner_id':
      return idBig(KIND.practitioner, row.practitioner);
    case 'repeated_from_id':
      return b(KIND.appointment, row.repeatedFrom);
    case 'appointment_id':
    case 'booking_id':
      return idBig(KIND.appointment, row.idx);
    case 'patient_case_id':
      return b(KIND.patientCase, row.patientCase);
    case 'email_reminder_sent':
      return reminderSent(row, ctx, 'Email');
    case 'sms_reminder_sent':
      return reminderSent(row, ctx, 'SMS');
    case 'invoice_status':
      return invoiceStatus(row, ctx);
    case 'treatment_note_status':
      return treatmentNoteStatus(row, ctx);
    default:
      return common(row, kind, name);
  }
}

function reminderSent(row: Appointment, ctx: RenderContext, channel: 'SMS' | 'Email'): boolean {
  const type = ctx.practice.patients[row.patient]?.f.reminder_type ?? null;
  const wants = type === 'SMS & Email' || type === channel;
  // Reminders go out the day before.
  return wants && row.cancelledAt === null && row.startsAt - 86_400 <= ctx.now;
}

function invoiceStatus(row: Appointment, ctx: RenderContext): number | null {
  const inv = ctx.practice.invoiceByAppointment[row.idx] ?? -1;
  return inv >= 0 ? (ctx.practice.invoices[inv]?.status ?? null) : null;
}

function treatmentNoteStatus(row: Appointment, ctx: RenderContext): number | null {
  const tn = ctx.treatmentNoteByAppointment[row.idx] ?? -1;
  if (tn < 0) return null;
  return ctx.practice.treatmentNotes[tn]?.draft === true ? 10 : 90;
}

function appointmentNotes(row: Appointment, seed: number): string {
  return (
    row.notesOverride ??
    `Adjusted T4-T6, reviewed home exercises. ${canary(seed, 'appointmentNotes', row.idx)}`
  );
}

function cancellationNote(row: Appointment, seed: number, field: 'appointment' | 'attendee'): string | null {
  if (row.cancelledAt === null) return null;
  if (row.cancellationNoteOverride !== null) return row.cancellationNoteOverride;
  if (!row.hasCancellationNote) return null;
  return `Called to cancel, flare-up after gardening. ${canary(seed, field === 'appointment' ? 'appointmentCancellationNote' : 'attendeeCancellationNote', row.idx)}`;
}

function renderAppointment(row: Appointment, ctx: RenderContext, selfSegment: string): Json {
  const id = toId(KIND.appointment, row.idx);
  const patient = ctx.practice.patients[row.patient];
  const out: Json = {
    appointment_type: link(ctx, `/appointment_types/${toId(KIND.appointmentType, row.type)}`),
    archived_at: isoOrNull(row.archivedAt),
    attendees: link(ctx, `/individual_appointments/${id}/attendees`),
    booking_ip_address: null,
    business: link(ctx, `/businesses/${toId(KIND.business, row.business)}`),
    cancellation_note: cancellationNote(row, ctx.practice.seed, 'appointment'),
    cancellation_reason: row.cancellationReason,
    cancellation_reason_description:
      row.cancellationReason === null ? null : (CANCELLATION_REASONS[row.cancellationReason] ?? null),
    cancelled_at: isoOrNull(row.cancelledAt),
    conflicts: link(ctx, `/individual_appointments/${id}/conflicts`),
    created_at: isoSeconds(row.createdAt),
    deleted_at: isoOrNull(row.deletedAt),
    did_not_arrive: row.didNotArrive,
    email_reminder_sent: reminderSent(row, ctx, 'Email'),
    ends_at: isoSeconds(row.endsAt),
    has_patient_appointment_notes: true,
    id,
    invoice_status: invoiceStatus(row, ctx),
    links: { self: `${ctx.base}/${selfSegment}/${id}` },
    notes: appointmentNotes(row, ctx.practice.seed),
    online_booking_policy_accepted: null,
    patient: link(ctx, `/patients/${toId(KIND.patient, row.patient)}`),
    patient_arrived: row.arrived,
    patient_name: patient ? patientLabel(patient) : null,
    practitioner: link(ctx, `/practitioners/${toId(KIND.practitioner, row.practitioner)}`),
    repeat_rule: null,
    repeats: qLink(ctx, '/individual_appointments', 'repeated_from_id', id),
    sms_reminder_sent: reminderSent(row, ctx, 'SMS'),
    starts_at: isoSeconds(row.startsAt),
    telehealth_url: null,
    treatment_note_status: treatmentNoteStatus(row, ctx),
    updated_at: isoSeconds(row.updatedAt),
  };
  if (row.patientCase >= 0)
    out.patient_case = link(ctx, `/patient_cases/${toId(KIND.patientCase, row.patientCase)}`);
  if (row.repeatedFrom >= 0)
    out.repeated_from = link(ctx, `/individual_appointments/${toId(KIND.appointment, row.repeatedFrom)}`);
  return sortKeys(out);
}

export const individualAppointments: ResourceDef<Appointment> = {
  kind: KIND.appointment,
  plural: 'individual_appointments',
  segment: 'individual_appointments',
  rows: (p) => p.appointments,
  field: (row, name, ctx) => appointmentField(row, name, ctx, KIND.appointment),
  render: (row, ctx) => renderAppointment(row, ctx, 'individual_appointments'),
};

/** Bookings are Cliniko's read view over appointments of every kind; we only have individual ones. */
export const bookings: ResourceDef<Appointment> = {
  kind: KIND.appointment,
  plural: 'bookings',
  segment: 'bookings',
  rows: (p) => p.appointments,
  field: (row, name, ctx) => appointmentField(row, name, ctx, KIND.appointment),
  render: (row, ctx) => renderAppointment(row, ctx, 'bookings'),
};

/** Each individual appointment has exactly one attendee, stored on the appointment row. */
export const attendees: ResourceDef<Appointment> = {
  kind: KIND.attendee,
  plural: 'attendees',
  segment: 'attendees',
  rows: (p) => p.appointments,
  field: (row, name, ctx) => appointmentField(row, name, ctx, KIND.attendee),
  render(row, ctx) {
    const id = toId(KIND.attendee, row.idx);
    const seed = ctx.practice.seed;
    const status = invoiceStatus(row, ctx);
    const out: Json = {
      archived_at: isoOrNull(row.archivedAt),
      arrived: row.arrived,
      booking: link(ctx, `/bookings/${toId(KIND.appointment, row.idx)}`),
      booking_ip_address: null,
      cancellation_note: cancellationNote(row, seed, 'attendee'),
      cancellation_reason: row.cancellationReason,
      cancellation_reason_description:
        row.cancellationReason === null ? null : (CANCELLATION_REASONS[row.cancellationReason] ?? null),
      cancellation_url: null,
      cancelled_at: isoOrNull(row.cancelledAt),
      created_at: isoSeconds(row.createdAt),
      deleted_at: isoOrNull(row.deletedAt),
      email_reminder_sent: reminderSent(row, ctx, 'Email'),
      id,
      invoice_status: status,
      invoices: link(ctx, `/attendees/${id}/invoices`),
      links: { self: `${ctx.base}/attendees/${id}` },
      notes: `Attendee note: bring imaging. ${canary(seed, 'attendeeNotes', row.idx)}`,
      online_booking_policy_accepted: null,
      patient: link(ctx, `/patients/${toId(KIND.patient, row.patient)}`),
      patient_forms: link(ctx, `/attendees/${id}/patient_forms`),
      sent_email_follow_ups_count: 0,
      sent_email_reminders_count: reminderSent(row, ctx, 'Email') ? 1 : 0,
      sent_sms_follow_ups_count: 0,
      sent_sms_reminders_count: reminderSent(row, ctx, 'SMS') ? 1 : 0,
      sms_reminder_sent: reminderSent(row, ctx, 'SMS'),
      telehealth_url: null,
      treatment_note_status: treatmentNoteStatus(row, ctx),
      updated_at: isoSeconds(row.updatedAt),
    };
    if (row.patientCase >= 0)
      out.patient_case = link(ctx, `/patient_cases/${toId(KIND.patientCase, row.patientCase)}`);
    return sortKeys(out);
  },
};

// ---------------------------------------------------------------- configuration resources
export const appointmentTypes: ResourceDef<AppointmentType> = {
  kind: KIND.appointmentType,
  plural: 'appointment_types',
  segment: 'appointment_types',
  rows: (p) => p.appointmentTypes,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'category':
        return row.category;
      case 'online_payments_mode':
        return null;
      case 'show_in_online_bookings':
        return row.showInOnlineBookings;
      case 'appointment_confirmation_template_ids':
      case 'appointment_follow_up_template_ids':
      case 'appointment_reminder_template_ids':
        return [];
      default:
        return common(row, KIND.appointmentType, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.appointmentType, row.idx);
    return {
      add_deposit_to_account_credit: null,
      appointment_confirmation_template_ids: [],
      appointment_follow_up_template_ids: [],
      appointment_reminder_template_ids: [],
      appointment_type_billable_items: qLink(
        ctx,
        '/appointment_type_billable_items',
        'appointment_type_id',
        id,
      ),
      appointment_type_products: qLink(ctx, '/appointment_type_products', 'appointment_type_id', id),
      archived_at: isoOrNull(row.archivedAt),
      category: row.category,
      color: row.color,
      created_at: isoSeconds(row.createdAt),
      deposit_price: null,
      description: `${row.name} (${row.durationMinutes} min)`,
      duration_in_minutes: row.durationMinutes,
      id,
      links: { self: `${ctx.base}/appointment_types/${id}` },
      max_attendees: 1,
      name: row.name,
      online_bookings_lead_time_hours: 2,
      online_payments_enabled: false,
      online_payments_mode: null,
      practitioners: link(ctx, `/appointment_types/${id}/practitioners`),
      show_in_online_bookings: row.showInOnlineBookings,
      telehealth_enabled: false,
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export const practitioners: ResourceDef<Practitioner> = {
  kind: KIND.practitioner,
  plural: 'practitioners',
  segment: 'practitioners',
  rows: (p) => p.practitioners,
  field(row, name) {
    switch (name) {
      case 'active':
        return row.active;
      case 'show_in_online_bookings':
        return row.active;
      case 'user_id':
        return idBig(KIND.user, row.user);
      default:
        return common(row, KIND.practitioner, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.practitioner, row.idx);
    const initial = ctx.practice.appointmentTypes.findIndex((t) => t.name === 'Initial Appointment');
    const out: Json = {
      active: row.active,
      appointment_types: link(ctx, `/practitioners/${id}/appointment_types`),
      appointments: link(ctx, `/practitioners/${id}/appointments`),
      created_at: isoSeconds(row.createdAt),
      description: `${row.designation} at ${ctx.practice.businesses[row.business]?.name ?? ''}`,
      designation: row.designation,
      display_name: `${row.title} ${row.firstName} ${row.lastName}`,
      first_name: row.firstName,
      id,
      invoices: link(ctx, `/practitioners/${id}/invoices`),
      label: `${row.title} ${row.firstName} ${row.lastName}`,
      last_name: row.lastName,
      links: { self: `${ctx.base}/practitioners/${id}` },
      practitioner_reference_numbers: link(ctx, `/practitioners/${id}/practitioner_reference_numbers`),
      show_in_online_bookings: row.active,
      title: row.title,
      updated_at: isoSeconds(row.updatedAt),
      user: link(ctx, `/users/${toId(KIND.user, row.user)}`),
    };
    if (initial >= 0)
      out.default_appointment_type = link(ctx, `/appointment_types/${toId(KIND.appointmentType, initial)}`);
    return sortKeys(out);
  },
};

export const businesses: ResourceDef<Business> = {
  kind: KIND.business,
  plural: 'businesses',
  segment: 'businesses',
  rows: (p) => p.businesses,
  field(row, name, ctx) {
    switch (name) {
      case 'archived_at':
      case 'deleted_at':
        return null;
      case 'show_in_online_bookings':
        return true;
      case 'appointment_type_ids':
        return activeTypeIds(ctx.practice).map((t) => BigInt(t));
      default:
        return common(row, KIND.business, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.business, row.idx);
    return {
      additional_information: null,
      additional_invoice_information: null,
      address_1: row.address1,
      address_2: null,
      appointment_reminders_enabled: true,
      appointment_type_ids: activeTypeIds(ctx.practice),
      appointments: link(ctx, `/businesses/${id}/appointments`),
      archived_at: null,
      business_name: row.name,
      business_registration_name: 'ABN',
      business_registration_value: `5${String(row.idx + 1).padStart(10, '0')}`,
      city: row.city,
      contact_information: '(03) 9000 0000',
      country: 'Australia',
      country_code: 'AU',
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      display_name: row.name,
      email_reply_to: 'reception@northside-chiro.example',
      id,
      label: row.name,
      links: { self: `${ctx.base}/businesses/${id}` },
      post_code: row.postCode,
      practitioners: link(ctx, `/businesses/${id}/practitioners`),
      show_in_online_bookings: true,
      state: row.state,
      time_zone: row.railsZone,
      time_zone_identifier: row.timeZone,
      updated_at: isoSeconds(row.updatedAt),
      website_address: 'https://northside-chiro.example',
    };
  },
};

function activeTypeIds(p: Practice): string[] {
  return p.appointmentTypes
    .filter((t) => t.archivedAt === null)
    .map((t) => toId(KIND.appointmentType, t.idx));
}

export const concessionTypes: ResourceDef<ConcessionType> = {
  kind: KIND.concessionType,
  plural: 'concession_types',
  segment: 'concession_types',
  rows: (p) => p.concessionTypes,
  field: (row, name) => (name === 'archived_at' ? row.archivedAt : common(row, KIND.concessionType, name)),
  render(row, ctx) {
    const id = toId(KIND.concessionType, row.idx);
    return {
      archived_at: isoOrNull(row.archivedAt),
      created_at: isoSeconds(row.createdAt),
      id,
      links: { self: `${ctx.base}/concession_types/${id}` },
      name: row.name,
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

const CONTACT_TYPE_CODE = { Standard: 0, Doctor: 1, '3rd Party Payer': 2 } as const;
export const contacts: ResourceDef<Contact> = {
  kind: KIND.contact,
  plural: 'contacts',
  segment: 'contacts',
  rows: (p) => p.contacts,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'deleted_at':
        return null;
      case 'company_name':
        return row.companyName;
      case 'email':
        return row.email;
      case 'first_name':
        return row.firstName;
      case 'last_name':
        return row.lastName;
      case 'occupation':
        return row.occupation;
      case 'type_code':
        return CONTACT_TYPE_CODE[row.type];
      default:
        return common(row, KIND.contact, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.contact, row.idx);
    return {
      address_1: null,
      address_2: null,
      address_3: null,
      archived_at: isoOrNull(row.archivedAt),
      city: null,
      company_name: row.companyName,
      country: 'Australia',
      country_code: 'AU',
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      doctor_type: row.doctorType,
      email: row.email,
      first_name: row.firstName,
      id,
      last_name: row.lastName,
      links: { self: `${ctx.base}/contacts/${id}` },
      notes: `Referrer notes. ${canary(ctx.practice.seed, 'contactNotes', row.idx)}`,
      occupation: row.occupation,
      phone_numbers: [],
      post_code: null,
      preferred_name: null,
      provider_number: row.providerNumber,
      state: null,
      title: row.title,
      type: row.type,
      type_code: CONTACT_TYPE_CODE[row.type],
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export const users: ResourceDef<User> = {
  kind: KIND.user,
  plural: 'users',
  segment: 'users',
  rows: (p) => p.users,
  field: (row, name) => common(row, KIND.user, name),
  render(row, ctx) {
    const id = toId(KIND.user, row.idx);
    const zone = ctx.practice.businesses.find((bz) => bz.railsZone === row.timeZone);
    return {
      active: true,
      created_at: isoSeconds(row.createdAt),
      email: row.email,
      first_name: row.firstName,
      id,
      last_name: row.lastName,
      links: { self: `${ctx.base}/users/${id}` },
      phone_numbers: [],
      role: row.role,
      time_zone: row.timeZone,
      time_zone_identifier: zone?.timeZone ?? 'Australia/Melbourne',
      title: row.role === 'practitioner' ? 'Dr' : null,
      updated_at: isoSeconds(row.updatedAt),
      user_active: true,
    };
  },
};

// ---------------------------------------------------------------- clinical and billing records
const CASE_NAMES = {
  workcover: 'WorkCover claim: lumbar strain',
  tac: 'TAC claim: whiplash',
  decompression: 'Decompression program: disc bulge L4/5',
  'care-plan': 'Care plan: chronic neck pain',
  dva: 'DVA referral: knee osteoarthritis',
} as const;

export const patientCases: ResourceDef<PatientCase> = {
  kind: KIND.patientCase,
  plural: 'patient_cases',
  segment: 'patient_cases',
  rows: (p) => p.patientCases,
  field(row, name, ctx) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'closed_at':
        return row.closedAt;
      case 'expiry_date':
        return row.expiryDate;
      case 'issue_date':
        return row.issueDate;
      case 'name':
        return caseName(row, ctx.practice.seed);
      case 'patient_id':
        return idBig(KIND.patient, row.patient);
      case 'referral_type':
        return row.referralType;
      default:
        return common(row, KIND.patientCase, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.patientCase, row.idx);
    const out: Json = {
      archived_at: isoOrNull(row.archivedAt),
      attendee_ids: row.appointments.map((a) => toId(KIND.attendee, a)),
      attendees: link(ctx, `/patient_cases/${id}/attendees`),
      bookings: link(ctx, `/patient_cases/${id}/bookings`),
      closed: row.closedAt !== null,
      closed_at: isoOrNull(row.closedAt),
      created_at: isoSeconds(row.createdAt),
      expiry_date: row.expiryDate,
      id,
      include_cancelled_attendees: false,
      include_dna_attendees: true,
      invoices: link(ctx, `/patient_cases/${id}/invoices`),
      issue_date: row.issueDate,
      links: { self: `${ctx.base}/patient_cases/${id}` },
      max_invoiceable_amount: row.maxInvoiceableAmount,
      max_sessions: row.maxSessions,
      name: caseName(row, ctx.practice.seed),
      notes: `Goals: return to full duties. ${canary(ctx.practice.seed, 'caseNotes', row.idx)}`,
      patient: link(ctx, `/patients/${toId(KIND.patient, row.patient)}`),
      patient_attachments: link(ctx, `/patient_cases/${id}/patient_attachments`),
      referral: row.referral,
      referral_type: row.referralType,
      updated_at: isoSeconds(row.updatedAt),
    };
    if (row.contact >= 0) out.contact = link(ctx, `/contacts/${toId(KIND.contact, row.contact)}`);
    return sortKeys(out);
  },
};

function caseName(row: PatientCase, seed: number): string {
  return `${CASE_NAMES[row.kind]} ${canary(seed, 'caseName', row.idx)}`;
}

function invoiceField(row: Invoice, name: string, ctx: RenderContext, kind: Kind): FieldValue {
  const a = ctx.practice.appointments[row.appointment];
  switch (name) {
    case 'appointment_id':
      return idBig(KIND.appointment, row.appointment);
    case 'attendee_id':
      return idBig(KIND.attendee, row.appointment);
    case 'archived_at':
      return row.archivedAt;
    case 'deleted_at':
      return row.deletedAt;
    case 'business_id':
      return a ? idBig(KIND.business, a.business) : null;
    case 'closed_at':
      return row.closedAt;
    case 'issue_date':
      return row.issueDate;
    case 'number':
      return row.number;
    case 'original_invoice_id':
    case 'source_item_id':
      return null;
    case 'invoice_id':
      return idBig(KIND.invoice, row.idx);
    case 'patient_id':
      return a ? idBig(KIND.patient, a.patient) : null;
    case 'practitioner_id':
      return a ? idBig(KIND.practitioner, a.practitioner) : null;
    case 'status':
      return row.status;
    default:
      return common(row, kind, name);
  }
}

export const invoices: ResourceDef<Invoice> = {
  kind: KIND.invoice,
  plural: 'invoices',
  segment: 'invoices',
  rows: (p) => p.invoices,
  field: (row, name, ctx) => invoiceField(row, name, ctx, KIND.invoice),
  render(row, ctx) {
    const id = toId(KIND.invoice, row.idx);
    const a = ctx.practice.appointments[row.appointment];
    const patient = a ? ctx.practice.patients[a.patient] : undefined;
    const out: Json = {
      appointment: link(ctx, `/appointments/${toId(KIND.appointment, row.appointment)}`),
      archived_at: isoOrNull(row.archivedAt),
      attendee: link(ctx, `/attendees/${toId(KIND.attendee, row.appointment)}`),
      calculation_method: 3,
      calculation_method_description: 'Tax inclusive',
      closed_at: isoOrNull(row.closedAt),
      created_at: isoSeconds(row.createdAt),
      deleted_at: isoOrNull(row.deletedAt),
      discounted_amount: '0.00',
      id,
      invoice_items: link(ctx, `/invoices/${id}/invoice_items`),
      invoice_to: patient ? patientLabel(patient) : null,
      issue_date: row.issueDate,
      links: { self: `${ctx.base}/invoices/${id}` },
      net_amount: money(row.total),
      notes: `Claim lodged with health fund. ${canary(ctx.practice.seed, 'invoiceNotes', row.idx)}`,
      number: row.number,
      online_payment_url: null,
      patient_extra_information: null,
      reversed_invoices: qLink(ctx, '/invoices', 'invoice_id', id),
      status: row.status,
      status_description: INVOICE_STATUS[row.status] ?? null,
      tax_amount: '0.00',
      total_amount: money(row.total),
      updated_at: isoSeconds(row.updatedAt),
    };
    if (a) {
      out.business = link(ctx, `/businesses/${toId(KIND.business, a.business)}`);
      out.patient = link(ctx, `/patients/${toId(KIND.patient, a.patient)}`);
      out.practitioner = link(ctx, `/practitioners/${toId(KIND.practitioner, a.practitioner)}`);
    }
    return sortKeys(out);
  },
};

/** One item per invoice (the consult), sharing the invoice's row. */
export const invoiceItems: ResourceDef<Invoice> = {
  kind: KIND.invoiceItem,
  plural: 'invoice_items',
  segment: 'invoice_items',
  rows: (p) => p.invoices,
  field: (row, name, ctx) => invoiceField(row, name, ctx, KIND.invoiceItem),
  render(row, ctx) {
    const id = toId(KIND.invoiceItem, row.idx);
    const a = ctx.practice.appointments[row.appointment];
    const type = a ? ctx.practice.appointmentTypes[a.type] : undefined;
    return {
      archived_at: isoOrNull(row.archivedAt),
      code: type ? `CH${String(type.idx + 1).padStart(3, '0')}` : null,
      concession_type_name: null,
      created_at: isoSeconds(row.createdAt),
      deleted_at: isoOrNull(row.deletedAt),
      discount_percentage: '0.0',
      discounted_amount: '0.00',
      id,
      invoice: link(ctx, `/invoices/${toId(KIND.invoice, row.idx)}`),
      is_monetary_discount: false,
      links: { self: `${ctx.base}/invoice_items/${id}` },
      name: type?.name ?? null,
      net_price: money(row.total),
      quantity: '1.0',
      tax_amount: '0.00',
      tax_name: 'GST-free',
      tax_rate: '0.0',
      total_including_tax: row.total / 100,
      unit_price: money(row.total),
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export const treatmentNotes: ResourceDef<TreatmentNote> = {
  kind: KIND.treatmentNote,
  plural: 'treatment_notes',
  segment: 'treatment_notes',
  rows: (p) => p.treatmentNotes,
  field(row, name, ctx) {
    const a = ctx.practice.appointments[row.appointment];
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'deleted_at':
        return null;
      case 'attendee_id':
        return idBig(KIND.attendee, row.appointment);
      case 'booking_id':
        return idBig(KIND.appointment, row.appointment);
      case 'draft':
        return row.draft;
      case 'patient_id':
        return a ? idBig(KIND.patient, a.patient) : null;
      case 'practitioner_id':
        return a ? idBig(KIND.practitioner, a.practitioner) : null;
      case 'treatment_note_template_id':
        return null;
      default:
        return common(row, KIND.treatmentNote, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.treatmentNote, row.idx);
    const seed = ctx.practice.seed;
    const a = ctx.practice.appointments[row.appointment];
    const prac = a ? ctx.practice.practitioners[a.practitioner] : undefined;
    const out: Json = {
      archived_at: isoOrNull(row.archivedAt),
      attendee: link(ctx, `/attendees/${toId(KIND.attendee, row.appointment)}`),
      author_name: prac ? `${prac.title} ${prac.firstName} ${prac.lastName}` : null,
      booking: link(ctx, `/bookings/${toId(KIND.appointment, row.appointment)}`),
      content: {
        sections: [
          {
            name: 'Subjective',
            description: null,
            questions: [
              {
                name: 'Presenting complaint',
                type: 'paragraph',
                answer: `Pain 6/10 on flexion. ${canary(seed, 'treatmentNoteAnswer', row.idx * 2)}`,
              },
              {
                name: 'Treatment',
                type: 'text',
                answer: `Diversified, T-spine. ${canary(seed, 'treatmentNoteAnswer', row.idx * 2 + 1)}`,
              },
            ],
          },
        ],
      },
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      draft: row.draft,
      finalized_at: isoOrNull(row.finalizedAt),
      id,
      links: { self: `${ctx.base}/treatment_notes/${id}` },
      pinned_at: null,
      title: `Chiropractic consult ${canary(seed, 'treatmentNoteTitle', row.idx)}`,
      updated_at: isoSeconds(row.updatedAt),
    };
    if (a) {
      out.patient = link(ctx, `/patients/${toId(KIND.patient, a.patient)}`);
      out.practitioner = link(ctx, `/practitioners/${toId(KIND.practitioner, a.practitioner)}`);
    }
    return sortKeys(out);
  },
};

export const medicalAlerts: ResourceDef<MedicalAlert> = {
  kind: KIND.medicalAlert,
  plural: 'medical_alerts',
  segment: 'medical_alerts',
  rows: (p) => p.medicalAlerts,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'deleted_at':
        return null;
      case 'patient_id':
        return idBig(KIND.patient, row.patient);
      default:
        return common(row, KIND.medicalAlert, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.medicalAlert, row.idx);
    return {
      archived_at: isoOrNull(row.archivedAt),
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      id,
      links: { self: `${ctx.base}/medical_alerts/${id}` },
      name: `Anticoagulant medication: no HVLA to cervical spine. ${canary(ctx.practice.seed, 'medicalAlertName', row.idx)}`,
      patient: link(ctx, `/patients/${toId(KIND.patient, row.patient)}`),
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

/** Stable key order (alphabetical, as Cliniko serialises) after optional relations were added. */
function sortKeys(o: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** Every canary token present in the practice's current data. */
export function* allCanaries(p: Practice): Generator<string> {
  const s = p.seed;
  for (const pt of p.patients) {
    if (!pt.overridden?.has('notes')) yield canary(s, 'patientNotes', pt.idx);
    if (!pt.overridden?.has('appointment_notes')) yield canary(s, 'patientAppointmentNotes', pt.idx);
  }
  for (const a of p.appointments) {
    if (a.notesOverride === null) yield canary(s, 'appointmentNotes', a.idx);
    yield canary(s, 'attendeeNotes', a.idx);
    if (a.cancelledAt !== null && a.cancellationNoteOverride === null && a.hasCancellationNote) {
      yield canary(s, 'appointmentCancellationNote', a.idx);
      yield canary(s, 'attendeeCancellationNote', a.idx);
    }
  }
  for (const c of p.patientCases) {
    yield canary(s, 'caseName', c.idx);
    yield canary(s, 'caseNotes', c.idx);
  }
  for (const t of p.treatmentNotes) {
    yield canary(s, 'treatmentNoteTitle', t.idx);
    yield canary(s, 'treatmentNoteAnswer', t.idx * 2);
    yield canary(s, 'treatmentNoteAnswer', t.idx * 2 + 1);
  }
  for (const m of p.medicalAlerts) yield canary(s, 'medicalAlertName', m.idx);
  for (const i of p.invoices) yield canary(s, 'invoiceNotes', i.idx);
  for (const c of p.contacts) yield canary(s, 'contactNotes', c.idx);
}
