/**
 * The matching rule (issue #19, item 4), pure: given the patient's identifying fields as the data map
 * projects them and the Contacts and Leads Salesforce returned for the patient's email, decide whether
 * to link one of them, create a new Contact, or hold the patient for an admin to decide. No I/O, no
 * clock: the matcher (matcher.ts) queries, this decides, the matcher acts.
 *
 * The rule, in order:
 * 1. No email on the patient: create (email is the only key we search by; a name alone is too weak).
 * 2. A Contact already carrying this patient's external id: `existing` (the upsert finds it itself).
 *    Contacts carrying ANOTHER patient's external id are never candidates: they belong to that patient.
 * 3. Contacts with the same email (case-insensitive, trimmed): one -> link it. Several -> tie-break:
 *    those whose first and last name AND a phone number match; else those whose name matches; else those
 *    whose phone matches. The first tier that is not empty decides: exactly one -> link it; several ->
 *    review. No tier has any -> review (several share the email, nothing tells them apart).
 * 4. No Contact: the same for open (unconverted) Leads -> link-lead, or review. A Lead already marked
 *    with this patient's id (a link whose Contact write was retried) is linked again at once; a Lead
 *    marked with ANOTHER patient's id is never a candidate (that patient became it). With
 *    SYNC_LEAD_MATCH=ignore the matcher passes no Leads at all.
 * 5. Nothing: create.
 * Names compare case- and accent-insensitively after trimming; phones compare on their last 9 digits
 * (so `+61 412 345 678` and `0412 345 678` agree), and only when both have at least 6 digits.
 */

export interface PersonFields {
  readonly email: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  /** Every phone number the record has (any field). */
  readonly phones: readonly string[];
}

export interface Candidate extends PersonFields {
  /** The Salesforce record id. */
  readonly id: string;
  /** The Cliniko patient id the Contact (or linked Lead) already carries, if any. */
  readonly externalId?: string | null;
}

/** `patient-id`: a Lead an earlier attempt already marked with this patient's id. */
export type MatchBasis = 'email' | 'email+name+phone' | 'email+name' | 'email+phone' | 'patient-id';

export type MatchDecision =
  | { readonly action: 'create'; readonly reason: 'no-email' | 'no-match' }
  | { readonly action: 'existing'; readonly id: string }
  | { readonly action: 'link-contact'; readonly id: string; readonly basis: MatchBasis }
  | { readonly action: 'link-lead'; readonly id: string; readonly basis: MatchBasis }
  | {
      readonly action: 'review';
      readonly object: 'Contact' | 'Lead';
      /** Salesforce ids of the records that could be this patient, sorted. */
      readonly candidates: readonly string[];
    };

export function normaliseEmail(email: string | null | undefined): string | null {
  const e = (email ?? '').trim().toLowerCase();
  return e === '' ? null : e;
}

export function normaliseName(name: string | null | undefined): string {
  return (name ?? '').normalize('NFD').replace(/\p{M}/gu, '').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The comparable tail of a phone number, or null when it has too few digits to mean anything. */
export function phoneKey(phone: string | null | undefined): string | null {
  const digits = (phone ?? '').replace(/\D/g, '');
  return digits.length < 6 ? null : digits.slice(-9);
}

function sameName(a: PersonFields, b: PersonFields): boolean {
  const last = normaliseName(a.lastName);
  return (
    last !== '' &&
    last === normaliseName(b.lastName) &&
    normaliseName(a.firstName) === normaliseName(b.firstName)
  );
}

function samePhone(a: PersonFields, b: PersonFields): boolean {
  const mine = new Set(a.phones.map(phoneKey).filter((p): p is string => p !== null));
  return b.phones.some((p) => {
    const key = phoneKey(p);
    return key !== null && mine.has(key);
  });
}

type Pick1 = { id: string; basis: MatchBasis } | { candidates: string[] } | null;

/** Rule 3 for one kind of record: one clear candidate, several (review), or none (null). */
function pickOne(patient: PersonFields, sameEmail: readonly Candidate[]): Pick1 {
  if (sameEmail.length === 0) return null;
  if (sameEmail.length === 1) return { id: sameEmail[0]!.id, basis: 'email' };
  const tiers: Array<[MatchBasis, (c: Candidate) => boolean]> = [
    ['email+name+phone', (c) => sameName(patient, c) && samePhone(patient, c)],
    ['email+name', (c) => sameName(patient, c)],
    ['email+phone', (c) => samePhone(patient, c)],
  ];
  for (const [basis, test] of tiers) {
    const hits = sameEmail.filter(test);
    if (hits.length === 1) return { id: hits[0]!.id, basis };
    if (hits.length > 1) return { candidates: hits.map((c) => c.id).sort() };
  }
  return { candidates: sameEmail.map((c) => c.id).sort() };
}

/** The decision for one patient (`patientId` is its Cliniko id, the Contact's external id). */
export function decideMatch(
  patientId: string,
  patient: PersonFields,
  contacts: readonly Candidate[],
  leads: readonly Candidate[],
): MatchDecision {
  // The external id is unique in Salesforce, so at most one; the smallest id keeps the rule total.
  const own = contacts
    .filter((c) => c.externalId === patientId)
    .map((c) => c.id)
    .sort()[0];
  if (own !== undefined) return { action: 'existing', id: own };
  const email = normaliseEmail(patient.email);
  if (email === null) return { action: 'create', reason: 'no-email' };
  const byEmail = (c: Candidate) => normaliseEmail(c.email) === email;
  const unmarked = (c: Candidate) => (c.externalId ?? null) === null || c.externalId === '';
  const contact = pickOne(patient, contacts.filter(unmarked).filter(byEmail));
  if (contact !== null) {
    return 'id' in contact
      ? { action: 'link-contact', id: contact.id, basis: contact.basis }
      : { action: 'review', object: 'Contact', candidates: contact.candidates };
  }
  const ownLead = leads
    .filter((c) => c.externalId === patientId)
    .map((c) => c.id)
    .sort()[0];
  if (ownLead !== undefined) return { action: 'link-lead', id: ownLead, basis: 'patient-id' };
  const lead = pickOne(patient, leads.filter(unmarked).filter(byEmail));
  if (lead !== null) {
    return 'id' in lead
      ? { action: 'link-lead', id: lead.id, basis: lead.basis }
      : { action: 'review', object: 'Lead', candidates: lead.candidates };
  }
  return { action: 'create', reason: 'no-match' };
}

/** The identifying fields of a Contact payload or a Contact/Lead row (the fields the data map writes). */
export function personOf(fields: Readonly<Record<string, unknown>>): PersonFields {
  const text = (name: string): string | null => {
    const value = fields[name];
    return typeof value === 'string' && value.trim() !== '' ? value : null;
  };
  return {
    email: text('Email'),
    firstName: text('FirstName'),
    lastName: text('LastName'),
    phones: ['Phone', 'MobilePhone', 'HomePhone'].map(text).filter((p): p is string => p !== null),
  };
}
