import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClinikoSpec } from './metadata-cliniko-spec.js';
import {
  adaptLightningComponentBundle,
  loadMetadataSchema,
  validateAgainstSchema,
} from './metadata-schema.js';
import { CLINIKO_SPEC_PATH, copyPackage, edit, WSDL_PATH, write } from './metadata-test-support.js';
import { formatFinding, validateRepository, type ValidationReport } from './metadata-validate.js';

// Parsed once: the 2 MB schema and the 500 KB OpenAPI document.
const schema = loadMetadataSchema(WSDL_PATH);
const spec = loadClinikoSpec(CLINIKO_SPEC_PATH);

const OBJ = 'force-app/main/default/objects';
const PS = 'force-app/main/default/permissionsets';

function lines(report: ValidationReport): string[] {
  return report.errors.map(formatFinding);
}

describe('validate:metadata on a clean copy of the package', () => {
  let copy: { root: string; cleanup: () => void };
  beforeAll(() => {
    copy = copyPackage();
  });
  afterAll(() => copy.cleanup());

  it('finds no errors', async () => {
    const report = await validateRepository(copy.root, { schema, spec });
    expect(lines(report)).toEqual([]);
    expect(report.filesChecked).toBeGreaterThan(100);
    // Schema, conversion of three deploy folders and the drift check: seconds on a shared machine.
  }, 30_000);
});

