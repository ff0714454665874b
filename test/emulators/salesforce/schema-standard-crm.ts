/**
 * The standard objects a marketing org uses beside Contact and Account (Lead, Opportunity, Campaign,
 * CampaignMember, Task, Event, Case) and the setup objects a governance review reads beside those in
 * schema-standard.ts (Profile, PermissionSetGroup), with their real API names, types and lengths: the
 * subset of fields integrations and reviews touch, not every field Salesforce has. Key prefixes are
 * Salesforce's (ids.ts).
 */
import type { ObjectDef } from './schema.js';
import {
  address,
  auditFields,
  field,
  LEAD_SOURCES,
  makeObject,
  ownerField,
  picklist,
  ref,
  sys,
  text,
} from './schema-fields.js';

const readOnly = { createable: false, updateable: false } as const;

function leadObject(): ObjectDef {
  return makeObject('Lead', 'standard', [
    ...auditFields(),
    text('LastName', 80, { nillable: false, required: true, label: 'Last Name' }),
    text('FirstName', 40, { label: 'First Name' }),
    text('Name', 121, { ...readOnly, label: 'Full Name', nillable: false }),
    text('Company', 255, { nillable: false, required: true }),
    text('Title', 128),
    field('Email', 'email', { length: 80 }),
    field('Phone', 'phone', { length: 40 }),
    field('MobilePhone', 'phone', { length: 40, label: 'Mobile Phone' }),
    ...address(''),
    picklist('LeadSource', LEAD_SOURCES, { length: 255, label: 'Lead Source' }),
    picklist(
      'Status',
      ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'],
      { length: 255, nillable: false, defaultedOnCreate: true, defaultValue: 'Open - Not Contacted' },
    ),
    field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
    field('DoNotCall', 'boolean', { label: 'Do Not Call', defaultValue: false }),
    sys('IsConverted', 'boolean'),
    ref('ConvertedContactId', 'Contact', 'ConvertedContact', readOnly),
    ref('ConvertedAccountId', 'Account', 'ConvertedAccount', readOnly),
    sys('ConvertedDate', 'date', { defaultedOnCreate: false }),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ]);
}

function opportunityObject(): ObjectDef {
  return makeObject('Opportunity', 'standard', [
    ...auditFields(),
    text('Name', 120, { nillable: false, required: true }),
    ref('AccountId', 'Account', 'Account'),
    ref('CampaignId', 'Campaign', 'Campaign'),
    ref('ContactId', 'Contact', 'Contact'),
    picklist(
      'StageName',
      [
        'Prospecting',
        'Qualification',
        'Needs Analysis',
        'Proposal',
        'Negotiation',
        'Closed Won',
        'Closed Lost',
      ],
      { length: 255, nillable: false, required: true, label: 'Stage' },
    ),
    field('CloseDate', 'date', { nillable: false, required: true, label: 'Close Date' }),
    field('Amount', 'currency'),
    field('Probability', 'percent'),
    picklist('LeadSource', LEAD_SOURCES, { length: 255, label: 'Lead Source' }),
    sys('IsClosed', 'boolean'),
    sys('IsWon', 'boolean'),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ]);
}

function campaignObject(): ObjectDef {
  return makeObject('Campaign', 'standard', [
    ...auditFields(),
    text('Name', 80, { nillable: false, required: true }),
    ref('ParentId', 'Campaign', 'Parent'),
    picklist(
      'Type',
      [
        'Conference',
        'Webinar',
        'Trade Show',
        'Public Relations',
        'Partners',
        'Referral Program',
        'Advertisement',
        'Banner Ads',
        'Direct Mail',
        'Email',
        'Telemarketing',
        'Other',
      ],
      { length: 255 },
    ),
    picklist('Status', ['Planned', 'In Progress', 'Completed', 'Aborted'], { length: 255 }),
    field('StartDate', 'date'),
    field('EndDate', 'date'),
    field('IsActive', 'boolean', { defaultValue: false, label: 'Active' }),
    sys('NumberOfLeads', 'int'),
    sys('NumberOfContacts', 'int'),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ]);
}

