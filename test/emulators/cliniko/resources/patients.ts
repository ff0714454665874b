/**
 * Patients: the JSON shape Cliniko serves (free text from the canary function unless written through
 * the API) and the columns patients can be filtered and sorted on.
 */
import { canary } from '../canary.js';
import { KIND, toId } from '../ids.js';
import type { Patient } from '../practice.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, RenderContext, ResourceDef } from './common.js';
import { commonField, link, patientLabel, qLink, sortKeys } from './common.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiRoutes } from '../listing.js';
import { validatePatientPatch } from '../patch.js';

function normalizedPhone(number: string): string {
  const digits = number.replace(/\D/g, '');
  return digits.startsWith('0') ? `+61${digits.slice(1)}` : `+${digits}`;
}

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
        return commonField(row, KIND.patient, name);
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
    addRelations(out, row, ctx);
    return sortKeys(out);
  },
};

/** Relations the spec does not mark nullable: present only when there is a related record. */
function addRelations(out: Json, row: Patient, ctx: RenderContext): void {
  if (row.concessionType >= 0)
    out.concession_type = link(ctx, `/concession_types/${toId(KIND.concessionType, row.concessionType)}`);
  if (row.latestBooking >= 0)
    out.latest_booking = link(ctx, `/bookings/${toId(KIND.appointment, row.latestBooking)}`);
  if (row.mergedInto >= 0)
    out.merged_with_patient = link(ctx, `/patients/${toId(KIND.patient, row.mergedInto)}`);
  if (row.referringDoctor >= 0)
    out.referring_doctor = link(ctx, `/contacts/${toId(KIND.contact, row.referringDoctor)}`);
}

/** `/patients`: list, get, PATCH (422 on invalid input), archive (POST or DELETE) and unarchive. */
export function registerPatientRoutes(api: ApiRoutes): void {
  const { app, state } = api;
  api.list({ path: '/patients', def: patients });
  api.get('/patients/{id}', patients);
  const patchPatient = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p = api.findVisible(patients, (req.params as { id: string }).id);
    const result = validatePatientPatch(req.body, state.practice);
    if (!result.ok) return reply.code(422).send({ message: 'Validation Failed', errors: result.errors });
    state.applyPatientFields(p, result.patch.changes, {
      concessionType: result.patch.concessionType,
      referringDoctor: result.patch.referringDoctor,
    });
    return reply.send(patients.render(p, api.ctx()));
  };
  app.patch('/v1/patients/:id', patchPatient);
  const archive = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const p = api.findVisible(patients, (req.params as { id: string }).id);
    state.archivePatient(p);
    return reply.code(204).send();
  };
  app.post('/v1/patients/:id/archive', archive);
  app.delete('/v1/patients/:id', archive);
  app.post('/v1/patients/:id/unarchive', async (req, reply) => {
    const p = state.patient((req.params as { id: string }).id);
    state.unarchivePatient(p);
    return reply.send(patients.render(p, api.ctx()));
  });
}
