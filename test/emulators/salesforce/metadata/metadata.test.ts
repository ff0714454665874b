import { resolve } from 'node:path';
import JSZip from 'jszip';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSchema, type Schema } from '../schema.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../server.js';
import { signJwt } from '../testing.js';
import { readPackage } from './package.js';
import { DEPLOY_RULES, validateDeploy } from './rules.js';

/**
 * The deploy rules one by one (each fires on a package that breaks it, and stays quiet on its sound
 * twin), then the SOAP endpoint through jsforce's own Metadata API client.
 */

const XMLNS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';

function field(name: string, body: string): string {
  return `<fields><fullName>${name}</fullName><label>${name.replace(/__c$/, '')}</label>${body}</fields>`;
}

function objectXml(fields: string[], extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><CustomObject ${XMLNS}>${extra}${fields.join('')}</CustomObject>`;
}

function manifest(members: Array<[string, string]>): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Package ${XMLNS}>${members
    .map(([type, name]) => `<types><members>${name}</members><name>${type}</name></types>`)
    .join('')}<version>66.0</version></Package>`;
}

function files(entries: Record<string, string>): Map<string, Buffer> {
  return new Map(Object.entries(entries).map(([path, text]) => [path, Buffer.from(text)]));
}

const TEXT = '<type>Text</type><length>80</length>';
const widget = (fields: string[]) =>
  files({
    'package.xml': manifest([['CustomObject', 'Widget__c']]),
    'objects/Widget__c.object': objectXml(fields, '<label>Widget</label><pluralLabel>Widgets</pluralLabel>'),
  });

function problemsOf(rule: string, pkgFiles: Map<string, Buffer>, schema: Schema): string[] {
  const found = DEPLOY_RULES.find((r) => r.name === rule);
  if (!found) throw new Error(`no rule ${rule}`);
  return found.check(readPackage(pkgFiles), schema).map((p) => `${p.fullName}: ${p.problem}`);
}

