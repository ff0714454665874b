import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';
import { deploy, installPackage, loginSfCli, type SfCli, type SfResult } from '../support/sf-cli.js';

/**
 * The package installed as an admin installs it: the real `sf` CLI deploys force-app, then the
 * org-setup folder beside it (docs/go-live.md), into an emulator that starts empty, through the
 * Metadata API (SOAP deploy / checkDeployStatus). The sync then runs against the org those deploys
 * made. Refusals carry Salesforce's wording and leave the org as it was.
 */

const INTEGRATION_SETS = ['Cliniko_Sync_Integration', 'Cliniko_Sync_Integration_Org'];
const LWC_DIR = 'force-app/main/default/lwc';
const FLOWS_DIR = 'force-app/main/default/flows';
const SHIPPED_FLOWS = [
  'Cliniko_Appointment_Reminder',
  'Cliniko_No_Show_Nurture_Entry',
  'Cliniko_No_Show_Nurture_Touches',
  'Cliniko_Reactivation_Entry',
  'Cliniko_Reactivation_Touches',
];

interface DeployResultJson {
  status: string;
  success: boolean;
  checkOnly: boolean;
  numberComponentErrors: number;
  details?: { componentFailures?: Array<{ fullName: string; componentType: string; problem: string }> };
}

function resultOf(answer: SfResult): DeployResultJson {
  const result = answer.json.result as DeployResultJson | undefined;
  if (!result || typeof result.status !== 'string')
    throw new Error(`no deploy result in the CLI's answer: ${JSON.stringify(answer.json).slice(0, 500)}`);
  return result;
}

function failures(answer: SfResult): Array<{ fullName: string; componentType: string; problem: string }> {
  return resultOf(answer).details?.componentFailures ?? [];
}

function hasObject(sf: SalesforceEmulator, name: string): boolean {
  return sf.org.schema.objects.has(name.toLowerCase());
}

function trackedContactFields(sf: SalesforceEmulator): string[] {
  const contact = sf.org.schema.objects.get('contact')!;
  return [...contact.fields.values()].filter((f) => f.trackHistory).map((f) => f.name);
}

describe('sf project deploy start into an empty org, then a sync', () => {
  let h: SyncHarness;
  let install: { seconds: number } | undefined;
  const before = { carePlan: true, permissionSets: [] as string[] };

  beforeAll(async () => {
    h = await startSyncHarness({
      cliniko: { patients: 12, seed: 7 },
      salesforce: { emptyOrg: true },
      prepareSalesforce: async (sf) => {
        // Control: the empty org has nothing of ours, and the integration user holds nothing.
        before.carePlan = hasObject(sf, 'Care_Plan__c');
        before.permissionSets = sf.org.permissionSetNames(sf.userId);
        install = await installPackage(sf);
      },
    });
  }, 240_000);

  afterAll(async () => {
    await h?.close();
  });

  it('starts empty and holds the package after the deploys', () => {
    expect(before.carePlan).toBe(false);
    expect(before.permissionSets).toEqual([]);
    expect(install?.seconds).toBeGreaterThan(0);
    for (const name of [
      'Care_Plan__c',
      'Cliniko_Appointment__c',
      'Patient_Journey_Event__e',
      'Data_Map_Field__mdt',
    ])
      expect(hasObject(h.salesforce, name), name).toBe(true);
    expect(h.salesforce.org.permissionSetNames(h.salesforce.userId).sort()).toEqual(INTEGRATION_SETS);
    expect([...(h.salesforce.deployed.get('LightningComponentBundle') ?? [])]).toContain('governanceReview');
    expect([...(h.salesforce.deployed.get('FlexiPage') ?? [])]).toContain('Cliniko_Governance');
    // The shipped Flows are stored (inactive: the emulator runs no Flow; docs/marketing.md).
    expect([...(h.salesforce.deployed.get('Flow') ?? [])].sort()).toEqual(SHIPPED_FLOWS);
    // Custom metadata records became rows of their type.
    expect(activeRecords(h.salesforce, 'Data_Map_Field__mdt').length).toBeGreaterThan(0);
    // The org-setup folder's history tracking landed on Contact, under the limit.
    expect(trackedContactFields(h.salesforce).length).toBeGreaterThan(0);
    expect(trackedContactFields(h.salesforce).length).toBeLessThanOrEqual(20);
  });

  it('syncs the practice into the deployed org', async () => {
    const summary = await h.service.runner.runCycle('backfill');
    expect(summary.error).toBeNull();
    expect(summary.status).toBe('succeeded');
    expect(activeRecords(h.salesforce, 'Contact')).toHaveLength(h.cliniko.practice.patients.length);
    expect(activeRecords(h.salesforce, 'Cliniko_Appointment__c').length).toBeGreaterThan(0);
    await expectOrgMatchesProjection(h.service, h.salesforce);
  });
});

