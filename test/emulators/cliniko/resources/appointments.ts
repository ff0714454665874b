/**
 * Appointments and their views: individual appointments, bookings (Cliniko's read view over every
 * kind of appointment) and attendees (one per individual appointment, stored on its row).
 */
import { canary } from '../canary.js';
import type { Kind } from '../ids.js';
import { KIND, idBig, toId } from '../ids.js';
import type { Appointment } from '../practice.js';
import { CANCELLATION_REASONS } from '../practice.js';
import type { FieldValue } from '../query.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, RenderContext, ResourceDef } from './common.js';
import { commonField, idOrNull, link, patientLabel, qLink, sortKeys } from './common.js';
import type { ApiRoutes, Source } from '../listing.js';

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
      return idOrNull(KIND.appointment, row.repeatedFrom);
    case 'appointment_id':
    case 'booking_id':
      return idBig(KIND.appointment, row.idx);
    case 'patient_case_id':
      return idOrNull(KIND.patientCase, row.patientCase);
    case 'email_reminder_sent':
      return reminderSent(row, ctx, 'Email');
    case 'sms_reminder_sent':
      return reminderSent(row, ctx, 'SMS');
    case 'invoice_status':
      return invoiceStatus(row, ctx);
    case 'treatment_note_status':
      return treatmentNoteStatus(row, ctx);
    default:
      return commonField(row, kind, name);
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

/** Appointments, bookings and attendees, also as children of an appointment and of a case. */
export function registerAppointmentRoutes(api: ApiRoutes): void {
  api.list({ path: '/individual_appointments', def: individualAppointments });
  api.get('/individual_appointments/{id}', individualAppointments);
  api.list({ path: '/bookings', def: bookings });
  api.get('/bookings/{id}', bookings);
  api.list({ path: '/attendees', def: attendees });
  api.get('/attendees/{id}', attendees);
  api.list({
    path: '/individual_appointments/{individual_appointment_id}/attendees',
    def: attendees,
    source: (params, p) => {
      const idx = api.parent(KIND.appointment, p.appointments, params.individual_appointment_id);
      return p.appointments.slice(idx, idx + 1);
    },
  });
  const caseAppointments: Source<Appointment> = (params, p) => {
    const idx = api.parent(KIND.patientCase, p.patientCases, params.patient_case_id);
    const c = p.patientCases[idx];
    return (c?.appointments ?? []).map((a) => p.appointments[a]).filter((a) => a !== undefined);
  };
  api.list({ path: '/patient_cases/{patient_case_id}/attendees', def: attendees, source: caseAppointments });
  api.list({ path: '/patient_cases/{patient_case_id}/bookings', def: bookings, source: caseAppointments });
}
