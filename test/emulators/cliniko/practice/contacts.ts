/**
 * Contacts: twelve referring doctors (names drawn from the PRNG, the first draws of a seed), the two
 * third-party payers funded cases bill, a standard contact and an archived doctor.
 */
import type { Prng } from '../prng.js';
import { DAY } from '../time.js';
import type { Contact } from './model.js';
import { FIRST_NAMES, LAST_NAMES } from './names.js';

/** The contacts and the indices the patient histories refer to. */
export interface Referrers {
  contacts: Contact[];
  doctors: number[];
  workcoverPayer: number;
  tacPayer: number;
}

export function generateContacts(rng: Prng, accountCreatedAt: number): Referrers {
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
  return { contacts, doctors, workcoverPayer, tacPayer };
}
