import JSZip from 'jszip';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../sync-service/src/logger.js';
import {
  ACCESS_PICTURE_KEY,
  reconcilerForService,
  type Reconciler,
} from '../../sync-service/src/sync/reconcile/index.js';
import { signJwt } from '../emulators/salesforce/testing.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * The access picture over the emulators (issue 17, item 4): a profile deployed through the Metadata API
 * that grants a marketing user a billing field is found by the nightly reconciliation, named by the
 * profile, and flagged as outside the user's audience; without that grant nothing is flagged for them.
 * Across reconciliations, gains and losses since the baseline are recorded and resolved, and a newly
 * signed review starts a new baseline. What the picture says a user reads is what the emulator lets
 * that user read (describe as the user): one source of truth.
 */
let h: SyncHarness;
let reconciler: Reconciler;
const MARKETER = 'mia.marketing@clinic.example';
const BILLING_FIELD = 'Cliniko_Invoice__c.Total_Amount__c';

const PROFILE_XML = `<?xml version="1.0" encoding="UTF-8"?>
<Profile xmlns="http://soap.sforce.com/2006/04/metadata">
  <custom>true</custom>
  <fieldPermissions><editable>false</editable><field>${BILLING_FIELD}</field><readable>true</readable></fieldPermissions>
  <objectPermissions>
    <allowCreate>false</allowCreate><allowDelete>false</allowDelete><allowEdit>false</allowEdit><allowRead>true</allowRead>
    <modifyAllRecords>false</modifyAllRecords><object>Cliniko_Invoice__c</object><viewAllRecords>true</viewAllRecords>
  </objectPermissions>
  <userLicense>Salesforce</userLicense>
</Profile>`;

async function connectionAs(username: string): Promise<Connection> {
  const sf = h.salesforce;
  const conn = new Connection({ oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId }, version: '66.0' });
  const assertion = signJwt(
    { iss: sf.clientId, sub: username, aud: sf.loginUrl, exp: Math.floor(Date.now() / 1000) + 180 },
    sf.jwt.privateKeyPem ?? '',
  );
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  return conn;
}

/** Deploys the "Marketing Team" profile as an admin would (SOAP deploy of a Metadata API zip). */
async function deployProfile(): Promise<void> {
  const zip = new JSZip();
  zip.file(
    'package.xml',
    `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>Marketing Team</members><name>Profile</name></types><version>66.0</version></Package>`,
  );
  zip.file('profiles/Marketing Team.profile', PROFILE_XML);
  const admin = await connectionAs(h.salesforce.adminUsername);
  const result = await admin.metadata
    .deploy(await zip.generateAsync({ type: 'nodebuffer' }), { rollbackOnError: true })
    .complete(true);
  expect(result.success, JSON.stringify(result)).toBe(true);
}

/** Whether the emulator lets the user read the field (describe as that user; an unreadable object is NOT_FOUND). */
async function canRead(username: string, path: string): Promise<boolean> {
  const [object = '', field = ''] = path.split('.');
  try {
    const described = await (await connectionAs(username)).sobject(object).describe();
    return described.fields.some((f) => f.name === field);
  } catch (err) {
    if ((err as { errorCode?: string }).errorCode === 'NOT_FOUND') return false;
    throw err;
  }
}

const findings = () =>
  activeRecords(h.salesforce, 'Access_Change__c').filter((r) =>
    ['Gained', 'Lost', 'Outside Audience'].includes(String(r.Change_Type__c)),
  );
const of = (username: string) => findings().filter((r) => r.Username__c === username);

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 6, seed: 3 } });
  const s = h.service;
  reconciler = reconcilerForService(s, createLogger({ level: 'silent' }), () =>
    Date.parse(h.cliniko.controls.now()),
  );
  // A marketing user as docs/go-live.md sets one up: the packaged set and its org-setup companion.
  const user = h.salesforce.org.createUser(MARKETER, 'Mia', 'Marketing');
  h.salesforce.org.assignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
  h.salesforce.org.assignPermissionSet(user.id, 'Cliniko_Sync_Marketing_Org');
});

afterAll(async () => {
  await h?.close();
});

