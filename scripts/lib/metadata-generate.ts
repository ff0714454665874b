import { createHash } from 'node:crypto';
import {
  AUDIENCES_BY_CLASSIFICATION,
  syncedFields,
  type Audience,
  type LoadedDataMap,
} from './metadata-datamap.js';
import { fieldPermissionNames, type Project } from './metadata-project.js';
import { renderMetadataXml, type XmlChild } from './metadata-xml.js';

/**
 * What `npm run generate:metadata` writes, as a pure function of the data map and the package:
 * the five packaged permission sets, their five unpackaged companions in force-app-org-setup (the
 * standard-object and user permissions a package cannot carry), Contact's history tracking (also in
 * force-app-org-setup), the Data_Map_Field__mdt and Data_Map_Signoff__mdt records, and the Field Audit
 * Trail retention policies in force-app-shield. Output is unformatted XML keyed by repository-relative
 * path; the caller formats it (metadata-xml.ts) and writes or compares it.
 *
 * Every list is sorted, so the output depends only on the inputs' content.
 */

const PKG = 'force-app/main/default';
const SHIELD = 'force-app-shield/main/default';
/** The unpackaged folder the admin deploys after installing the package (force-app-org-setup/README.md). */
export const ORG_SETUP_DIR = 'force-app-org-setup';
const ORG_SETUP = `${ORG_SETUP_DIR}/main/default`;

export type PermissionSetName =
  | 'Cliniko_Sync_Integration'
  | 'Cliniko_Sync_Marketing'
  | 'Cliniko_Sync_Operations'
  | 'Cliniko_Sync_Billing'
  | 'Cliniko_Sync_Compliance';

/**
 * The unpackaged companion of each packaged set: Contact object access, standard Contact fields and
 * user permissions, none of which a package installs (force-app-org-setup/README.md). A separate set,
 * not the packaged one redeployed: since API 40.0 deploying a permission set replaces its contents, so
 * a second file of the same name would wipe what the package granted.
 */
export function orgSetupSetName(name: PermissionSetName): `${PermissionSetName}_Org` {
  return `${name}_Org`;
}

export const PERMISSION_SET_BY_AUDIENCE: Readonly<Record<Audience, PermissionSetName>> = {
  marketing: 'Cliniko_Sync_Marketing',
  operations: 'Cliniko_Sync_Operations',
  billing: 'Cliniko_Sync_Billing',
  compliance: 'Cliniko_Sync_Compliance',
};

const PERMISSION_SET_TEXT: Readonly<Record<PermissionSetName, { label: string; description: string }>> = {
  Cliniko_Sync_Integration: {
    label: 'Cliniko Sync Integration',
    description:
      'For the sync service integration user only: reads and edits every synced field, publishes journey events and writes sync run, consent and access records. Generated from config/data-map.yaml.',
  },
  Cliniko_Sync_Marketing: {
    label: 'Cliniko Sync Marketing',
    description:
      'Reads marketing-safe synced fields. Generated from config/data-map.yaml; do not edit by hand.',
  },
  Cliniko_Sync_Operations: {
    label: 'Cliniko Sync Operations',
    description:
      'Reads marketing-safe and operations-safe synced fields. Generated from config/data-map.yaml; do not edit by hand.',
  },
  Cliniko_Sync_Billing: {
    label: 'Cliniko Sync Billing',
    description:
      'Reads marketing-safe and billing synced fields. Generated from config/data-map.yaml; do not edit by hand.',
  },
  Cliniko_Sync_Compliance: {
    label: 'Cliniko Sync Compliance',
    description:
      'For the compliance officer: reads every synced field and its history, the data map, and runs the governance review. Generated from config/data-map.yaml.',
  },
};

/**
 * `create`: insert-only (create and read, never edit or delete: the audit anchors). `update`: read and
 * edit existing records, never create them (the matched Leads). `edit`: create, read and edit.
 */
type Access = 'read' | 'create' | 'update' | 'edit';

/** The Apex controller behind the governance components; without class access they fail to load. */
export const GOVERNANCE_CONTROLLER = 'ClinikoGovernanceController';

