import { describe, expect, it } from 'vitest';
import type { SoqlContext, SoqlField, SoqlObject } from '../model.js';
import { dateLiteralRange, executeSoql, SoqlError } from './index.js';

// ---- a small in-memory org: Users, Contacts, Care Plans and Appointments -------------------------

type FieldSpec = [name: string, type: SoqlField['type'], referenceTo?: string, relationshipName?: string];

function object(
  name: string,
  specs: FieldSpec[],
  children: Array<[string, string, string]> = [],
): SoqlObject {
  const fields = new Map<string, SoqlField>();
  for (const [fieldName, type, referenceTo, relationshipName] of [['Id', 'id'], ...specs] as FieldSpec[]) {
    fields.set(fieldName.toLowerCase(), {
      name: fieldName,
      type,
      ...(referenceTo ? { referenceTo: [referenceTo], relationshipName } : {}),
    });
  }
  return {
    name,
    fields,
    childRelationships: new Map(
      children.map(([rel, childObject, field]) => [rel.toLowerCase(), { childObject, field }]),
    ),
  };
}

const SCHEMA = [
  object('User', [['Name', 'string']]),
  object(
    'Contact',
    [
      ['FirstName', 'string'],
      ['LastName', 'string'],
      ['Email', 'email'],
      ['Birthdate', 'date'],
      ['HasOptedOutOfEmail', 'boolean'],
      ['OwnerId', 'reference', 'User', 'Owner'],
      ['Cliniko_Patient_Id__c', 'string'],
      ['Journey_Stage__c', 'picklist'],
      ['Journey_Stage_Since__c', 'datetime'],
      ['Appointments_Attended__c', 'double'],
      ['Lifetime_Invoiced__c', 'currency'],
      ['Interests__c', 'multipicklist'],
      ['Secret_Note__c', 'textarea'],
      ['IsDeleted', 'boolean'],
      ['CreatedDate', 'datetime'],
    ],
    [['Care_Plans__r', 'Care_Plan__c', 'Contact__c']],
  ),
  object('Care_Plan__c', [
    ['Name', 'string'],
    ['Contact__c', 'reference', 'Contact', 'Contact__r'],
    ['Status__c', 'picklist'],
    ['Sessions_Used__c', 'double'],
    ['Issue_Date__c', 'date'],
    ['IsDeleted', 'boolean'],
  ]),
  object('Cliniko_Appointment__c', [
    ['Name', 'string'],
    ['Contact__c', 'reference', 'Contact', 'Contact__r'],
    ['Care_Plan__c', 'reference', 'Care_Plan__c', 'Care_Plan__r'],
    ['Starts_At__c', 'datetime'],
    ['Status__c', 'picklist'],
    ['IsDeleted', 'boolean'],
  ]),
];

const U1 = '005000000000001AAA';
const C1 = '003000000000001AAA';
const C2 = '003000000000002AAA';
const C3 = '003000000000003AAA';
const C4 = '003000000000004AAA';
const P1 = 'a01000000000001AAA';
const P2 = 'a01000000000002AAA';
const P3 = 'a01000000000003AAA';
const A1 = 'a02000000000001AAA';
const A2 = 'a02000000000002AAA';

const NOW = new Date('2026-11-22T01:02:03.000Z'); // a Sunday

