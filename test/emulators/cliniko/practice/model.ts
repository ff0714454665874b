/**
 * The rows of the synthetic practice. Rows are small objects holding numbers and short strings; free
 * text (notes, case names, treatment notes, medical alerts) is not stored but rebuilt from the canary
 * function when served, and attendees / bookings / invoice items are views over appointment and invoice
 * rows. Relations are row indices (-1 = none); ids are computed from (kind, index) by `ids.ts`.
 */

export interface Business {
  idx: number;
  name: string;
  timeZone: string; // IANA identifier
  railsZone: string; // Cliniko's `time_zone` (Rails zone name)
  address1: string;
  city: string;
  state: string;
  postCode: string;
  practitioners: number[];
  createdAt: number;
  updatedAt: number;
}

export interface User {
  idx: number;
  firstName: string;
  lastName: string;
  email: string;
  role: 'administrator' | 'practitioner' | 'receptionist';
  timeZone: string;
  createdAt: number;
  updatedAt: number;
}

export interface Practitioner {
  idx: number;
  title: string;
  firstName: string;
  lastName: string;
  designation: string;
  business: number;
  user: number;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export type Funding = 'private' | 'workcover' | 'tac' | 'decompression' | 'paediatric' | 'family';

export interface AppointmentType {
  idx: number;
  name: string;
  category: string;
  durationMinutes: number;
  color: string;
  price: string;
  initial: boolean;
  funding: Funding;
  archivedAt: number | null;
  showInOnlineBookings: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ConcessionType {
  idx: number;
  name: string;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface Contact {
  idx: number;
  type: 'Doctor' | '3rd Party Payer' | 'Standard';
  title: string | null;
  firstName: string | null;
  lastName: string | null;
  companyName: string | null;
  email: string | null;
  occupation: string | null;
  doctorType: 'general_practitioner' | 'specialist' | null;
  providerNumber: string | null;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

/** Patient wire fields that the API serves and PATCH may change, kept in Cliniko's snake_case. */
export interface PatientFields {
  title: string | null;
  first_name: string;
  last_name: string;
  preferred_first_name: string | null;
  date_of_birth: string | null;
  sex: string | null;
  gender_identity: string | null;
  email: string | null;
  address_1: string | null;
  address_2: string | null;
  address_3: string | null;
  city: string | null;
  state: string | null;
  post_code: string | null;
  country_code: string | null;
  occupation: string | null;
  emergency_contact: string | null;
  medicare: string | null;
  medicare_reference_number: string | null;
  dva_card_number: string | null;
  old_reference_id: string | null;
  referral_source: string | null;
  invoice_default_to: string | null;
  invoice_email: string | null;
  reminder_type: 'None' | 'SMS' | 'Email' | 'SMS & Email' | null;
  receives_confirmation_emails: boolean | null;
  receives_cancellation_emails: boolean | null;
  accepted_email_marketing: boolean | null;
  accepted_sms_marketing: boolean | null;
  accepted_privacy_policy: boolean | null;
  time_zone: string | null;
  pronouns: {
    accusative: string;
    nominative: string;
    predicative_possessive: string;
    pronominal_possessive: string;
    reflexive: string;
  } | null;
  patient_phone_numbers: { number: string; phone_type: 'Fax' | 'Home' | 'Mobile' | 'Other' | 'Work' }[];
  /** Free text: null means "serve the generated canary text". */
  notes: string | null;
  appointment_notes: string | null;
  invoice_extra_information: string | null;
}

export interface Patient {
  idx: number;
  f: PatientFields;
  /** Which free-text fields have been overwritten through the API (then `f` holds the value). */
  overridden: Set<'notes' | 'appointment_notes' | 'invoice_extra_information'> | null;
  business: number;
  concessionType: number; // -1 = none
  referringDoctor: number; // -1 = none
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
  mergedAt: number | null;
  mergedInto: number; // -1 = not merged
  latestBooking: number; // appointment index, -1 = none
}

export interface Appointment {
  idx: number;
  patient: number;
  practitioner: number;
  business: number;
  type: number;
  patientCase: number; // -1 = none
  startsAt: number;
  endsAt: number;
  createdAt: number;
  updatedAt: number;
  cancelledAt: number | null;
  cancellationReason: number | null; // Cliniko code, see CANCELLATION_REASONS
  arrived: boolean | null;
  didNotArrive: boolean;
  archivedAt: number | null;
  deletedAt: number | null;
  repeatedFrom: number; // -1 = none
  /** Free text written through the emulator's controls; otherwise generated canary text is served. */
  notesOverride: string | null;
  cancellationNoteOverride: string | null;
  hasCancellationNote: boolean;
}

export interface PatientCase {
  idx: number;
  patient: number;
  contact: number; // -1 = none
  kind: 'workcover' | 'tac' | 'decompression' | 'care-plan' | 'dva';
  maxSessions: number | null;
  maxInvoiceableAmount: string | null;
  referral: boolean;
  referralType: 'dva' | 'medicare' | null;
  issueDate: string | null;
  expiryDate: string | null;
  closedAt: number | null;
  archivedAt: number | null;
  createdAt: number;
  updatedAt: number;
  appointments: number[]; // appointment (= attendee) indices
}

export interface Invoice {
  idx: number;
  appointment: number;
  number: number;
  issueDate: string;
  status: 10 | 20 | 30 | 40;
  total: number; // cents
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  archivedAt: number | null;
  deletedAt: number | null;
}

export interface TreatmentNote {
  idx: number;
  appointment: number;
  draft: boolean;
  createdAt: number;
  updatedAt: number;
  finalizedAt: number | null;
  archivedAt: number | null;
}

export interface MedicalAlert {
  idx: number;
  patient: number;
  createdAt: number;
  updatedAt: number;
  archivedAt: number | null;
}

export interface Practice {
  seed: number;
  accountCreatedAt: number;
  businesses: Business[];
  users: User[];
  practitioners: Practitioner[];
  appointmentTypes: AppointmentType[];
  concessionTypes: ConcessionType[];
  contacts: Contact[];
  patients: Patient[];
  appointments: Appointment[];
  patientCases: PatientCase[];
  invoices: Invoice[];
  treatmentNotes: TreatmentNote[];
  medicalAlerts: MedicalAlert[];
  /** appointment index -> invoice index (-1 = none). */
  invoiceByAppointment: Int32Array;
  nextInvoiceNumber: number;
}

/** Cliniko's cancellation reason codes (IndividualAppointment.cancellation_reason / _description). */
export const CANCELLATION_REASONS: Readonly<Record<number, string>> = {
  10: 'Feeling Better',
  20: 'Condition Worse',
  30: 'Sick',
  40: 'Away',
  50: 'Other',
  60: 'Work',
  70: 'COVID-19 related',
};

export const INVOICE_STATUS: Readonly<Record<number, string>> = {
  10: 'Open',
  20: 'Paid',
  30: 'Closed',
  40: 'Open credit',
};
