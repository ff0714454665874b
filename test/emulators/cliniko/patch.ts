/**
 * Validation of `PATCH /patients/{id}` bodies, following the spec's `Patient` request body.
 * Like Cliniko (a Rails app with strong parameters), unknown and read-only keys are ignored, so
 * `accepted_sms_marketing` in a body changes nothing; opting out of SMS marketing is done with the
 * write-only `unsubscribe_sms_marketing: true`. Bad values give 422
 * `{"message":"Validation Failed","errors":{"<field>":"<message>"}}`.
 */
import { fromId, KIND } from './ids.js';
import type { PatientFields, Practice } from './practice.js';

const STRING_255 = [
  'title',
  'address_1',
  'address_2',
  'address_3',
  'city',
  'emergency_contact',
  'medicare',
  'medicare_reference_number',
  'occupation',
  'old_reference_id',
  'preferred_first_name',
  'referral_source',
] as const;
const STRING_FREE = [
  'appointment_notes',
  'notes',
  'gender_identity',
  'invoice_default_to',
  'invoice_extra_information',
  'post_code',
  'sex',
  'state',
  'time_zone',
] as const;
const BOOLEANS = [
  'accepted_email_marketing',
  'accepted_privacy_policy',
  'receives_cancellation_emails',
  'receives_confirmation_emails',
] as const;
// The spec writes this pattern in upper case; Cliniko matches e-mail addresses case-insensitively.
const EMAIL = /^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$/i;
const DVA = /^[NVQSWT]([A-Z ][0-9]{1,6}|[A-Z]{2}[0-9]{1,5}|[A-Z]{3}[0-9]{1,4})[A-Z]?$/;
const REMINDER_TYPES = ['None', 'SMS', 'Email', 'SMS & Email'];
const PHONE_TYPES = ['Fax', 'Home', 'Mobile', 'Other', 'Work'];
const PRONOUN_KEYS = [
  'accusative',
  'nominative',
  'predicative_possessive',
  'pronominal_possessive',
  'reflexive',
];

export interface PatientPatch {
  changes: Partial<PatientFields>;
  concessionType?: number;
  referringDoctor?: number;
}

export type PatchResult = { ok: true; patch: PatientPatch } | { ok: false; errors: Record<string, string> };

/** One body being validated: its keys, the errors found so far and the changes accepted. */
interface Validation {
  input: Record<string, unknown>;
  errors: Record<string, string>;
  changes: Record<string, unknown>;
  has: (key: string) => boolean;
}

/**
 * The checks run in a fixed order (names, plain strings, booleans, formats, structured values,
 * relations, the SMS opt-out), which is also the order of the keys in a 422 body.
 */
export function validatePatientPatch(body: unknown, practice: Practice): PatchResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: { base: 'must be a JSON object' } };
  }
  const input = body as Record<string, unknown>;
  const v: Validation = { input, errors: {}, changes: {}, has: (k) => Object.hasOwn(input, k) };
  const patch: PatientPatch = { changes: v.changes };
  checkStrings(v);
  checkFormats(v);
  checkStructured(v);
  checkRelations(v, patch, practice);
  checkSmsOptOut(v);
  if (Object.keys(v.errors).length > 0) return { ok: false, errors: v.errors };
  return { ok: true, patch };
}

function checkStrings(v: Validation): void {
  const { input, errors, changes, has } = v;
  for (const k of ['first_name', 'last_name'] as const) {
    if (!has(k)) continue;
    const v = input[k];
    if (typeof v !== 'string' || v.trim() === '') errors[k] = "can't be blank";
    else if (v.length > 255) errors[k] = 'is too long (maximum is 255 characters)';
    else changes[k] = v;
  }
  for (const k of STRING_255) {
    if (!has(k)) continue;
    const v = input[k];
    if (v !== null && typeof v !== 'string') errors[k] = 'is invalid';
    else if (typeof v === 'string' && v.length > 255) errors[k] = 'is too long (maximum is 255 characters)';
    else changes[k] = v;
  }
  for (const k of STRING_FREE) {
    if (!has(k)) continue;
    const v = input[k];
    if (v !== null && typeof v !== 'string') errors[k] = 'is invalid';
    else changes[k] = v;
  }
  for (const k of BOOLEANS) {
    if (!has(k)) continue;
    const v = input[k];
    if (v !== null && typeof v !== 'boolean') errors[k] = 'must be true or false';
    else changes[k] = v;
  }
}

