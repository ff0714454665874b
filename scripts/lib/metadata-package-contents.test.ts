import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_SETUP_DIR } from './metadata-generate.js';
import { loadProject } from './metadata-project.js';
import {
  checkContactVisibility,
  checkPackageContents,
  CONTACT_VIEW_ALL_SETS,
  type PackageContentProblem,
  type PackageContentRule,
} from './metadata-rules.js';
import { copyPackage, edit, REPO_ROOT, write } from './metadata-test-support.js';

/**
 * The package-contents rules: the packaged folder carries nothing an unlocked package cannot
 * (history tracking on a standard object, standard-object, standard-field, standard-tab and user
 * permissions, a Shield retention policy, View All on Contact). Each rule has a test (a copy broken
 * in exactly one place makes it fire, naming that file) and a control (the clean copy, where the rule
 * finds nothing).
 */

const PKG = 'force-app/main/default';
const PS = `${PKG}/permissionsets`;
const CONTACT_GRANT = (viewAll: boolean) =>
  `<objectPermissions><allowCreate>false</allowCreate><allowDelete>false</allowDelete><allowEdit>false</allowEdit><allowRead>true</allowRead><modifyAllRecords>false</modifyAllRecords><object>Contact</object><viewAllRecords>${viewAll}</viewAllRecords></objectPermissions>\n  `;

function byRule(problems: readonly PackageContentProblem[], rule: PackageContentRule): string[] {
  return problems
    .filter((p) => p.rule === rule)
    .map((p) => `${p.file} [${p.element}]`)
    .sort();
}

