/**
 * The emulator follows force-app/: a copy of the project with a field permission changed and a field
 * added behaves differently with no code change. Also covers the 300 answer to an ambiguous upsert
 * (which needs an external id that is not unique, so only exists in the copy) and the CLI contract.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { signJwt } from '../emulators/salesforce/testing.js';

const REPO = resolve(import.meta.dirname, '../..');
const VERSION = '66.0';
const PERMISSION_SET =
  'force-app/main/default/permissionsets/Cliniko_Sync_Integration.permissionset-meta.xml';

/** Rewrites the <fieldPermissions> block naming `field`; throws if the project no longer has it. */
function editFieldPermission(xml: string, field: string, replace: (block: string) => string): string {
  const pattern = new RegExp(
    `\\s*<fieldPermissions>(?:(?!</fieldPermissions>)[\\s\\S])*<field>${field}</field>[\\s\\S]*?</fieldPermissions>`,
  );
  const match = pattern.exec(xml);
  if (!match) throw new Error(`${PERMISSION_SET} has no fieldPermissions for ${field}`);
  return xml.replace(match[0], replace(match[0]));
}

let dir: string;
let original: SalesforceEmulator;
let changed: SalesforceEmulator;

async function login(emu: SalesforceEmulator, username = emu.username): Promise<Connection> {
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
  // Arrange: a copy of the project with Home_Clinic__c made read-only, Last_Appointment_Type__c's
  // permission removed, and a non-unique external id field added to Contact.
  dir = mkdtempSync(join(tmpdir(), 'sf-emulator-project-'));
  cpSync(join(REPO, 'sfdx-project.json'), join(dir, 'sfdx-project.json'));
  cpSync(join(REPO, 'force-app'), join(dir, 'force-app'), {
    recursive: true,
    filter: (source) => !source.includes('/lwc/'),
  });
  let xml = readFileSync(join(dir, PERMISSION_SET), 'utf8');
  xml = editFieldPermission(xml, 'Contact.Home_Clinic__c', (block) =>
    block.replace('<editable>true</editable>', '<editable>false</editable>'),
  );
  xml = editFieldPermission(xml, 'Contact.Last_Appointment_Type__c', () => '');
  writeFileSync(join(dir, PERMISSION_SET), xml);
  writeFileSync(
    join(dir, 'force-app/main/default/objects/Contact/fields/Legacy_Ref__c.field-meta.xml'),
    `<?xml version="1.0" encoding="UTF-8"?>
<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
    <fullName>Legacy_Ref__c</fullName>
    <externalId>true</externalId>
    <label>Legacy Ref</label>
    <length>20</length>
    <required>false</required>
    <type>Text</type>
    <unique>false</unique>
</CustomField>
`,
  );
  original = await startSalesforceEmulator();
  changed = await startSalesforceEmulator({ projectDir: dir });
});

afterAll(async () => {
  await original.close();
  await changed.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('permission sets from force-app', () => {
  it('lets the integration user write Home_Clinic__c and Last_Appointment_Type__c with the project as it is', async () => {
    const conn = await login(original);
    const result = await conn
      .sobject('Contact')
      .create({ LastName: 'Baseline', Home_Clinic__c: 'Clinic A', Last_Appointment_Type__c: 'Initial' });
    expect(result.success).toBe(true);
  });

  it('fails writes with INVALID_FIELD_FOR_INSERT_UPDATE once the field permission is no longer editable', async () => {
    const conn = await login(changed);
    await expect(
      conn.sobject('Contact').create({ LastName: 'Changed', Home_Clinic__c: 'Clinic A' }),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
      data: { fields: ['Home_Clinic__c'] },
    });
    // Reading is still allowed, as the permission set says.
    const describe = await conn.sobject('Contact').describe();
    expect(describe.fields.find((f) => f.name === 'Home_Clinic__c')).toMatchObject({
      createable: false,
      updateable: false,
    });
  });

  it('treats a field whose permission was removed as not there at all (INVALID_FIELD)', async () => {
    const conn = await login(changed);
    await expect(
      conn.sobject('Contact').create({ LastName: 'Changed', Last_Appointment_Type__c: 'Initial' }),
    ).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
    await expect(conn.query('SELECT Last_Appointment_Type__c FROM Contact')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
    });
  });
});

