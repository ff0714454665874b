/**
 * Issue #19 item 3, from the marketing user's side: with the generated permission sets
 * (Cliniko_Sync_Marketing and its org-setup companion), jsforce as a marketing user reads the
 * appointment facts marketing segments by (type, practitioner, clinic, start, status) and the derived
 * value band, and is refused every amount (Lifetime_Invoiced__c, invoices) by field-level security in
 * the emulator. A billing user reading the same amounts is the control.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { control, signJwt } from '../emulators/salesforce/testing.js';

const VERSION = '66.0';
const MARKETING = 'marketing@cliniko-sync.emulator';
const BILLING = 'billing@cliniko-sync.emulator';

let emu: SalesforceEmulator;

async function connectAs(username: string): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId },
    version: VERSION,
  });
  const assertion = signJwt(
    { iss: emu.clientId, sub: username, aud: emu.loginUrl, exp: Math.floor(Date.now() / 1000) + 180 },
    emu.jwt.privateKeyPem ?? '',
  );
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  return conn;
}

beforeAll(async () => {
  emu = await startSalesforceEmulator({ controls: true });
  for (const [username, set] of [
    [MARKETING, 'Cliniko_Sync_Marketing'],
    [BILLING, 'Cliniko_Sync_Billing'],
  ] as const)
    await control(emu.loginUrl, 'POST', 'users', { username, permissionSets: [set, `${set}_Org`] });
  // Arrange: one patient as the sync writes it, with an appointment and an invoice.
  const sync = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: emu.clientSecret },
    version: VERSION,
  });
  await sync.authorize({ grant_type: 'client_credentials' });
  await sync.sobject('Contact').upsert(
    {
      Cliniko_Patient_Id__c: '900001',
      LastName: 'Patient',
      Lifetime_Invoiced__c: 2500,
      Patient_Value_Band__c: 'Gold',
    },
    'Cliniko_Patient_Id__c',
  );
  await sync.sobject('Cliniko_Appointment__c').upsert(
    {
      Cliniko_Appointment_Id__c: '700001',
      Contact__r: { Cliniko_Patient_Id__c: '900001' },
      Appointment_Type__c: 'Initial Appointment',
      Practitioner__c: 'Dr Demo',
      Clinic__c: 'Demo Clinic',
      Starts_At__c: '2026-03-02T09:00:00.000Z',
      Status__c: 'Booked',
    },
    'Cliniko_Appointment_Id__c',
  );
  await sync.sobject('Cliniko_Invoice__c').upsert(
    {
      Cliniko_Invoice_Id__c: '500001',
      Contact__r: { Cliniko_Patient_Id__c: '900001' },
      Total_Amount__c: 2500,
    },
    'Cliniko_Invoice_Id__c',
  );
}, 60_000);
afterAll(async () => {
  await emu?.close();
});

describe('a marketing user, with field-level security enforced', () => {
  it('reads appointment type, practitioner, clinic, start and status, and the value band', async () => {
    const marketing = await connectAs(MARKETING);
    const appointments = await marketing.query<Record<string, unknown>>(
      'SELECT Appointment_Type__c, Practitioner__c, Clinic__c, Starts_At__c, Status__c, Contact__r.Patient_Value_Band__c FROM Cliniko_Appointment__c',
    );
    expect(appointments.records).toHaveLength(1);
    expect(appointments.records[0]).toMatchObject({
      Appointment_Type__c: 'Initial Appointment',
      Practitioner__c: 'Dr Demo',
      Clinic__c: 'Demo Clinic',
      Starts_At__c: expect.stringMatching(/^2026-03-02T09:00:00/) as unknown,
      Status__c: 'Booked',
      Contact__r: expect.objectContaining({ Patient_Value_Band__c: 'Gold' }) as unknown,
    });
  });

  it('is refused the lifetime invoiced amount and every invoice amount', async () => {
    const marketing = await connectAs(MARKETING);
    await expect(marketing.query('SELECT Lifetime_Invoiced__c FROM Contact')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(marketing.query('SELECT Total_Amount__c FROM Cliniko_Invoice__c')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
    const describe = await marketing.sobject('Contact').describe();
    const names = describe.fields.map((f) => f.name);
    expect(names).toContain('Patient_Value_Band__c');
    expect(names).not.toContain('Lifetime_Invoiced__c');
    expect(names).not.toContain('Unpaid_Balance__c');
  });

  it('control: a billing user reads the same amounts', async () => {
    const billing = await connectAs(BILLING);
    const contacts = await billing.query<{ Lifetime_Invoiced__c: number }>(
      "SELECT Lifetime_Invoiced__c FROM Contact WHERE Cliniko_Patient_Id__c = '900001'",
    );
    expect(contacts.records[0]?.Lifetime_Invoiced__c).toBe(2500);
    const invoices = await billing.query<{ Total_Amount__c: number }>(
      'SELECT Total_Amount__c FROM Cliniko_Invoice__c',
    );
    expect(invoices.records[0]?.Total_Amount__c).toBe(2500);
  });
});