function campaignMemberObject(): ObjectDef {
  return makeObject('CampaignMember', 'standard', [
    ...auditFields(),
    ref('CampaignId', 'Campaign', 'Campaign', { nillable: false, required: true, updateable: false }),
    ref('LeadId', 'Lead', 'Lead', { updateable: false }),
    ref('ContactId', 'Contact', 'Contact', { updateable: false }),
    picklist('Status', ['Planned', 'Sent', 'Responded'], { length: 40 }),
    sys('HasResponded', 'boolean'),
    field('FirstRespondedDate', 'date', readOnly),
  ]);
}

/** Task and Event share the activity fields: Who (Contact or Lead) and What (anything else). */
function activityFields() {
  return [
    ...auditFields(),
    ref('WhoId', 'Contact', 'Who', { label: 'Name ID', referenceTo: ['Contact', 'Lead'] }),
    ref('WhatId', 'Account', 'What', {
      label: 'Related To ID',
      referenceTo: ['Account', 'Opportunity', 'Campaign', 'Case'],
    }),
    text('Subject', 255),
    field('ActivityDate', 'date', { label: 'Due Date Only' }),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ];
}

function taskObject(): ObjectDef {
  return makeObject('Task', 'standard', [
    ...activityFields(),
    picklist('Status', ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], {
      length: 255,
      nillable: false,
      defaultedOnCreate: true,
      defaultValue: 'Not Started',
    }),
    picklist('Priority', ['High', 'Normal', 'Low'], {
      length: 40,
      nillable: false,
      defaultedOnCreate: true,
      defaultValue: 'Normal',
    }),
    sys('IsClosed', 'boolean'),
    picklist('TaskSubtype', ['Task', 'Email', 'Call'], { length: 40 }),
  ]);
}

function eventObject(): ObjectDef {
  return makeObject('Event', 'standard', [
    ...activityFields(),
    field('StartDateTime', 'datetime'),
    field('EndDateTime', 'datetime'),
    field('IsAllDayEvent', 'boolean', { defaultValue: false, label: 'All-Day Event' }),
    text('Location', 255),
    sys('DurationInMinutes', 'int'),
  ]);
}

function caseObject(): ObjectDef {
  return makeObject('Case', 'standard', [
    ...auditFields(),
    text('CaseNumber', 30, { ...readOnly, autoNumberFormat: '{00000000}' }),
    ref('ContactId', 'Contact', 'Contact'),
    ref('AccountId', 'Account', 'Account'),
    text('Subject', 255),
    field('Description', 'textarea', { length: 32000 }),
    picklist('Status', ['New', 'Working', 'Escalated', 'Closed'], {
      length: 255,
      defaultedOnCreate: true,
      defaultValue: 'New',
    }),
    picklist('Origin', ['Phone', 'Email', 'Web'], { length: 255 }),
    picklist('Priority', ['High', 'Medium', 'Low'], { length: 255 }),
    sys('IsClosed', 'boolean'),
    ownerField(),
  ]);
}

function profileObject(): ObjectDef {
  return makeObject(
    'Profile',
    'setup',
    [
      ...auditFields(),
      text('Name', 255, readOnly),
      picklist('UserType', ['Standard', 'PowerPartner', 'CsnOnly'], readOnly),
      field('Description', 'textarea', { length: 255, ...readOnly }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

function permissionSetGroupObject(): ObjectDef {
  return makeObject(
    'PermissionSetGroup',
    'setup',
    [
      ...auditFields(),
      text('DeveloperName', 80, readOnly),
      text('MasterLabel', 80, readOnly),
      field('Description', 'textarea', { length: 255, ...readOnly }),
      picklist('Status', ['Updated', 'Outdated', 'Updating', 'Failed'], readOnly),
      text('NamespacePrefix', 15, readOnly),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

export function crmStandardObjects(): ObjectDef[] {
  return [
    leadObject(),
    opportunityObject(),
    campaignObject(),
    campaignMemberObject(),
    taskObject(),
    eventObject(),
    caseObject(),
    profileObject(),
    permissionSetGroupObject(),
  ];
}