function data(): Record<string, Array<Record<string, unknown>>> {
  return {
    User: [{ Id: U1, Name: 'Integration User' }],
    Contact: [
      {
        Id: C1,
        FirstName: 'Ada',
        LastName: 'Lovelace',
        Email: 'ada@example.com',
        Birthdate: '1990-12-10',
        HasOptedOutOfEmail: false,
        OwnerId: U1,
        Cliniko_Patient_Id__c: '1001',
        Journey_Stage__c: 'In Care',
        Journey_Stage_Since__c: '2026-11-21T10:00:00.000Z',
        Appointments_Attended__c: 5,
        Lifetime_Invoiced__c: 500.5,
        Interests__c: 'Yoga;Pilates',
        Secret_Note__c: 'hidden',
        CreatedDate: '2026-01-01T00:00:00.000Z',
      },
      {
        Id: C2,
        FirstName: 'Grace',
        LastName: 'Hopper',
        Email: null,
        Birthdate: null,
        HasOptedOutOfEmail: true,
        OwnerId: U1,
        Cliniko_Patient_Id__c: '1002',
        Journey_Stage__c: 'Lapsed',
        Journey_Stage_Since__c: '2026-09-15T00:00:00.000Z',
        Appointments_Attended__c: 2,
        Lifetime_Invoiced__c: 120,
        Interests__c: 'Yoga',
        CreatedDate: '2025-06-01T00:00:00.000Z',
      },
      {
        Id: C3,
        FirstName: null,
        LastName: "O'Brien",
        Email: 'OBRIEN@EXAMPLE.COM',
        Birthdate: '1985-01-01',
        HasOptedOutOfEmail: false,
        OwnerId: null,
        Cliniko_Patient_Id__c: '1003',
        Journey_Stage__c: 'In Care',
        Journey_Stage_Since__c: new Date('2026-11-22T00:30:00.000Z'),
        Appointments_Attended__c: null,
        Lifetime_Invoiced__c: null,
        Interests__c: null,
        CreatedDate: '2026-11-20T08:00:00.000Z',
      },
      {
        Id: C4,
        LastName: 'Gone',
        IsDeleted: true,
        Cliniko_Patient_Id__c: '1004',
        Journey_Stage__c: 'In Care',
      },
    ],
    Care_Plan__c: [
      {
        Id: P1,
        Name: 'CP-000001',
        Contact__c: C1,
        Status__c: 'Open',
        Sessions_Used__c: 3,
        Issue_Date__c: '2026-11-01',
      },
      {
        Id: P2,
        Name: 'CP-000002',
        Contact__c: C1,
        Status__c: 'Closed',
        Sessions_Used__c: 10,
        Issue_Date__c: '2026-08-15',
      },
      {
        Id: P3,
        Name: 'CP-000003',
        Contact__c: C2,
        Status__c: 'open',
        Sessions_Used__c: 1,
        Issue_Date__c: '2025-12-31',
      },
    ],
    Cliniko_Appointment__c: [
      {
        Id: A1,
        Name: 'APT-1',
        Contact__c: C1,
        Care_Plan__c: P1,
        Starts_At__c: '2026-11-23T09:00:00.000Z',
        Status__c: 'Booked',
      },
      {
        Id: A2,
        Name: 'APT-2',
        Contact__c: C3,
        Care_Plan__c: null,
        Starts_At__c: '2026-11-10T09:00:00+1100',
        Status__c: 'Arrived',
      },
    ],
  };
}

function context(overrides: Partial<SoqlContext> & { hidden?: string[] } = {}): SoqlContext {
  const rows = data();
  const hidden = new Set((overrides.hidden ?? ['Contact.Secret_Note__c']).map((s) => s.toLowerCase()));
  const byName = new Map(SCHEMA.map((o) => [o.name.toLowerCase(), o]));
  return {
    describe: (name) => byName.get(name.toLowerCase()),
    records: (name) => rows[name] ?? [],
    byId: (id) => {
      for (const [objectName, list] of Object.entries(rows)) {
        const record = list.find((r) => r.Id === id);
        if (record) return { objectName, record };
      }
      return undefined;
    },
    canRead: (objectName, fieldName) => !hidden.has(`${objectName}.${fieldName}`.toLowerCase()),
    now: NOW,
    includeDeleted: false,
    apiVersion: '66.0',
    ...overrides,
  };
}

function ids(soql: string, ctx = context()): string[] {
  return executeSoql(soql, ctx).records.map((r) => r.Id as string);
}

function soqlError(soql: string, ctx = context()): SoqlError {
  try {
    executeSoql(soql, ctx);
  } catch (error) {
    if (error instanceof SoqlError) return error;
    throw error;
  }
  throw new Error(`expected ${soql} to fail`);
}

// ---- tests --------------------------------------------------------------------------------------

