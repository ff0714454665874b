import { Connection, OAuth2 } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writebackCommand } from '../../sync-service/src/cli/commands/writeback.js';
import type { CliContext } from '../../sync-service/src/cli/types.js';
import { buildJwtAssertion } from '../../sync-service/src/salesforce/connection.js';
import { createLogger } from '../../sync-service/src/logger.js';
import {
  createReversePoller,
  resolveIntegrationUserId,
  type ReversePoller,
} from '../../sync-service/src/sync/writeback/index.js';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * The reverse direction end to end over loopback HTTP: a marketing user edits Contacts in the Salesforce
 * emulator through jsforce, the poller reads the edits and PATCHes the Cliniko emulator's patients with
 * only what the signed data map marks `both` (plus recorded consent opt-outs), and the forward sync that
 * follows settles without a loop.
 */
let h: SyncHarness;
let poller: ReversePoller;
let marketer: Connection;
let admin: Connection;
let marketerId: string;

/** A session for any org user through the JWT bearer flow, as a person's own login would give. */
async function loginAs(username: string): Promise<Connection> {
  const sf = h.salesforce;
  const oauth2 = new OAuth2({ loginUrl: sf.loginUrl, clientId: sf.clientId });
  const assertion = buildJwtAssertion(
    { clientId: sf.clientId, username },
    sf.loginUrl,
    sf.jwt.privateKeyPem ?? '',
    Math.floor(Date.now() / 1000),
  );
  const token = await oauth2.requestToken({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion,
  });
  return new Connection({
    instanceUrl: token.instance_url,
    accessToken: token.access_token,
    version: '66.0',
  });
}

function contactOf(patientId: string): Record<string, unknown> {
  const contact = activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
  if (!contact) throw new Error(`no Contact for patient ${patientId}`);
  return contact;
}

function clinikoPatches(): number {
  return h.cliniko.controls.requestLog().filter((r) => r.method === 'PATCH').length;
}

/** Active patients with an email and a Mobile number, as Cliniko ids, with their consent. */
function candidates() {
  return h.cliniko.practice.patients
    .filter((p) => p.archivedAt === null && p.f.email && p.f.patient_phone_numbers.length > 0)
    .map((p) => ({
      id: recordId('patient', p.idx),
      emailConsent: p.f.accepted_email_marketing,
      smsConsent: p.f.accepted_sms_marketing,
    }));
}

beforeAll(async () => {
  h = await startSyncHarness();
  const backfill = await h.service.runner.runCycle('backfill');
  expect(backfill.status).toBe('succeeded');
  const user = h.salesforce.org.createUser('marketing@clinic.example', 'Mia', 'Marketer');
  h.salesforce.org.assignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
  marketerId = user.id;
  marketer = await loginAs('marketing@clinic.example');
  admin = await loginAs(h.salesforce.adminUsername);
  const connection = h.service.salesforce.connection;
  poller = createReversePoller({
    store: h.service.store,
    cliniko: h.service.cliniko,
    connection,
    dataMap: h.service.dataMap,
    integrationUserId: await resolveIntegrationUserId(connection),
    logger: createLogger({ level: 'silent' }),
    now: Date.now,
    overlapSeconds: 2,
  });
});

afterAll(async () => {
  await h?.close();
});