describe('the access picture', () => {
  it('control: a marketing user without the grant reads no billing field and is not flagged for billing', async () => {
    const report = await reconciler.reconcile();
    expect(report.accessPicture).toMatchObject({ gained: 0, lost: 0, error: null });
    expect(report.status).toBe('succeeded');
    expect(await canRead(MARKETER, BILLING_FIELD)).toBe(false);
    expect(of(MARKETER).filter((r) => r.Field_Class__c === 'billing')).toEqual([]);
    // The integration user reads everything and is inside its audience.
    expect(of(h.salesforce.username)).toEqual([]);
    // The emulator's administrator reads every field through its profile, outside every audience.
    expect(
      of(h.salesforce.adminUsername)
        .map((r) => r.Field_Class__c)
        .sort(),
    ).toEqual(['billing', 'marketing-safe', 'operations-safe']);
    expect(await h.service.store.getJourneyState(ACCESS_PICTURE_KEY)).toBeDefined();
  });

  it('flags a profile granting the marketing user a billing field, and records the gain', async () => {
    // Arrange: the admin deploys a profile that reads invoice totals and moves the user onto it.
    await deployProfile();
    const user = h.salesforce.org.userByUsername(MARKETER)!;
    h.salesforce.org.setProfile(user.id, 'Marketing Team');
    expect(await canRead(MARKETER, BILLING_FIELD)).toBe(true);
    // Act
    const report = await reconciler.reconcile();
    // Assert: one gain and one flag, both naming the profile and the field.
    expect(report.accessPicture).toMatchObject({ gained: 1, error: null });
    const billing = of(MARKETER).filter((r) => r.Field_Class__c === 'billing');
    expect(billing.map((r) => r.Change_Type__c).sort()).toEqual(['Gained', 'Outside Audience']);
    for (const row of billing) {
      expect(row).toMatchObject({ User__c: user.id, Fields__c: BILLING_FIELD, Resolved_At__c: null });
      expect(String(row.Path__c)).toContain('profile Marketing Team');
      expect(String(row.Details__c)).toContain('all records via View All on Cliniko_Invoice__c');
    }
    // A second night with nothing changed writes nothing.
    expect((await reconciler.reconcile()).accessPicture).toMatchObject({ gained: 1, written: 0 });
  });

  it('resolves the gain and the flag when the profile is taken away, and records a loss', async () => {
    const user = h.salesforce.org.userByUsername(MARKETER)!;
    h.salesforce.org.setProfile(user.id, 'Standard User');
    h.salesforce.org.unassignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
    const report = await reconciler.reconcile();
    expect(report.accessPicture).toMatchObject({ gained: 0, error: null });
    const rows = of(MARKETER);
    expect(rows.filter((r) => r.Field_Class__c === 'billing').every((r) => r.Resolved_At__c !== null)).toBe(
      true,
    );
    const lost = rows.find((r) => r.Change_Type__c === 'Lost');
    expect(lost).toMatchObject({ Field_Class__c: 'marketing-safe', Resolved_At__c: null });
    // The packaged set granted the custom consent fields; the user reads them no more.
    expect(String(lost?.Fields__c)).toContain('Contact.Email_Marketing_Consent__c');
    expect(await canRead(MARKETER, 'Contact.Email_Marketing_Consent__c')).toBe(false);
  });

  it('a newly signed review becomes the baseline: what was lost before it is no longer a change', async () => {
    const object = h.salesforce.org.schema.objects.get('governance_review__c')!;
    // Signing is a change of a saved draft; Salesforce sets who signed and when (formula fields).
    const admin = h.salesforce.org.adminUser.id;
    const [draft] = h.salesforce.org.saveBatch(
      admin,
      [
        {
          operation: 'insert',
          object,
          values: { Quarter__c: '2027-Q1', Status__c: 'Draft', Attendees__c: 'CO, IO' },
        },
      ],
      false,
    );
    expect(draft?.success, JSON.stringify(draft)).toBe(true);
    const [saved] = h.salesforce.org.saveBatch(
      admin,
      [{ operation: 'update', object, id: String(draft?.id), values: { Status__c: 'Signed' } }],
      false,
    );
    expect(saved?.success, JSON.stringify(saved)).toBe(true);
    const report = await reconciler.reconcile();
    expect(report.accessPicture?.baseline).toMatch(/^GR-|^[A-Za-z]/);
    expect(report.accessPicture?.baseline).not.toMatch(/^first picture/);
    expect(report.accessPicture).toMatchObject({ gained: 0, lost: 0, error: null });
  });
});
