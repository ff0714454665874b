import { EXTERNAL_ID_FIELDS } from '../governance/project.js';

/**
 * The Salesforce objects the sync writes, their upsert keys (docs/data-model.md) and write order.
 * Children reference parents by external id, so order is not needed for correctness; writing parents
 * first just keeps a child from failing when its parent is new in the same drain.
 */
export const UPSERT_KEYS: Readonly<Record<string, string>> = {
  ...EXTERNAL_ID_FIELDS,
  Journey_Transition__c: 'Transition_Key__c',
  Sync_Run__c: 'Run_Id__c',
  Audit_Anchor__c: 'Anchor_Key__c',
};

export const PRIORITY: Readonly<Record<string, number>> = {
  Contact: 10,
  Care_Plan__c: 20,
  Cliniko_Appointment__c: 30,
  Cliniko_Invoice__c: 40,
  Journey_Transition__c: 50,
  Patient_Journey_Event__e: 60,
  Appointment_Event__e: 65,
  Sync_Run__c: 90,
  // After the run summary: the head it anchors was read before either was written.
  Audit_Anchor__c: 95,
};

/**
 * The objects a patient's child records are written as, by the Cliniko resource they are read from: a
 * merge re-points them at the surviving patient (sync/cycle/merges.ts, their `#parent` slot).
 */
export const CHILD_OBJECTS: Readonly<Record<string, string>> = {
  individual_appointments: 'Cliniko_Appointment__c',
  patient_cases: 'Care_Plan__c',
  invoices: 'Cliniko_Invoice__c',
};

export const JOURNEY_EVENT = 'Patient_Journey_Event__e';
/** Appointment lifecycle events (issue #19; docs/marketing.md "Appointment events"). */
export const APPOINTMENT_EVENT = 'Appointment_Event__e';
