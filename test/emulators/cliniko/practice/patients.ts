/**
 * A patient's draft: identity, contact details, reminders, consent, concession and referrer. Every
 * value is drawn from the main stream in a fixed order (see the golden digests in
 * `practice-digest.test.ts`); reordering two lines here changes every practice.
 */
import type { DraftPatient, Generation } from './drafts.js';
import type { PatientFields } from './model.js';
import { asciiSlug, FIRST_NAMES, LAST_NAMES, OCCUPATIONS, pad2, STREETS } from './names.js';

export function makePatient(
  g: Generation,
  draftId: number,
  createdAt: number,
  business: number,
): DraftPatient {
  const { rng } = g;
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
  const f = patientFields(g, { draftId, business, first, last, dob, hasEmail, mobile, phones });
  return {
    draftId,
    f,
    overridden: null,
    business,
    concessionType: rng.chance(0.12) ? rng.int(0, g.setup.concessionTypes.length - 1) : -1,
    referringDoctor: rng.chance(0.15) ? rng.pick(g.referrers.doctors) : -1,
    createdAt,
    updatedAt: createdAt,
    archivedAt: null,
    mergedAt: null,
    mergedInto: -1,
    mergedIntoDraft: -1,
  };
}

interface Identity {
  draftId: number;
  business: number;
  first: string;
  last: string;
  dob: string;
  hasEmail: boolean;
  mobile: string;
  phones: PatientFields['patient_phone_numbers'];
}

/** The wire fields, in Cliniko's order; the free-text fields start null (served as canary text). */
function patientFields(g: Generation, id: Identity): PatientFields {
  const { rng } = g;
  const { draftId, first, last, dob, hasEmail, mobile, phones } = id;
  const b = g.setup.businesses[id.business];
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
  return f;
}
