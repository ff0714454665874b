/**
 * Canary tokens. Every clinical free-text field the emulator serves carries one, so a test can search
 * Salesforce, logs, the audit trail and the outbox for `CANARY-` and prove none of it was copied.
 *
 * A token is `CANARY-` + 16 hex digits built from (seed, field, row index), so it is unique by
 * construction (no hash collisions) and costs no memory: the same function regenerates it on demand.
 */
export const CANARY_FIELDS = {
  patientNotes: 1,
  patientAppointmentNotes: 2,
  appointmentNotes: 3,
  appointmentCancellationNote: 4,
  attendeeNotes: 5,
  attendeeCancellationNote: 6,
  caseName: 7,
  caseNotes: 8,
  treatmentNoteTitle: 9,
  treatmentNoteAnswer: 10,
  medicalAlertName: 11,
  invoiceNotes: 12,
  invoicePatientExtraInformation: 13,
  contactNotes: 14,
  patientInvoiceExtraInformation: 15,
} as const;
export type CanaryField = keyof typeof CANARY_FIELDS;

export const CANARY_PATTERN = /CANARY-[0-9a-f]{16}/g;

export function canary(seed: number, field: CanaryField, index: number): string {
  const seedPart = (seed & 0xffff).toString(16).padStart(4, '0');
  const fieldPart = CANARY_FIELDS[field].toString(16).padStart(2, '0');
  const indexPart = index.toString(16).padStart(10, '0');
  return `CANARY-${seedPart}${fieldPart}${indexPart}`;
}