describe('executeSoql: field lists and record shape', () => {
  it('returns REST-shaped records with attributes, canonical names and REST JSON types', () => {
    const result = executeSoql(
      'select id, lastname, BIRTHDATE, journey_stage_since__c, HasOptedOutOfEmail, Appointments_Attended__c ' +
        "from contact where Cliniko_Patient_Id__c = '1001'",
      context(),
    );
    expect(result).toEqual({
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: { type: 'Contact', url: `/services/data/v66.0/sobjects/Contact/${C1}` },
          Id: C1,
          LastName: 'Lovelace',
          Birthdate: '1990-12-10',
          Journey_Stage_Since__c: '2026-11-21T10:00:00.000+0000',
          HasOptedOutOfEmail: false,
          Appointments_Attended__c: 5,
        },
      ],
    });
  });

  it('passes typed values in text fields through unchanged (history OldValue/NewValue are anyType)', () => {
    const ctx = context();
    const contacts = [...ctx.records('Contact')] as Array<Record<string, unknown>>;
    contacts[0]!.Secret_Note__c = 42;
    const visible = context({
      hidden: [],
      records: (name) => (name === 'Contact' ? contacts : ctx.records(name)),
    });
    const [record] = executeSoql(`SELECT Secret_Note__c FROM Contact WHERE Id = '${C1}'`, visible).records;
    expect(record?.Secret_Note__c).toBe(42);
  });

  it('formats Date objects and offset datetimes as UTC +0000', () => {
    const [c3] = executeSoql(
      `SELECT Journey_Stage_Since__c FROM Contact WHERE Id = '${C3}'`,
      context(),
    ).records;
    expect(c3?.Journey_Stage_Since__c).toBe('2026-11-22T00:30:00.000+0000');
    const [a2] = executeSoql(
      `SELECT Starts_At__c FROM Cliniko_Appointment__c WHERE Id = '${A2}'`,
      context(),
    ).records;
    expect(a2?.Starts_At__c).toBe('2026-11-09T22:00:00.000+0000');
  });

  it('nests parent relationship fields, several levels deep, null when there is no parent', () => {
    const { records } = executeSoql(
      'SELECT Name, Contact__r.LastName, Contact__r.Owner.Name, Care_Plan__r.Name, Contact__r.Email ' +
        'FROM Cliniko_Appointment__c ORDER BY Name',
      context(),
    );
    expect(records[0]).toEqual({
      attributes: {
        type: 'Cliniko_Appointment__c',
        url: `/services/data/v66.0/sobjects/Cliniko_Appointment__c/${A1}`,
      },
      Name: 'APT-1',
      Contact__r: {
        attributes: { type: 'Contact', url: `/services/data/v66.0/sobjects/Contact/${C1}` },
        LastName: 'Lovelace',
        Owner: {
          attributes: { type: 'User', url: `/services/data/v66.0/sobjects/User/${U1}` },
          Name: 'Integration User',
        },
        Email: 'ada@example.com',
      },
      Care_Plan__r: {
        attributes: { type: 'Care_Plan__c', url: `/services/data/v66.0/sobjects/Care_Plan__c/${P1}` },
        Name: 'CP-000001',
      },
    });
    expect(records[1]?.Care_Plan__r).toBeNull();
    expect((records[1]?.Contact__r as Record<string, unknown>).Owner).toBeNull();
  });

  it('accepts an object alias as a field prefix', () => {
    expect(ids("SELECT c.Id FROM Contact c WHERE c.LastName = 'hopper'")).toEqual([C2]);
    expect(ids("SELECT Contact.Id FROM Contact WHERE Contact.LastName = 'hopper'")).toEqual([C2]);
  });

  it('rejects a field selected twice', () => {
    const error = soqlError('SELECT Id, LastName, lastname FROM Contact');
    expect(error.errorCode).toBe('MALFORMED_QUERY');
    expect(error.message).toBe('duplicate field selected: lastname');
  });

  it('expands FIELDS(CUSTOM) to the readable custom fields', () => {
    const [record] = executeSoql(
      `SELECT FIELDS(CUSTOM) FROM Care_Plan__c WHERE Id = '${P1}'`,
      context(),
    ).records;
    expect(Object.keys(record ?? {})).toEqual([
      'attributes',
      'Contact__c',
      'Status__c',
      'Sessions_Used__c',
      'Issue_Date__c',
    ]);
  });

  it('returns child relationship subqueries as nested query results, null when empty', () => {
    const { records } = executeSoql(
      "SELECT LastName, (SELECT Name FROM Care_Plans__r WHERE Status__c = 'Open' ORDER BY Name DESC) FROM Contact ORDER BY LastName",
      context(),
    );
    const byName = Object.fromEntries(records.map((r) => [r.LastName as string, r.Care_Plans__r]));
    expect(byName.Lovelace).toEqual({
      totalSize: 1,
      done: true,
      records: [
        {
          attributes: { type: 'Care_Plan__c', url: `/services/data/v66.0/sobjects/Care_Plan__c/${P1}` },
          Name: 'CP-000001',
        },
      ],
    });
    expect((byName.Hopper as { records: unknown[] }).records).toHaveLength(1);
    expect(byName["O'Brien"]).toBeNull();
  });

  it('names a child subquery by the canonical relationship name when the schema gives one', () => {
    const contact = object('Contact', [['LastName', 'string']]);
    const withName = {
      ...contact,
      childRelationships: new Map([
        [
          'care_plans__r',
          { childObject: 'Care_Plan__c', field: 'Contact__c', relationshipName: 'Care_Plans__r' },
        ],
      ]),
    };
    const base = context();
    const ctx = context({
      describe: (name) => (name.toLowerCase() === 'contact' ? withName : base.describe(name)),
    });
    const [record] = executeSoql(
      `SELECT Id, (SELECT Id FROM care_plans__R) FROM Contact WHERE Id = '${C1}'`,
      ctx,
    ).records;
    expect(record).toHaveProperty('Care_Plans__r.totalSize', 2);
  });
});

