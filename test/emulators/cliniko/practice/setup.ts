/**
 * The practice's set-up: three clinics in three time zones, nine practitioners and their users, the
 * front-desk users, the appointment types the journey engine recognises (one of them retired) and the
 * concession types. No PRNG draws: the set-up is the same for every seed.
 */
import type { AppointmentType, Business, ConcessionType, Funding, Practitioner, User } from './model.js';
import { asciiSlug } from './names.js';
import { DAY, HOUR } from '../time.js';

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
const CONCESSIONS = ['Pensioner', 'Student', 'Health Care Card', 'Veteran (DVA)'];

export interface Setup {
  businesses: Business[];
  users: User[];
  practitioners: Practitioner[];
  appointmentTypes: AppointmentType[];
  concessionTypes: ConcessionType[];
}

/** Clinics, staff, appointment types and concession types, dated from the account's creation. */
export function generateSetup(accountCreatedAt: number): Setup {
  const businesses = generateBusinesses(accountCreatedAt);
  const { users, practitioners } = generateStaff(accountCreatedAt, businesses);
  return {
    businesses,
    users,
    practitioners,
    appointmentTypes: generateAppointmentTypes(accountCreatedAt),
    concessionTypes: CONCESSIONS.map((name, idx) => ({
      idx,
      name,
      createdAt: accountCreatedAt + 5 * DAY + idx * HOUR,
      updatedAt: accountCreatedAt + 5 * DAY + idx * HOUR,
      archivedAt: null,
    })),
  };
}

function generateBusinesses(accountCreatedAt: number): Business[] {
  return BUSINESSES.map((b, idx) => ({
    ...b,
    idx,
    practitioners: [],
    createdAt: accountCreatedAt + idx * 30 * DAY,
    updatedAt: accountCreatedAt + idx * 30 * DAY + 7 * DAY,
  }));
}

/** Practitioners (each with a user, listed on their clinic), then the administrator and receptionist. */
function generateStaff(
  accountCreatedAt: number,
  businesses: Business[],
): { users: User[]; practitioners: Practitioner[] } {
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
  return { users, practitioners };
}

function generateAppointmentTypes(accountCreatedAt: number): AppointmentType[] {
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
  return appointmentTypes;
}
