import { generateKeyPairSync } from 'node:crypto';
import { buildAuditEntry, type AuditEntry } from './audit.js';
import type { DataMapLookups, PackageField } from './data-map.js';
import { STANDARD_FIELDS } from './spec-fields.js';
import {
  applyChange,
  EMPTY_REGISTRY,
  publicKeyText,
  signApproverChange,
  type SignatureMode,
} from './signatures.js';

/**
 * A small, hand-written data map and lookups for the governance unit tests (tests of the real
 * config/data-map.yaml read it from disk in the test files). Pure data; no I/O.
 */

export const FIXTURE_LOOKUPS: DataMapLookups = {
  clinikoSpecFields: new Map([
    [
      'patients',
      new Set([
        'id',
        'first_name',
        'last_name',
        'email',
        'notes',
        'appointment_notes',
        'medicare',
        'patient_phone_numbers',
        'address_1',
        'address_2',
        'address_3',
        'accepted_email_marketing',
        'accepted_sms_marketing',
        'archived_at',
        'merged_at',
        'deleted_at',
        'merged_with_patient',
        'city',
      ]),
    ],
    ['individual_appointments', new Set(['id', 'patient', 'starts_at', 'notes', 'business'])],
  ]),
  packageFields: new Map<string, PackageField>([
    ...STANDARD_FIELDS,
    ['Contact.Cliniko_Patient_Id__c', { type: 'Text', length: 20 }],
    ['Contact.Email_Marketing_Consent__c', { type: 'Checkbox' }],
    ['Contact.Cliniko_Status__c', { type: 'Picklist' }],
    ['Contact.Merged_Into__c', { type: 'Lookup', referenceTo: 'Contact' }],
    ['Contact.Journey_Stage__c', { type: 'Picklist' }],
    ['Contact.Notes_For_Test__c', { type: 'LongTextArea' }],
    ['Cliniko_Appointment__c.Cliniko_Appointment_Id__c', { type: 'Text', length: 20 }],
    ['Cliniko_Appointment__c.Contact__c', { type: 'Lookup', referenceTo: 'Contact' }],
    ['Cliniko_Appointment__c.Starts_At__c', { type: 'DateTime' }],
    ['Cliniko_Appointment__c.Clinic__c', { type: 'Text', length: 255 }],
  ]),
};

export const FIXTURE_MAP = `version: 1
# a comment that signing must keep
signoff:
  approvedBy: Jane Citizen (Compliance Officer)
  approvedOn: 2026-11-01
  sha256: PENDING
entries:
  - resource: patients
    source: id
    classification: marketing-safe
    target: Contact.Cliniko_Patient_Id__c
    transform: id
    rationale: Upsert key.
  - resource: patients
    source: first_name
    classification: marketing-safe
    target: Contact.FirstName
    direction: both
    transform: text
    rationale: Name.
  - resource: patients
    source: last_name
    classification: marketing-safe
    target: Contact.LastName
    transform: text
    rationale: Name.
  - resource: patients
    source: email
    classification: marketing-safe
    target: Contact.Email
    direction: both
    transform: email
    rationale: Email.
  - resource: patients
    source: patient_phone_numbers
    classification: marketing-safe
    target: Contact.MobilePhone
    direction: both
    transform: phone-mobile
    rationale: SMS.
  - resource: patients
    source: patient_phone_numbers
    classification: marketing-safe
    target: Contact.HomePhone
    direction: both
    transform: phone-home
    rationale: Calls.
  - resource: patients
    source: [address_1, address_2, address_3]
    classification: marketing-safe
    target: Contact.MailingStreet
    direction: both
    transform: address-join
    rationale: Mail.
  - resource: patients
    source: accepted_email_marketing
    classification: marketing-safe
    target: Contact.Email_Marketing_Consent__c
    transform: boolean
    rationale: Consent.
  - resource: patients
    source: accepted_email_marketing
    classification: marketing-safe
    target: Contact.HasOptedOutOfEmail
    transform: consent-opt-out
    rationale: Consent.
  - resource: patients
    source: [archived_at, merged_at, deleted_at]
    classification: marketing-safe
    target: Contact.Cliniko_Status__c
    transform: patient-status
    rationale: Status.
  - resource: patients
    source: merged_with_patient
    classification: marketing-safe
    target: Contact.Merged_Into__c
    transform: patient-ref
    rationale: Survivor.
  - resource: patients
    source: [notes, appointment_notes, medicare]
    classification: clinician-only
    rationale: Clinical.
  - resource: individual_appointments
    source: id
    classification: operations-safe
    target: Cliniko_Appointment__c.Cliniko_Appointment_Id__c
    transform: id
    rationale: Upsert key.
  - resource: individual_appointments
    source: patient
    classification: operations-safe
    target: Cliniko_Appointment__c.Contact__c
    transform: patient-ref
    rationale: Parent.
  - resource: individual_appointments
    source: starts_at
    classification: operations-safe
    target: Cliniko_Appointment__c.Starts_At__c
    transform: datetime
    rationale: When.
  - resource: individual_appointments
    source: business
    classification: operations-safe
    target: Cliniko_Appointment__c.Clinic__c
    transform: business-name
    rationale: Where.
  - resource: individual_appointments
    source: notes
    classification: clinician-only
    rationale: Clinical.
derived:
  - target: Contact.Journey_Stage__c
    classification: marketing-safe
    from: [individual_appointments.starts_at]
    rationale: Journey.
`;

/**
 * A registry for tests: Jane (compliance officer, the root) and Omar (integration owner, added by Jane),
 * with fresh keys each run, plus a stranger's key that nobody registered.
 */
export function testApprovers(mode: SignatureMode = 'test') {
  const jane = generateKeyPairSync('ed25519').privateKey;
  const omar = generateKeyPairSync('ed25519').privateKey;
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const on = '2026-11-01';
  const janeName = 'Jane Citizen (Compliance Officer)';
  const c1 = signApproverChange(
    EMPTY_REGISTRY,
    {
      op: 'add',
      name: janeName,
      role: 'compliance-officer',
      publicKey: publicKeyText(jane),
      on,
      by: janeName,
    },
    jane,
    mode,
  );
  const r1 = applyChange(EMPTY_REGISTRY, c1, { mode });
  if (!r1.ok) throw new Error(r1.problems.join('; '));
  const c2 = signApproverChange(
    r1.registry,
    {
      op: 'add',
      name: 'Omar Owner',
      role: 'integration-owner',
      publicKey: publicKeyText(omar),
      on,
      by: janeName,
    },
    jane,
    mode,
  );
  const r2 = applyChange(r1.registry, c2, { mode });
  if (!r2.ok) throw new Error(r2.problems.join('; '));
  const registry = r2.registry;
  return {
    registry,
    changes: [c1, c2],
    trust: { registry, mode },
    keys: { jane, omar, stranger },
    jane: registry.approvers.get(janeName)!,
    omar: registry.approvers.get('Omar Owner')!,
  };
}

/** A valid audit chain of `length` Contact updates (seq 1..length); entry 4 names `field`. */
export function auditChain(length: number, field = 'Email'): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let i = 0; i < length; i++) {
    entries.push(
      buildAuditEntry(
        {
          timestamp: new Date(Date.UTC(2020, 0, 1 + i)).toISOString(),
          actor: 'integration-user',
          sourceSystem: 'cliniko',
          object: 'Contact',
          externalId: String(1000 + i),
          operation: 'update',
          changedFields: [i === 3 ? field : 'Email'],
          payload: { n: i },
          runId: 'run-1',
        },
        entries[i - 1],
      ),
    );
  }
  return entries;
}
