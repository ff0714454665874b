import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataMap, syncedFields } from '../../scripts/lib/metadata-datamap.js';
import { loadProject, type FieldInfo } from '../../scripts/lib/metadata-project.js';
import { REPO_ROOT } from '../../scripts/lib/metadata-test-support.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

/**
 * The package as the Salesforce emulator loads it (force-app, with the generated permission sets):
 * the integration user, holding only Cliniko_Sync_Integration, can write every field the data map
 * fills, on every synced object, by upsert on the external ids, with parents referenced by external id.
 * A field the map targets but the integration set does not grant, or a type the package gets wrong,
 * fails here the way it would fail against an org.
 */

const map = loadDataMap(path.join(REPO_ROOT, 'config/data-map.yaml'));
const project = loadProject(REPO_ROOT);

/** The external id each synced object is upserted on, and the relationship name for lookups to it. */
const KEYS: Record<string, string> = {
  Contact: 'Cliniko_Patient_Id__c',
  Care_Plan__c: 'Cliniko_Case_Id__c',
  Cliniko_Appointment__c: 'Cliniko_Appointment_Id__c',
  Cliniko_Invoice__c: 'Cliniko_Invoice_Id__c',
  Journey_Transition__c: 'Transition_Key__c',
};
const ORDER = [
  'Contact',
  'Care_Plan__c',
  'Cliniko_Appointment__c',
  'Cliniko_Invoice__c',
  'Journey_Transition__c',
];

function sampleValue(f: FieldInfo, ids: Record<string, string>): [string, unknown] | undefined {
  switch (f.type) {
    case 'Text':
    case 'TextArea':
      return [f.name, f.externalId ? ids[f.object] : 'Sample'];
    case 'Email':
      return [f.name, 'sample@example.com'];
    case 'Phone':
      return [f.name, '+61400000000'];
    case 'Date':
      return [f.name, '2026-11-20'];
    case 'DateTime':
      return [f.name, '2026-11-20T01:02:03.000Z'];
    case 'Checkbox':
      return [f.name, true];
    case 'Number':
    case 'Currency':
    case 'Percent':
      return [f.name, 3];
    case 'Picklist':
      return [f.name, f.picklistValues[0]];
    case 'Lookup': {
      const parent = f.referenceTo ?? '';
      const key = KEYS[parent];
      if (key === undefined) return undefined;
      // Written by external id, the way the sync writes parents: `Contact__r: { Cliniko_Patient_Id__c: ... }`.
      return [f.name.replace(/__c$/, '__r'), { [key]: ids[`parent:${parent}`] }];
    }
    default:
      throw new Error(`no sample for ${f.object}.${f.name} (${f.type})`);
  }
}

