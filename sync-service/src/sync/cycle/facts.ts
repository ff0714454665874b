import { idFromLink } from '../../cliniko/index.js';
import type {
  ClinikoIndividualAppointment,
  ClinikoInvoice,
  ClinikoPatientCase,
} from '../../cliniko/index.js';
import type { Appointment, Invoice, PatientCase } from '../../journey/index.js';
import type { FactInput } from '../../store/index.js';

/**
 * The non-clinical facts the journey engine and the appointment events need, cut from Cliniko records:
 * times, type, practitioner and clinic names, attendance flags, case limits and settings, invoice
 * totals. Never notes, case names, cancellation reasons or any free text. Stored encrypted, keyed by patient, so a change to one appointment is judged
 * against the patient's whole history without re-reading Cliniko.
 */
export type FactResource = 'individual_appointments' | 'patient_cases' | 'invoices';

export interface ReferenceNames {
  readonly appointmentTypes: ReadonlyMap<string, string>;
  /** The projection context's display names (practitioners and businesses), as the runner loads them. */
  readonly context?: {
    readonly names?: {
      readonly businesses?: ReadonlyMap<string, string>;
      readonly practitioners?: ReadonlyMap<string, string>;
    };
  };
}

function patientOf(
  link: { links: { self: string } } | null | undefined,
  collection = 'patients',
): string | undefined {
  return idFromLink(link?.links.self, collection);
}

export function appointmentFact(
  a: ClinikoIndividualAppointment,
  names: ReferenceNames,
): FactInput | undefined {
  const patientId = patientOf(a.patient);
  if (!patientId) return undefined;
  const typeId = idFromLink(a.appointment_type.links.self, 'appointment_types');
  const businessId = idFromLink(a.business.links.self, 'businesses') ?? null;
  const practitionerId = idFromLink(a.practitioner.links.self, 'practitioners');
  const data: Appointment = {
    id: a.id,
    starts_at: a.starts_at,
    ends_at: a.ends_at,
    created_at: a.created_at,
    appointment_type_name: typeId === undefined ? null : (names.appointmentTypes.get(typeId) ?? null),
    patient_arrived: a.patient_arrived ?? null,
    did_not_arrive: a.did_not_arrive ?? null,
    cancelled_at: a.cancelled_at ?? null,
    deleted_at: a.deleted_at ?? null,
    archived_at: a.archived_at ?? null,
    business_id: businessId,
    patient_case_id: a.patient_case ? (idFromLink(a.patient_case.links.self, 'patient_cases') ?? null) : null,
    // Names for the appointment events (issue #19), so the upcoming pass needs no Cliniko request.
    practitioner_name:
      practitionerId === undefined
        ? null
        : (names.context?.names?.practitioners?.get(practitionerId) ?? null),
    clinic_name: businessId === null ? null : (names.context?.names?.businesses?.get(businessId) ?? null),
  };
  return { resource: 'individual_appointments', id: a.id, patientId, data: JSON.stringify(data) };
}

export function caseFact(c: ClinikoPatientCase): FactInput | undefined {
  const patientId = patientOf(c.patient);
  if (!patientId) return undefined;
  const data: PatientCase = {
    id: c.id,
    issue_date: c.issue_date ?? null,
    expiry_date: c.expiry_date ?? null,
    max_sessions: c.max_sessions ?? null,
    closed: c.closed ?? null,
    closed_at: c.closed_at ?? null,
    include_cancelled_attendees: c.include_cancelled_attendees ?? null,
    include_dna_attendees: c.include_dna_attendees ?? null,
    referral_type: c.referral_type ?? null,
    max_invoiceable_amount: c.max_invoiceable_amount ?? null,
    archived_at: c.archived_at ?? null,
  };
  return { resource: 'patient_cases', id: c.id, patientId, data: JSON.stringify(data) };
}

export function invoiceFact(i: ClinikoInvoice): FactInput | undefined {
  const patientId = patientOf(i.patient);
  if (!patientId) return undefined;
  const data: Invoice = {
    id: i.id,
    appointment_id: i.appointment ? (idFromLink(i.appointment.links.self) ?? null) : null,
    status: i.status_description ?? null,
    total_amount: i.total_amount ?? null,
    net_amount: i.net_amount ?? null,
    deleted_at: i.deleted_at ?? null,
    archived_at: i.archived_at ?? null,
  };
  return { resource: 'invoices', id: i.id, patientId, data: JSON.stringify(data) };
}

/** Groups stored facts back into the journey engine's input lists. */
export function factsByKind(facts: readonly FactInput[]): {
  appointments: Appointment[];
  patientCases: PatientCase[];
  invoices: Invoice[];
} {
  const out = {
    appointments: [] as Appointment[],
    patientCases: [] as PatientCase[],
    invoices: [] as Invoice[],
  };
  for (const f of facts) {
    const data: unknown = JSON.parse(f.data);
    if (f.resource === 'individual_appointments') out.appointments.push(data as Appointment);
    else if (f.resource === 'patient_cases') out.patientCases.push(data as PatientCase);
    else if (f.resource === 'invoices') out.invoices.push(data as Invoice);
  }
  return out;
}
