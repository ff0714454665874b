/**
 * Which record a write depends on (issue #15): a child of a patient (appointment, case, invoice, care
 * plan, journey transition or event) and a patient's derived slots (`123#journey`) can only be written
 * once the patient's Contact exists in Salesforce. While that Contact is unwritten because the patient
 * is quarantined or dead-lettered, the dependant waits as "blocked by Contact:123" instead of spending
 * its retries, and `completeWrites` releases it when the Contact is written.
 */

/** The parent key (`Contact:123`) of a payload, or null when it has none (a patient's own Contact). */
export function parentKeyOf(
  object: string,
  externalId: string,
  fields: Readonly<Record<string, unknown>>,
): string | null {
  if (object === 'Contact') {
    const [base] = externalId.split('#');
    return externalId.includes('#') && base ? `Contact:${base}` : null;
  }
  const patient = patientIdOf(fields);
  return patient === null ? null : `Contact:${patient}`;
}

/** The Cliniko patient id a parent key names (`Contact:123` -> `123`). */
export function patientOfParentKey(key: string): string | null {
  return key.startsWith('Contact:') ? key.slice('Contact:'.length) : null;
}

/** The patient a child payload references (`Contact__r` or `Cliniko_Patient_Id__c`), or null. */
export function patientIdOf(fields: Readonly<Record<string, unknown>>): string | null {
  const ref = fields.Contact__r as { Cliniko_Patient_Id__c?: unknown } | undefined;
  if (typeof ref?.Cliniko_Patient_Id__c === 'string') return ref.Cliniko_Patient_Id__c;
  return typeof fields.Cliniko_Patient_Id__c === 'string' ? fields.Cliniko_Patient_Id__c : null;
}