describe('package contents', () => {
  let clean: { root: string; cleanup: () => void };
  let broken: { root: string; cleanup: () => void };
  let cleanProblems: PackageContentProblem[];
  let brokenProblems: PackageContentProblem[];

  beforeAll(() => {
    clean = copyPackage();
    cleanProblems = checkPackageContents(loadProject(clean.root));

    broken = copyPackage();
    const root = broken.root;
    // History on Contact, at object level, on a custom field of Contact and on a standard field.
    write(
      root,
      `${PKG}/objects/Contact/Contact.object-meta.xml`,
      '<?xml version="1.0" encoding="UTF-8"?>\n<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">\n  <enableHistory>true</enableHistory>\n</CustomObject>\n',
    );
    edit(
      root,
      `${PKG}/objects/Contact/fields/Journey_Stage__c.field-meta.xml`,
      '<trackHistory>false</trackHistory>',
      '<trackHistory>true</trackHistory>',
    );
    write(
      root,
      `${PKG}/objects/Contact/fields/Email.field-meta.xml`,
      '<?xml version="1.0" encoding="UTF-8"?>\n<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n  <fullName>Email</fullName>\n  <trackHistory>true</trackHistory>\n</CustomField>\n',
    );
    // A Shield retention policy in the package: the shield copy of Care_Plan__c in place of the core one.
    write(
      root,
      `${PKG}/objects/Care_Plan__c/Care_Plan__c.object-meta.xml`,
      readFileSync(
        path.join(
          REPO_ROOT,
          'force-app-shield/main/default/objects/Care_Plan__c/Care_Plan__c.object-meta.xml',
        ),
        'utf8',
      ),
    );
    // Contact object access (with View All) in a packaged audience set.
    edit(
      root,
      `${PS}/Cliniko_Sync_Marketing.permissionset-meta.xml`,
      '<objectPermissions>',
      `${CONTACT_GRANT(true)}<objectPermissions>`,
    );
    // A standard field's security in a packaged set.
    edit(
      root,
      `${PS}/Cliniko_Sync_Billing.permissionset-meta.xml`,
      '<fieldPermissions>',
      '<fieldPermissions><editable>false</editable><field>Contact.MailingAddress</field><readable>true</readable></fieldPermissions>\n  <fieldPermissions>',
    );
    // A standard tab in a packaged set.
    edit(
      root,
      `${PS}/Cliniko_Sync_Operations.permissionset-meta.xml`,
      '<tabSettings>',
      '<tabSettings><tab>standard-Contact</tab><visibility>Visible</visibility></tabSettings>\n  <tabSettings>',
    );
    // A user permission in a packaged set.
    edit(
      root,
      `${PS}/Cliniko_Sync_Integration.permissionset-meta.xml`,
      '</PermissionSet>',
      '  <userPermissions><enabled>true</enabled><name>ApiEnabled</name></userPermissions>\n</PermissionSet>',
    );
    brokenProblems = checkPackageContents(loadProject(root));
  });
  afterAll(() => {
    clean.cleanup();
    broken.cleanup();
  });

  it('finds nothing in the committed package (the control for every rule)', () => {
    expect(cleanProblems).toEqual([]);
    expect(checkPackageContents(loadProject(REPO_ROOT))).toEqual([]);
  });

  it('refuses history tracking on Contact, at object level and on standard and custom fields', () => {
    expect(byRule(brokenProblems, 'standardObjectHistory')).toEqual([
      `${PKG}/objects/Contact/Contact.object-meta.xml [enableHistory]`,
      `${PKG}/objects/Contact/fields/Email.field-meta.xml [trackHistory Contact.Email]`,
      `${PKG}/objects/Contact/fields/Journey_Stage__c.field-meta.xml [trackHistory Contact.Journey_Stage__c]`,
    ]);
    // History on our own objects stays in the package.
    expect(brokenProblems.some((p) => p.file.includes('/Cliniko_Appointment__c/'))).toBe(false);
  });

  it('refuses a Field Audit Trail retention policy', () => {
    expect(byRule(brokenProblems, 'historyRetentionPolicy')).toEqual([
      `${PKG}/objects/Care_Plan__c/Care_Plan__c.object-meta.xml [historyRetentionPolicy]`,
    ]);
  });

  it('refuses object permissions on a standard object, and View All on Contact', () => {
    expect(byRule(brokenProblems, 'standardObjectPermission')).toEqual([
      `${PS}/Cliniko_Sync_Marketing.permissionset-meta.xml [objectPermissions Contact]`,
    ]);
    expect(byRule(brokenProblems, 'viewAllContact')).toEqual([
      `${PS}/Cliniko_Sync_Marketing.permissionset-meta.xml [objectPermissions Contact]`,
    ]);
  });

  it('refuses a standard field, but not our custom fields on Contact', () => {
    expect(byRule(brokenProblems, 'standardFieldPermission')).toEqual([
      `${PS}/Cliniko_Sync_Billing.permissionset-meta.xml [fieldPermissions Contact.MailingAddress]`,
    ]);
    // Control within the same set: it grants custom Contact fields, which packages carry.
    const billing = readFileSync(
      path.join(REPO_ROOT, PS, 'Cliniko_Sync_Billing.permissionset-meta.xml'),
      'utf8',
    );
    expect(billing).toMatch(/<field>Contact\.[A-Za-z_]+__c<\/field>/);
  });

  it('refuses a standard tab and a user permission', () => {
    expect(byRule(brokenProblems, 'standardTab')).toEqual([
      `${PS}/Cliniko_Sync_Operations.permissionset-meta.xml [tabSettings standard-Contact]`,
    ]);
    expect(byRule(brokenProblems, 'userPermission')).toEqual([
      `${PS}/Cliniko_Sync_Integration.permissionset-meta.xml [userPermissions ApiEnabled]`,
    ]);
  });

  it('fires on the org-setup folder as it stands: what it holds is exactly what the package cannot', () => {
    // Positive control: the generated org-setup content, read as if it were packaged, breaks every
    // permission rule and the history rule.
    const asPackaged = checkPackageContents(loadProject(REPO_ROOT, ORG_SETUP_DIR));
    const rules = new Set(asPackaged.map((p) => p.rule));
    expect([...rules].sort()).toEqual([
      'standardFieldPermission',
      'standardObjectHistory',
      'standardObjectPermission',
      'standardTab',
      'userPermission',
      'viewAllContact',
    ]);
  });
});

describe('View All on Contact in the org-setup folder', () => {
  const orgSetup = loadProject(REPO_ROOT, ORG_SETUP_DIR);
  const allowed = (name: string) => CONTACT_VIEW_ALL_SETS.has(name);

  it('is held by the integration user only (control: the committed folder passes)', () => {
    expect(checkContactVisibility(orgSetup.files, allowed)).toEqual([]);
    const integration = orgSetup.files.find((f) =>
      f.file.endsWith('Cliniko_Sync_Integration_Org.permissionset-meta.xml'),
    );
    expect(integration).toBeDefined();
    // The control is not vacuous: the integration set does hold View All on Contact.
    expect(checkContactVisibility(integration === undefined ? [] : [integration], () => false)).toHaveLength(
      1,
    );
  });

  it('is refused for an audience set', () => {
    const marketing = orgSetup.files.find((f) =>
      f.file.endsWith('Cliniko_Sync_Marketing_Org.permissionset-meta.xml'),
    );
    expect(marketing).toBeDefined();
    if (marketing === undefined) return;
    const widened = {
      ...marketing,
      node: {
        ...marketing.node,
        objectPermissions: [
          {
            object: [{ '#text': 'Contact' }],
            allowRead: [{ '#text': 'true' }],
            viewAllRecords: [{ '#text': 'true' }],
          },
        ],
      },
    };
    expect(checkContactVisibility([widened], allowed).map((p) => p.rule)).toEqual(['viewAllContact']);
  });
});
