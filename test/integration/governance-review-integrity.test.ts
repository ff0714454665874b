/**
 * Issue #17, item 7: a signed governance review cannot be forged or erased. Driven through jsforce
 * against the Salesforce emulator, which evaluates the package's formula fields and validation rules
 * (test/emulators/salesforce/formula.ts) and enforces its permission sets:
 *
 * - who signed and when come from Salesforce (formula fields over Last Modified By / Date at the save
 *   that set Status to Signed); a browser-supplied signer or time is refused;
 * - a review cannot be created already signed (a create could carry backdated audit fields);
 * - a signed review cannot be edited; no shipped permission set may delete a review;
 * - every change is in the object's field history.
 *
 * Each refusal has a control showing the same path succeeds where it should.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { control, signJwt } from '../emulators/salesforce/testing.js';

const VERSION = '66.0';
const OBJECT = 'Governance_Review__c';
let emu: SalesforceEmulator;
let officer: Connection;
let officerId: string;

async function jwtConnection(username: string): Promise<Connection> {
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

async function userWith(
  username: string,
  permissionSets: string[],
): Promise<{ conn: Connection; id: string }> {
  const user = await control<{ id: string }>(emu.instanceUrl, 'POST', 'users', {
    username,
    firstName: 'Carla',
    lastName: 'Compliance',
    permissionSets,
  });
  return { conn: await jwtConnection(username), id: user.id };
}

const draft = { Quarter__c: '2025-Q2', Status__c: 'Draft', Attendees__c: 'Carla, Ian' };

async function createDraft(conn = officer): Promise<string> {
  const created = await conn.sobject(OBJECT).create(draft);
  expect(created.success).toBe(true);
  return String(created.id);
}

async function read(id: string): Promise<Record<string, unknown>> {
  const result = await officer.query<Record<string, unknown>>(
    `SELECT Id, Status__c, Signed_By__c, Signed_By_Name__c, Signed_At__c, LastModifiedDate, Notes__c FROM ${OBJECT} WHERE Id = '${id}'`,
  );
  return result.records[0]!;
}

beforeAll(async () => {
  emu = await startSalesforceEmulator({ controls: true });
  ({ conn: officer, id: officerId } = await userWith('officer@clinic.example', ['Cliniko_Sync_Compliance']));
});

afterAll(async () => {
  await emu?.close();
});

describe('who signed and when are set by Salesforce', () => {
  it('refuses a browser-supplied signer or signing time, on create and on update', async () => {
    for (const forged of [{ Signed_By__c: emu.userId }, { Signed_At__c: '2020-01-01T00:00:00.000Z' }]) {
      await expect(officer.sobject(OBJECT).create({ ...draft, ...forged })).rejects.toMatchObject({
        name: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      });
    }
    const id = await createDraft(); // control: the same draft without them is accepted
    await expect(
      officer.sobject(OBJECT).update({ Id: id, Status__c: 'Signed', Signed_By__c: emu.userId }),
    ).rejects.toMatchObject({ name: 'INVALID_FIELD_FOR_INSERT_UPDATE' });
    expect((await read(id)).Status__c).toBe('Draft');
  });

  it('records the running user and the server clock at the signing save', async () => {
    const id = await createDraft();
    const draftRow = await read(id);
    expect(draftRow.Signed_By__c).toBeNull(); // control: a draft names no signer
    expect(draftRow.Signed_At__c).toBeNull();
    const { now } = await control<{ now: string }>(emu.instanceUrl, 'POST', 'clock', {
      now: '2025-06-30T23:15:00.000Z',
      freeze: true,
    });
    await officer.sobject(OBJECT).update({ Id: id, Status__c: 'Signed' });
    const signed = await read(id);
    expect(signed.Signed_By__c).toBe(officerId);
    expect(signed.Signed_By_Name__c).toBe('Carla Compliance');
    expect(new Date(String(signed.Signed_At__c)).toISOString()).toBe(now);
    expect(signed.Signed_At__c).toBe(signed.LastModifiedDate);
    await control(emu.instanceUrl, 'POST', 'clock', { freeze: false });
  });

  it('refuses a review created already signed (signing is a change of a saved draft)', async () => {
    await expect(officer.sobject(OBJECT).create({ ...draft, Status__c: 'Signed' })).rejects.toMatchObject({
      name: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: expect.stringContaining('Save the review as a draft first') as unknown,
    });
  });

  it('refuses signing without attendees', async () => {
    const created = await officer.sobject(OBJECT).create({ ...draft, Attendees__c: '' });
    await expect(
      officer.sobject(OBJECT).update({ Id: String(created.id), Status__c: 'Signed' }),
    ).rejects.toMatchObject({ name: 'FIELD_CUSTOM_VALIDATION_EXCEPTION' });
  });
});

describe('a signed review cannot be changed or erased', () => {
  it('refuses any edit after signing, even by an administrator; a draft can be edited (control)', async () => {
    const id = await createDraft();
    await officer.sobject(OBJECT).update({ Id: id, Notes__c: 'draft note' }); // control
    await officer.sobject(OBJECT).update({ Id: id, Status__c: 'Signed' });
    const admin = await jwtConnection(emu.adminUsername);
    for (const conn of [officer, admin]) {
      for (const change of [{ Notes__c: 'rewritten' }, { Status__c: 'Draft' }]) {
        await expect(conn.sobject(OBJECT).update({ Id: id, ...change })).rejects.toMatchObject({
          name: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
          message: expect.stringContaining('signed and locked') as unknown,
        });
      }
    }
    expect(await read(id)).toMatchObject({ Status__c: 'Signed', Notes__c: 'draft note' });
  });

  it('gives no shipped permission set Delete on reviews', async () => {
    const id = await createDraft();
    const names = [...emu.org.schema.permissionSets.keys()];
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const [i, name] of names.entries()) {
      const { conn } = await userWith(`delete-${i}@clinic.example`, [name]);
      // Refused: INSUFFICIENT_ACCESS_OR_READONLY where the set can read reviews (compliance; the
      // integration user reads them to find the access picture's baseline), NOT_FOUND where the object is
      // invisible to it (every other set), as Salesforce answers both.
      const refusal = await conn
        .sobject(OBJECT)
        .destroy(id)
        .then(
          () => 'deleted',
          (error: { name?: string }) => error.name,
        );
      expect([name, refusal]).toEqual([
        name,
        ['Cliniko_Sync_Compliance', 'Cliniko_Sync_Integration'].includes(name)
          ? 'INSUFFICIENT_ACCESS_OR_READONLY'
          : 'NOT_FOUND',
      ]);
      expect((await read(id)).Id).toBe(id);
    }
    // Control: the delete path itself works (an administrator's, outside every permission set).
    const admin = await jwtConnection(emu.adminUsername);
    expect((await admin.sobject(OBJECT).destroy(id)).success).toBe(true);
  });

  it('keeps the field history of every change', async () => {
    const id = await createDraft();
    await officer.sobject(OBJECT).update({ Id: id, Notes__c: 'first' });
    await officer.sobject(OBJECT).update({ Id: id, Status__c: 'Signed' });
    const history = await officer.query<{ Field: string; OldValue: unknown; NewValue: unknown }>(
      `SELECT Field, OldValue, NewValue FROM Governance_Review__History WHERE ParentId = '${id}' ORDER BY CreatedDate`,
    );
    const fields = history.records.map((r) => r.Field);
    expect(fields).toEqual(expect.arrayContaining(['created', 'Notes__c', 'Status__c']));
    expect(history.records.find((r) => r.Field === 'Status__c')).toMatchObject({
      OldValue: 'Draft',
      NewValue: 'Signed',
    });
  });
});
