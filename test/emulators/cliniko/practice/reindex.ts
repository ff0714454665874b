/**
 * Drafts to rows: patients, cases and appointments are re-indexed by created_at (ties by draft order)
 * so that index order is Cliniko's default order, their cross-references are translated, and each
 * case's appointments and each patient's latest booking are filled in.
 */
import type { DraftAppointment, DraftCase, DraftPatient } from './drafts.js';
import type { Appointment, Patient, PatientCase } from './model.js';

export interface Histories {
  patients: Patient[];
  patientCases: PatientCase[];
  appointments: Appointment[];
}

/** Empties the draft arrays (they can be large) once the rows are built. */
export function reindex(drafts: {
  patients: DraftPatient[];
  cases: DraftCase[];
  appointments: DraftAppointment[];
}): Histories {
  const { patients, patientIndexOfDraft } = reindexPatients(drafts.patients);
  drafts.patients.length = 0;
  const { patientCases, caseIndexOfDraft } = reindexCases(drafts.cases, patientIndexOfDraft);
  const appointments = reindexAppointments(drafts.appointments, patientIndexOfDraft, caseIndexOfDraft);
  drafts.appointments.length = 0;
  linkAppointments(appointments, patients, patientCases);
  return { patients, patientCases, appointments };
}

function byCreated(rows: readonly { createdAt: number }[], a: number, b: number): number {
  return (rows[a]?.createdAt ?? 0) - (rows[b]?.createdAt ?? 0) || a - b;
}

/** Draft indices in created_at order, and the inverse map from draft index to row index. */
function orderOf(rows: readonly { createdAt: number }[]): { order: number[]; indexOfDraft: Int32Array } {
  const order = rows.map((_, i) => i).sort((a, b) => byCreated(rows, a, b));
  const indexOfDraft = new Int32Array(rows.length);
  order.forEach((draft, idx) => (indexOfDraft[draft] = idx));
  return { order, indexOfDraft };
}

function reindexPatients(draftPatients: DraftPatient[]): {
  patients: Patient[];
  patientIndexOfDraft: Int32Array;
} {
  const { order, indexOfDraft: patientIndexOfDraft } = orderOf(draftPatients);
  const patients: Patient[] = order.map((draft, idx) => {
    const d = draftPatients[draft] as DraftPatient;
    return {
      idx,
      f: d.f,
      overridden: null,
      business: d.business,
      concessionType: d.concessionType,
      referringDoctor: d.referringDoctor,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      archivedAt: d.archivedAt,
      mergedAt: d.mergedAt,
      mergedInto: d.mergedIntoDraft >= 0 ? (patientIndexOfDraft[d.mergedIntoDraft] ?? -1) : -1,
      latestBooking: -1,
    };
  });
  return { patients, patientIndexOfDraft };
}

function reindexCases(
  draftCases: DraftCase[],
  patientIndexOfDraft: Int32Array,
): { patientCases: PatientCase[]; caseIndexOfDraft: Int32Array } {
  const { order, indexOfDraft: caseIndexOfDraft } = orderOf(draftCases);
  const patientCases: PatientCase[] = order.map((draft, idx) => {
    const d = draftCases[draft] as DraftCase;
    const { patientDraft, ...rest } = d;
    return { ...rest, idx, patient: patientIndexOfDraft[patientDraft] ?? 0, appointments: [] };
  });
  return { patientCases, caseIndexOfDraft };
}

function reindexAppointments(
  draftAppointments: DraftAppointment[],
  patientIndexOfDraft: Int32Array,
  caseIndexOfDraft: Int32Array,
): Appointment[] {
  const { order } = orderOf(draftAppointments);
  return order.map((draft, idx) => {
    const d = draftAppointments[draft] as DraftAppointment;
    // An explicit literal, not a spread: V8 keeps objects built by spreading this many properties in
    // dictionary mode, which costs memory and makes every scan of a million rows several times slower.
    const row: Appointment = {
      idx,
      patient: patientIndexOfDraft[d.patientDraft] ?? 0,
      practitioner: d.practitioner,
      business: d.business,
      type: d.type,
      patientCase: d.caseDraft >= 0 ? (caseIndexOfDraft[d.caseDraft] ?? -1) : -1,
      startsAt: d.startsAt,
      endsAt: d.endsAt,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      cancelledAt: d.cancelledAt,
      cancellationReason: d.cancellationReason,
      arrived: d.arrived,
      didNotArrive: d.didNotArrive,
      archivedAt: d.archivedAt,
      deletedAt: d.deletedAt,
      repeatedFrom: -1,
      notesOverride: d.notesOverride,
      cancellationNoteOverride: d.cancellationNoteOverride,
      hasCancellationNote: d.hasCancellationNote,
    };
    return row;
  });
}

/** Each case lists its appointments; each patient points at its latest live booking. */
function linkAppointments(
  appointments: Appointment[],
  patients: Patient[],
  patientCases: PatientCase[],
): void {
  for (const a of appointments) {
    if (a.patientCase >= 0) patientCases[a.patientCase]?.appointments.push(a.idx);
    const p = patients[a.patient];
    if (p && a.cancelledAt === null && a.deletedAt === null) {
      const current = p.latestBooking >= 0 ? appointments[p.latestBooking] : undefined;
      if (!current || current.startsAt < a.startsAt) p.latestBooking = a.idx;
    }
  }
}