describe('validate:metadata on a deliberately broken copy', () => {
  let copy: { root: string; cleanup: () => void };
  let report: ValidationReport;

  beforeAll(async () => {
    // Arrange: one independent breakage per rule, all in one copy so the (slow) schema compile runs once.
    copy = copyPackage();
    const root = copy.root;
    // Schema: elements out of the CustomField sequence.
    edit(
      root,
      `${OBJ}/Care_Plan__c/fields/Issue_Date__c.field-meta.xml`,
      /(<label>Issue Date<\/label>)([\s\S]*?)(<required>false<\/required>)/,
      '$3$2$1',
    );
    // Rule: an external id on a Checkbox.
    edit(
      root,
      `${OBJ}/Governance_Review__c/fields/Consent_Reviewed__c.field-meta.xml`,
      '<label>',
      '<externalId>true</externalId>\n  <label>',
    );
    // Rule: history tracked on an object that does not enable it.
    edit(
      root,
      `${OBJ}/Sync_Run__c/fields/Mode__c.field-meta.xml`,
      '<type>',
      '<trackHistory>true</trackHistory>\n  <type>',
    );
    // Rule: a required field in a permission set (and the set now differs from the generator's: drift).
    edit(
      root,
      `${PS}/Cliniko_Sync_Operations.permissionset-meta.xml`,
      '<fieldPermissions>',
      '<fieldPermissions><editable>false</editable><field>Contact.LastName</field><readable>true</readable></fieldPermissions>\n  <fieldPermissions>',
    );
    // Rule: a permission set naming a field that does not exist.
    edit(
      root,
      `${PS}/Cliniko_Sync_Billing.permissionset-meta.xml`,
      '<field>Cliniko_Invoice__c.Total_Amount__c</field>',
      '<field>Contact.Emial__c</field>',
    );
    // Rule: a list view column that does not exist.
    edit(
      root,
      `${OBJ}/Care_Plan__c/listViews/Open_Care_Plans.listView-meta.xml`,
      '<columns>Expiry_Date__c</columns>',
      '<columns>Expiry__c</columns>',
    );
    // Rule: a page layout naming a field that does not exist.
    edit(
      root,
      'force-app/main/default/layouts/Care_Plan__c-Care Plan Layout.layout-meta.xml',
      '<field>Referral_Type__c</field>',
      '<field>Referral_Kind__c</field>',
    );
    // Rule: a tab for a Lightning page that does not exist.
    edit(
      root,
      'force-app/main/default/tabs/Cliniko_Governance.tab-meta.xml',
      '<flexiPage>Cliniko_Governance<',
      '<flexiPage>Missing_Page<',
    );
    // Package contents: a user permission in a packaged set; org setup: View All on Contact for marketing.
    edit(
      root,
      `${PS}/Cliniko_Sync_Marketing.permissionset-meta.xml`,
      '</PermissionSet>',
      '  <userPermissions><enabled>true</enabled><name>ViewSetup</name></userPermissions>\n</PermissionSet>',
    );
    edit(
      root,
      'force-app-org-setup/main/default/permissionsets/Cliniko_Sync_Marketing_Org.permissionset-meta.xml',
      '<viewAllRecords>false</viewAllRecords>',
      '<viewAllRecords>true</viewAllRecords>',
    );
    // Data map: a clinician-only field given a target.
    edit(
      root,
      'config/data-map.yaml',
      /(source: \[cancellation_note, [^\]]*\]\n {4}classification: clinician-only\n)/,
      '$1    target: Cliniko_Appointment__c.Clinic__c\n',
    );
    // Data map: a target the package lacks.
    edit(
      root,
      'config/data-map.yaml',
      'target: Care_Plan__c.Referral_Type__c',
      'target: Care_Plan__c.Referral_Kind__c',
    );
    // Flow rules: a shipped Flow that is active, and one that names a field the package lacks (in a
    // $Record reference) and an object that does not exist.
    const FLOWS = 'force-app/main/default/flows';
    edit(
      root,
      `${FLOWS}/Cliniko_Appointment_Reminder.flow-meta.xml`,
      '<status>Draft</status>',
      '<status>Active</status>',
    );
    edit(root, `${FLOWS}/Cliniko_No_Show_Nurture_Entry.flow-meta.xml`, '$Record.Kind__c', '$Record.Kynd__c');
    edit(
      root,
      `${FLOWS}/Cliniko_Reactivation_Entry.flow-meta.xml`,
      /<object>Contact<\/object>/,
      '<object>Contakt</object>',
    );
    // Schema: a Flow with an element the Flow type does not have.
    edit(
      root,
      `${FLOWS}/Cliniko_Reactivation_Touches.flow-meta.xml`,
      '<status>',
      '<state>Draft</state>\n    <status>',
    );
    // Related lists: a layout column, a lookup that does not point at the layout's object, a record
    // page's relationship name and sort field that do not exist.
    const LAYOUTS = 'force-app/main/default/layouts';
    edit(
      root,
      `${LAYOUTS}/Contact-Cliniko Contact Layout.layout-meta.xml`,
      '<fields>Practitioner__c</fields>',
      '<fields>Practitionr__c</fields>',
    );
    edit(
      root,
      `${LAYOUTS}/Cliniko_Appointment__c-Appointment Layout.layout-meta.xml`,
      '<relatedList>Cliniko_Invoice__c.Appointment__c</relatedList>',
      '<relatedList>Cliniko_Invoice__c.Contact__c</relatedList>',
    );
    const CONTACT_PAGE = 'force-app/main/default/flexipages/Cliniko_Contact_Record_Page.flexipage-meta.xml';
    edit(
      root,
      CONTACT_PAGE,
      '<value>Cliniko_Appointments__r</value>',
      '<value>Cliniko_Appointment__r</value>',
    );
    write(
      root,
      'force-app/main/default/flexipages/Broken_Sort_Page.flexipage-meta.xml',
      readFileSync(path.join(root, CONTACT_PAGE), 'utf8')
        .replace('<value>Cliniko_Appointment__r</value>', '<value>Cliniko_Appointments__r</value>')
        .replace(/(<name>sortFieldAlias<\/name>\s*<value>)Starts_At__c/, '$1Start_At__c'),
    );
    // Schema, generically: a component bundle with an element the schema does not know.
    write(
      root,
      'force-app/main/default/lwc/brokenBundle/brokenBundle.js-meta.xml',
      '<?xml version="1.0" encoding="UTF-8"?>\n<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">\n  <apiVersion>66.0</apiVersion>\n  <isExposed>yes</isExposed>\n</LightningComponentBundle>\n',
    );
    write(root, 'force-app/main/default/lwc/brokenBundle/brokenBundle.js', 'export default class X {}\n');
    // LWC: a bundle whose TypeScript was never compiled (it would deploy as an empty component).
    const bundleMeta =
      '<?xml version="1.0" encoding="UTF-8"?>\n<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">\n  <apiVersion>66.0</apiVersion>\n  <isExposed>false</isExposed>\n</LightningComponentBundle>\n';
    write(root, 'force-app/main/default/lwc/unbuiltCard/unbuiltCard.js-meta.xml', bundleMeta);
    write(root, 'force-app/main/default/lwc/unbuiltCard/unbuiltCard.html', '<template></template>\n');
    write(
      root,
      'force-app/main/default/lwc/unbuiltCard/unbuiltCard.ts',
      'export default class UnbuiltCard {}\n',
    );
    // Act
    report = await validateRepository(root, { schema, spec });
  });
  afterAll(() => copy.cleanup());

  const expectError = (pattern: RegExp) => {
    const found = lines(report).filter((l) => pattern.test(l));
    expect(found, `no error matching ${String(pattern)} in:\n${lines(report).join('\n')}`).not.toEqual([]);
  };

  it('names the file and element of a schema error', () => {
    expectError(
      /Care_Plan__c\/fields\/Issue_Date__c\.field-meta\.xml:\d+: .*'label': This element is not expected.*\(schema\)/,
    );
  });

  it('checks component bundles against the schema too', () => {
    expectError(/brokenBundle\.js-meta\.xml.*'isExposed'.*'yes' is not a valid value.*\(schema\)/);
  });

  it('fails an LWC bundle that lacks its compiled .js, and only that one', () => {
    expectError(/unbuiltCard\/unbuiltCard\.js \[unbuiltCard\]: is missing.*npm run build:lwc.*\(lwc\)/);
    // Control: brokenBundle has its .js, so the check does not name it.
    expect(lines(report).filter((l) => l.includes('(lwc)'))).toEqual([
      expect.stringContaining('unbuiltCard/unbuiltCard.js'),
    ]);
  });

  it('checks Flows: schema, inactive on install, and every object and field they name', () => {
    expectError(
      /Cliniko_Reactivation_Touches\.flow-meta\.xml:\d+: .*'state': This element is not expected.*\(schema\)/,
    );
    expectError(
      /Cliniko_Appointment_Reminder\.flow-meta\.xml \[status\]: a shipped Flow is inactive \(Draft\).*not Active/,
    );
    expectError(
      /Cliniko_No_Show_Nurture_Entry\.flow-meta\.xml \[\$Record\.Kynd__c\]: Appointment_Event__e\.Kynd__c is not a field/,
    );
    expectError(
      /Cliniko_Reactivation_Entry\.flow-meta\.xml \[Enter_Reactivation object\]: Contakt is not an object/,
    );
    // Control: the Flows left alone are not named.
    expect(lines(report).filter((l) => l.includes('Cliniko_No_Show_Nurture_Touches'))).toEqual([]);
  });

  it('checks related lists on layouts and record pages against the package', () => {
    expectError(
      /Contact-Cliniko Contact Layout\.layout-meta\.xml \[relatedLists Cliniko_Appointment__c\.Contact__c\]: Cliniko_Appointment__c\.Practitionr__c is not a field/,
    );
    expectError(
      /Appointment Layout\.layout-meta\.xml \[relatedLists Cliniko_Invoice__c\.Contact__c\]: Cliniko_Invoice__c\.Contact__c does not look up Cliniko_Appointment__c/,
    );
    expectError(
      /Cliniko_Contact_Record_Page\.flexipage-meta\.xml \[lst_dynamicRelatedList_Cliniko_Appointments\]: Could not find related list Cliniko_Appointment__r on Contact/,
    );
    expectError(
      /Broken_Sort_Page\.flexipage-meta\.xml \[.*\]: Cliniko_Appointment__c\.Start_At__c is not a field/,
    );
    // Control: the columns left alone, and the other pages, are not named (the Care Plan layout's
    // planted field error belongs to the layout-field rule, not to related lists).
    const related = lines(report).filter((l) => /\[(relatedLists |lst_)/.test(l));
    expect(related, related.join('\n')).toHaveLength(4);
  });

  it('rejects an external id that is not Text, Number or Email', () => {
    expectError(
      /Consent_Reviewed__c\.field-meta\.xml \[externalId\]: an external id must be Text, Number or Email, not Checkbox/,
    );
  });

  it('rejects history tracking on an object without history', () => {
    expectError(
      /Mode__c\.field-meta\.xml \[trackHistory\]: Sync_Run__c\.Mode__c tracks history but Sync_Run__c does not enable history/,
    );
  });

  it('rejects what a package cannot carry, and View All on Contact for an audience in org setup', () => {
    expectError(
      /Cliniko_Sync_Marketing\.permissionset-meta\.xml \[userPermissions ViewSetup\]: user permissions are not carried by a packaged permission set/,
    );
    expectError(
      /Cliniko_Sync_Marketing_Org\.permissionset-meta\.xml \[objectPermissions Contact\]: View All or Modify All on Contact/,
    );
    // Control: the integration user's org-setup set keeps View All on Contact without an error.
    expect(lines(report).filter((l) => l.includes('Cliniko_Sync_Integration_Org'))).toEqual([]);
  });

  it('rejects a required field in fieldPermissions and a field that does not exist', () => {
    expectError(
      /Cliniko_Sync_Operations\.permissionset-meta\.xml \[fieldPermissions Contact\.LastName\]: .*required/,
    );
    expectError(
      /Cliniko_Sync_Billing\.permissionset-meta\.xml \[fieldPermissions Contact\.Emial__c\]: .*not a field/,
    );
  });

  it('rejects a layout field that does not exist', () => {
    expectError(
      /Care Plan Layout\.layout-meta\.xml \[layoutItems Referral_Kind__c\]: Care_Plan__c\.Referral_Kind__c is not a field/,
    );
  });

  it('rejects a tab whose Lightning page does not exist', () => {
    expectError(
      /Cliniko_Governance\.tab-meta\.xml \[flexiPage\]: no Lightning page Missing_Page in the package/,
    );
  });

  it('rejects a list view column that does not exist', () => {
    expectError(
      /Open_Care_Plans\.listView-meta\.xml \[columns Expiry__c\]: Care_Plan__c\.Expiry__c is not a field/,
    );
  });

  it('rejects a clinician-only field with a target and a target missing from the package', () => {
    expectError(
      /data-map\.yaml \[entries\[\d+\] \(individual_appointments\.cancellation_note\+.*\)\]: a clinician-only field must not have a Salesforce target/,
    );
    expectError(
      /data-map\.yaml \[.*Care_Plan__c\.Referral_Kind__c.*\]: target Care_Plan__c\.Referral_Kind__c does not exist/,
    );
  });

  it('notices that the map changed after its sign-off', () => {
    expectError(/data-map\.yaml \[signoff\.sha256\]: the map was changed after its sign-off/);
  });

  it('fails the drift check for hand-edited generated files', () => {
    expectError(
      /Cliniko_Sync_Operations\.permissionset-meta\.xml: differs from what config\/data-map\.yaml generates.*\(drift\)/,
    );
  });
});