describe('executeSoql: WHERE', () => {
  it('compares strings case-insensitively and handles escaped quotes', () => {
    expect(ids("SELECT Id FROM Contact WHERE Email = 'obrien@example.com'")).toEqual([C3]);
    expect(ids("SELECT Id FROM Contact WHERE LastName = 'o\\'brien'")).toEqual([C3]);
    expect(ids("SELECT Id FROM Contact WHERE LastName > 'M' ORDER BY LastName")).toEqual([C3]);
  });

  it('supports != (including nulls, as Salesforce does), < <= > >= on numbers', () => {
    expect(ids("SELECT Id FROM Contact WHERE Email != 'ada@example.com'")).toEqual([C2, C3]);
    expect(ids('SELECT Id FROM Contact WHERE Appointments_Attended__c > 2')).toEqual([C1]);
    expect(ids('SELECT Id FROM Contact WHERE Appointments_Attended__c >= 2')).toEqual([C1, C2]);
    expect(ids('SELECT Id FROM Contact WHERE Appointments_Attended__c < 5')).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE Appointments_Attended__c <= 5.0')).toEqual([C1, C2]);
    expect(ids('SELECT Id FROM Contact WHERE Lifetime_Invoiced__c = 500.50')).toEqual([C1]);
  });

  it('handles null checks and booleans', () => {
    expect(ids('SELECT Id FROM Contact WHERE Email = null')).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE Email != NULL')).toEqual([C1, C3]);
    expect(ids('SELECT Id FROM Contact WHERE HasOptedOutOfEmail = true')).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE HasOptedOutOfEmail = FALSE')).toEqual([C1, C3]);
  });

  it('combines AND, OR, NOT and parentheses with SOQL precedence', () => {
    expect(
      ids(
        "SELECT Id FROM Contact WHERE (LastName = 'Hopper' OR LastName = 'Lovelace') AND HasOptedOutOfEmail = false",
      ),
    ).toEqual([C1]);
    expect(ids("SELECT Id FROM Contact WHERE NOT LastName = 'Hopper' AND Email != null")).toEqual([C1, C3]);
    expect(ids("SELECT Id FROM Contact WHERE NOT (LastName = 'Hopper' OR LastName = 'Lovelace')")).toEqual([
      C3,
    ]);
    expect(
      ids(
        "SELECT Id FROM Contact WHERE LastName = 'Hopper' OR (Email != null AND (NOT Journey_Stage__c = 'lapsed'))",
      ),
    ).toEqual([C1, C2, C3]);
    expect(ids("SELECT Id FROM Contact WHERE ((LastName = 'Hopper'))")).toEqual([C2]);
    expect(
      ids(
        "SELECT Id FROM Contact WHERE Email != null AND NOT (LastName = 'Hopper' OR LastName = 'Lovelace')",
      ),
    ).toEqual([C3]);
    expect(
      ids(
        "SELECT Id FROM Contact WHERE Email != null AND (NOT LastName = 'Lovelace' OR HasOptedOutOfEmail = true)",
      ),
    ).toEqual([C3]);
    expect(ids("SELECT Id FROM Contact WHERE (NOT LastName = 'Lovelace') AND Email != null")).toEqual([C3]);
    expect(ids("SELECT Id FROM Contact WHERE NOT (NOT LastName = 'Lovelace')")).toEqual([C1]);
  });

  it('rejects AND and OR mixed without parentheses', () => {
    const error = soqlError("SELECT Id FROM Contact WHERE LastName = 'a' AND Email = null OR LastName = 'b'");
    expect(error.errorCode).toBe('MALFORMED_QUERY');
  });

  it('supports IN and NOT IN with literal lists', () => {
    expect(ids("SELECT Id FROM Contact WHERE Cliniko_Patient_Id__c IN ('1001', '1003', '9999')")).toEqual([
      C1,
      C3,
    ]);
    expect(ids("SELECT Id FROM Contact WHERE Journey_Stage__c NOT IN ('IN CARE')")).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE Appointments_Attended__c IN (2, 5)')).toEqual([C1, C2]);
  });

  it('supports semi-joins on ids', () => {
    expect(
      ids(
        "SELECT Id FROM Contact WHERE Id IN (SELECT Contact__c FROM Care_Plan__c WHERE Status__c = 'open')",
      ),
    ).toEqual([C1, C2]);
    expect(
      ids(
        'SELECT Id FROM Contact WHERE Id IN (SELECT Contact__c FROM Care_Plan__c WHERE CALENDAR_YEAR(Issue_Date__c) = 2025)',
      ),
    ).toEqual([C2]);
    expect(
      ids('SELECT Id FROM Contact WHERE Id NOT IN (SELECT Contact__c FROM Cliniko_Appointment__c)'),
    ).toEqual([C2]);
  });

  it('supports LIKE with % and _, case-insensitively, and escaped wildcards', () => {
    expect(ids("SELECT Id FROM Contact WHERE LastName LIKE 'lo%'")).toEqual([C1]);
    expect(ids("SELECT Id FROM Contact WHERE Email LIKE '%EXAMPLE.com'")).toEqual([C1, C3]);
    expect(ids("SELECT Id FROM Contact WHERE LastName LIKE 'H_pper'")).toEqual([C2]);
    expect(ids("SELECT Id FROM Contact WHERE LastName LIKE 'H_per'")).toEqual([]);
    expect(ids("SELECT Id FROM Care_Plan__c WHERE Name LIKE 'CP_000001'")).toEqual([P1]);
    // An escaped underscore matches only an underscore, not the hyphen in CP-000001.
    expect(ids("SELECT Id FROM Care_Plan__c WHERE Name LIKE 'CP\\_000001'")).toEqual([]);
    expect(ids("SELECT Id FROM Care_Plan__c WHERE Name LIKE 'CP\\%%'")).toEqual([]);
  });

  it('filters on parent relationship fields', () => {
    expect(ids("SELECT Id FROM Care_Plan__c WHERE Contact__r.LastName = 'lovelace'")).toEqual([P1, P2]);
    expect(
      ids("SELECT Id FROM Cliniko_Appointment__c WHERE Contact__r.Owner.Name LIKE 'Integration%'"),
    ).toEqual([A1]);
  });

  it('supports multipicklist =, INCLUDES and EXCLUDES', () => {
    expect(ids("SELECT Id FROM Contact WHERE Interests__c = 'pilates;yoga'")).toEqual([C1]);
    expect(ids("SELECT Id FROM Contact WHERE Interests__c INCLUDES ('Yoga')")).toEqual([C1, C2]);
    expect(ids("SELECT Id FROM Contact WHERE Interests__c INCLUDES ('Yoga;Pilates')")).toEqual([C1]);
    expect(ids("SELECT Id FROM Contact WHERE Interests__c EXCLUDES ('Pilates')")).toEqual([C2, C3]);
  });

  it('matches 15-character ids against 18-character ids', () => {
    expect(ids(`SELECT Id FROM Contact WHERE Id = '${C2.slice(0, 15)}'`)).toEqual([C2]);
    expect(ids(`SELECT Id FROM Contact WHERE Id = '${C2.toLowerCase()}'`)).toEqual([]);
  });

  it('compares date and datetime literals', () => {
    expect(ids('SELECT Id FROM Contact WHERE Birthdate = 1990-12-10')).toEqual([C1]);
    expect(ids('SELECT Id FROM Contact WHERE Birthdate < 1990-01-01')).toEqual([C3]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate >= 2026-01-01T00:00:00Z')).toEqual([C1, C3]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate > 2026-01-01T12:00:00+1100')).toEqual([C3]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate = 2026-01-01T00:00:00.000Z')).toEqual([C1]);
  });

  it('evaluates date literals against the context clock in UTC', () => {
    expect(ids('SELECT Id FROM Contact WHERE Journey_Stage_Since__c = TODAY')).toEqual([C3]);
    expect(ids('SELECT Id FROM Contact WHERE Journey_Stage_Since__c = YESTERDAY')).toEqual([C1]);
    expect(ids('SELECT Id FROM Contact WHERE Journey_Stage_Since__c = LAST_N_DAYS:1')).toEqual([C1, C3]);
    expect(ids('SELECT Id FROM Contact WHERE Journey_Stage_Since__c < LAST_N_DAYS:30')).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate = THIS_YEAR')).toEqual([C1, C3]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate = LAST_YEAR')).toEqual([C2]);
    expect(ids('SELECT Id FROM Contact WHERE CreatedDate IN (LAST_YEAR, THIS_MONTH)')).toEqual([C2, C3]);
    expect(ids('SELECT Id FROM Care_Plan__c WHERE Issue_Date__c = THIS_MONTH')).toEqual([P1]);
    expect(ids('SELECT Id FROM Care_Plan__c WHERE Issue_Date__c = LAST_QUARTER')).toEqual([P2]);
    expect(ids('SELECT Id FROM Care_Plan__c WHERE Issue_Date__c = N_DAYS_AGO:21')).toEqual([P1]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE Starts_At__c = NEXT_N_DAYS:1')).toEqual([A1]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE Starts_At__c = TOMORROW')).toEqual([A1]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE Starts_At__c > TODAY')).toEqual([A1]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE Starts_At__c = LAST_WEEK')).toEqual([]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE Starts_At__c = THIS_WEEK')).toEqual([A1]);
  });

  it('rejects literals of the wrong type for the field', () => {
    const quoted = soqlError("SELECT Id FROM Contact WHERE Birthdate = '1990-12-10'");
    expect(quoted.errorCode).toBe('INVALID_FIELD');
    expect(quoted.message).toBe(
      "value of filter criterion for field 'Birthdate' must be of type date and should not be enclosed in quotes",
    );
    expect(soqlError('SELECT Id FROM Contact WHERE LastName = 5').message).toContain(
      'should be enclosed in quotes',
    );
    expect(soqlError('SELECT Id FROM Contact WHERE CreatedDate = 2026-01-01').errorCode).toBe(
      'INVALID_FIELD',
    );
    expect(soqlError('SELECT Id FROM Contact WHERE LastName = TODAY').errorCode).toBe('INVALID_FIELD');
  });
});