function checkFormats(v: Validation): void {
  const { input, errors, changes, has } = v;
  for (const k of ['email', 'invoice_email'] as const) {
    if (!has(k)) continue;
    const v = input[k];
    if (v === null || v === '') changes[k] = null;
    else if (typeof v !== 'string' || !EMAIL.test(v) || v.length > 255) errors[k] = 'is invalid';
    else changes[k] = v;
  }
  if (has('dva_card_number')) {
    const v = input.dva_card_number;
    if (v !== null && (typeof v !== 'string' || !DVA.test(v))) errors.dva_card_number = 'is invalid';
    else changes.dva_card_number = v;
  }
  if (has('date_of_birth')) {
    const v = input.date_of_birth;
    if (v === null) changes.date_of_birth = null;
    else if (typeof v !== 'string' || !isValidDate(v)) errors.date_of_birth = 'is not a valid date';
    else changes.date_of_birth = v;
  }
  if (has('reminder_type')) {
    const v = input.reminder_type;
    if (v !== null && (typeof v !== 'string' || !REMINDER_TYPES.includes(v))) {
      errors.reminder_type = 'is not included in the list';
    } else changes.reminder_type = v;
  }
  if (has('country_code')) {
    const v = input.country_code;
    if (v !== null && (typeof v !== 'string' || !/^[A-Z]{2}$/.test(v))) errors.country_code = 'is invalid';
    else changes.country_code = v;
  }
}

function checkStructured(v: Validation): void {
  const { input, errors, changes, has } = v;
  if (has('patient_phone_numbers')) {
    const v = input.patient_phone_numbers;
    const valid =
      Array.isArray(v) &&
      v.every(
        (ph: unknown) =>
          typeof ph === 'object' &&
          ph !== null &&
          typeof (ph as Record<string, unknown>).number === 'string' &&
          /^[+0-9 ()-]{3,30}$/.test((ph as Record<string, string>).number ?? '') &&
          PHONE_TYPES.includes(String((ph as Record<string, unknown>).phone_type)),
      );
    if (!valid) errors.patient_phone_numbers = 'is invalid';
    else
      changes.patient_phone_numbers = (v as { number: string; phone_type: string }[]).map((ph) => ({
        number: ph.number,
        phone_type: ph.phone_type,
      }));
  }
  if (has('pronouns')) {
    const v = input.pronouns;
    const valid =
      v === null ||
      (typeof v === 'object' &&
        !Array.isArray(v) &&
        PRONOUN_KEYS.every((k) => {
          const s = (v as Record<string, unknown>)[k];
          return typeof s === 'string' && s.length > 0 && s.length <= 50;
        }));
    if (!valid) errors.pronouns = 'is invalid';
    else
      changes.pronouns =
        v === null
          ? null
          : Object.fromEntries(PRONOUN_KEYS.map((k) => [k, (v as Record<string, string>)[k]]));
  }
}

function checkRelations(v: Validation, patch: PatientPatch, practice: Practice): void {
  const { input, errors, has } = v;
  if (has('concession_type_id')) {
    const v = input.concession_type_id;
    if (v === null) patch.concessionType = -1;
    else {
      const idx = typeof v === 'string' ? fromId(KIND.concessionType, v) : -1;
      if (idx < 0 || !practice.concessionTypes[idx]) errors.concession_type_id = 'does not exist';
      else patch.concessionType = idx;
    }
  }
  if (has('referring_doctor_id')) {
    const v = input.referring_doctor_id;
    if (v === null) patch.referringDoctor = -1;
    else {
      const idx = typeof v === 'string' ? fromId(KIND.contact, v) : -1;
      if (idx < 0 || !practice.contacts[idx]) errors.referring_doctor_id = 'does not exist';
      else patch.referringDoctor = idx;
    }
  }
}

function checkSmsOptOut(v: Validation): void {
  const { input, errors, changes, has } = v;
  if (has('unsubscribe_sms_marketing')) {
    const v = input.unsubscribe_sms_marketing;
    if (typeof v !== 'boolean') errors.unsubscribe_sms_marketing = 'must be true or false';
    // Opt-out only: `false` does not opt anyone in.
    else if (v) changes.accepted_sms_marketing = false;
  }
}

function isValidDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}