describe('deploy validation against what the org already holds', () => {
  let sf: SalesforceEmulator;
  let cli: SfCli;

  beforeAll(async () => {
    sf = await startSalesforceEmulator({ emptyOrg: true });
    cli = await loginSfCli(sf);
  }, 180_000);

  afterAll(async () => {
    cli?.close();
    await sf?.close();
  });

  it('--dry-run validates without changing the org; the same deploy without it does', async () => {
    const dryRun = await deploy(cli, 'force-app', { dryRun: true });
    expect(dryRun.code).toBe(0);
    expect(resultOf(dryRun)).toMatchObject({ status: 'Succeeded', checkOnly: true });
    expect(hasObject(sf, 'Care_Plan__c')).toBe(false);
    expect(sf.deployed.size).toBe(0);
    // Control: the real deploy changes the org.
    const real = await deploy(cli, 'force-app');
    expect(resultOf(real)).toMatchObject({ status: 'Succeeded', checkOnly: false });
    expect(hasObject(sf, 'Care_Plan__c')).toBe(true);
  }, 120_000);

  it("refuses org setup with Salesforce's message when the org already tracks 20 Contact fields", async () => {
    // What an admin tracked in Setup before installing us: 20 Contact fields the org-setup folder
    // does not name (the org setup itself tracks 13).
    const contact = sf.org.schema.objects.get('contact')!;
    const ours = new Set(['email', 'phone', 'mobilephone', 'homephone', 'donotcall', 'hasoptedoutofemail']);
    const theirs = [...contact.fields.values()]
      .filter((f) => (f.createable || f.name === 'Name') && !f.custom && !ours.has(f.name.toLowerCase()))
      .slice(0, 20);
    expect(theirs).toHaveLength(20);
    for (const f of theirs) f.trackHistory = true;

    const refused = await deploy(cli, 'force-app-org-setup');
    expect(refused.code).not.toBe(0);
    expect(resultOf(refused).status).toBe('Failed');
    expect(failures(refused)).toEqual([
      {
        componentType: 'CustomObject',
        fullName: 'Contact',
        fileName: expect.any(String) as unknown as string,
        problem: 'exceeded the allowed number of fields to track on a given entity',
        changed: false,
        created: false,
        deleted: false,
        createdDate: expect.any(String) as unknown as string,
        problemType: 'Error',
        success: false,
      } as never,
    ]);
    // Nothing of the refused deploy landed: no org-setup permission set, Contact tracking as before.
    expect(sf.org.schema.permissionSets.has('Cliniko_Sync_Integration_Org')).toBe(false);
    expect(trackedContactFields(sf).sort()).toEqual(theirs.map((f) => f.name).sort());

    // Control: with 7 tracked (7 + 13 = 20, the limit) the same deploy goes through.
    for (const f of theirs.slice(7)) f.trackHistory = false;
    const accepted = await deploy(cli, 'force-app-org-setup');
    expect(failures(accepted)).toEqual([]);
    expect(resultOf(accepted).status).toBe('Succeeded');
    expect(trackedContactFields(sf)).toHaveLength(20);
  }, 120_000);

  it('refuses a Flow that names a field the org does not have, and nothing of that deploy lands', async () => {
    const file = join(cli.projectDir, FLOWS_DIR, 'Cliniko_No_Show_Nurture_Entry.flow-meta.xml');
    const sound = readFileSync(file, 'utf8');
    const broken = sound.replace('$Record.Kind__c', '$Record.Kynd__c');
    expect(broken).not.toBe(sound);
    writeFileSync(file, broken);
    const before = new Set(sf.deployed.get('Flow') ?? []);
    try {
      const refused = await deploy(cli, 'force-app');
      expect(resultOf(refused).status).toBe('Failed');
      expect(failures(refused).map((f) => [f.componentType, f.fullName])).toEqual([
        ['Flow', 'Cliniko_No_Show_Nurture_Entry'],
      ]);
      expect(failures(refused)[0]?.problem).toMatch(/"Kynd__c" for the object "Appointment_Event__e"/);
      expect(new Set(sf.deployed.get('Flow') ?? [])).toEqual(before);
    } finally {
      writeFileSync(file, sound);
    }
    // Control: the sound Flow deploys, and every shipped Flow is then in the org.
    const accepted = await deploy(cli, 'force-app');
    expect(failures(accepted)).toEqual([]);
    expect([...(sf.deployed.get('Flow') ?? [])].sort()).toEqual(SHIPPED_FLOWS);
  }, 120_000);

  it('refuses a Lightning web component bundle without its JavaScript', async () => {
    const js = join(cli.projectDir, LWC_DIR, 'errorPanel', 'errorPanel.js');
    renameSync(js, `${js}.aside`);
    try {
      const refused = await deploy(cli, 'force-app');
      expect(resultOf(refused).status).toBe('Failed');
      expect(failures(refused).map((f) => [f.componentType, f.fullName])).toEqual([
        ['LightningComponentBundle', 'errorPanel'],
      ]);
      expect(failures(refused)[0]?.problem).toMatch(/errorPanel\.js/);
    } finally {
      renameSync(`${js}.aside`, js);
    }
    // Control: the same bundle with its JavaScript deploys.
    const accepted = await deploy(cli, 'force-app');
    expect(failures(accepted)).toEqual([]);
    expect(resultOf(accepted).status).toBe('Succeeded');
  }, 120_000);
});
