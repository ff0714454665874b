/**
 * The canary tokens planted in the practice's free text, for leak scanners.
 */
import { canary } from '../canary.js';
import type { Practice } from '../practice.js';

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
