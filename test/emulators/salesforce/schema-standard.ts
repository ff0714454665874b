import type { ObjectDef } from './schema.js';
import { crmStandardObjects } from './schema-standard-crm.js';
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

function contactObject(): ObjectDef {
  return makeObject('Contact', 'standard', [
    ...auditFields(),
    ref('MasterRecordId', 'Contact', 'MasterRecord', { createable: false, updateable: false }),
    ref('AccountId', 'Account', 'Account'),
    text('LastName', 80, { nillable: false, required: true, label: 'Last Name' }),
    text('FirstName', 40, { label: 'First Name' }),
    picklist('Salutation', ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.', 'Mx.'], { length: 40 }),
    text('Name', 121, { createable: false, updateable: false, label: 'Full Name', nillable: false }),
    ...address('Other'),
    ...address('Mailing'),
    field('Phone', 'phone', { length: 40, label: 'Business Phone' }),
    field('Fax', 'phone', { length: 40 }),
    field('MobilePhone', 'phone', { length: 40, label: 'Mobile Phone' }),
    field('HomePhone', 'phone', { length: 40, label: 'Home Phone' }),
    field('OtherPhone', 'phone', { length: 40 }),
    field('AssistantPhone', 'phone', { length: 40 }),
    ref('ReportsToId', 'Contact', 'ReportsTo'),
    field('Email', 'email', { length: 80 }),
    text('Title', 128),
    text('Department', 80),
    text('AssistantName', 40),
    picklist('LeadSource', LEAD_SOURCES, { length: 255, label: 'Lead Source' }),
    field('Birthdate', 'date'),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
    field('HasOptedOutOfEmail', 'boolean', { label: 'Email Opt Out', defaultValue: false }),
    field('HasOptedOutOfFax', 'boolean', { label: 'Fax Opt Out', defaultValue: false }),
    field('DoNotCall', 'boolean', { label: 'Do Not Call', defaultValue: false }),
    sys('LastActivityDate', 'date', { defaultedOnCreate: false }),
    sys('LastViewedDate', 'datetime', { defaultedOnCreate: false }),
    sys('LastReferencedDate', 'datetime', { defaultedOnCreate: false }),
    text('EmailBouncedReason', 255),
    field('EmailBouncedDate', 'datetime'),
    sys('IsEmailBounced', 'boolean'),
    sys('PhotoUrl', 'url', { length: 255, defaultedOnCreate: false }),
  ]);
}

function accountObject(): ObjectDef {
  return makeObject('Account', 'standard', [
    ...auditFields(),
    text('Name', 255, { nillable: false, required: true, label: 'Account Name' }),
    ref('ParentId', 'Account', 'Parent'),
    field('Phone', 'phone', { length: 40 }),
    field('Website', 'url', { length: 255 }),
    field('Description', 'textarea', { length: 32000 }),
    ownerField(),
  ]);
}

function userObject(): ObjectDef {
  return makeObject(
    'User',
    'setup',
    [
      ...auditFields(),
      text('Username', 80, { nillable: false, createable: false, updateable: false }),
      text('LastName', 80, { nillable: false, createable: false, updateable: false }),
      text('FirstName', 40, { createable: false, updateable: false }),
      text('Name', 121, { createable: false, updateable: false }),
      field('Email', 'email', { length: 128, createable: false, updateable: false }),
      text('Alias', 8, { createable: false, updateable: false }),
      sys('IsActive', 'boolean'),
      picklist('UserType', ['Standard', 'PowerPartner', 'CsnOnly'], { createable: false, updateable: false }),
      text('TimeZoneSidKey', 40, { createable: false, updateable: false }),
      ref('ProfileId', 'Profile', 'Profile', { createable: false, updateable: false }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

function permissionSetObject(): ObjectDef {
  return makeObject(
    'PermissionSet',
    'setup',
    [
      ...auditFields(),
      text('Name', 80, { createable: false, updateable: false }),
      text('Label', 80, { createable: false, updateable: false }),
      field('Description', 'textarea', { length: 255, createable: false, updateable: false }),
      sys('IsOwnedByProfile', 'boolean'),
      sys('IsCustom', 'boolean'),
      text('NamespacePrefix', 15, { createable: false, updateable: false }),
      // The profile that owns the set (IsOwnedByProfile), or the group whose aggregate it is (Type Group).
      ref('ProfileId', 'Profile', 'Profile', { createable: false, updateable: false }),
      ref('PermissionSetGroupId', 'PermissionSetGroup', 'PermissionSetGroup', {
        createable: false,
        updateable: false,
      }),
      picklist('Type', ['Regular', 'Profile', 'Group', 'Session', 'Standard'], {
        createable: false,
        updateable: false,
      }),
      // User permissions are boolean columns named Permissions<Name> (only the two an access review reads).
      sys('PermissionsViewAllData', 'boolean'),
      sys('PermissionsModifyAllData', 'boolean'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

function assignmentObject(): ObjectDef {
  return makeObject(
    'PermissionSetAssignment',
    'setup',
    [
      ...auditFields().filter((f) => f.name === 'Id' || f.name === 'SystemModstamp'),
      ref('AssigneeId', 'User', 'Assignee', { nillable: false, required: true, updateable: false }),
      ref('PermissionSetId', 'PermissionSet', 'PermissionSet', {
        nillable: false,
        required: true,
        updateable: false,
      }),
      // Set when the assignment is of a permission set group (PermissionSetId is then the group's aggregate set).
      ref('PermissionSetGroupId', 'PermissionSetGroup', 'PermissionSetGroup', { updateable: false }),
      sys('IsActive', 'boolean'),
    ],
    // Assignments can be inserted and deleted through the API, as in a real org.
    { createable: true, updateable: false, deletable: true },
  );
}

function fieldPermissionsObject(): ObjectDef {
  return makeObject(
    'FieldPermissions',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      ref('ParentId', 'PermissionSet', 'Parent', { createable: false, updateable: false }),
      text('SobjectType', 40, { createable: false, updateable: false }),
      text('Field', 100, { createable: false, updateable: false }),
      sys('PermissionsRead', 'boolean'),
      sys('PermissionsEdit', 'boolean'),
      sys('SystemModstamp', 'datetime'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

function objectPermissionsObject(): ObjectDef {
  return makeObject(
    'ObjectPermissions',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      ref('ParentId', 'PermissionSet', 'Parent', { createable: false, updateable: false }),
      text('SobjectType', 40, { createable: false, updateable: false }),
      sys('PermissionsCreate', 'boolean'),
      sys('PermissionsRead', 'boolean'),
      sys('PermissionsEdit', 'boolean'),
      sys('PermissionsDelete', 'boolean'),
      sys('PermissionsViewAllRecords', 'boolean'),
      sys('PermissionsModifyAllRecords', 'boolean'),
      sys('PermissionsViewAllFields', 'boolean'),
      sys('SystemModstamp', 'datetime'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

/** The junction of a permission set group and its member permission sets. */
function groupComponentObject(): ObjectDef {
  return makeObject(
    'PermissionSetGroupComponent',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      ref('PermissionSetGroupId', 'PermissionSetGroup', 'PermissionSetGroup', {
        createable: false,
        updateable: false,
      }),
      ref('PermissionSetId', 'PermissionSet', 'PermissionSet', { createable: false, updateable: false }),
      sys('SystemModstamp', 'datetime'),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

function organizationObject(): ObjectDef {
  return makeObject(
    'Organization',
    'setup',
    [
      sys('Id', 'id', { length: 18, nillable: false }),
      text('Name', 80, { createable: false, updateable: false }),
      text('InstanceName', 5, { createable: false, updateable: false }),
      sys('IsSandbox', 'boolean'),
      picklist('OrganizationType', ['Developer Edition', 'Enterprise Edition'], {
        createable: false,
        updateable: false,
      }),
      // What the Salesforce CLI reads on every login and `org display` (null outside trial orgs).
      sys('TrialExpirationDate', 'datetime'),
      text('NamespacePrefix', 15, { createable: false, updateable: false }),
    ],
    { createable: false, updateable: false, deletable: false },
  );
}

/** Standard objects with their real field names, types and lengths (the subset integrations use). */
export function standardObjects(): ObjectDef[] {
  return [
    contactObject(),
    accountObject(),
    userObject(),
    permissionSetObject(),
    assignmentObject(),
    fieldPermissionsObject(),
    objectPermissionsObject(),
    groupComponentObject(),
    organizationObject(),
    ...crmStandardObjects(),
  ];
}
