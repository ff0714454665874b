/**
 * The synthetic practice: a deterministic chiropractic group (3 clinics, 9 practitioners) whose patients
 * follow the care patterns the sync and the journey engine must recognise.
 *
 * Memory: rows are small objects holding numbers and short strings; free text (notes, case names,
 * treatment notes, medical alerts) is not stored but rebuilt from the canary function when served, and
 * attendees / bookings / invoice items are views over appointment and invoice rows. That keeps 100,000
 * patients and 1,000,000 appointments within a few hundred MB (see scripts/bench-cliniko-emulator.ts).
 */
import { Prng } from './prng.js';
import { DAY, HOUR, MINUTE, localDate, zoneOffsetSeconds } from './time.js';

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

/** The default emulated "now" for a seed: a fixed date, so data and clock agree run after run. */
export function defaultNow(seed: number): number {
  return Date.UTC(2025, 5, 2, 4, 0, 0) / 1000 + (Math.abs(seed) % 28) * DAY;
}

const BUSINESSES: readonly Omit<Business, 'idx' | 'practitioners' | 'createdAt' | 'updatedAt'>[] = [
  {
    name: 'Northside Chiropractic',
    timeZone: 'Australia/Melbourne',
    railsZone: 'Melbourne',
    address1: '12 Smith St',
    city: 'Fitzroy',
    state: 'VIC',
    postCode: '3065',
  },
  {
    name: 'Bayside Spine & Posture',
    timeZone: 'Australia/Brisbane',
    railsZone: 'Brisbane',
    address1: "3/88 O'Connell Tce",
    city: 'Bowen Hills',
    state: 'QLD',
    postCode: '4006',
  },
  {
    name: 'Westcoast Family Chiro',
    timeZone: 'Australia/Perth',
    railsZone: 'Perth',
    address1: '401 Hay St',
    city: 'Subiaco',
    state: 'WA',
    postCode: '6008',
  },
];

const PRACTITIONERS: readonly [string, string, string, number][] = [
  ['Dr', 'Sarah', "O'Neill", 0],
  ['Dr', 'Minh', 'Nguyễn', 0],
  ['Dr', 'James', 'Whitaker', 0],
  ['Dr', 'Aroha', 'Ngata', 0],
  ['Dr', 'Zoë', 'Lefèvre', 1],
  ['Dr', 'Rajesh', 'Iyer', 1],
  ['Dr', 'Chloe', 'MacKenzie', 1],
  ['Dr', 'Tomás', 'García', 2],
  ['Dr', 'Hana', 'Kobayashi', 2],
];

type TypeSeed = [
  name: string,
  category: string,
  minutes: number,
  price: string,
  initial: boolean,
  funding: Funding,
];
const APPOINTMENT_TYPES: readonly TypeSeed[] = [
  ['Facebook Initial Appointment', 'Initial', 45, '49.00', true, 'private'],
  ['Initial Appointment', 'Initial', 45, '95.00', true, 'private'],
  ['NC Family Initial Appointment', 'Initial', 45, '75.00', true, 'family'],
  ['Decompression New Patient', 'Initial', 60, '120.00', true, 'decompression'],
  ['Workcover Initial', 'Initial', 45, '104.50', true, 'workcover'],
  ['TAC Initial', 'Initial', 45, '98.30', true, 'tac'],
  ['Paediatric New Patient', 'Initial', 30, '70.00', true, 'paediatric'],
  ['Standard Follow Up', 'Follow up', 20, '65.00', false, 'private'],
  ['Maintenance Adjustment', 'Maintenance', 15, '60.00', false, 'private'],
  ['Decompression Session', 'Follow up', 30, '85.00', false, 'decompression'],
  ['Workcover Follow Up', 'Follow up', 20, '71.60', false, 'workcover'],
  ['TAC Follow Up', 'Follow up', 20, '68.95', false, 'tac'],
  ['Paediatric Follow Up', 'Follow up', 15, '45.00', false, 'paediatric'],
];
const COLORS = ['#2E86AB', '#A23B72', '#F18F01', '#C73E1D', '#3B1F2B', '#44AF69', '#FCAB10', '#2B9EB3'];

