/**
 * The clinical deny-list: Cliniko fields that are clinical or free text and may never reach Salesforce,
 * whatever the data map says and whoever signed it. Issue #17, item 2.
 *
 * One list, two renderings. THIS constant is the list the code enforces: `parseDataMap` refuses a map
 * entry (or derived field) that reads a denied field into Salesforce, and `projectRecord` checks it again
 * for every record, so a map object built without parsing cannot open it either. `config/clinical-deny-list.yaml`
 * is the reviewed copy the compliance officer reads; a test (clinical-deny-list.test.ts) fails unless the
 * two are identical, reason for reason, and another fails when Cliniko's OpenAPI document has a free-text
 * field of a resource we read that is in neither `CLINICAL_DENY_LIST` nor `FREE_TEXT_ALLOWED`. Editing the
 * YAML alone therefore opens nothing: it breaks the build; removing an entry is a code change, reviewed
 * like code.
 *
 * `field` is `resource.field`, or `resource.*` for a resource nothing of which may ever be sent.
 * Pure: no I/O.
 */

export interface DenyListEntry {
  /** `resource.field`, or `resource.*` (the whole resource). */
  readonly field: string;
  readonly reason: string;
}

const NOTES = 'clinical free text written by clinicians or reception';
const CANCELLATION = 'why a patient cancelled is often clinical (illness, injury, surgery)';
const CASE = 'a case names the condition being treated (e.g. "Left knee ACL rehab")';
const GOV_ID = 'government health identifier (Medicare/DVA); never needed for marketing or operations';
const SENSITIVE = 'sensitive personal information under the Privacy Act; free text';
const TREATMENT = 'tells whether or how a clinical record was written';

export const CLINICAL_DENY_LIST: readonly DenyListEntry[] = [
  { field: 'patients.notes', reason: NOTES },
  { field: 'patients.appointment_notes', reason: NOTES },
  { field: 'patients.medical_alerts', reason: 'medical alerts are clinical (allergies, conditions)' },
  { field: 'patients.patient_attachments', reason: 'attachments hold referrals, scans and reports' },
  {
    field: 'patients.referring_doctor',
    reason: 'a referring doctor reveals that and why the patient was referred',
  },
  { field: 'patients.medicare', reason: GOV_ID },
  { field: 'patients.medicare_reference_number', reason: GOV_ID },
  { field: 'patients.dva_card_number', reason: GOV_ID },
  {
    field: 'patients.concession_type',
    reason: 'a concession (DVA, pension) reveals health or welfare status',
  },
  {
    field: 'patients.custom_fields',
    reason: 'clinic-defined free text; may hold anything, including clinical notes',
  },
  { field: 'patients.emergency_contact', reason: 'free text about another person (name, relation, phone)' },
  { field: 'patients.relationships', reason: 'other people related to the patient (guardians, carers)' },
  { field: 'patients.occupation', reason: 'free text; often names a work injury or employer claim' },
  { field: 'patients.referral_source', reason: 'free text; often names a doctor or another health service' },
  { field: 'patients.gender', reason: SENSITIVE },
  { field: 'patients.gender_identity', reason: SENSITIVE },
  { field: 'patients.sex', reason: SENSITIVE },
  { field: 'patients.pronouns', reason: SENSITIVE },
  {
    field: 'patients.invoice_extra_information',
    reason: 'free text printed on invoices; may describe treatment',
  },
  {
    field: 'patients.invoice_default_to',
    reason: 'free text naming a third-party payer (insurer, employer, WorkCover)',
  },
  { field: 'patients.invoice_email', reason: "a third-party payer's address, not the patient's" },
  { field: 'individual_appointments.notes', reason: NOTES },
  { field: 'individual_appointments.cancellation_note', reason: CANCELLATION },
  { field: 'individual_appointments.cancellation_reason', reason: CANCELLATION },
  { field: 'individual_appointments.cancellation_reason_description', reason: CANCELLATION },
  { field: 'individual_appointments.has_patient_appointment_notes', reason: TREATMENT },
  { field: 'individual_appointments.treatment_note_status', reason: TREATMENT },
  {
    field: 'individual_appointments.telehealth_url',
    reason: 'a link into a consultation; a credential, not data',
  },
  {
    field: 'individual_appointments.patient_name',
    reason: 'free text copy of the name; the Contact already has it from the patient record',
  },
  { field: 'attendees.notes', reason: NOTES },
  { field: 'attendees.cancellation_note', reason: CANCELLATION },
  { field: 'attendees.cancellation_reason', reason: CANCELLATION },
  { field: 'attendees.cancellation_reason_description', reason: CANCELLATION },
  { field: 'attendees.treatment_note_status', reason: TREATMENT },
  { field: 'attendees.patient_forms', reason: 'intake and health questionnaires' },
  { field: 'attendees.telehealth_url', reason: 'a link into a consultation; a credential, not data' },
  { field: 'patient_cases.name', reason: CASE },
  { field: 'patient_cases.notes', reason: NOTES },
  { field: 'patient_cases.contact', reason: 'the referrer of the case (usually a doctor)' },
  { field: 'patient_cases.patient_attachments', reason: 'attachments hold referrals, scans and reports' },
  { field: 'invoices.notes', reason: 'free text on an invoice; may describe treatment' },
  {
    field: 'invoices.invoice_to',
    reason: 'free text naming a third-party payer (insurer, employer, WorkCover)',
  },
  {
    field: 'invoices.patient_extra_information',
    reason: 'free text printed on invoices (claim numbers, conditions)',
  },
  { field: 'invoice_items.name', reason: 'the billed item names the service or product (may be clinical)' },
  { field: 'invoice_items.code', reason: 'item codes (e.g. Medicare item numbers) reveal the service given' },
  {
    field: 'invoice_items.concession_type_name',
    reason: 'a concession (DVA, pension) reveals health or welfare status',
  },
  { field: 'treatment_notes.*', reason: 'treatment notes are the clinical record' },
  { field: 'medical_alerts.*', reason: 'medical alerts are clinical (allergies, conditions)' },
  { field: 'patient_attachments.*', reason: 'attachments hold referrals, scans and reports' },
];