describe('dateLiteralRange', () => {
  const range = (literal: string) => {
    const r = dateLiteralRange(literal, NOW);
    return [new Date(r.start).toISOString().slice(0, 10), new Date(r.end).toISOString().slice(0, 10)];
  };
  it('computes calendar ranges in UTC', () => {
    expect(range('TODAY')).toEqual(['2026-11-22', '2026-11-23']);
    expect(range('THIS_WEEK')).toEqual(['2026-11-22', '2026-11-29']);
    expect(range('LAST_WEEK')).toEqual(['2026-11-15', '2026-11-22']);
    expect(range('LAST_MONTH')).toEqual(['2026-10-01', '2026-11-01']);
    expect(range('THIS_QUARTER')).toEqual(['2026-10-01', '2027-01-01']);
    expect(range('NEXT_QUARTER')).toEqual(['2027-01-01', '2027-04-01']);
    expect(range('LAST_N_DAYS:7')).toEqual(['2026-11-15', '2026-11-23']);
    expect(range('NEXT_N_DAYS:7')).toEqual(['2026-11-23', '2026-11-30']);
    expect(range('LAST_N_MONTHS:2')).toEqual(['2026-09-01', '2026-11-01']);
    expect(range('N_YEARS_AGO:1')).toEqual(['2025-01-01', '2026-01-01']);
    expect(range('THIS_FISCAL_YEAR')).toEqual(['2026-01-01', '2027-01-01']);
  });
  it('rejects unknown literals', () => {
    expect(() => dateLiteralRange('LAST_FORTNIGHT', NOW)).toThrow(SoqlError);
  });
});