// Names with apostrophes, hyphens, accents and non-Latin scripts: the sync must carry them unharmed.
const FIRST_NAMES = [
  'Olivia',
  'Jack',
  'Charlotte',
  'Noah',
  'Amelia',
  'William',
  'Isla',
  'Oliver',
  'Mia',
  'Thomas',
  'Grace',
  'Lucas',
  'Chloé',
  'José',
  'Zoë',
  'Siobhán',
  'Renée',
  'Björn',
  'Łukasz',
  'Dáire',
  'Aoife',
  'Mãe',
  'Nguyễn Thị',
  'Minh',
  'Wei',
  '美玲',
  '太郎',
  'Αλέξανδρος',
  'Мария',
  'Дмитрий',
  'محمد',
  'فاطمة',
  'Priya',
  'Arjun',
  'Ngaio',
  'Tāne',
  'Mary-Jane',
  "D'Arcy",
  'Anne-Marie',
  'Sun-hee',
  '민준',
  'Sipho',
];
const LAST_NAMES = [
  'Smith',
  'Jones',
  'Williams',
  'Brown',
  'Wilson',
  'Taylor',
  'Johnson',
  'White',
  'Martin',
  'Anderson',
  "O'Brien",
  "O'Connor",
  "D'Angelo",
  'McAllister',
  'Nguyễn',
  'Trần',
  'Lê',
  'Müller',
  'Øster',
  'Sørensen',
  'Gonçalves',
  'Núñez',
  'Ó Súilleabháin',
  'Van der Berg',
  'Smith-Jones',
  '王',
  '李',
  '山田',
  'Παπαδόπουλος',
  'Иванова',
  'Петров',
  'الحسيني',
  'Kaur',
  'Singh',
  'Te Whatu',
  'Kim',
  '김',
  'Dlamini',
  'Ngata',
];
const STREETS = [
  "O'Connell St",
  'Chapel St',
  'Rue de la Paix',
  'Bridge Rd',
  'Kōwhai Ave',
  'Station St',
  "St Kilda's Rd",
];
const OCCUPATIONS = [
  'Teacher',
  'Nurse',
  'Electrician',
  'Retired',
  'Student',
  'Barista',
  'Software engineer',
  null,
];
const CONCESSIONS = ['Pensioner', 'Student', 'Health Care Card', 'Veteran (DVA)'];
const CANCELLATION_CODES = [10, 20, 30, 40, 50, 60, 70];

type Archetype =
  | 'weekly'
  | 'fortnightly'
  | 'maintenance'
  | 'drop-off'
  | 'lapsed'
  | 'no-show'
  | 'reactivation'
  | 'one-off'
  | 'new-upcoming'
  | 'enquiry';

const ARCHETYPES: readonly (readonly [Archetype, number])[] = [
  ['weekly', 14],
  ['fortnightly', 14],
  ['maintenance', 18],
  ['drop-off', 12],
  ['lapsed', 10],
  ['no-show', 6],
  ['reactivation', 8],
  ['one-off', 9],
  ['new-upcoming', 5],
  ['enquiry', 4],
];

export interface GenerateOptions {
  seed: number;
  patients: number;
  now: number;
}

