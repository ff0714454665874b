import { describe, expect, it } from 'vitest';
import {
  accessDiff,
  computeAccessPicture,
  mayRead,
  outsideAudience,
  type SetupRows,
  type SyncedField,
} from './access-picture.js';

const FIELDS: SyncedField[] = [
  { path: 'Contact.Email', classification: 'marketing-safe', permissionable: true },
  { path: 'Contact.LastName', classification: 'marketing-safe', permissionable: false },
  { path: 'Contact.Birthdate', classification: 'operations-safe', permissionable: true },
  { path: 'Cliniko_Invoice__c.Total_Amount__c', classification: 'billing', permissionable: true },
];

const set = (id: string, kind: SetupRows['sets'][number]['kind'], name: string, extra = {}) => ({
  id,
  kind,
  name,
  viewAllData: false,
  modifyAllData: false,
  ...extra,
});
const objectRead = (setId: string, object: string, extra = {}) => ({
  setId,
  object,
  read: true,
  viewAllRecords: false,
  modifyAllRecords: false,
  viewAllFields: false,
  ...extra,
});

/** One marketing user on a profile: the profile's set and the packaged marketing set. */
function org(profileGrants: { objects?: string[]; fields?: string[] } = {}): SetupRows {
  return {
    users: [{ id: 'u1', username: 'mia@clinic.example', profile: 'Marketing Team' }],
    sets: [set('p1', 'profile', 'Marketing Team'), set('s1', 'permission set', 'Cliniko_Sync_Marketing')],
    assignments: [
      { userId: 'u1', setId: 'p1' },
      { userId: 'u1', setId: 's1' },
    ],
    groupMembers: new Map(),
    objectPermissions: [
      objectRead('s1', 'Contact', { viewAllRecords: true }),
      ...(profileGrants.objects ?? []).map((o) => objectRead('p1', o, { viewAllRecords: true })),
    ],
    fieldReads: [
      { setId: 's1', field: 'Contact.Email' },
      ...(profileGrants.fields ?? []).map((field) => ({ setId: 'p1', field })),
    ],
  };
}

const AT = '2027-01-01T00:00:00.000Z';