describe('LightningComponentBundle source form', () => {
  it('accepts targets before targetConfigs and attributes inside targetConfigs, as Salesforce does', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">
  <apiVersion>66.0</apiVersion>
  <isExposed>true</isExposed>
  <masterLabel>Example</masterLabel>
  <description>Shown on the Contact page.</description>
  <targets><target>lightning__RecordPage</target></targets>
  <targetConfigs>
    <targetConfig targets="lightning__RecordPage"><objects><object>Contact</object></objects></targetConfig>
  </targetConfigs>
</LightningComponentBundle>
`;
    expect(adaptLightningComponentBundle(xml)).toMatch(
      /<description>[\s\S]*<isExposed>[\s\S]*<targetConfigs>[A-Za-z0-9+/=]+<\/targetConfigs>\n<targets>/,
    );
    expect(await validateAgainstSchema(schema, new Map([['ok.js-meta.xml', xml]]))).toEqual([]);
  });

  it('reports a file whose root is not a metadata type', async () => {
    const problems = await validateAgainstSchema(schema, new Map([['x.object-meta.xml', '<Nonsense/>']]));
    expect(problems).toEqual([
      {
        file: 'x.object-meta.xml',
        line: undefined,
        message: 'root element <Nonsense> is not a Metadata API type in the v66 schema',
      },
    ]);
  });
});