/**
 * Free-text string fields of the resources we read that are NOT clinical, each with the reason it may be
 * mapped. Not an allow-list for the map (the map is that); a classification, so that the spec test can
 * tell a reviewed field from a new one.
 */
export const FREE_TEXT_ALLOWED: readonly DenyListEntry[] = [
  { field: 'patients.first_name', reason: "the patient's name: needed to address them" },
  { field: 'patients.last_name', reason: "the patient's name: needed to address them" },
  { field: 'patients.preferred_first_name', reason: "the patient's name: needed to address them" },
  { field: 'patients.title', reason: 'a form of address (Mr, Ms, Dr)' },
  { field: 'patients.label', reason: "Cliniko's display form of the name" },
  { field: 'patients.email', reason: "the patient's own contact address" },
  { field: 'patients.address_1', reason: 'postal address: contact details' },
  { field: 'patients.address_2', reason: 'postal address: contact details' },
  { field: 'patients.address_3', reason: 'postal address: contact details' },
  { field: 'patients.city', reason: 'postal address: contact details' },
  { field: 'patients.state', reason: 'postal address: contact details' },
  { field: 'patients.post_code', reason: 'postal address: contact details' },
  { field: 'patients.country', reason: 'postal address: contact details' },
  { field: 'patients.country_code', reason: 'an ISO country code' },
  { field: 'patients.time_zone', reason: 'a time zone name' },
  { field: 'patients.old_reference_id', reason: 'an identifier from a previous system' },
  { field: 'appointment_types.name', reason: "the clinic's own catalogue; no patient data" },
  { field: 'appointment_types.category', reason: "the clinic's own catalogue; no patient data" },
  { field: 'appointment_types.color', reason: "the clinic's own catalogue; no patient data" },
  { field: 'appointment_types.description', reason: "the clinic's own catalogue; no patient data" },
  ...['description', 'designation', 'display_name', 'first_name', 'label', 'last_name', 'title'].map((f) => ({
    field: `practitioners.${f}`,
    reason: "the practitioner's professional profile; no patient data",
  })),
  ...[
    'additional_information',
    'additional_invoice_information',
    'address_1',
    'address_2',
    'business_name',
    'business_registration_name',
    'business_registration_value',
    'city',
    'contact_information',
    'country',
    'country_code',
    'display_name',
    'email_reply_to',
    'label',
    'post_code',
    'state',
    'time_zone',
    'time_zone_identifier',
    'website_address',
  ].map((f) => ({ field: `businesses.${f}`, reason: "the clinic's own business details; no patient data" })),
  { field: 'invoice_items.tax_name', reason: 'the name of a tax (GST)' },
];

const DENIED: ReadonlyMap<string, DenyListEntry> = new Map(CLINICAL_DENY_LIST.map((e) => [e.field, e]));

/** The deny-list entry that covers `resource.field` (the field itself or its whole resource), if any. */
export function deniedField(resource: string, field: string): DenyListEntry | undefined {
  return DENIED.get(`${resource}.${field}`) ?? DENIED.get(`${resource}.*`);
}

/** Every denied field among `sources` of `resource`, for messages: `patients.notes (reason)`. */
export function deniedSources(resource: string, sources: readonly string[]): DenyListEntry[] {
  const out: DenyListEntry[] = [];
  for (const source of sources) {
    const entry = deniedField(resource, source);
    if (entry !== undefined) out.push({ field: `${resource}.${source}`, reason: entry.reason });
  }
  return out;
}
