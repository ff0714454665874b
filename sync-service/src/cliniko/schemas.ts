import { z } from 'zod';

/**
 * zod schemas for the Cliniko records the sync reads, derived from the component schemas of Cliniko's
 * official OpenAPI document (reference/cliniko-openapi.yaml: Patient, IndividualAppointment,
 * Attendee, PatientCase, Invoice, InvoiceItem, AppointmentType, Practitioner, Business).
 *
 * `z.object` (not strict): Cliniko adds fields over time and an unknown key must not stop a sync. The
 * parsed record keeps the fields the data map may name; the stream also hands out the raw record so that
 * governance can report keys the map does not cover. Ids stay strings: they are 64-bit integers.
 * Clinical free text (notes, case names, medical alerts) is parsed so that governance can see it exists
 * and refuse it; it is never logged.
 */

export const clinikoId = z
  .string()
  .regex(/^\d{1,20}$/, { message: 'must be a string of digits (a 64-bit id)' });

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
export const dateTime = z.string().regex(ISO_DATETIME, { message: 'must be an ISO 8601 date-time' });
export const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date (YYYY-MM-DD)' });
/** Money and other decimals travel as strings ("120.50") and stay strings: no float rounding. */
export const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, { message: 'must be a decimal string' });

/** A related record: `{ "links": { "self": "https://api.au1.cliniko.com/v1/patients/1" } }`. */
export const link = z.object({ links: z.object({ self: z.string().min(1, { message: 'must be a URL' }) }) });
export type Link = z.infer<typeof link>;

const optLink = link.nullish();
const optString = z.string().nullish();
const optBool = z.boolean().nullish();
const optInt = z.number().int().nullish();
const optDateTime = dateTime.nullish();
const optDate = date.nullish();
const optDecimal = decimal.nullish();

/** Fields every Cliniko resource carries. */
const base = {
  id: clinikoId,
  created_at: dateTime,
  updated_at: dateTime,
  links: z.object({ self: z.string() }),
};

export const phoneNumber = z.object({
  number: optString,
  normalized_number: optString,
  phone_type: optString,
});

export const patientSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  merged_at: optDateTime,
  merged_with_patient: optLink,
  title: optString,
  first_name: z.string(),
  last_name: z.string(),
  preferred_first_name: optString,
  date_of_birth: optDate,
  sex: optString,
  gender: optString,
  gender_identity: optString,
  pronouns: z
    .object({
      accusative: optString,
      nominative: optString,
      predicative_possessive: optString,
      pronominal_possessive: optString,
      reflexive: optString,
    })
    .nullish(),
  email: optString,
  patient_phone_numbers: z.array(phoneNumber).nullish(),
  address_1: optString,
  address_2: optString,
  address_3: optString,
  city: optString,
  state: optString,
  post_code: optString,
  country: optString,
  country_code: optString,
  time_zone: optString,
  occupation: optString,
  emergency_contact: optString,
  label: optString,
  old_reference_id: optString,
  referral_source: optString,
  reminder_type: optString,
  accepted_email_marketing: optBool,
  accepted_sms_marketing: optBool,
  accepted_privacy_policy: optBool,
  receives_cancellation_emails: optBool,
  receives_confirmation_emails: optBool,
  invoice_default_to: optString,
  invoice_email: optString,
  invoice_extra_information: optString,
  medicare: optString,
  medicare_reference_number: optString,
  dva_card_number: optString,
  // Clinical free text: parsed so governance can classify it; never copied, never logged.
  notes: optString,
  appointment_notes: optString,
  concession_type: optLink,
  referring_doctor: optLink,
  latest_booking: optLink,
});
export type ClinikoPatient = z.infer<typeof patientSchema>;

export const individualAppointmentSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  cancelled_at: optDateTime,
  starts_at: dateTime,
  ends_at: dateTime,
  appointment_type: link,
  business: link,
  practitioner: link,
  patient: link,
  patient_case: optLink,
  repeated_from: optLink,
  patient_arrived: optBool,
  did_not_arrive: optBool,
  cancellation_reason: optInt,
  cancellation_reason_description: optString,
  cancellation_note: optString,
  notes: optString,
  invoice_status: optInt,
  treatment_note_status: optInt,
  email_reminder_sent: optBool,
  sms_reminder_sent: optBool,
  online_booking_policy_accepted: optBool,
  has_patient_appointment_notes: optBool,
  telehealth_url: optString,
});
export type ClinikoIndividualAppointment = z.infer<typeof individualAppointmentSchema>;

export const attendeeSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  cancelled_at: optDateTime,
  arrived: optBool,
  booking: link,
  patient: link,
  patient_case: optLink,
  cancellation_reason: optInt,
  cancellation_reason_description: optString,
  cancellation_note: optString,
  notes: optString,
  invoice_status: optInt,
  treatment_note_status: optInt,
  email_reminder_sent: optBool,
  sms_reminder_sent: optBool,
});
export type ClinikoAttendee = z.infer<typeof attendeeSchema>;