async function clientCredentialsToken(emulator: SalesforceEmulator): Promise<string> {
  const response = await fetch(`${emulator.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
    }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('a user holding only Cliniko_Sync_Marketing, in the emulator', () => {
  let emulator: SalesforceEmulator;
  let token = '';
  beforeAll(async () => {
    // The emulator's API user stands in for a marketing user: same enforcement, other permission set.
    emulator = await startSalesforceEmulator({
      host: '127.0.0.1',
      port: 0,
      projectDir: REPO_ROOT,
      integrationPermissionSets: ['Cliniko_Sync_Marketing'],
    });
    token = await clientCredentialsToken(emulator);
  });
  afterAll(async () => {
    await emulator.close();
  });

  const describeFields = async (object: string) => {
    const response = await fetch(
      `${emulator.instanceUrl}/services/data/v${emulator.apiVersion}/sobjects/${object}/describe`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    return {
      status: response.status,
      fields: response.ok
        ? ((await response.json()) as { fields: { name: string }[] }).fields.map((f) => f.name)
        : [],
    };
  };

  it('sees the marketing-safe custom fields of Contact and care plans and none of the others', async () => {
    const synced = syncedFields(map);
    let checked = 0;
    for (const object of ['Contact', 'Care_Plan__c']) {
      const { status, fields } = await describeFields(object);
      expect(status).toBe(200);
      for (const s of synced.filter((x) => x.object === object)) {
        const visible = fields.includes(s.field);
        const info = project.objects.get(object)?.fields.get(s.field);
        // Standard fields come with the user's profile (a permission set cannot take access away; see
        // docs/go-live.md), and name parts are visible to anyone who sees the object: only the
        // package's own fields are decided by the permission set alone.
        if (info === undefined || info.standard || !info.permissionable) continue;
        checked += 1;
        expect(visible, `${s.target} (${s.classification})`).toBe(s.classification === 'marketing-safe');
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('reaches appointments (marketing-safe facts only since issue #19) but never invoices', async () => {
    const appointments = await describeFields('Cliniko_Appointment__c');
    expect(appointments.status).toBe(200);
    expect(appointments.fields).toEqual(
      expect.arrayContaining([
        'Appointment_Type__c',
        'Practitioner__c',
        'Clinic__c',
        'Starts_At__c',
        'Status__c',
      ]),
    );
    // The operations-only facts stay hidden.
    for (const hidden of ['Cancelled_At__c', 'Ends_At__c', 'Is_Initial_Consult__c'])
      expect(appointments.fields).not.toContain(hidden);
    expect((await describeFields('Cliniko_Invoice__c')).status).not.toBe(200);
  });
});

describe('the package in the Salesforce emulator', () => {
  let emulator: SalesforceEmulator;
  let token = '';

  beforeAll(async () => {
    emulator = await startSalesforceEmulator({ host: '127.0.0.1', port: 0, projectDir: REPO_ROOT });
    const response = await fetch(`${emulator.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
      }).toString(),
    });
    expect(response.status).toBe(200);
    token = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('runs the integration user with the generated integration set and its org-setup companion only', () => {
    expect(emulator.permissionSets).toEqual(['Cliniko_Sync_Integration', 'Cliniko_Sync_Integration_Org']);
  });

  it('lets the integration user publish a journey event with every event field', async () => {
    const event = project.objects.get('Patient_Journey_Event__e');
    const values: Record<string, unknown> = {
      Cliniko_Patient_Id__c: '1001',
      Transition_Key__c: '1001:T2 First Appointment Attended:1',
      Trigger__c: 'T2 First Appointment Attended',
      From_Stage__c: 'New Patient Booked',
      To_Stage__c: 'Started Care',
      Occurred_At__c: '2026-11-20T01:02:03.000Z',
      Funding_Source__c: 'Private',
    };
    // Every field of the event is exercised, so a field added to the event without a value here fails.
    expect(Object.keys(values).sort()).toEqual([...(event?.fields.keys() ?? [])].sort());
    const response = await fetch(
      `${emulator.instanceUrl}/services/data/v${emulator.apiVersion}/sobjects/Patient_Journey_Event__e`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(values),
      },
    );
    expect(response.status, await response.text()).toBe(201);
  });

  it('accepts a write to every mapped field as the integration user', async () => {
    const byObject = new Map<string, FieldInfo[]>();
    for (const s of syncedFields(map)) {
      const f = project.objects.get(s.object)?.fields.get(s.field);
      expect(f, s.target).toBeDefined();
      if (f === undefined) continue;
      byObject.set(s.object, [...(byObject.get(s.object) ?? []), f]);
    }
    expect([...byObject.keys()].sort()).toEqual([...ORDER].sort());

    const ids: Record<string, string> = {
      Contact: '1001',
      Care_Plan__c: '2001',
      Cliniko_Appointment__c: '3001',
      Cliniko_Invoice__c: '4001',
      Journey_Transition__c: '1001:T1 New Initial Consult Booked:1',
      'parent:Contact': '1000',
      'parent:Care_Plan__c': '2001',
      'parent:Cliniko_Appointment__c': '3001',
    };
    const api = `${emulator.instanceUrl}/services/data/v${emulator.apiVersion}/sobjects`;
    const upsert = async (object: string, id: string, body: Record<string, unknown>) => {
      const response = await fetch(`${api}/${object}/${KEYS[object]}/${encodeURIComponent(id)}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.text() };
    };

    // The survivor of a merge and the Contact every child points at.
    const parent = await upsert('Contact', ids['parent:Contact'] ?? '', { LastName: 'Parent' });
    expect(parent.status, parent.body).toBe(201);

    for (const object of ORDER) {
      const fields = byObject.get(object) ?? [];
      const body = Object.fromEntries(
        fields
          .filter((f) => f.name !== KEYS[object])
          .map((f) => sampleValue(f, ids))
          .filter((v): v is [string, unknown] => v !== undefined),
      );
      // Act: one upsert carrying every mapped field of the object.
      const result = await upsert(object, ids[object] ?? '', body);
      // Assert: created, with no field refused.
      expect(result.status, `${object}: ${result.body}`).toBe(201);
      expect(Object.keys(body).length, object).toBe(fields.length - 1);
    }

    // The values landed, and the parent references resolved to the records they name.
    const soql =
      "SELECT Email, Journey_Stage__c, Merged_Into__r.Cliniko_Patient_Id__c FROM Contact WHERE Cliniko_Patient_Id__c = '1001'";
    const query = await fetch(
      `${emulator.instanceUrl}/services/data/v${emulator.apiVersion}/query?q=${encodeURIComponent(soql)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const rows = ((await query.json()) as { records: Record<string, unknown>[] }).records;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      Email: 'sample@example.com',
      Journey_Stage__c: 'Lead',
      Merged_Into__r: { Cliniko_Patient_Id__c: '1000' },
    });
  });
});