/**
 * Contact fields whose history is tracked (force-app-org-setup; Salesforce allows 20 per object, and
 * an org often tracks some Contact fields already, so we take 13 and leave 7). Chosen by what an audit
 * must answer that no other record does: consent and opt-outs (what a campaign was allowed to use),
 * the contact details Salesforce users may edit and the sync writes back to Cliniko (direction
 * `both`: Salesforce's history is the only record of who changed them there), and identity, lifecycle
 * and journey stage. Fields that only flow from Cliniko are left out: Cliniko holds their history and
 * the service's audit log records every write it makes (docs/data-map.md, "History tracking").
 */
export const CONTACT_TRACKED_FIELDS: readonly string[] = [
  'Cliniko_Patient_Id__c',
  'Cliniko_Status__c',
  'DoNotCall',
  'Email',
  'Email_Marketing_Consent__c',
  'HasOptedOutOfEmail',
  'HomePhone',
  'Journey_Stage__c',
  'Merged_Into__c',
  'MobilePhone',
  'Phone',
  'Privacy_Policy_Status__c',
  'SMS_Marketing_Consent__c',
];

/**
 * Governance objects are not in the data map (they hold no Cliniko data); who may do what with them
 * is fixed here. The service writes run, consent and access records; the compliance officer reads
 * them and owns the quarterly review.
 */
export const GOVERNANCE_ACCESS: Readonly<
  Record<string, Partial<Record<'integration' | 'compliance', Access>>>
> = {
  Sync_Run__c: { integration: 'edit', compliance: 'read' },
  Consent_Reconciliation__c: { integration: 'edit', compliance: 'read' },
  Access_Change__c: { integration: 'edit', compliance: 'read' },
  // Insert-only evidence of the audit chain's head (docs/governance.md, "Audit anchors").
  Audit_Anchor__c: { integration: 'create', compliance: 'read' },
  // Insert-only results of `audit verify` (docs/governance.md, "Audit verification").
  Audit_Verification__c: { integration: 'create', compliance: 'read' },
  // The quarter's counts, upserted nightly by the service (docs/governance.md, "The quarter").
  Quarter_Summary__c: { integration: 'edit', compliance: 'read' },
  // The integration user reads reviews to find the last signed one (the access picture's baseline).
  Governance_Review__c: { integration: 'read', compliance: 'edit' },
};

/**
 * Package fields that hold no Cliniko data, so the map does not list them, and who reads them: the
 * nurture funnel fields the shipped Flows set (Flows run in system context and need no grant to write
 * them; docs/marketing.md, "Shipped Flows"), and the "Open in Cliniko" link, built from the
 * marketing-safe Cliniko patient id (readable by every audience, as that id is). A field the map
 * names is granted by its classification instead.
 */
export const PACKAGE_FIELD_ACCESS: Readonly<Record<string, readonly Audience[]>> = {
  'Contact.Nurture_Funnel__c': ['marketing', 'operations', 'compliance'],
  'Contact.Nurture_Phase__c': ['marketing', 'operations', 'compliance'],
  'Contact.Nurture_Started_At__c': ['marketing', 'operations', 'compliance'],
  'Contact.Cliniko_Patient_Link__c': ['marketing', 'operations', 'billing', 'compliance'],
  // The Lead link (SYNC_LEAD_MATCH=link): which Lead became this patient, and on the Lead the patient
  // id (marketing-safe, as on Contact), so a marketer sees and filters the Leads that are now patients.
  // Field access only: Lead object access stays with the org's own profiles and sharing.
  'Contact.Matched_Lead__c': ['marketing', 'operations', 'billing', 'compliance'],
  'Lead.Cliniko_Patient_Id__c': ['marketing', 'operations', 'billing', 'compliance'],
};

/** The fields the integration user writes when it links a matched Lead (sync/match/, issue #19). */
export const LEAD_LINK_FIELDS = ['Contact.Matched_Lead__c', 'Lead.Cliniko_Patient_Id__c'] as const;

/** The platform event the integration user publishes journey transitions on. */
export const JOURNEY_EVENT = 'Patient_Journey_Event__e';
/** The platform event the integration user publishes appointment lifecycle events on (issue #19). */
export const APPOINTMENT_EVENT = 'Appointment_Event__e';
export const APP_NAME = 'Cliniko_Sync';
export const CMDT_TYPES = ['Data_Map_Field__mdt', 'Data_Map_Signoff__mdt'] as const;
/** The compliance officer's app page tab (its page belongs to the Lightning components), when present. */
export const GOVERNANCE_PAGE_TAB = 'Cliniko_Governance';

