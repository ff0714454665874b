/**
 * Clinical records: treatment notes and medical alerts. The sync must never copy them; they are served
 * (with canary text) so that tests can prove it does not.
 */
import { canary } from '../canary.js';
import { KIND, idBig, toId } from '../ids.js';
import type { MedicalAlert, TreatmentNote } from '../practice.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, ResourceDef } from './common.js';
import { commonField, link, sortKeys } from './common.js';
import type { ApiRoutes } from '../listing.js';

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
        return commonField(row, KIND.treatmentNote, name);
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
        return commonField(row, KIND.medicalAlert, name);
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

/** Clinical records, served so that tests can prove the sync never copies them. */
export function registerClinicalRoutes(api: ApiRoutes): void {
  api.list({ path: '/treatment_notes', def: treatmentNotes });
  api.get('/treatment_notes/{id}', treatmentNotes);
  api.list({
    path: '/patients/{patient_id}/treatment_notes',
    def: treatmentNotes,
    source: (params, p) => {
      const idx = api.parent(KIND.patient, p.patients, params.patient_id);
      return p.treatmentNotes.filter((t) => p.appointments[t.appointment]?.patient === idx);
    },
  });
  api.list({ path: '/medical_alerts', def: medicalAlerts });
  api.get('/medical_alerts/{id}', medicalAlerts);
  api.list({
    path: '/patients/{patient_id}/medical_alerts',
    def: medicalAlerts,
    source: (params, p) => {
      const idx = api.parent(KIND.patient, p.patients, params.patient_id);
      return p.medicalAlerts.filter((m) => m.patient === idx);
    },
  });
}