describe('deploy rules', () => {
  const empty = () => loadSchema(undefined);

  it('api-names: a custom field name with a double underscore is refused', () => {
    expect(problemsOf('api-names', widget([field('Bad__Name__c', TEXT)]), empty())).toEqual([
      expect.stringMatching(/^Widget__c\.Bad__Name__c: The Field Name field can only contain underscores/),
    ]);
    expect(problemsOf('api-names', widget([field('Good_Name__c', TEXT)]), empty())).toEqual([]);
  });

  it('field-lengths: a Text field longer than 255 is refused', () => {
    const long = field('Code__c', '<type>Text</type><length>256</length>');
    expect(problemsOf('field-lengths', widget([long]), empty())).toEqual([
      'Widget__c.Code__c: Length: Value must be between 1 and 255, inclusive',
    ]);
    expect(problemsOf('field-lengths', widget([field('Code__c', TEXT)]), empty())).toEqual([]);
  });

  it('picklists: a duplicate value is refused', () => {
    const values = (names: string[]) =>
      `<type>Picklist</type><valueSet><valueSetDefinition>${names
        .map((n) => `<value><fullName>${n}</fullName><default>false</default><label>${n}</label></value>`)
        .join('')}</valueSetDefinition></valueSet>`;
    expect(problemsOf('picklists', widget([field('Tier__c', values(['Gold', 'gold']))]), empty())).toEqual([
      'Widget__c.Tier__c: Duplicate picklist value: gold',
    ]);
    expect(problemsOf('picklists', widget([field('Tier__c', values(['Gold', 'Silver']))]), empty())).toEqual(
      [],
    );
  });

  it('references-exist: a lookup to a missing object and a permission on a missing field are refused', () => {
    const lookup = (to: string) =>
      field(
        'Owner_Ref__c',
        `<type>Lookup</type><referenceTo>${to}</referenceTo><relationshipName>W</relationshipName>`,
      );
    expect(problemsOf('references-exist', widget([lookup('Nowhere__c')]), empty())).toEqual([
      "Widget__c.Owner_Ref__c: Field Owner_Ref__c: referenceTo value of 'Nowhere__c' does not resolve to a valid sObject type",
    ]);
    expect(problemsOf('references-exist', widget([lookup('Contact')]), empty())).toEqual([]);
    const permissionSet = (fieldName: string) =>
      files({
        'package.xml': manifest([['PermissionSet', 'Audience']]),
        'permissionsets/Audience.permissionset': `<?xml version="1.0" encoding="UTF-8"?><PermissionSet ${XMLNS}><label>Audience</label><fieldPermissions><editable>false</editable><field>${fieldName}</field><readable>true</readable></fieldPermissions></PermissionSet>`,
      });
    expect(problemsOf('references-exist', permissionSet('Contact.Missing__c'), empty())).toEqual([
      'Audience: In field: field - no CustomField named Contact.Missing__c found',
    ]);
    expect(problemsOf('references-exist', permissionSet('Contact.MailingAddress'), empty())).toEqual([]);
  });

  it('related-lists: a layout or record page list naming a missing column or relationship is refused', () => {
    // Widget__c looks up Contact (child relationship Widgets); a Contact layout and a Contact record
    // page show the list with a column and a sort field.
    const deploy = (column: string, relationship: string, sort: string) =>
      files({
        'package.xml': manifest([
          ['CustomObject', 'Widget__c'],
          ['Layout', 'Contact-Widget Layout'],
          ['FlexiPage', 'Widget_Contact_Page'],
        ]),
        'objects/Widget__c.object': objectXml(
          [
            field('Colour__c', TEXT),
            field(
              'Contact__c',
              '<type>Lookup</type><referenceTo>Contact</referenceTo><relationshipName>Widgets</relationshipName>',
            ),
          ],
          '<label>Widget</label><pluralLabel>Widgets</pluralLabel>',
        ),
        'layouts/Contact-Widget Layout.layout': `<?xml version="1.0" encoding="UTF-8"?><Layout ${XMLNS}><relatedLists><fields>NAME</fields><fields>${column}</fields><relatedList>Widget__c.Contact__c</relatedList><sortField>${sort}</sortField><sortOrder>Desc</sortOrder></relatedLists></Layout>`,
        'flexipages/Widget_Contact_Page.flexipage': `<?xml version="1.0" encoding="UTF-8"?><FlexiPage ${XMLNS}><flexiPageRegions><itemInstances><componentInstance><componentInstanceProperties><name>parentFieldApiName</name><value>Contact.Id</value></componentInstanceProperties><componentInstanceProperties><name>relatedListApiName</name><value>${relationship}</value></componentInstanceProperties><componentInstanceProperties><name>relatedListFieldAliases</name><valueList><valueListItems><value>NAME</value></valueListItems><valueListItems><value>${column}</value></valueListItems></valueList></componentInstanceProperties><componentInstanceProperties><name>sortFieldAlias</name><value>${sort}</value></componentInstanceProperties><componentName>lst:dynamicRelatedList</componentName><identifier>widgets</identifier></componentInstance></itemInstances><name>main</name><type>Region</type></flexiPageRegions><masterLabel>Widget Contact Page</masterLabel><sobjectType>Contact</sobjectType><template><name>flexipage:recordHomeTemplateDesktop</name></template><type>RecordPage</type></FlexiPage>`,
      });
    expect(problemsOf('related-lists', deploy('Color__c', 'Widgets__r', 'Colour__c'), empty())).toEqual([
      'Contact-Widget Layout: relatedLists Widget__c.Contact__c: Widget__c.Color__c is not a field of the org',
      'Widget_Contact_Page: widgets: Widget__c.Color__c is not a field of the org',
    ]);
    expect(problemsOf('related-lists', deploy('Colour__c', 'Widgetz__r', 'Colour__c'), empty())).toEqual([
      'Widget_Contact_Page: widgets: Could not find related list Widgetz__r on Contact',
    ]);
    expect(problemsOf('related-lists', deploy('Colour__c', 'Widgets__r', 'Shade__c'), empty())).toEqual([
      'Contact-Widget Layout: relatedLists Widget__c.Contact__c: Widget__c.Shade__c is not a field of the org',
      'Widget_Contact_Page: widgets: Widget__c.Shade__c is not a field of the org',
    ]);
    // Control: the sound twin, whose names all resolve within the same deploy.
    expect(problemsOf('related-lists', deploy('Colour__c', 'Widgets__r', 'Colour__c'), empty())).toEqual([]);
  });

  it('flow-references: a Flow naming a field or object the org lacks is refused; a sound one is stored', () => {
    // A platform-event-triggered Flow reading $Record.<field> and updating Contact.<field>.
    const flow = (eventField: string, contactObject: string) =>
      files({
        'package.xml': manifest([
          ['CustomObject', 'Visit_Event__e'],
          ['Flow', 'Visit_Flow'],
        ]),
        'objects/Visit_Event__e.object': objectXml(
          [field('Kind__c', TEXT)],
          '<label>Visit Event</label><pluralLabel>Visit Events</pluralLabel>',
        ),
        'flows/Visit_Flow.flow': `<?xml version="1.0" encoding="UTF-8"?><Flow ${XMLNS}><decisions><name>Which</name><label>Which</label><locationX>0</locationX><locationY>0</locationY><defaultConnectorLabel>Other</defaultConnectorLabel><rules><name>Booked</name><conditionLogic>and</conditionLogic><conditions><leftValueReference>$Record.${eventField}</leftValueReference><operator>EqualTo</operator><rightValue><stringValue>booked</stringValue></rightValue></conditions><connector><targetReference>Stamp</targetReference></connector><label>Booked</label></rules></decisions><label>Visit Flow</label><processType>AutoLaunchedFlow</processType><recordUpdates><name>Stamp</name><label>Stamp</label><locationX>0</locationX><locationY>0</locationY><filterLogic>and</filterLogic><filters><field>Email</field><operator>IsNull</operator><value><booleanValue>false</booleanValue></value></filters><inputAssignments><field>Description</field><value><stringValue>booked</stringValue></value></inputAssignments><object>${contactObject}</object></recordUpdates><start><locationX>0</locationX><locationY>0</locationY><connector><targetReference>Which</targetReference></connector><object>Visit_Event__e</object><triggerType>PlatformEvent</triggerType></start><status>Draft</status></Flow>`,
      });
    expect(problemsOf('flow-references', flow('Kynd__c', 'Contact'), empty())).toEqual([
      'Visit_Flow: $Record.Kynd__c: The field "Kynd__c" for the object "Visit_Event__e" doesn\'t exist.',
    ]);
    expect(problemsOf('flow-references', flow('Kind__c', 'Contakt'), empty())).toEqual([
      'Visit_Flow: Stamp object: The object "Contakt" doesn\'t exist.',
    ]);
    // Control: the same Flow with names that resolve (the event comes in the same deploy).
    expect(problemsOf('flow-references', flow('Kind__c', 'Contact'), empty())).toEqual([]);
  });

  it('field-type-changes: Text to Number on an existing field is refused, Text to Email is not', () => {
    const schema = loadSchema(resolve(import.meta.dirname, '../../../..'));
    const change = (type: string) =>
      files({
        'package.xml': manifest([['CustomField', 'Care_Plan__c.Funding_Source__c']]),
        'objects/Care_Plan__c.object': objectXml([field('Funding_Source__c', type)]),
      });
    const before = schema.objects.get('care_plan__c')?.fields.get('funding_source__c')?.metadataType;
    expect(before).toBeDefined();
    const refused =
      before === 'Number'
        ? '<type>Checkbox</type>'
        : '<type>Number</type><precision>5</precision><scale>0</scale>';
    expect(problemsOf('field-type-changes', change(refused), schema)).toEqual([
      expect.stringMatching(
        /^Care_Plan__c\.Funding_Source__c: Cannot change field type from \w+ to \w+ via the API$/,
      ),
    ]);
    expect(
      problemsOf('field-type-changes', change(`<type>${before}</type><length>80</length>`), schema),
    ).toEqual([]);
  });

  it('tracked-field-limit: counts what the org already tracks', () => {
    const schema = empty();
    const contact = schema.objects.get('contact')!;
    const tracked = (n: number) =>
      files({
        'package.xml': manifest([['CustomObject', 'Contact']]),
        'objects/Contact.object': objectXml(
          Array.from({ length: n }, (_, i) =>
            field(`Tracked_${i}__c`, `${TEXT}<trackHistory>true</trackHistory>`),
          ),
        ),
      });
    expect(problemsOf('tracked-field-limit', tracked(20), schema)).toEqual([]);
    // One field the org already tracks tips the same package over the limit.
    contact.fields.get('email')!.trackHistory = true;
    expect(problemsOf('tracked-field-limit', tracked(20), schema)).toEqual([
      'Contact: exceeded the allowed number of fields to track on a given entity',
    ]);
  });

  it('lwc-bundle-has-js: a bundle without its JavaScript is refused', () => {
    const bundle = (withJs: boolean) =>
      files({
        'package.xml': manifest([['LightningComponentBundle', 'widgetCard']]),
        'lwc/widgetCard/widgetCard.html': '<template></template>',
        'lwc/widgetCard/widgetCard.js-meta.xml': `<?xml version="1.0"?><LightningComponentBundle ${XMLNS}><apiVersion>66.0</apiVersion></LightningComponentBundle>`,
        ...(withJs ? { 'lwc/widgetCard/widgetCard.js': 'export default class {}' } : {}),
      });
    expect(problemsOf('lwc-bundle-has-js', bundle(false), empty())).toEqual([
      expect.stringMatching(/^widgetCard: Cannot find Lightning Component Bundle widgetCard/),
    ]);
    expect(problemsOf('lwc-bundle-has-js', bundle(true), empty())).toEqual([]);
  });

  it('a sound package passes every rule', () => {
    expect(validateDeploy(readPackage(widget([field('Code__c', TEXT)])), empty())).toEqual([]);
  });
});