/**
 * Field Audit Trail (force-app-shield): keep field history in Salesforce for the 18 months the
 * platform allows, then in the archive for 10 years, which covers the longest common health-record
 * rule (7 years after the last visit for an adult in Australia) and HIPAA's 6-year documentation rule.
 */
export const RETENTION = { archiveAfterMonths: 18, archiveRetentionYears: 10, gracePeriodDays: 1 } as const;

interface FieldGrant {
  readonly field: string; // Object.Field
  readonly editable: boolean;
}
interface ObjectGrant {
  readonly object: string;
  readonly access: Access | 'publish';
  /**
   * View All. Our custom objects' records are owned by the integration user under private sharing, so
   * an audience sees them only through View All. Never on Contact for an audience: Contact holds the
   * org's other people too (least privilege; the org's own Contact sharing applies).
   */
  readonly viewAll: boolean;
}

/** Who gets what: the permission set contents before rendering. */
export interface PermissionPlan {
  readonly name: PermissionSetName | `${PermissionSetName}_Org`;
  /** Packaged in force-app, or deployed by the admin from force-app-org-setup. */
  readonly packaged: boolean;
  readonly fields: readonly FieldGrant[];
  readonly objects: readonly ObjectGrant[];
  readonly customMetadataTypes: readonly string[];
  readonly tabs: readonly string[];
  readonly app: boolean;
  readonly userPermissions: readonly string[];
  readonly apexClasses: readonly string[];
}

function sortBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * The permission plans: the five packaged sets and their five unpackaged companions, from the map's
 * classifications and the package. What a package cannot carry goes to the companion: object
 * permissions on standard objects ("During package installation, all object permissions for standard
 * objects are ignored", Salesforce's packaging guide, Permission Set Groups), field permissions on
 * standard fields, standard tabs, and user permissions. Custom fields on Contact are ours and stay in
 * the package.
 */
export function planPermissionSets(map: LoadedDataMap, project: Project): PermissionPlan[] {
  return planWholePermissionSets(map, project).flatMap((whole) => splitForPackaging(whole, project));
}

function isStandardObject(project: Project, object: string): boolean {
  return (project.objects.get(object)?.kind ?? 'standard') === 'standard';
}

function splitForPackaging(whole: PermissionPlan, project: Project): PermissionPlan[] {
  const standardField = (field: string) => {
    const object = field.slice(0, field.indexOf('.'));
    const f = project.objects.get(object)?.fields.get(field.slice(object.length + 1));
    return f === undefined ? !field.endsWith('__c') : f.standard;
  };
  const packaged: PermissionPlan = {
    ...whole,
    packaged: true,
    fields: whole.fields.filter((f) => !standardField(f.field)),
    objects: whole.objects.filter((o) => !isStandardObject(project, o.object)),
    tabs: whole.tabs.filter((t) => !t.startsWith('standard-')),
    userPermissions: [],
  };
  const org: PermissionPlan = {
    name: orgSetupSetName(whole.name as PermissionSetName),
    packaged: false,
    fields: whole.fields.filter((f) => standardField(f.field)),
    objects: whole.objects.filter((o) => isStandardObject(project, o.object)),
    customMetadataTypes: [],
    tabs: whole.tabs.filter((t) => t.startsWith('standard-')),
    app: false,
    userPermissions: whole.userPermissions,
    apexClasses: [],
  };
  return [packaged, org];
}

/** Each audience's (and the integration user's) complete grant, before the packaging split. */
function planWholePermissionSets(map: LoadedDataMap, project: Project): PermissionPlan[] {
  const synced = syncedFields(map);
  const permissionable = (target: string): boolean => {
    const dot = target.indexOf('.');
    const f = project.objects.get(target.slice(0, dot))?.fields.get(target.slice(dot + 1));
    // A field the package lacks is reported by the validator; it is never granted.
    return f !== undefined && f.permissionable;
  };
  const allTargets = new Set(synced.map((s) => s.target));
  const tabFor = (object: string) => (object === 'Contact' ? 'standard-Contact' : object);
  const customTab = (object: string) => project.objects.get(object)?.kind === 'custom';
  const governancePageTab = project.files.some(
    (f) => f.root === 'CustomTab' && f.file.endsWith(`${GOVERNANCE_PAGE_TAB}.tab-meta.xml`),
  );
  const hasController = project.files.some(
    (f) => f.root === 'ApexClass' && f.file.endsWith(`/${GOVERNANCE_CONTROLLER}.cls-meta.xml`),
  );
  // View All only where records are ours (custom objects); see ObjectGrant.viewAll.
  const grant = (object: string, access: ObjectGrant['access'], integration: boolean): ObjectGrant => ({
    object,
    access,
    viewAll: access !== 'publish' && (project.objects.get(object)?.kind === 'custom' || integration),
  });

  const plans: PermissionPlan[] = [];

  // Integration user: edits every synced field and the governance records it writes.
  {
    const fields: FieldGrant[] = [...fieldPermissionNames(allTargets, allTargets, permissionable)].map(
      (field) => ({ field, editable: true }),
    );
    const objects = new Map<string, ObjectGrant['access']>();
    for (const s of synced) objects.set(s.object, 'edit');
    for (const [object, access] of Object.entries(GOVERNANCE_ACCESS)) {
      if (access.integration === undefined) continue;
      objects.set(object, access.integration);
      for (const f of project.objects.get(object)?.fields.values() ?? []) {
        if (f.permissionable)
          // A field is set on create only if it is editable; the object's missing Edit forbids updates.
          fields.push({
            field: `${object}.${f.name}`,
            editable: access.integration !== 'read' && !f.calculated,
          });
      }
    }
    objects.set(JOURNEY_EVENT, 'publish');
    objects.set(APPOINTMENT_EVENT, 'publish');
    // Matching existing records (issue #19, docs/marketing.md): before creating a Contact the service
    // searches open Leads by email and tie-breaks on phone. With SYNC_LEAD_MATCH=link it marks the one
    // matched Lead with the patient's id and points the new Contact at it (Matched_Lead__c); it edits no
    // other Lead field and never creates one. Edit on Lead goes to the org-setup companion (a standard object), the two
    // custom fields stay in the package.
    objects.set('Lead', 'update');
    for (const field of ['Lead.Email', 'Lead.MobilePhone', 'Lead.Phone'])
      fields.push({ field, editable: false });
    for (const field of LEAD_LINK_FIELDS) if (permissionable(field)) fields.push({ field, editable: true });
    plans.push({
      name: 'Cliniko_Sync_Integration',
      packaged: true,
      fields: sortBy(fields, (f) => f.field),
      objects: sortBy(
        // The integration user keeps View All on Contact: it must find every patient Contact it
        // upserts, including ones an admin reassigned, or the unique external id would collide.
        [...objects].map(([object, access]) => grant(object, access, true)),
        (o) => o.object,
      ),
      customMetadataTypes: [],
      tabs: [],
      app: false,
      // API access for the service; View Setup so the access-change snapshot can read permission set assignments.
      userPermissions: ['ApiEnabled', 'ViewSetup'],
      apexClasses: [],
    });
  }

  // Audiences: read what their classifications allow, nothing else.
  for (const audience of ['marketing', 'operations', 'billing', 'compliance'] as const) {
    const readable = synced.filter((s) => AUDIENCES_BY_CLASSIFICATION[s.classification].includes(audience));
    const fields: FieldGrant[] = [
      ...fieldPermissionNames(new Set(readable.map((s) => s.target)), allTargets, permissionable),
    ].map((field) => ({ field, editable: false }));
    for (const [field, audiences] of Object.entries(PACKAGE_FIELD_ACCESS))
      // Only while the map does not name the field: once it does, its classification decides.
      if (audiences.includes(audience) && !allTargets.has(field) && permissionable(field))
        fields.push({ field, editable: false });
    const objects = new Map<string, Access>();
    for (const s of readable) objects.set(s.object, 'read');
    let customMetadataTypes: string[] = [];
    if (audience === 'compliance') {
      // Every synced object (and so its field history), even where all its fields are hidden from others.
      for (const s of synced) objects.set(s.object, 'read');
      for (const [object, access] of Object.entries(GOVERNANCE_ACCESS)) {
        if (access.compliance === undefined) continue;
        objects.set(object, access.compliance);
        for (const f of project.objects.get(object)?.fields.values() ?? []) {
          if (f.permissionable)
            fields.push({
              field: `${object}.${f.name}`,
              editable: access.compliance === 'edit' && !f.calculated,
            });
        }
      }
      customMetadataTypes = [...CMDT_TYPES];
    }
    const objectList = sortBy(
      [...objects].map(([object, access]) => grant(object, access, false)),
      (o) => o.object,
    );
    plans.push({
      name: PERMISSION_SET_BY_AUDIENCE[audience],
      packaged: true,
      fields: sortBy(fields, (f) => f.field),
      objects: objectList,
      customMetadataTypes,
      tabs: [
        ...objectList
          .map((o) => o.object)
          .filter((o) => o === 'Contact' || customTab(o))
          .map(tabFor),
        ...(audience === 'compliance' && governancePageTab ? [GOVERNANCE_PAGE_TAB] : []),
      ].sort(),
      app: true,
      userPermissions: [],
      // The governance components call the controller; only the compliance officer uses them.
      apexClasses: audience === 'compliance' && hasController ? [GOVERNANCE_CONTROLLER] : [],
    });
  }
  return plans;
}

function b(value: boolean): string {
  return value ? 'true' : 'false';
}

function objectPermission(grant: ObjectGrant): XmlChild {
  // Element order is the PermissionSetObjectPermissions sequence of the Metadata API schema.
  const publish = grant.access === 'publish';
  const edit = grant.access === 'edit' || grant.access === 'update';
  const create = grant.access === 'edit' || publish || grant.access === 'create';
  return [
    'objectPermissions',
    [
      ['allowCreate', b(create)],
      ['allowDelete', 'false'],
      ['allowEdit', b(edit)],
      ['allowRead', 'true'],
      ['modifyAllRecords', 'false'],
      ['object', grant.object],
      ['viewAllRecords', b(grant.viewAll)],
    ],
  ];
}

/** Label and description of a set; the unpackaged companion says what it is for and where it lives. */
function permissionSetText(plan: PermissionPlan): { label: string; description: string } {
  if (plan.packaged) return PERMISSION_SET_TEXT[plan.name as PermissionSetName];
  const base = PERMISSION_SET_TEXT[plan.name.replace(/_Org$/, '') as PermissionSetName];
  return {
    label: `${base.label} (org setup)`,
    description: `Assign with ${plan.name.replace(/_Org$/, '')}: the Contact and user permissions a package cannot carry. Deployed from force-app-org-setup; generated from config/data-map.yaml.`,
  };
}

export function renderPermissionSet(plan: PermissionPlan): string {
  const textOf = permissionSetText(plan);
  const items: XmlChild[] = [];
  if (plan.app)
    items.push([
      'applicationVisibilities',
      [
        ['application', APP_NAME],
        ['visible', 'true'],
      ],
    ]);
  for (const name of plan.apexClasses) {
    items.push([
      'classAccesses',
      [
        ['apexClass', name],
        ['enabled', 'true'],
      ],
    ]);
  }
  for (const name of plan.customMetadataTypes) {
    items.push([
      'customMetadataTypeAccesses',
      [
        ['enabled', 'true'],
        ['name', name],
      ],
    ]);
  }
  items.push(['description', textOf.description]);
  for (const f of plan.fields) {
    items.push([
      'fieldPermissions',
      [
        ['editable', b(f.editable)],
        ['field', f.field],
        ['readable', 'true'],
      ],
    ]);
  }
  items.push(['hasActivationRequired', 'false']);
  items.push(['label', textOf.label]);
  for (const o of plan.objects) items.push(objectPermission(o));
  for (const tab of plan.tabs)
    items.push([
      'tabSettings',
      [
        ['tab', tab],
        ['visibility', 'Visible'],
      ],
    ]);
  for (const p of plan.userPermissions)
    items.push([
      'userPermissions',
      [
        ['enabled', 'true'],
        ['name', p],
      ],
    ]);
  return renderMetadataXml('PermissionSet', items);
}

// ---------------------------------------------------------------------------------------------------
// Custom metadata records

const XSI = { xsi: 'http://www.w3.org/2001/XMLSchema-instance', xsd: 'http://www.w3.org/2001/XMLSchema' };

type CmdtValue = string | undefined | { readonly date: string };

function cmdtValue(field: string, value: CmdtValue): XmlChild {
  const v: XmlChild =
    value === undefined
      ? ['value', { attrs: { 'xsi:nil': 'true' } }]
      : typeof value === 'string'
        ? ['value', { attrs: { 'xsi:type': 'xsd:string' }, text: value }]
        : ['value', { attrs: { 'xsi:type': 'xsd:date' }, text: value.date }];
  return ['values', [['field', field], v]];
}

function renderCmdtRecord(label: string, values: Readonly<Record<string, CmdtValue>>): string {
  const items: XmlChild[] = [
    ['label', label],
    ['protected', 'false'],
    ...Object.keys(values)
      .sort()
      .map((k) => cmdtValue(k, values[k])),
  ];
  return renderMetadataXml('CustomMetadata', items, XSI);
}

const RESOURCE_PREFIX: Readonly<Record<string, string>> = {
  patients: 'Patient',
  individual_appointments: 'Appointment',
  patient_cases: 'Case',
  invoices: 'Invoice',
  treatment_notes: 'Treatment_Note',
  medical_alerts: 'Medical_Alert',
};

const OBJECT_SHORT: Readonly<Record<string, string>> = {
  Cliniko_Appointment__c: 'Appointment',
  Cliniko_Invoice__c: 'Invoice',
  Journey_Transition__c: 'Journey',
  Care_Plan__c: 'Care_Plan',
};

/** A valid developer name: letters, digits, single underscores, starts with a letter, at most 40. */
export function developerName(raw: string, max = 40): string {
  let name = raw
    .replace(/__c$|__c(?=_)/g, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!/^[A-Za-z]/.test(name)) name = `X_${name}`;
  return name.slice(0, max).replace(/_+$/, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 6);
}

/** Truncates a label to Salesforce's 40 characters for custom metadata record labels. */
function label40(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 39)}…`;
}

export function planDataMapRecords(map: LoadedDataMap): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Map<string, string>();
  const named = (base: string, key: string): string => {
    let name = developerName(base);
    if (taken.has(name) && taken.get(name) !== key) name = `${developerName(base, 33)}_${shortHash(key)}`;
    taken.set(name, key);
    return name;
  };
  const audiences = (c: keyof typeof AUDIENCES_BY_CLASSIFICATION) => {
    const list = AUDIENCES_BY_CLASSIFICATION[c];
    return list.length === 0 ? undefined : list.join(';');
  };
  const split = (target: string | undefined) => {
    if (target === undefined) return [undefined, undefined] as const;
    const dot = target.indexOf('.');
    return [target.slice(0, dot), target.slice(dot + 1)] as const;
  };

  // Sorted so that collision suffixes always land on the same record.
  const entries = sortBy(
    map.entries,
    (e) => `${e.resource}\u0000${e.sources.join(',')}\u0000${e.target ?? ''}`,
  );
  for (const e of entries) {
    const prefix = RESOURCE_PREFIX[e.resource] ?? e.resource;
    // The resource names the object, so the target field alone keeps the name short and readable.
    const base = `${prefix}_${e.target === undefined ? (e.sources[0] ?? '') : e.target.slice(e.target.indexOf('.') + 1)}`;
    const key = `${e.resource}:${e.sources.join(',')}:${e.target ?? ''}`;
    const name = named(base, key);
    const [object, field] = split(e.target);
    const more = e.sources.length > 1 ? ` +${e.sources.length - 1}` : '';
    out.set(
      `${PKG}/customMetadata/Data_Map_Field.${name}.md-meta.xml`,
      renderCmdtRecord(label40(`${e.resource}.${e.sources[0] ?? ''}${more}`), {
        Audiences__c: audiences(e.classification),
        Classification__c: e.classification,
        Cliniko_Field__c: e.sources.join(', '),
        Cliniko_Resource__c: e.resource,
        Direction__c: e.target === undefined ? undefined : e.direction,
        Rationale__c: e.rationale,
        Shape__c: e.shape,
        Target_Field__c: field,
        Target_Object__c: object,
        Transform__c: e.transform,
      }),
    );
  }
  for (const d of sortBy(map.derived, (x) => x.target)) {
    const object = d.target.slice(0, d.target.indexOf('.'));
    const name = named(
      `Derived_${OBJECT_SHORT[object] ?? object}_${d.target.slice(object.length + 1)}`,
      `derived:${d.target}`,
    );
    const [, field] = split(d.target);
    out.set(
      `${PKG}/customMetadata/Data_Map_Field.${name}.md-meta.xml`,
      renderCmdtRecord(label40(`derived ${d.target}`), {
        Audiences__c: audiences(d.classification),
        Classification__c: d.classification,
        Cliniko_Field__c: d.from.join(', '),
        Cliniko_Resource__c: 'derived',
        Direction__c: 'cliniko-to-salesforce',
        Rationale__c: d.rationale,
        Shape__c: undefined,
        Target_Field__c: field,
        Target_Object__c: object,
        Transform__c: undefined,
      }),
    );
  }
  out.set(
    `${PKG}/customMetadata/Data_Map_Signoff.Current.md-meta.xml`,
    renderCmdtRecord('Current', {
      Approved_By__c: map.signoff.approvedBy,
      Approved_On__c: { date: map.signoff.approvedOn },
      Current_Hash__c: map.currentSha256,
      Signed_Hash__c: map.signoff.sha256,
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Field Audit Trail (force-app-shield)

/**
 * One object file per history-enabled object of the core package: the core definition plus a
 * `historyRetentionPolicy`, placed where the CustomObject schema sequence puts it (before `household`,
 * `indexes`, `label` and everything after). Copying the core definition keeps a shield-only deploy
 * from resetting the object's other settings; regenerating keeps the two in step.
 */
export function planShieldObjects(
  project: Project,
  coreObjectXml: ReadonlyMap<string, string>,
  /** History-enabled objects whose definition lives outside the package (Contact, in force-app-org-setup). */
  unpackagedHistoryObjects: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const out = new Map<string, string>();
  const policy =
    '<historyRetentionPolicy>' +
    `<archiveAfterMonths>${RETENTION.archiveAfterMonths}</archiveAfterMonths>` +
    `<archiveRetentionYears>${RETENTION.archiveRetentionYears}</archiveRetentionYears>` +
    '<description>Field Audit Trail for Cliniko Sync: 18 months in Salesforce, then 10 years in the archive.</description>' +
    `<gracePeriodDays>${RETENTION.gracePeriodDays}</gracePeriodDays>` +
    '</historyRetentionPolicy>';
  const after = new Set([
    'household',
    'indexes',
    'label',
    'listViews',
    'mktDataLakeAttributes',
    'mktDataModelAttributes',
    'nameField',
    'pluralLabel',
    'profileSearchLayouts',
    'publishBehavior',
    'recordTypeTrackFeedHistory',
    'recordTypeTrackHistory',
    'recordTypes',
    'searchLayouts',
    'sharingModel',
    'sharingReasons',
    'sharingRecalculations',
    'startsWith',
    'validationRules',
    'visibility',
    'webLinks',
  ]);
  const historyObjects = new Map(
    [...project.objects.values()]
      .filter((o) => o.enableHistory && o.file !== undefined)
      .flatMap((o) => {
        const xml = coreObjectXml.get(o.name);
        return xml === undefined ? [] : [[o.name, xml] as const];
      }),
  );
  for (const [name, xml] of unpackagedHistoryObjects) historyObjects.set(name, xml);
  for (const [name, xml] of historyObjects) {
    // Insert before the first top-level element that the sequence puts after historyRetentionPolicy.
    const re = /\n {2}<([A-Za-z]+)[\s>]/g;
    let insertAt = xml.lastIndexOf('</CustomObject>');
    for (let m = re.exec(xml); m !== null; m = re.exec(xml)) {
      if (after.has(m[1] ?? '')) {
        insertAt = m.index + 1;
        break;
      }
    }
    const withPolicy = `${xml.slice(0, insertAt)}${policy}\n${xml.slice(insertAt)}`;
    out.set(`${SHIELD}/objects/${name}/${name}.object-meta.xml`, withPolicy);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Contact history tracking (force-app-org-setup)

/**
 * Contact's history tracking, which a package cannot carry: `enableHistory` on Contact and
 * `trackHistory` on CONTACT_TRACKED_FIELDS. A standard field's file carries only the setting; a custom
 * field's file is the packaged definition with `trackHistory` switched on (a CustomField deploy
 * replaces the whole definition, so it must match the package in everything else).
 * `packagedFieldXml` maps `Contact.<Field>` to the packaged field file's text.
 */
export function planContactHistory(
  project: Project,
  packagedFieldXml: ReadonlyMap<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  const dir = `${ORG_SETUP}/objects/Contact`;
  out.set(`${dir}/Contact.object-meta.xml`, renderMetadataXml('CustomObject', [['enableHistory', 'true']]));
  const contact = project.objects.get('Contact');
  for (const name of CONTACT_TRACKED_FIELDS) {
    const f = contact?.fields.get(name);
    if (f === undefined)
      throw new Error(`CONTACT_TRACKED_FIELDS: Contact.${name} is not a field of the package`);
    const file = `${dir}/fields/${name}.field-meta.xml`;
    if (f.standard) {
      out.set(
        file,
        renderMetadataXml('CustomField', [
          ['fullName', name],
          ['trackFeedHistory', 'false'],
          ['trackHistory', 'true'],
        ]),
      );
      continue;
    }
    const xml = packagedFieldXml.get(`Contact.${name}`);
    if (xml === undefined || !/<trackHistory>false<\/trackHistory>/.test(xml)) {
      throw new Error(
        `${f.file ?? `Contact.${name}`}: a packaged Contact field must say <trackHistory>false</trackHistory> (history on Contact is org setup)`,
      );
    }
    out.set(file, xml.replace('<trackHistory>false</trackHistory>', '<trackHistory>true</trackHistory>'));
  }
  return out;
}

/** Paths (relative, as glob-like predicates) the generator owns; anything else there is left alone. */
export function isGeneratedPath(rel: string): boolean {
  return (
    /^force-app\/main\/default\/permissionsets\/Cliniko_Sync_[A-Za-z]+\.permissionset-meta\.xml$/.test(rel) ||
    /^force-app\/main\/default\/customMetadata\/Data_Map_(Field|Signoff)\.[A-Za-z0-9_]+\.md-meta\.xml$/.test(
      rel,
    ) ||
    /^force-app-shield\/main\/default\/objects\/[A-Za-z0-9_]+\/[A-Za-z0-9_]+\.object-meta\.xml$/.test(rel) ||
    /^force-app-org-setup\/main\/default\/permissionsets\/Cliniko_Sync_[A-Za-z]+_Org\.permissionset-meta\.xml$/.test(
      rel,
    ) ||
    /^force-app-org-setup\/main\/default\/objects\/Contact\/(Contact\.object|fields\/[A-Za-z0-9_]+\.field)-meta\.xml$/.test(
      rel,
    )
  );
}

/**
 * Everything the generator writes (unformatted), keyed by repository-relative path. `coreObjectXml`
 * maps an object name to its packaged object file's text, `packagedFieldXml` maps `Object.Field` to a
 * packaged field file's text.
 */
export function generateMetadata(
  map: LoadedDataMap,
  project: Project,
  coreObjectXml: ReadonlyMap<string, string>,
  packagedFieldXml: ReadonlyMap<string, string>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const plan of planPermissionSets(map, project)) {
    const dir = plan.packaged ? PKG : ORG_SETUP;
    out.set(`${dir}/permissionsets/${plan.name}.permissionset-meta.xml`, renderPermissionSet(plan));
  }
  for (const [k, v] of planDataMapRecords(map)) out.set(k, v);
  const history = planContactHistory(project, packagedFieldXml);
  for (const [k, v] of history) out.set(k, v);
  // Contact's retention policy builds on the org-setup definition, which is where its history is enabled.
  const contactObject = history.get(`${ORG_SETUP}/objects/Contact/Contact.object-meta.xml`);
  const extra = new Map(contactObject === undefined ? [] : [['Contact', contactObject] as const]);
  for (const [k, v] of planShieldObjects(project, coreObjectXml, extra)) out.set(k, v);
  return new Map(sortBy([...out], ([k]) => k));
}