describe('executeSoql: ORDER BY, LIMIT, OFFSET', () => {
  it('sorts ascending with nulls first by default, descending with nulls last', () => {
    expect(ids('SELECT Id FROM Contact ORDER BY Appointments_Attended__c')).toEqual([C3, C2, C1]);
    expect(ids('SELECT Id FROM Contact ORDER BY Appointments_Attended__c DESC')).toEqual([C1, C2, C3]);
    expect(ids('SELECT Id FROM Contact ORDER BY Appointments_Attended__c ASC NULLS LAST')).toEqual([
      C2,
      C1,
      C3,
    ]);
    expect(ids('SELECT Id FROM Contact ORDER BY Appointments_Attended__c DESC NULLS FIRST')).toEqual([
      C3,
      C1,
      C2,
    ]);
  });

  it('sorts by several fields, strings case-insensitively, and by parent fields', () => {
    expect(ids('SELECT Id FROM Contact ORDER BY Journey_Stage__c, LastName DESC')).toEqual([C3, C1, C2]);
    expect(ids('SELECT Id FROM Care_Plan__c ORDER BY Status__c DESC, Name')).toEqual([P1, P3, P2]);
    expect(ids('SELECT Id FROM Care_Plan__c ORDER BY Contact__r.LastName, Sessions_Used__c DESC')).toEqual([
      P3,
      P2,
      P1,
    ]);
  });

  it('applies OFFSET then LIMIT after sorting', () => {
    expect(ids('SELECT Id FROM Contact ORDER BY LastName LIMIT 2')).toEqual([C2, C1]);
    expect(ids('SELECT Id FROM Contact ORDER BY LastName LIMIT 1 OFFSET 1')).toEqual([C1]);
    expect(ids('SELECT Id FROM Contact ORDER BY LastName OFFSET 2')).toEqual([C3]);
  });
});