describe('the SOAP endpoint through jsforce', () => {
  let sf: SalesforceEmulator;

  beforeAll(async () => {
    sf = await startSalesforceEmulator({ emptyOrg: true });
  });

  afterAll(async () => {
    await sf?.close();
  });

  async function connectionAs(username: string): Promise<Connection> {
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId },
      version: '66.0',
    });
    const assertion = signJwt(
      { iss: sf.clientId, sub: username, aud: sf.loginUrl, exp: Math.floor(Date.now() / 1000) + 180 },
      sf.jwt.privateKeyPem ?? '',
    );
    await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
    return conn;
  }

  async function zip(entries: Map<string, Buffer>): Promise<Buffer> {
    const archive = new JSZip();
    for (const [path, content] of entries) archive.file(path, content);
    return archive.generateAsync({ type: 'nodebuffer' });
  }

  it('deploys for the admin (checkOnly first), refuses the integration user', async () => {
    const pkg = await zip(widget([field('Code__c', TEXT)]));
    const admin = await connectionAs(sf.adminUsername);
    const check = await admin.metadata.deploy(pkg, { checkOnly: true, rollbackOnError: true }).complete(true);
    expect(check).toMatchObject({ success: true, checkOnly: true, status: 'Succeeded' });
    expect(sf.org.schema.objects.has('widget__c')).toBe(false);

    const result = await admin.metadata.deploy(pkg, { rollbackOnError: true }).complete(true);
    expect(result).toMatchObject({ success: true, status: 'Succeeded', numberComponentsDeployed: 1 });
    const describe = await admin.sobject('Widget__c').describe();
    expect(describe.fields.map((f) => f.name)).toContain('Code__c');

    const integration = await connectionAs(sf.username);
    await expect(integration.metadata.deploy(pkg, {}).complete(true)).rejects.toThrow(
      /ModifyAllData|INSUFFICIENT_ACCESS/,
    );
  });

  it('a redeploy that adds an external id and a required field to an object already written is enforced', async () => {
    const admin = await connectionAs(sf.adminUsername);
    const first = await zip(widget([field('Code__c', TEXT)]));
    await admin.metadata.deploy(first, { rollbackOnError: true }).complete(true);
    // Written before the redeploy: the store has worked out the object's fields for its saves.
    expect(await admin.sobject('Widget__c').create({ Code__c: 'before' })).toMatchObject({ success: true });

    const ext = field('Ext__c', `${TEXT}<externalId>true</externalId><unique>true</unique>`);
    const second = await zip(
      widget([field('Code__c', TEXT), ext, field('Size__c', `${TEXT}<required>true</required>`)]),
    );
    const result = await admin.metadata.deploy(second, { rollbackOnError: true }).complete(true);
    expect(result).toMatchObject({ success: true });

    const widgets = admin.sobject('Widget__c');
    const created = await widgets.upsert({ Ext__c: 'W-1', Code__c: 'a', Size__c: 'S' }, 'Ext__c');
    expect(created).toMatchObject({ success: true, created: true });
    // The new external id is indexed: the same key updates the record instead of adding another.
    const again = await widgets.upsert({ Ext__c: 'w-1', Code__c: 'b' }, 'Ext__c');
    expect(again).toMatchObject({ success: true, created: false, id: created.id });
    await expect(widgets.create({ Code__c: 'no size' })).rejects.toThrow(/REQUIRED_FIELD_MISSING|Size__c/);
  });
});