describe('ambiguous upserts', () => {
  it('answers 300 with the matching record URLs when several records share a non-unique external id', async () => {
    // Arrange: two Contacts with the same Legacy_Ref__c (the admin bypasses field-level security)
    const admin = await login(changed, changed.adminUsername);
    const created = await admin.sobject('Contact').create([
      { LastName: 'One', Legacy_Ref__c: 'L-1' },
      { LastName: 'Two', Legacy_Ref__c: 'L-1' },
    ]);
    const ids = created.map((r) => (r as { id: string }).id);
    // Act
    const response = await fetch(
      `${changed.instanceUrl}/services/data/v${VERSION}/sobjects/Contact/Legacy_Ref__c/L-1`,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${admin.accessToken ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify({ FirstName: 'Which' }),
      },
    );
    // Assert
    expect(response.status).toBe(300);
    expect(await response.json()).toEqual(
      ids.map((id) => `/services/data/v${VERSION}/sobjects/Contact/${id}`),
    );
    // A GET by the same external id is just as ambiguous and answers the same list.
    const lookup = await fetch(
      `${changed.instanceUrl}/services/data/v${VERSION}/sobjects/Contact/Legacy_Ref__c/L-1`,
      { headers: { authorization: `Bearer ${admin.accessToken ?? ''}` } },
    );
    expect(lookup.status).toBe(300);
    expect(await lookup.json()).toEqual(ids.map((id) => `/services/data/v${VERSION}/sobjects/Contact/${id}`));
    await expect(
      admin.sobject('Contact').upsert({ Legacy_Ref__c: 'L-1', LastName: 'X' }, 'Legacy_Ref__c'),
    ).rejects.toMatchObject({
      errorCode: 'MULTIPLE_CHOICES',
    });
    const inCollection = await admin
      .sobject('Contact')
      .upsert([{ Legacy_Ref__c: 'L-1', LastName: 'X' }], 'Legacy_Ref__c');
    expect((inCollection[0]?.errors as unknown as Array<{ statusCode: string }>)[0]?.statusCode).toBe(
      'DUPLICATE_EXTERNAL_ID',
    );
  });
});

describe('snapshot file', () => {
  it('keeps records across restarts when started with a snapshot file', async () => {
    // Arrange
    const file = join(dir, 'org-snapshot.json');
    const first = await startSalesforceEmulator({ projectDir: dir, snapshotFile: file });
    const conn = await login(first);
    const saved = await conn
      .sobject('Contact')
      .upsert({ Cliniko_Patient_Id__c: 'snap-1', LastName: 'Kept' }, 'Cliniko_Patient_Id__c');
    await first.close();
    // Act
    const second = await startSalesforceEmulator({ projectDir: dir, snapshotFile: file });
    try {
      const again = await login(second);
      const found = await again.query<{ Id: string; LastName: string }>(
        "SELECT Id, LastName FROM Contact WHERE Cliniko_Patient_Id__c = 'snap-1'",
      );
      const next = await again.sobject('Contact').create({ LastName: 'New' });
      // Assert: same record and id, and new ids do not collide with restored ones
      expect(found.records).toMatchObject([{ Id: (saved as { id: string }).id, LastName: 'Kept' }]);
      expect((next as { id: string }).id).not.toBe((saved as { id: string }).id);
    } finally {
      await second.close();
    }
  });
});

describe('command line', () => {
  it('prints exactly one JSON line with loginUrl, clientId, clientSecret and username first', async () => {
    const child = spawn(
      join(REPO, 'node_modules/.bin/tsx'),
      ['test/emulators/salesforce/main.ts', '--port', '0', '--json'],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolveLine, reject) => {
        lines.once('line', resolveLine);
        child.once('exit', (code) => reject(new Error(`emulator exited early with ${String(code)}`)));
      });
      const parsed = JSON.parse(first) as Record<string, string>;
      expect(Object.keys(parsed)).toEqual(['loginUrl', 'clientId', 'clientSecret', 'username']);
      const token = await fetch(`${parsed.loginUrl}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: parsed.clientId ?? '',
          client_secret: parsed.clientSecret ?? '',
        }),
      });
      expect(token.status).toBe(200);
      expect(((await token.json()) as { instance_url: string }).instance_url).toBe(parsed.loginUrl);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