describe('executeSoql: aggregates', () => {
  it('COUNT() alone returns the count as totalSize and no records', () => {
    expect(executeSoql('SELECT COUNT() FROM Contact', context())).toEqual({
      totalSize: 3,
      done: true,
      records: [],
    });
    expect(
      executeSoql("SELECT COUNT() FROM Contact WHERE Journey_Stage__c = 'in care'", context()).totalSize,
    ).toBe(2);
  });

  it('COUNT(field) counts non-null values into expr0, aliases name the column', () => {
    expect(executeSoql('SELECT COUNT(Email), COUNT(Id) total FROM Contact', context()).records).toEqual([
      { attributes: { type: 'AggregateResult' }, expr0: 2, total: 3 },
    ]);
  });

  it('GROUP BY with COUNT, SUM, AVG, MIN and MAX', () => {
    const { records, totalSize } = executeSoql(
      'SELECT Status__c, COUNT(Id), SUM(Sessions_Used__c) used, AVG(Sessions_Used__c), MIN(Issue_Date__c), MAX(Name) ' +
        'FROM Care_Plan__c GROUP BY Status__c ORDER BY Status__c',
      context(),
    );
    expect(totalSize).toBe(2);
    expect(records).toEqual([
      {
        attributes: { type: 'AggregateResult' },
        Status__c: 'Closed',
        expr0: 1,
        used: 10,
        expr1: 10,
        expr2: '2026-08-15',
        expr3: 'CP-000002',
      },
      // 'Open' and 'open' group together, as Salesforce groups text case-insensitively.
      {
        attributes: { type: 'AggregateResult' },
        Status__c: 'Open',
        expr0: 2,
        used: 4,
        expr1: 2,
        expr2: '2025-12-31',
        expr3: 'CP-000003',
      },
    ]);
  });

  it('GROUP BY a parent field, HAVING and ORDER BY an aggregate', () => {
    const { records } = executeSoql(
      'SELECT Contact__r.LastName, COUNT(Id) n FROM Care_Plan__c GROUP BY Contact__r.LastName HAVING COUNT(Id) > 1 ' +
        'ORDER BY COUNT(Id) DESC',
      context(),
    );
    expect(records).toEqual([{ attributes: { type: 'AggregateResult' }, LastName: 'Lovelace', n: 2 }]);
  });

  it('aggregates over no rows give one row with zero counts and null sums', () => {
    expect(
      executeSoql("SELECT COUNT(Id), SUM(Sessions_Used__c) FROM Care_Plan__c WHERE Name = 'none'", context())
        .records,
    ).toEqual([{ attributes: { type: 'AggregateResult' }, expr0: 0, expr1: null }]);
  });

  it('groups, filters and orders by date functions', () => {
    const { records } = executeSoql(
      'SELECT CALENDAR_YEAR(CreatedDate) yr, COUNT(Id) FROM Contact GROUP BY CALENDAR_YEAR(CreatedDate) ' +
        'ORDER BY CALENDAR_YEAR(CreatedDate) DESC',
      context(),
    );
    expect(records).toEqual([
      { attributes: { type: 'AggregateResult' }, yr: 2026, expr0: 2 },
      { attributes: { type: 'AggregateResult' }, yr: 2025, expr0: 1 },
    ]);
    const byDay = executeSoql(
      'SELECT DAY_ONLY(Starts_At__c), COUNT(Id) FROM Cliniko_Appointment__c GROUP BY DAY_ONLY(Starts_At__c) ORDER BY DAY_ONLY(Starts_At__c)',
      context(),
    ).records;
    expect(byDay.map((r) => r.expr0)).toEqual(['2026-11-09', '2026-11-23']);
    expect(ids('SELECT Id FROM Contact WHERE CALENDAR_MONTH(Birthdate) = 12')).toEqual([C1]);
    expect(ids('SELECT Id FROM Contact WHERE DAY_IN_WEEK(CreatedDate) = 5')).toEqual([C1]); // 2026-01-01 was a Thursday
    expect(
      ids(
        'SELECT Id FROM Care_Plan__c WHERE CALENDAR_QUARTER(Issue_Date__c) IN (3, 4) AND WEEK_IN_YEAR(Issue_Date__c) > 40',
      ),
    ).toEqual([P1, P3]);
    expect(ids('SELECT Id FROM Cliniko_Appointment__c WHERE HOUR_IN_DAY(Starts_At__c) = 22')).toEqual([A2]);
    expect(soqlError('SELECT Id FROM Contact WHERE CALENDAR_YEAR(LastName) = 2026').errorCode).toBe(
      'INVALID_FIELD',
    );
    expect(soqlError('SELECT CALENDAR_YEAR(CreatedDate) FROM Contact').errorCode).toBe('MALFORMED_QUERY');
    expect(
      soqlError('SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Contact GROUP BY LastName').message,
    ).toBe('Field must be grouped or aggregated: CreatedDate');
  });

  it('rejects an ungrouped field and SUM on text', () => {
    const ungrouped = soqlError('SELECT Name, COUNT(Id) FROM Care_Plan__c GROUP BY Status__c');
    expect(ungrouped.errorCode).toBe('MALFORMED_QUERY');
    expect(ungrouped.message).toBe('Field must be grouped or aggregated: Name');
    expect(soqlError('SELECT SUM(Name) FROM Care_Plan__c').message).toBe(
      'field Name does not support aggregate operator SUM',
    );
  });
});