describe('who reads each synced field, and through what', () => {
  it('needs the object and the field; a field outside field-level security needs only the object', () => {
    const picture = computeAccessPicture(org(), FIELDS, AT);
    const reads = picture.users.u1?.reads ?? {};
    expect(Object.keys(reads).sort()).toEqual(['Contact.Email', 'Contact.LastName']);
    expect(reads['Contact.Email']).toEqual({
      field: ['permission set Cliniko_Sync_Marketing'],
      object: ['permission set Cliniko_Sync_Marketing'],
      records: ['View All on Contact (permission set Cliniko_Sync_Marketing)'],
    });
    expect(reads['Contact.LastName']?.field).toEqual(['no field-level security']);
    expect(picture.users.u1?.audiences).toEqual(['marketing']);
  });

  it('flags a profile granting a marketing user billing fields, naming the profile', () => {
    // Arrange: the profile reads Cliniko_Invoice__c and its Total_Amount__c.
    const rows = org({ objects: ['Cliniko_Invoice__c'], fields: ['Cliniko_Invoice__c.Total_Amount__c'] });
    // Act
    const flags = outsideAudience(computeAccessPicture(rows, FIELDS, AT));
    // Assert
    expect(flags).toEqual([
      {
        kind: 'Outside Audience',
        userId: 'u1',
        username: 'mia@clinic.example',
        classification: 'billing',
        fields: ['Cliniko_Invoice__c.Total_Amount__c'],
        grants: ['profile Marketing Team'],
        detail: [
          'Cliniko_Invoice__c.Total_Amount__c: field via profile Marketing Team; object via profile Marketing Team; all records via View All on Cliniko_Invoice__c (profile Marketing Team)',
        ],
      },
    ]);
  });

  it('control: without the profile grant, or with the field but not the object, nothing is flagged', () => {
    expect(outsideAudience(computeAccessPicture(org(), FIELDS, AT))).toEqual([]);
    const fieldOnly = org({ fields: ['Cliniko_Invoice__c.Total_Amount__c'] });
    expect(outsideAudience(computeAccessPicture(fieldOnly, FIELDS, AT))).toEqual([]);
  });

  it('View All Data opens every object but not the fields; View All Fields opens the fields', () => {
    const rows = org();
    const admin: SetupRows = {
      ...rows,
      sets: [...rows.sets, set('p2', 'profile', 'System Administrator', { viewAllData: true })],
      users: [...rows.users, { id: 'u2', username: 'admin@clinic.example', profile: 'System Administrator' }],
      assignments: [...rows.assignments, { userId: 'u2', setId: 'p2' }],
    };
    const noFields = computeAccessPicture(admin, FIELDS, AT);
    expect(Object.keys(noFields.users.u2?.reads ?? {})).toEqual(['Contact.LastName']);
    const withViewAllFields: SetupRows = {
      ...admin,
      objectPermissions: [
        ...admin.objectPermissions,
        objectRead('p2', 'Cliniko_Invoice__c', { viewAllFields: true }),
      ],
    };
    const picture = computeAccessPicture(withViewAllFields, FIELDS, AT);
    expect(picture.users.u2?.reads['Cliniko_Invoice__c.Total_Amount__c']).toEqual({
      field: ['View All Fields on Cliniko_Invoice__c (profile System Administrator)'],
      object: ['profile System Administrator'],
      records: ['View All Data (profile System Administrator)'],
    });
    // No audience at all: every class it reads is outside.
    expect(
      outsideAudience(picture)
        .filter((f) => f.userId === 'u2')
        .map((f) => f.classification),
    ).toEqual(['marketing-safe', 'billing']);
  });

  it('a group makes its members audiences; a billing group member reads billing legitimately', () => {
    const rows = org({ objects: ['Cliniko_Invoice__c'] });
    const grouped: SetupRows = {
      ...rows,
      sets: [...rows.sets, set('g1', 'permission set group', 'Front_Desk')],
      assignments: [...rows.assignments, { userId: 'u1', setId: 'g1' }],
      groupMembers: new Map([['g1', ['Cliniko_Sync_Billing']]]),
      fieldReads: [...rows.fieldReads, { setId: 'g1', field: 'Cliniko_Invoice__c.Total_Amount__c' }],
    };
    const picture = computeAccessPicture(grouped, FIELDS, AT);
    expect(picture.users.u1?.audiences).toEqual(['marketing', 'billing']);
    expect(picture.users.u1?.reads['Cliniko_Invoice__c.Total_Amount__c']?.field).toEqual([
      'permission set group Front_Desk',
    ]);
    expect(outsideAudience(picture)).toEqual([]);
  });

  it('the lattice: the integration user reads every class, nobody reads clinician-only', () => {
    expect(mayRead(['integration'], 'billing')).toBe(true);
    expect(mayRead(['marketing'], 'operations-safe')).toBe(false);
    expect(mayRead(['operations'], 'operations-safe')).toBe(true);
    expect(mayRead(['compliance'], 'clinician-only')).toBe(false);
  });
});

describe('gained and lost since the baseline', () => {
  it('reports fields gained and lost per user and class (in class order), with the path of the side that has them', () => {
    const before = computeAccessPicture(org(), FIELDS, AT);
    const granted = org({ objects: ['Cliniko_Invoice__c'], fields: ['Cliniko_Invoice__c.Total_Amount__c'] });
    const after = computeAccessPicture({ ...granted, fieldReads: granted.fieldReads.slice(1) }, FIELDS, AT);
    const diff = accessDiff(before, after);
    expect(diff.map((f) => [f.kind, f.classification, f.fields, f.grants])).toEqual([
      ['Lost', 'marketing-safe', ['Contact.Email'], ['permission set Cliniko_Sync_Marketing']],
      ['Gained', 'billing', ['Cliniko_Invoice__c.Total_Amount__c'], ['profile Marketing Team']],
    ]);
  });

  it('control: the same picture twice has no changes; a user who left is a loss of everything', () => {
    const picture = computeAccessPicture(org(), FIELDS, AT);
    expect(accessDiff(picture, picture)).toEqual([]);
    const gone = computeAccessPicture({ ...org(), users: [] }, FIELDS, AT);
    expect(accessDiff(picture, gone).map((f) => [f.kind, f.fields])).toEqual([
      ['Lost', ['Contact.Email', 'Contact.LastName']],
    ]);
  });
});