/** Build the whole practice. Deterministic for (seed, patients, now). */
export function generatePractice(opts: GenerateOptions): Practice {
  const rng = new Prng(opts.seed);
  const now = opts.now;
  const accountCreatedAt = now - 4 * 365 * DAY;

  const businesses: Business[] = BUSINESSES.map((b, idx) => ({
    ...b,
    idx,
    practitioners: [],
    createdAt: accountCreatedAt + idx * 30 * DAY,
    updatedAt: accountCreatedAt + idx * 30 * DAY + 7 * DAY,
  }));

  const users: User[] = [];
  const practitioners: Practitioner[] = PRACTITIONERS.map(([title, first, last, business], idx) => {
    const created = accountCreatedAt + (idx + 1) * 11 * DAY;
    users.push({
      idx,
      firstName: first,
      lastName: last,
      email: `${asciiSlug(first)}.${asciiSlug(last)}@northside-chiro.example`,
      role: 'practitioner',
      timeZone: BUSINESSES[business]?.railsZone ?? 'Melbourne',
      createdAt: created,
      updatedAt: created + 3 * DAY,
    });
    businesses[business]?.practitioners.push(idx);
    return {
      idx,
      title,
      firstName: first,
      lastName: last,
      designation: 'Chiropractor',
      business,
      user: idx,
      active: true,
      createdAt: created,
      updatedAt: created + 3 * DAY,
    };
  });
  for (const [first, last, role] of [
    ['Priscilla', 'Hartley', 'administrator'],
    ['Jordan', 'Lee', 'receptionist'],
  ] as const) {
    const idx = users.length;
    users.push({
      idx,
      firstName: first,
      lastName: last,
      email: `${asciiSlug(first)}.${asciiSlug(last)}@northside-chiro.example`,
      role,
      timeZone: 'Melbourne',
      createdAt: accountCreatedAt + idx * DAY,
      updatedAt: accountCreatedAt + idx * DAY + DAY,
    });
  }

  const appointmentTypes: AppointmentType[] = APPOINTMENT_TYPES.map(
    ([name, category, minutes, price, initial, funding], idx) => ({
      idx,
      name,
      category,
      durationMinutes: minutes,
      color: COLORS[idx % COLORS.length] ?? '#2E86AB',
      price,
      initial,
      funding,
      archivedAt: null,
      showInOnlineBookings: initial && funding !== 'workcover' && funding !== 'tac',
      createdAt: accountCreatedAt + 2 * DAY + idx * HOUR,
      updatedAt: accountCreatedAt + 40 * DAY + idx * HOUR,
    }),
  );
  // A retired type: archived, so only `q[]=archived_at:*` shows it.
  appointmentTypes.push({
    idx: appointmentTypes.length,
    name: 'Spinal Screening (retired)',
    category: 'Initial',
    durationMinutes: 15,
    color: '#999999',
    price: '0.00',
    initial: false,
    funding: 'private',
    archivedAt: accountCreatedAt + 200 * DAY,
    showInOnlineBookings: false,
    createdAt: accountCreatedAt + 3 * DAY,
    updatedAt: accountCreatedAt + 200 * DAY,
  });
  const typeIdx = (name: string): number => appointmentTypes.findIndex((t) => t.name === name);
  const followUpFor: Record<Funding, number> = {
    private: typeIdx('Standard Follow Up'),
    family: typeIdx('Standard Follow Up'),
    decompression: typeIdx('Decompression Session'),
    workcover: typeIdx('Workcover Follow Up'),
    tac: typeIdx('TAC Follow Up'),
    paediatric: typeIdx('Paediatric Follow Up'),
  };
  const maintenanceType = typeIdx('Maintenance Adjustment');
  const initialTypes = appointmentTypes.filter((t) => t.initial && t.archivedAt === null);

  const concessionTypes: ConcessionType[] = CONCESSIONS.map((name, idx) => ({
    idx,
    name,
    createdAt: accountCreatedAt + 5 * DAY + idx * HOUR,
    updatedAt: accountCreatedAt + 5 * DAY + idx * HOUR,
    archivedAt: null,
  }));

  const contacts: Contact[] = [];
  const addContact = (c: Omit<Contact, 'idx' | 'createdAt' | 'updatedAt' | 'archivedAt'>): number => {
    const idx = contacts.length;
    const created = accountCreatedAt + 10 * DAY + idx * 3 * DAY;
    contacts.push({ ...c, idx, createdAt: created, updatedAt: created + DAY, archivedAt: null });
    return idx;
  };
  const doctors: number[] = [];
  for (let i = 0; i < 12; i++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    doctors.push(
      addContact({
        type: 'Doctor',
        title: 'Dr',
        firstName: first,
        lastName: last,
        companyName: `${rng.pick(['Fitzroy', 'Bayside', 'Subiaco', 'Carlton'])} Medical Centre`,
        email: `gp${i}@medical.example`,
        occupation: 'General Practitioner',
        doctorType: i % 4 === 3 ? 'specialist' : 'general_practitioner',
        providerNumber: `${100000 + i * 7919}A`,
      }),
    );
  }
  const workcoverPayer = addContact({
    type: '3rd Party Payer',
    title: null,
    firstName: null,
    lastName: null,
    companyName: 'WorkSafe Victoria',
    email: 'claims@worksafe.example',
    occupation: null,
    doctorType: null,
    providerNumber: null,
  });
  const tacPayer = addContact({
    type: '3rd Party Payer',
    title: null,
    firstName: null,
    lastName: null,
    companyName: 'Transport Accident Commission',
    email: 'providers@tac.example',
    occupation: null,
    doctorType: null,
    providerNumber: null,
  });
  addContact({
    type: 'Standard',
    title: 'Ms',
    firstName: 'Renée',
    lastName: "D'Souza",
    companyName: 'Pilates on Chapel',
    email: 'renee@pilates.example',
    occupation: 'Pilates instructor',
    doctorType: null,
    providerNumber: null,
  });
  const archivedContact = addContact({
    type: 'Doctor',
    title: 'Dr',
    firstName: 'Alan',
    lastName: 'Retired',
    companyName: 'Closed Clinic',
    email: null,
    occupation: 'General Practitioner',
    doctorType: 'general_practitioner',
    providerNumber: null,
  });
  const archived = contacts[archivedContact];
  if (archived) {
    archived.archivedAt = archived.createdAt + 300 * DAY;
    archived.updatedAt = archived.archivedAt;
  }

  // ---- patients and their histories (generated in patient order, re-indexed by created_at below) ----
  interface DraftPatient extends Omit<Patient, 'idx' | 'latestBooking'> {
    draftId: number;
    mergedIntoDraft: number;
  }
  interface DraftAppointment extends Omit<Appointment, 'idx' | 'patient' | 'patientCase' | 'repeatedFrom'> {
    patientDraft: number;
    caseDraft: number;
  }
  interface DraftCase extends Omit<PatientCase, 'idx' | 'patient' | 'appointments'> {
    patientDraft: number;
  }
  const draftPatients: DraftPatient[] = [];
  const draftAppointments: DraftAppointment[] = [];
  const draftCases: DraftCase[] = [];
  const historyStart = now - 730 * DAY;

  const slotUtc = (business: number, day: number): number => {
    // A local clinic slot between 08:00 and 17:45 on a weekday-ish day, converted to UTC.
    const b = businesses[business];
    const zone = b ? b.timeZone : 'Australia/Melbourne';
    const dayStart = Math.floor(day / DAY) * DAY;
    const localMinutes = 8 * 60 + rng.int(0, 39) * 15;
    return dayStart + localMinutes * MINUTE - zoneOffsetSeconds(zone, dayStart);
  };

  const makePatient = (draftId: number, createdAt: number, business: number): DraftPatient => {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const paediatric = rng.chance(0.08);
    const birthYear = paediatric ? rng.int(2012, 2022) : rng.int(1940, 2004);
    const dob = `${birthYear}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}`;
    const hasEmail = rng.chance(0.9);
    const mobile = `04${pad2(rng.int(0, 99))} ${String(rng.int(0, 999)).padStart(3, '0')} ${String(rng.int(0, 999)).padStart(3, '0')}`;
    const phones: PatientFields['patient_phone_numbers'] = rng.chance(0.95)
      ? [{ number: mobile, phone_type: 'Mobile' }]
      : [];
    if (rng.chance(0.15))
      phones.push({ number: `03 9${rng.int(100, 999)} ${rng.int(1000, 9999)}`, phone_type: 'Home' });
    const b = businesses[business];
    const f: PatientFields = {
      title: rng.pick([null, 'Mr', 'Ms', 'Mrs', 'Mx', 'Dr']),
      first_name: first,
      last_name: last,
      preferred_first_name: rng.chance(0.1) ? rng.pick(FIRST_NAMES) : null,
      date_of_birth: rng.chance(0.97) ? dob : null,
      sex: rng.pick(['Female', 'Male', null]),
      gender_identity: rng.chance(0.1) ? rng.pick(['Woman', 'Man', 'Non-binary']) : null,
      email: hasEmail
        ? `${asciiSlug(first) || 'patient'}.${asciiSlug(last) || 'x'}${draftId}@mail.example`
        : null,
      address_1: `${rng.int(1, 400)} ${rng.pick(STREETS)}`,
      address_2: rng.chance(0.1) ? `Unit ${rng.int(1, 30)}` : null,
      address_3: null,
      city: b?.city ?? null,
      state: b?.state ?? null,
      post_code: b?.postCode ?? null,
      country_code: 'AU',
      occupation: rng.pick(OCCUPATIONS),
      emergency_contact: rng.chance(0.3) ? `${rng.pick(FIRST_NAMES)} ${mobile}` : null,
      medicare: rng.chance(0.5) ? String(rng.int(2000000000, 6999999999)) : null,
      medicare_reference_number: rng.chance(0.5) ? String(rng.int(1, 9)) : null,
      dva_card_number: null,
      old_reference_id: rng.chance(0.05) ? `LEGACY-${draftId}` : null,
      referral_source: rng.pick(['Facebook', 'Google', 'Friend or family', 'GP referral', null]),
      invoice_default_to: null,
      invoice_email: null,
      reminder_type: rng.weighted([
        ['SMS', 50],
        ['SMS & Email', 25],
        ['Email', 15],
        ['None', 7],
        [null, 3],
      ] as const),
      receives_confirmation_emails: rng.chance(0.85),
      receives_cancellation_emails: rng.chance(0.85),
      // The consent mix the reconciliation screens must show: opted in, opted out, never asked.
      accepted_email_marketing: rng.triState(0.55, 0.3),
      accepted_sms_marketing: rng.triState(0.45, 0.35),
      accepted_privacy_policy: rng.triState(0.8, 0.05),
      time_zone: b?.railsZone ?? null,
      pronouns: rng.chance(0.05)
        ? {
            accusative: 'them',
            nominative: 'they',
            predicative_possessive: 'theirs',
            pronominal_possessive: 'their',
            reflexive: 'themselves',
          }
        : null,
      patient_phone_numbers: phones,
      notes: null,
      appointment_notes: null,
      invoice_extra_information: null,
    };
    return {
      draftId,
      f,
      overridden: null,
      business,
      concessionType: rng.chance(0.12) ? rng.int(0, concessionTypes.length - 1) : -1,
      referringDoctor: rng.chance(0.15) ? rng.pick(doctors) : -1,
      createdAt,
      updatedAt: createdAt,
      archivedAt: null,
      mergedAt: null,
      mergedInto: -1,
      mergedIntoDraft: -1,
    };
  };

  let anyDeleted = false; // the first follow-up is always a deleted booking, so small practices have one
  // Own stream, so that adding deletions did not reshuffle every patient that tests already pick by index.
  const deletions = new Prng(opts.seed ^ 0xde1e7e);
  const addAppointment = (
    p: DraftPatient,
    type: number,
    practitioner: number,
    startsAt: number,
    caseDraft: number,
    opts: { forceDna?: boolean; allowCancel?: boolean },
  ): DraftAppointment | null => {
    const t = appointmentTypes[type];
    if (!t) return null;
    const leadDays = rng.int(0, 14);
    const createdAt = Math.min(now, Math.max(p.createdAt, startsAt - leadDays * DAY - rng.int(0, 8) * HOUR));
    const endsAt = startsAt + t.durationMinutes * MINUTE;
    const past = endsAt <= now;
    let cancelledAt: number | null = null;
    let cancellationReason: number | null = null;
    let arrived: boolean | null = null;
    let didNotArrive = false;
    let updatedAt = createdAt;
    if (opts.allowCancel !== false && rng.chance(0.08)) {
      cancelledAt = Math.min(now, Math.max(createdAt + 60, startsAt - rng.int(1, 72) * HOUR));
      cancellationReason = rng.pick(CANCELLATION_CODES);
      updatedAt = cancelledAt;
    } else if (past) {
      if (opts.forceDna === true || rng.chance(0.03)) {
        didNotArrive = true;
        arrived = false;
      } else {
        arrived = true;
      }
      updatedAt = Math.min(now, endsAt + rng.int(0, 30) * MINUTE);
    }
    // A few bookings made by mistake and deleted: hidden unless a request filters on deleted_at.
    let deletedAt: number | null = null;
    const deleteThis =
      cancelledAt === null && opts.allowCancel !== false && (!anyDeleted || deletions.chance(0.004));
    if (deleteThis) {
      anyDeleted = true;
      deletedAt = Math.min(now, createdAt + rng.int(0, 3) * HOUR);
      arrived = null;
      didNotArrive = false;
      updatedAt = deletedAt;
    }
    const a: DraftAppointment = {
      patientDraft: p.draftId,
      caseDraft,
      practitioner,
      business: practitioners[practitioner]?.business ?? p.business,
      type,
      startsAt,
      endsAt,
      createdAt,
      updatedAt: Math.max(updatedAt, createdAt),
      cancelledAt,
      cancellationReason,
      arrived,
      didNotArrive,
      archivedAt: null,
      deletedAt,
      notesOverride: null,
      cancellationNoteOverride: null,
      hasCancellationNote: cancelledAt !== null && rng.chance(0.7),
    };
    draftAppointments.push(a);
    return a;
  };

  let forcedMerged = false;
  let forcedUnmerged = false;
  for (let n = 0; n < opts.patients; n++) {
    const business = rng.weighted([
      [0, 45],
      [1, 35],
      [2, 20],
    ] as const);
    const archetype = rng.weighted(ARCHETYPES);
    const firstVisit =
      archetype === 'new-upcoming'
        ? now + rng.int(1, 14) * DAY
        : archetype === 'lapsed' || archetype === 'reactivation'
          ? historyStart + rng.int(0, 300) * DAY
          : historyStart + rng.int(0, 715) * DAY;
    const p = makePatient(draftPatients.length, 0, business);
    p.createdAt = Math.min(now - 3600, firstVisit - rng.int(1, 10) * DAY - rng.int(0, 23) * HOUR);
    p.updatedAt = p.createdAt;
    draftPatients.push(p);
    if (archetype === 'enquiry') {
      p.updatedAt = Math.min(now, p.createdAt + rng.int(0, 5) * DAY);
      continue;
    }
    const practitionerPool = businesses[business]?.practitioners ?? [0];
    const practitioner = rng.pick(practitionerPool);
    const child = p.f.date_of_birth !== null && Number(p.f.date_of_birth.slice(0, 4)) >= 2012;
    const initial = child
      ? (appointmentTypes[typeIdx('Paediatric New Patient')] as AppointmentType)
      : rng.weighted(
          initialTypes
            .filter((t) => t.funding !== 'paediatric')
            .map((t) => [t, t.name === 'Initial Appointment' ? 4 : 1] as const),
        );
    let caseDraft = -1;
    if (
      initial.funding === 'workcover' ||
      initial.funding === 'tac' ||
      initial.funding === 'decompression' ||
      rng.chance(0.1)
    ) {
      const kind: DraftCase['kind'] =
        initial.funding === 'workcover'
          ? 'workcover'
          : initial.funding === 'tac'
            ? 'tac'
            : initial.funding === 'decompression'
              ? 'decompression'
              : rng.chance(0.2)
                ? 'dva'
                : 'care-plan';
      const funded = kind === 'workcover' || kind === 'tac';
      caseDraft = draftCases.length;
      draftCases.push({
        patientDraft: p.draftId,
        contact: kind === 'workcover' ? workcoverPayer : kind === 'tac' ? tacPayer : -1,
        kind,
        maxSessions:
          kind === 'decompression' ? 20 : funded ? rng.int(6, 12) : kind === 'dva' ? 12 : rng.int(8, 16),
        maxInvoiceableAmount: funded ? `${rng.int(6, 15) * 100}.00` : null,
        referral: funded || kind === 'dva',
        referralType: kind === 'dva' ? 'dva' : null,
        issueDate: localDate(firstVisit, businesses[business]?.timeZone ?? 'Australia/Melbourne'),
        expiryDate:
          funded || kind === 'dva' ? localDate(firstVisit + 180 * DAY, 'Australia/Melbourne') : null,
        closedAt: null,
        archivedAt: null,
        createdAt: Math.min(now, Math.max(p.createdAt, firstVisit - 2 * DAY)),
        updatedAt: Math.min(now, Math.max(p.createdAt, firstVisit - 2 * DAY)),
      });
    }
    const visits: number[] = [slotUtc(business, firstVisit)];
    const add = (day: number): void => {
      visits.push(slotUtc(business, day));
    };
    let day = firstVisit;
    const horizon = now + 28 * DAY;
    switch (archetype) {
      case 'weekly':
        for (let i = rng.int(8, 26); i > 0 && day < horizon; i--)
          add((day += 7 * DAY + rng.int(-1, 1) * DAY));
        break;
      case 'fortnightly':
        for (let i = rng.int(6, 16); i > 0 && day < horizon; i--)
          add((day += 14 * DAY + rng.int(-2, 2) * DAY));
        break;
      case 'maintenance':
        for (let i = 6; i > 0 && day < horizon; i--) add((day += 7 * DAY));
        for (let i = rng.int(6, 24); i > 0 && day < horizon; i--) add((day += rng.int(28, 35) * DAY));
        break;
      case 'drop-off':
        for (let i = rng.int(1, 2); i > 0; i--) add((day += rng.int(5, 9) * DAY));
        break;
      case 'lapsed':
        for (let i = rng.int(6, 12); i > 0; i--) add((day += 7 * DAY));
        break;
      case 'reactivation':
        for (let i = rng.int(4, 8); i > 0; i--) add((day += 7 * DAY));
        day += rng.int(120, 240) * DAY;
        for (let i = rng.int(3, 10); i > 0 && day < horizon; i--) add((day += 7 * DAY));
        break;
      case 'no-show':
      case 'one-off':
      case 'new-upcoming':
        break;
    }
    let previous: DraftAppointment | null = null;
    visits.forEach((startsAt, i) => {
      if (startsAt > horizon) return;
      const isInitial = i === 0;
      const afterCarePlan = archetype === 'maintenance' && i > 6;
      const type = isInitial ? initial.idx : afterCarePlan ? maintenanceType : followUpFor[initial.funding];
      const inCase = caseDraft >= 0 && !afterCarePlan;
      const a = addAppointment(p, type, practitioner, startsAt, inCase ? caseDraft : -1, {
        forceDna: archetype === 'no-show' && isInitial,
        allowCancel: !isInitial,
      });
      if (a) previous = a;
    });
    const last = previous as DraftAppointment | null;
    p.updatedAt = Math.min(
      now,
      Math.max(p.createdAt, (last?.createdAt ?? p.createdAt) + rng.int(0, 2) * DAY),
    );
    if (caseDraft >= 0) {
      const c = draftCases[caseDraft];
      if (c && last && last.endsAt < now - 60 * DAY && rng.chance(0.6)) {
        c.closedAt = last.endsAt + rng.int(1, 20) * DAY;
        c.updatedAt = c.closedAt;
      }
    }
    // Archived patients: moved away or asked to be removed, after their last visit.
    // A few positions are forced so that even a small practice has every case the tests need.
    if (n === 7 || rng.chance(0.03)) {
      const at = Math.min(now - HOUR, (last?.endsAt ?? p.createdAt) + rng.int(10, 90) * DAY);
      if (at > p.createdAt) {
        p.archivedAt = at;
        p.updatedAt = at;
      }
    }
    // Duplicates: the same person registered again (online booking, typo in the email). Most get merged.
    // Force one merged and one unmerged duplicate early on (of a patient old enough to merge).
    const oldEnough = p.createdAt < now - 60 * DAY;
    const forceMerged: boolean = !forcedMerged && n >= 5 && oldEnough;
    const forceUnmerged: boolean = !forceMerged && !forcedUnmerged && n >= 11 && oldEnough;
    forcedMerged ||= forceMerged;
    forcedUnmerged ||= forceUnmerged;
    if (oldEnough && (forceMerged || forceUnmerged || rng.chance(0.03))) {
      const dupCreated = Math.min(now - 2 * DAY, p.createdAt + rng.int(20, 200) * DAY);
      const dup = makePatient(draftPatients.length, dupCreated, business);
      dup.f.first_name = p.f.first_name;
      dup.f.last_name = p.f.last_name;
      dup.f.date_of_birth = p.f.date_of_birth;
      dup.f.email = p.f.email ? p.f.email.toUpperCase() : null;
      dup.updatedAt = dupCreated;
      if ((forceMerged || (!forceUnmerged && rng.chance(0.6))) && dupCreated + DAY < now) {
        const mergedAt = Math.min(now - 60, dupCreated + rng.int(1, 30) * DAY);
        dup.mergedAt = mergedAt;
        dup.archivedAt = mergedAt;
        dup.updatedAt = mergedAt;
        dup.mergedIntoDraft = p.draftId;
      }
      draftPatients.push(dup);
    }
  }

  // ---- re-index by created_at so that index order is Cliniko's default order ----
  const patientOrder = draftPatients.map((_, i) => i).sort((a, b) => byCreated(draftPatients, a, b));
  const patientIndexOfDraft = new Int32Array(draftPatients.length);
  patientOrder.forEach((draft, idx) => (patientIndexOfDraft[draft] = idx));
  const patients: Patient[] = patientOrder.map((draft, idx) => {
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
  draftPatients.length = 0;

  const caseOrder = draftCases.map((_, i) => i).sort((a, b) => byCreated(draftCases, a, b));
  const caseIndexOfDraft = new Int32Array(draftCases.length);
  caseOrder.forEach((draft, idx) => (caseIndexOfDraft[draft] = idx));
  const patientCases: PatientCase[] = caseOrder.map((draft, idx) => {
    const d = draftCases[draft] as DraftCase;
    const { patientDraft, ...rest } = d;
    return { ...rest, idx, patient: patientIndexOfDraft[patientDraft] ?? 0, appointments: [] };
  });

  const apptOrder = draftAppointments.map((_, i) => i).sort((a, b) => byCreated(draftAppointments, a, b));
  const appointments: Appointment[] = apptOrder.map((draft, idx) => {
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
  draftAppointments.length = 0;
  for (const a of appointments) {
    if (a.patientCase >= 0) patientCases[a.patientCase]?.appointments.push(a.idx);
    const p = patients[a.patient];
    if (p && a.cancelledAt === null && a.deletedAt === null) {
      const current = p.latestBooking >= 0 ? appointments[p.latestBooking] : undefined;
      if (!current || current.startsAt < a.startsAt) p.latestBooking = a.idx;
    }
  }

  // ---- invoices, treatment notes, medical alerts (derived, then ordered by created_at) ----
  type DraftInvoice = Omit<Invoice, 'idx' | 'number'>;
  const draftInvoices: DraftInvoice[] = [];
  const draftNotes: Omit<TreatmentNote, 'idx'>[] = [];
  for (const a of appointments) {
    if (a.arrived !== true) continue;
    const t = appointmentTypes[a.type];
    const tz = businesses[a.business]?.timeZone ?? 'Australia/Melbourne';
    if (rng.chance(0.88) && t) {
      const createdAt = Math.min(now, a.endsAt + rng.int(0, 20) * MINUTE);
      const ageDays = (now - createdAt) / DAY;
      const status = rng.weighted([
        [20, ageDays > 14 ? 85 : 40],
        [10, ageDays > 14 ? 6 : 55],
        [30, 5],
        [40, 2],
      ] as const);
      const closedAt =
        status === 20 || status === 30 ? Math.min(now, createdAt + rng.int(0, 10) * DAY) : null;
      const deletedAt = rng.chance(0.005) ? Math.min(now, createdAt + DAY) : null;
      draftInvoices.push({
        appointment: a.idx,
        issueDate: localDate(a.startsAt, tz),
        status,
        total: Math.round(Number(t.price) * 100) * (status === 40 ? -1 : 1),
        createdAt,
        updatedAt: Math.max(createdAt, closedAt ?? createdAt, deletedAt ?? createdAt),
        closedAt,
        archivedAt: null,
        deletedAt,
      });
    }
    if (rng.chance(0.7)) {
      const createdAt = Math.min(now, a.startsAt + rng.int(5, 40) * MINUTE);
      const draft = rng.chance(0.05);
      const finalizedAt = draft ? null : Math.min(now, createdAt + rng.int(1, 90) * MINUTE);
      draftNotes.push({
        appointment: a.idx,
        draft,
        createdAt,
        updatedAt: finalizedAt ?? createdAt,
        finalizedAt,
        archivedAt: null,
      });
    }
  }
  draftInvoices.sort((x, y) => x.createdAt - y.createdAt || x.appointment - y.appointment);
  const invoiceByAppointment = new Int32Array(appointments.length).fill(-1);
  const invoices: Invoice[] = draftInvoices.map((d, idx) => {
    invoiceByAppointment[d.appointment] = idx;
    const row: Invoice = {
      idx,
      appointment: d.appointment,
      number: 1001 + idx,
      issueDate: d.issueDate,
      status: d.status,
      total: d.total,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      closedAt: d.closedAt,
      archivedAt: d.archivedAt,
      deletedAt: d.deletedAt,
    };
    return row;
  });
  draftNotes.sort((x, y) => x.createdAt - y.createdAt || x.appointment - y.appointment);
  const treatmentNotes: TreatmentNote[] = draftNotes.map((d, idx) => ({
    idx,
    appointment: d.appointment,
    draft: d.draft,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    finalizedAt: d.finalizedAt,
    archivedAt: d.archivedAt,
  }));

  const medicalAlerts: MedicalAlert[] = [];
  const draftAlerts: Omit<MedicalAlert, 'idx'>[] = [];
  for (const p of patients) {
    if (p.mergedInto >= 0 || !rng.chance(0.12)) continue;
    for (let i = rng.int(1, 2); i > 0; i--) {
      const createdAt = Math.min(now, p.createdAt + rng.int(0, 5) * DAY);
      draftAlerts.push({
        patient: p.idx,
        createdAt,
        updatedAt: createdAt,
        archivedAt: rng.chance(0.1) ? Math.min(now, createdAt + 30 * DAY) : null,
      });
    }
  }
  draftAlerts.sort((x, y) => x.createdAt - y.createdAt || x.patient - y.patient);
  draftAlerts.forEach((d, idx) =>
    medicalAlerts.push({
      idx,
      patient: d.patient,
      createdAt: d.createdAt,
      updatedAt: d.archivedAt ?? d.updatedAt,
      archivedAt: d.archivedAt,
    }),
  );

  return {
    seed: opts.seed,
    accountCreatedAt,
    businesses,
    users,
    practitioners,
    appointmentTypes,
    concessionTypes,
    contacts,
    patients,
    appointments,
    patientCases,
    invoices,
    treatmentNotes,
    medicalAlerts,
    invoiceByAppointment,
    nextInvoiceNumber: 1001 + invoices.length,
  };
}

function byCreated(rows: readonly { createdAt: number }[], a: number, b: number): number {
  return (rows[a]?.createdAt ?? 0) - (rows[b]?.createdAt ?? 0) || a - b;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ASCII local part for e-mail addresses; non-Latin names fall back to an empty slug. */
export function asciiSlug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}
