import type { ExternalIdReference, ProjectionContext, SourceValues, TransformDefinition } from './types.js';
import { TransformError } from './types.js';
import { idFromLink, only } from './values.js';

/**
 * Transforms of Cliniko links: external-id references (`patient-ref`, ...) and display names of
 * reference records looked up in the run context (`business-name`, ...).
 */

function reference(externalIdField: string) {
  return (input: SourceValues): ExternalIdReference | null | undefined => {
    const id = idFromLink(only(input));
    if (id === undefined || id === null) return id;
    return { kind: 'external-id-reference', externalIdField, id };
  };
}

function named(pick: (ctx: ProjectionContext) => ReadonlyMap<string, string> | undefined, what: string) {
  return (input: SourceValues, context: ProjectionContext): string | null | undefined => {
    const id = idFromLink(only(input));
    if (id === undefined || id === null) return id;
    const name = pick(context)?.get(id);
    // An unknown reference is a gap in the run's lookups, not bad patient data: leave the field as it is.
    if (name === undefined) throw new TransformError(`no ${what} name known for the linked id`);
    return name;
  };
}

export const patientRef: TransformDefinition = {
  name: 'patient-ref',
  description: 'A patient link to an external-id reference on Cliniko_Patient_Id__c.',
  fieldTypes: ['Lookup', 'MasterDetail'],
  apply: reference('Cliniko_Patient_Id__c'),
};

export const caseRef: TransformDefinition = {
  name: 'case-ref',
  description: 'A patient_case link to an external-id reference on Cliniko_Case_Id__c.',
  fieldTypes: ['Lookup', 'MasterDetail'],
  apply: reference('Cliniko_Case_Id__c'),
};

export const appointmentRef: TransformDefinition = {
  name: 'appointment-ref',
  description: 'An appointment link to an external-id reference on Cliniko_Appointment_Id__c.',
  fieldTypes: ['Lookup', 'MasterDetail'],
  apply: reference('Cliniko_Appointment_Id__c'),
};

export const businessName: TransformDefinition = {
  name: 'business-name',
  description: 'A business link to the business display name (from the run context).',
  fieldTypes: ['Text'],
  apply: named((c) => c.names?.businesses, 'business'),
};

export const practitionerName: TransformDefinition = {
  name: 'practitioner-name',
  description: 'A practitioner link to the practitioner display name (from the run context).',
  fieldTypes: ['Text'],
  apply: named((c) => c.names?.practitioners, 'practitioner'),
};

export const appointmentTypeName: TransformDefinition = {
  name: 'appointment-type-name',
  description: 'An appointment_type link to the type name (from the run context).',
  fieldTypes: ['Text'],
  apply: named((c) => c.names?.appointmentTypes, 'appointment type'),
};