describe('write-back from Salesforce to Cliniko', () => {
  it('finds the integration user from the session and reads none of its own writes', async () => {
    expect(await resolveIntegrationUserId(h.service.salesforce.connection)).toBe(h.salesforce.userId);
    const result = await poller.poll();
    expect(result).toMatchObject({ read: 0, writtenBack: 0 });
  });

  it("writes a marketing user's Email and MobilePhone edit back once, then the forward sync settles", async () => {
    const { id } = candidates()[0]!;
    const contact = contactOf(id);
    const patchesBefore = clinikoPatches();
    await marketer.sobject('Contact').update({
      Id: contact.Id as string,
      Email: 'mia.updated@example.com',
      MobilePhone: '+61400111222',
    });

    const result = await poller.poll();
    expect(result).toMatchObject({ read: 1, writtenBack: 1, quarantined: 0, failed: 0 });
    const patient = await h.service.cliniko.getPatient(id);
    expect(patient.email).toBe('mia.updated@example.com');
    expect(patient.patient_phone_numbers?.find((p) => p.phone_type === 'Mobile')?.number).toBe(
      '+61400111222',
    );
    expect(clinikoPatches() - patchesBefore).toBe(1);

    // Cliniko bumped updated_at: the forward cycle re-reads the patient and writes it at most once.
    const contactWrites = async () =>
      (await h.service.store.listAudit({ externalId: id }))
        .map((r) => JSON.parse(r.entry) as { object: string; operation: string })
        .filter((e) => e.object === 'Contact').length;
    const writesBefore = await contactWrites();
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect((await contactWrites()) - writesBefore).toBeLessThanOrEqual(1);
    expect(contactOf(id).Email).toBe('mia.updated@example.com');

    // ...as the integration user, so the next poll reads nothing, and the next cycle writes nothing.
    expect(await poller.poll()).toMatchObject({ writtenBack: 0 });
    const settled = await contactWrites();
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect(await contactWrites()).toBe(settled);
    expect(await poller.poll()).toMatchObject({ writtenBack: 0 });
    expect(clinikoPatches() - patchesBefore).toBe(1);
  });

  it('does not write back a field the map does not mark `both`', async () => {
    const { id } = candidates()[1]!;
    const before = await h.service.cliniko.getPatient(id);
    const patchesBefore = clinikoPatches();
    await marketer.sobject('Contact').update({ Id: contactOf(id).Id as string, FirstName: 'Renamed' });
    const result = await poller.poll();
    expect(result).toMatchObject({ read: 1, writtenBack: 0, unchanged: 1 });
    expect((await h.service.cliniko.getPatient(id)).first_name).toBe(before.first_name);
    expect(clinikoPatches()).toBe(patchesBefore);
  });

  it('carries an email opt-out back to Cliniko but never an opt-in', async () => {
    const optedIn = candidates().find((c) => c.emailConsent === true && c.id !== candidates()[0]!.id)!;
    const optedOut = candidates().find((c) => c.emailConsent !== true)!;
    expect(optedIn).toBeDefined();
    expect(optedOut).toBeDefined();
    const patchesBefore = clinikoPatches();
    // The marketer unsubscribes one patient (HasOptedOutOfEmail is on every user's page layout)...
    await marketer
      .sobject('Contact')
      .update({ Id: contactOf(optedIn.id).Id as string, HasOptedOutOfEmail: true });
    // ...and an administrator ticks the consent box of another (which marketing may not edit).
    await admin.sobject('Contact').update({
      Id: contactOf(optedOut.id).Id as string,
      Email_Marketing_Consent__c: true,
      HasOptedOutOfEmail: false,
    });

    const result = await poller.poll();
    expect(result).toMatchObject({ read: 2, writtenBack: 1, consentOptOuts: { email: 1, sms: 0 } });
    expect((await h.service.cliniko.getPatient(optedIn.id)).accepted_email_marketing).toBe(false);
    expect((await h.service.cliniko.getPatient(optedOut.id)).accepted_email_marketing).not.toBe(true);
    expect(clinikoPatches() - patchesBefore).toBe(1);

    // The opt-out changed the patient in Cliniko, so the next forward cycle projects it onto both
    // consent fields (the consent box goes false as the sync's own write, which is not read back).
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect(contactOf(optedIn.id)).toMatchObject({
      HasOptedOutOfEmail: true,
      Email_Marketing_Consent__c: false,
    });
    expect(await poller.poll()).toMatchObject({ writtenBack: 0 });
  });

  it('carries an SMS opt-out (DoNotCall) back through the write-only unsubscribe field', async () => {
    const target = candidates()
      .slice(10)
      .find((c) => c.smsConsent === true)!;
    expect(target).toBeDefined();
    await marketer.sobject('Contact').update({ Id: contactOf(target.id).Id as string, DoNotCall: true });
    const result = await poller.poll();
    expect(result).toMatchObject({ writtenBack: 1, consentOptOuts: { email: 0, sms: 1 } });
    expect((await h.service.cliniko.getPatient(target.id)).accepted_sms_marketing).toBe(false);
  });

  it("does not echo the integration user's own writes", async () => {
    const { id } = candidates()[2]!;
    const patchesBefore = clinikoPatches();
    await h.service.salesforce.connection
      .sobject('Contact')
      .update({ Id: contactOf(id).Id as string, Email: 'written.by.sync@example.com' });
    expect(await poller.poll()).toMatchObject({ read: 0, writtenBack: 0 });
    expect(clinikoPatches()).toBe(patchesBefore);
  });

  it('still writes back an edit the sync wrote over (another field) before the poll ran', async () => {
    const { id } = candidates()[4]!;
    const contactId = contactOf(id).Id as string;
    await marketer.sobject('Contact').update({ Id: contactId, Email: 'overwritten.later@example.com' });
    // The forward sync touches the Contact next (a journey or roll-up field), so LastModifiedBy is the
    // integration user by the time the poller looks; ContactHistory still names the marketer.
    await h.service.salesforce.connection
      .sobject('Contact')
      .update({ Id: contactId, Last_Synced_At__c: new Date().toISOString() });
    expect(await poller.poll()).toMatchObject({ read: 1, writtenBack: 1 });
    expect((await h.service.cliniko.getPatient(id)).email).toBe('overwritten.later@example.com');
  });

  it('audits each write-back with the Salesforce user and field names, never values', async () => {
    const entries = (await h.service.store.listAudit())
      .map((r) => JSON.parse(r.entry) as Record<string, unknown>)
      .filter((e) => e.operation === 'write-back');
    expect(entries).toHaveLength(4);
    for (const e of entries) {
      expect(e).toMatchObject({ sourceSystem: 'salesforce', actor: marketerId, object: 'patients' });
    }
    expect(entries.map((e) => e.changedFields)).toEqual([
      ['email', 'patient_phone_numbers'],
      ['accepted_email_marketing'],
      ['unsubscribe_sms_marketing'],
      ['email'],
    ]);
    const text = JSON.stringify(entries);
    expect(text).not.toContain('mia.updated');
    expect(text).not.toContain('400111222');
  });

  it('runs one poll from `npm run sync -- writeback`', async () => {
    const { id } = candidates()[3]!;
    await marketer.sobject('Contact').update({ Id: contactOf(id).Id as string, MailingCity: 'Katoomba' });
    const lines: string[] = [];
    const ctx: CliContext = {
      env: {},
      config: () => h.config,
      logger: () => createLogger({ level: 'silent' }),
      // The harness owns the service; the command's close() must not shut it for the other tests.
      service: () => Promise.resolve({ ...h.service, close: () => Promise.resolve() }),
      print: (line) => lines.push(line),
      tty: false,
      rootDir: process.cwd(),
    };
    expect(await writebackCommand.run([], ctx)).toBe(0);
    expect(lines.join('\n')).toMatch(/written back: 1\b/);
    expect((await h.service.cliniko.getPatient(id)).city).toBe('Katoomba');
  });
});
