import type { TransformDefinition } from './types.js';
import { TransformError } from './types.js';
import { asText, booleanOrNull, dateValue, isSet, only, trimmedOrNull } from './values.js';

/**
 * Transforms to coded values (picklists and labels): consent and privacy answers, reminder type,
 * record statuses derived from several Cliniko fields, referral type and funding source.
 */

export const referralType: TransformDefinition = {
  name: 'referral-type',
  description: 'A case referral_type (dva, medicare) as its label (DVA, Medicare); other text as written.',
  fieldTypes: ['Text'],
  apply: (input) => {
    const text = trimmedOrNull(asText(only(input), 'referral_type'));
    if (text === undefined || text === null) return text;
    const known: Record<string, string> = { dva: 'DVA', medicare: 'Medicare' };
    return known[text.toLowerCase()] ?? text;
  },
};

export const consentOptOut: TransformDefinition = {
  name: 'consent-opt-out',
  description:
    'Marketing consent to an opt-out flag (HasOptedOutOfEmail, DoNotCall): opted out unless consent is true.',
  fieldTypes: ['Checkbox'],
  apply: (input) => {
    const value = booleanOrNull(only(input), 'consent');
    return value === undefined ? undefined : value !== true;
  },
};

export const privacyPolicy: TransformDefinition = {
  name: 'privacy-policy',
  description: 'accepted_privacy_policy true/false/null to Accepted/Declined/No Response.',
  fieldTypes: ['Picklist'],
  apply: (input) => {
    const value = booleanOrNull(only(input), 'accepted_privacy_policy');
    if (value === undefined) return undefined;
    return value === true ? 'Accepted' : value === false ? 'Declined' : 'No Response';
  },
};

export const reminderType: TransformDefinition = {
  name: 'reminder-type',
  description: 'reminder_type (None, SMS, Email, SMS & Email); null becomes None.',
  fieldTypes: ['Picklist'],
  apply: (input) => {
    const value = only(input);
    if (value === undefined) return undefined;
    if (value === null) return 'None';
    if (value === 'None' || value === 'SMS' || value === 'Email' || value === 'SMS & Email') return value;
    throw new TransformError('reminder_type is not one of None, SMS, Email, SMS & Email');
  },
};

export const patientStatus: TransformDefinition = {
  name: 'patient-status',
  description:
    'archived_at, merged_at, deleted_at to Active/Archived/Merged/Deleted (deleted wins, then merged).',
  sources: ['archived_at', 'merged_at', 'deleted_at'],
  fieldTypes: ['Picklist'],
  apply: (input) => {
    const set = (field: string): boolean => input[field] !== undefined && input[field] !== null;
    if (set('deleted_at')) return 'Deleted';
    if (set('merged_at')) return 'Merged';
    if (set('archived_at')) return 'Archived';
    return 'Active';
  },
};

export const appointmentStatus: TransformDefinition = {
  name: 'appointment-status',
  description:
    'deleted_at, cancelled_at, did_not_arrive, patient_arrived to Deleted/Cancelled/Did Not Arrive/Arrived/Booked.',
  sources: ['deleted_at', 'cancelled_at', 'did_not_arrive', 'patient_arrived'],
  fieldTypes: ['Picklist'],
  apply: (input) => {
    if (isSet(input.deleted_at)) return 'Deleted';
    if (input.cancelled_at !== undefined && input.cancelled_at !== null) return 'Cancelled';
    if (input.did_not_arrive === true) return 'Did Not Arrive';
    if (input.patient_arrived === true) return 'Arrived';
    return 'Booked';
  },
};

export const caseStatus: TransformDefinition = {
  name: 'case-status',
  description:
    'closed_at, expiry_date to Closed/Expired/Open (expired when the expiry date is before today).',
  sources: ['closed_at', 'expiry_date'],
  fieldTypes: ['Picklist'],
  apply: (input, context) => {
    if (isSet(input.closed_at)) return 'Closed';
    const expiry = dateValue(input.expiry_date);
    if (expiry && context.today === undefined)
      throw new TransformError('case-status needs today in the context');
    if (expiry && context.today !== undefined && expiry < context.today) return 'Expired';
    return 'Open';
  },
};

export const invoiceStatus: TransformDefinition = {
  name: 'invoice-status',
  description:
    'status_description and deleted_at to the invoice picklist: deleted -> Cancelled, Open -> Awaiting Payment, Paid, Closed, Open credit -> Paid, none -> Draft.',
  sources: ['status_description', 'deleted_at'],
  fieldTypes: ['Picklist'],
  apply: (input) => {
    if (isSet(input.deleted_at)) return 'Cancelled';
    const status = input.status_description;
    if (status === undefined) return undefined;
    switch (status) {
      case null:
        return 'Draft';
      case 'Open':
        return 'Awaiting Payment';
      case 'Paid':
        return 'Paid';
      case 'Closed':
        return 'Closed';
      // A credit balance means the invoice itself is settled (more than paid).
      case 'Open credit':
        return 'Paid';
      default:
        throw new TransformError('status_description is not one of Open, Paid, Closed, Open credit');
    }
  },
};

export const fundingSource: TransformDefinition = {
  name: 'funding-source',
  description:
    'A case referral_type to the Funding_Source__c picklist: dva -> DVA, medicare -> Medicare, workcover -> WorkCover, tac -> TAC, private -> Private, other text -> Other, none -> cleared.',
  fieldTypes: ['Picklist'],
  apply: (input) => {
    const text = trimmedOrNull(asText(only(input), 'referral_type'));
    if (text === undefined || text === null) return text;
    const known: Record<string, string> = {
      dva: 'DVA',
      medicare: 'Medicare',
      workcover: 'WorkCover',
      tac: 'TAC',
      private: 'Private',
    };
    return known[text.toLowerCase().replace(/[\s_-]/g, '')] ?? 'Other';
  },
};