export const patientCaseSchema = z.object({
  ...base,
  archived_at: optDateTime,
  patient: link,
  contact: optLink,
  // Case names and notes often name a condition: clinical, never copied.
  name: z.string(),
  notes: optString,
  closed: optBool,
  closed_at: optDateTime,
  issue_date: optDate,
  expiry_date: optDate,
  max_sessions: optInt,
  max_invoiceable_amount: optDecimal,
  referral: optBool,
  referral_type: optString,
  include_cancelled_attendees: optBool,
  include_dna_attendees: optBool,
  attendee_ids: z.array(clinikoId).nullish(),
});
export type ClinikoPatientCase = z.infer<typeof patientCaseSchema>;

export const invoiceSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  closed_at: optDateTime,
  number: z.number().int(),
  issue_date: date,
  status: optInt,
  status_description: optString,
  calculation_method: optInt,
  calculation_method_description: optString,
  net_amount: optDecimal,
  tax_amount: optDecimal,
  total_amount: optDecimal,
  discounted_amount: optDecimal,
  invoice_to: optString,
  notes: optString,
  patient_extra_information: optString,
  patient: optLink,
  appointment: optLink,
  attendee: optLink,
  business: optLink,
  practitioner: optLink,
  original_invoice: optLink,
});
export type ClinikoInvoice = z.infer<typeof invoiceSchema>;

export const invoiceItemSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  invoice: link,
  billable_item: optLink,
  product: optLink,
  code: optString,
  name: optString,
  concession_type_name: optString,
  quantity: decimal,
  unit_price: decimal,
  discount_percentage: optDecimal,
  discounted_amount: optDecimal,
  net_price: optDecimal,
  tax_amount: optDecimal,
  tax_name: optString,
  tax_rate: optDecimal,
  is_monetary_discount: optBool,
});
export type ClinikoInvoiceItem = z.infer<typeof invoiceItemSchema>;

export const appointmentTypeSchema = z.object({
  ...base,
  archived_at: optDateTime,
  name: z.string(),
  category: optString,
  description: optString,
  color: optString,
  duration_in_minutes: z.number().int(),
  max_attendees: optInt,
  show_in_online_bookings: optBool,
  telehealth_enabled: optBool,
  online_payments_enabled: optBool,
  deposit_price: optDecimal,
  billable_item: optLink,
  treatment_note_template: optLink,
});
export type ClinikoAppointmentType = z.infer<typeof appointmentTypeSchema>;

export const practitionerSchema = z.object({
  ...base,
  active: optBool,
  title: optString,
  first_name: optString,
  last_name: optString,
  display_name: optString,
  designation: optString,
  label: optString,
  show_in_online_bookings: optBool,
  user: optLink,
  default_appointment_type: optLink,
});
export type ClinikoPractitioner = z.infer<typeof practitionerSchema>;

export const businessSchema = z.object({
  ...base,
  archived_at: optDateTime,
  deleted_at: optDateTime,
  business_name: optString,
  display_name: optString,
  label: optString,
  address_1: optString,
  address_2: optString,
  city: optString,
  state: optString,
  post_code: optString,
  country: optString,
  country_code: optString,
  time_zone: optString,
  time_zone_identifier: optString,
  show_in_online_bookings: optBool,
  appointment_type_ids: z.array(clinikoId).nullish(),
});
export type ClinikoBusiness = z.infer<typeof businessSchema>;

/**
 * The body of `PATCH /patients/{id}` the sync may send: the contact details and the opt-out the data
 * map can write back. Strict, because this is our own output: a typo must fail here, not be dropped.
 * `accepted_sms_marketing` is read-only in Cliniko; SMS consent can only be withdrawn through
 * `unsubscribe_sms_marketing: true` (reference/README.md).
 */
export const patientPatchSchema = z
  .strictObject({
    title: z.string().nullable(),
    first_name: z.string().min(1),
    last_name: z.string().min(1),
    preferred_first_name: z.string().nullable(),
    email: z.string().nullable(),
    patient_phone_numbers: z.array(
      z.strictObject({
        number: z.string().min(1),
        phone_type: z.enum(['Fax', 'Home', 'Mobile', 'Other', 'Work']),
      }),
    ),
    address_1: z.string().nullable(),
    address_2: z.string().nullable(),
    address_3: z.string().nullable(),
    city: z.string().nullable(),
    state: z.string().nullable(),
    post_code: z.string().nullable(),
    country: z.string().nullable(),
    accepted_email_marketing: z.boolean(),
    accepted_privacy_policy: z.boolean().nullable(),
    unsubscribe_sms_marketing: z.literal(true),
  })
  .partial();
export type PatientPatch = z.infer<typeof patientPatchSchema>;