describe('executeSoql: deleted rows', () => {
  it('leaves deleted rows out unless includeDeleted (queryAll)', () => {
    expect(ids("SELECT Id FROM Contact WHERE Journey_Stage__c = 'In Care'")).toEqual([C1, C3]);
    expect(
      ids("SELECT Id FROM Contact WHERE Journey_Stage__c = 'In Care'", context({ includeDeleted: true })),
    ).toEqual([C1, C3, C4]);
  });
});

describe('executeSoql: errors in Salesforce shape', () => {
  it('MALFORMED_QUERY for syntax errors', () => {
    for (const bad of [
      'SELECT Id FROM',
      'SELECT FROM Contact',
      "SELECT Id FROM Contact WHERE LastName = 'x' AND",
      'DELETE Contact',
    ]) {
      const error = soqlError(bad);
      expect(error.errorCode, bad).toBe('MALFORMED_QUERY');
      expect(error.message, bad).toMatch(/^unexpected token: /);
    }
    expect(soqlError('SELECT Id FROM').message).toBe('unexpected token: <EOF>');
    expect(soqlError('SELECT Id, FROM Contact').message).toBe("unexpected token: 'FROM'");
  });

  it('INVALID_FIELD for unknown fields with Salesforce wording', () => {
    const error = soqlError('SELECT Id, Nmae FROM Contact');
    expect(error.errorCode).toBe('INVALID_FIELD');
    expect(error.message).toBe(
      "No such column 'Nmae' on entity 'Contact'. If you are attempting to use a custom field, be sure to append " +
        "the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
    );
    expect(soqlError("SELECT Id FROM Contact WHERE Foo__c = 'x'").message).toContain(
      "No such column 'Foo__c' on entity 'Contact'",
    );
    expect(soqlError('SELECT Id FROM Contact ORDER BY Foo__c').errorCode).toBe('INVALID_FIELD');
    expect(soqlError('SELECT Contact__r.Nope FROM Care_Plan__c').message).toContain(
      "No such column 'Nope' on entity 'Contact'",
    );
  });

  it('INVALID_FIELD for unknown relationships', () => {
    const error = soqlError('SELECT Patient__r.Name FROM Care_Plan__c');
    expect(error.errorCode).toBe('INVALID_FIELD');
    expect(error.message).toContain("Didn't understand relationship 'Patient__r' in field path.");
    expect(soqlError('SELECT Id, (SELECT Id FROM Nope__r) FROM Contact').errorCode).toBe('INVALID_FIELD');
  });

  it('fields hidden by field-level security are reported as unknown, everywhere', () => {
    expect(soqlError('SELECT Secret_Note__c FROM Contact').message).toContain(
      "No such column 'Secret_Note__c'",
    );
    expect(soqlError("SELECT Id FROM Contact WHERE Secret_Note__c = 'x'").errorCode).toBe('INVALID_FIELD');
    expect(soqlError('SELECT Contact__r.Secret_Note__c FROM Care_Plan__c').errorCode).toBe('INVALID_FIELD');
    expect(executeSoql('SELECT FIELDS(ALL) FROM Contact LIMIT 1', context()).records[0]).not.toHaveProperty(
      'Secret_Note__c',
    );
    // Hiding the lookup field hides the relationship too.
    const ctx = context({ hidden: ['Care_Plan__c.Contact__c'] });
    expect(soqlError('SELECT Contact__r.LastName FROM Care_Plan__c', ctx).message).toContain(
      "Didn't understand relationship",
    );
  });

  it('INVALID_TYPE for unknown objects', () => {
    const error = soqlError('SELECT Id FROM Patient__c');
    expect(error.errorCode).toBe('INVALID_TYPE');
    expect(error.message).toMatch(/^sObject type 'Patient__c' is not supported\./);
  });
});
