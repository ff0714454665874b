import path from 'node:path';
import { TRANSFORMS } from '../../sync-service/src/governance/transforms.js';
import type { ClinikoSpec } from './metadata-cliniko-spec.js';
import type { LoadedDataMap } from './metadata-datamap.js';
import {
  findField,
  STANDARD_OBJECTS,
  type FieldInfo,
  type MetadataFile,
  type ObjectInfo,
  type Project,
} from './metadata-project.js';
import { children, text, texts, type XmlNode } from '../../lib/metadata/xml.js';
import { checkFlow } from './metadata-flow-rules.js';
import { checkRelatedLists } from './metadata-related-list-rules.js';

/**
 * Project rules: what Salesforce would reject at deploy time (or what would silently break the
 * governed sync) that the XML Schema cannot see. Each problem names the file and the element.
 * `severity: 'warning'` marks facts to know that do not fail validation (see docs/data-map.md).
 */

export interface RuleProblem {
  readonly file: string;
  readonly element: string;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Salesforce's per-object limit on fields with history tracking. */
export const MAX_TRACKED_FIELDS = 20;
const NAME_PART = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$/;
const SUFFIX = /__(c|e|mdt)$/;
const EXTERNAL_ID_TYPES = new Set(['Text', 'Number', 'Email']);
const CMDT_FIELD_TYPES = new Set([
  'Checkbox',
  'Date',
  'DateTime',
  'Email',
  'LongTextArea',
  'MetadataRelationship',
  'Number',
  'Percent',
  'Phone',
  'Picklist',
  'Text',
  'TextArea',
  'Url',
]);
const EVENT_FIELD_TYPES = new Set(['Checkbox', 'Date', 'DateTime', 'LongTextArea', 'Number', 'Text']);
const TEXT_LIKE = new Set(['Text', 'Email', 'Phone', 'TextArea', 'Url']);
/** The longest Cliniko id: a 64-bit integer written in decimal. */
const CLINIKO_ID_DIGITS = 19;

class Problems {
  readonly list: RuleProblem[] = [];
  error(file: string, element: string, message: string): void {
    this.list.push({ file, element, message, severity: 'error' });
  }
  warn(file: string, element: string, message: string): void {
    this.list.push({ file, element, message, severity: 'warning' });
  }
}

function checkApiName(p: Problems, file: string, element: string, apiName: string, max = 40): void {
  const part = apiName.replace(SUFFIX, '');
  if (!NAME_PART.test(part)) {
    p.error(
      file,
      element,
      `${apiName}: an API name starts with a letter and has only letters, digits and single underscores`,
    );
  }
  if (part.length > max)
    p.error(file, element, `${apiName}: name is ${part.length} characters; the limit is ${max}`);
}

function checkLength(
  p: Problems,
  file: string,
  element: string,
  value: string | undefined,
  max: number,
): void {
  if (value !== undefined && value.length > max) {
    p.error(file, element, `${value.length} characters; Salesforce allows ${max}`);
  }
}

function fileOf(o: ObjectInfo): string {
  return o.file ?? `(standard object ${o.name})`;
}

function checkField(p: Problems, project: Project, o: ObjectInfo, f: FieldInfo): void {
  if (f.file === undefined) return;
  const file = f.file;
  if (!f.standard) {
    checkApiName(p, file, 'fullName', f.name);
    if (!f.name.endsWith('__c'))
      p.error(file, 'fullName', `${f.name}: a custom field's API name ends in __c`);
  }
  const node = project.files.find((x) => x.file === file)?.node;
  checkLength(p, file, 'label', f.label, 40);
  checkLength(p, file, 'description', text(node, 'description'), 1000);
  checkLength(p, file, 'inlineHelpText', text(node, 'inlineHelpText'), 510);
  if (f.standard) return;
  if (f.calculated) {
    // A formula field has no length and holds no data of its own: it cannot be required or tracked.
    if (f.length !== undefined) p.error(file, 'length', 'a formula field has no length');
    if (f.required) p.error(file, 'required', 'a formula field cannot be required');
    if (f.trackHistory) p.error(file, 'trackHistory', 'a formula field cannot be history tracked');
    return;
  }

  switch (f.type) {
    case 'Text':
      // A formula's result has no length of its own (Salesforce refuses one on a formula field).
      if (text(node, 'formula') !== undefined) {
        if (f.length !== undefined) p.error(file, 'length', 'a formula field takes no length');
      } else if (f.length === undefined || f.length < 1 || f.length > 255)
        p.error(file, 'length', 'a Text field has a length of 1 to 255');
      break;
    case 'LongTextArea':
    case 'Html':
      if (f.length === undefined || f.length < 256 || f.length > 131072) {
        p.error(file, 'length', 'a long text field has a length of 256 to 131072');
      }
      if (text(node, 'visibleLines') === undefined)
        p.error(file, 'visibleLines', 'a long text field needs visibleLines');
      break;
    case 'Number':
    case 'Currency':
    case 'Percent':
      if (f.precision === undefined || f.precision < 1 || f.precision > 18) {
        p.error(file, 'precision', 'precision (total digits) is 1 to 18');
      }
      if (f.scale === undefined || f.scale < 0 || (f.precision !== undefined && f.scale > f.precision)) {
        p.error(file, 'scale', 'scale is 0 to the precision');
      }
      break;
    case 'Checkbox':
      if (text(node, 'defaultValue') === undefined)
        p.error(file, 'defaultValue', 'a Checkbox needs a defaultValue');
      break;
    case 'Picklist': {
      if (f.picklistValues.length === 0) p.error(file, 'valueSet', 'a picklist needs at least one value');
      const seen = new Set<string>();
      for (const v of f.picklistValues) {
        if (seen.has(v)) p.error(file, 'valueSet', `picklist value "${v}" is listed twice`);
        seen.add(v);
        checkLength(p, file, `valueSet value ${v}`, v, 255);
      }
      break;
    }
    case 'Lookup':
    case 'MasterDetail': {
      const to = f.referenceTo;
      if (to === undefined) p.error(file, 'referenceTo', 'a relationship field needs referenceTo');
      else if (!project.objects.has(to) && !STANDARD_OBJECTS.has(to)) {
        p.error(file, 'referenceTo', `${to} is not an object of the package or a known standard object`);
      }
      const rel = text(node, 'relationshipName');
      if (rel === undefined) p.error(file, 'relationshipName', 'a relationship field needs relationshipName');
      else checkApiName(p, file, 'relationshipName', rel);
      break;
    }
    default:
      break;
  }

  if (f.externalId && !EXTERNAL_ID_TYPES.has(f.type)) {
    p.error(file, 'externalId', `an external id must be Text, Number or Email, not ${f.type}`);
  }
  if (o.kind === 'custom-metadata' && !CMDT_FIELD_TYPES.has(f.type)) {
    p.error(file, 'type', `custom metadata types cannot have ${f.type} fields`);
  }
  if (o.kind === 'platform-event' && !EVENT_FIELD_TYPES.has(f.type)) {
    p.error(file, 'type', `platform events cannot have ${f.type} fields`);
  }
  if (f.trackHistory && (o.kind === 'custom-metadata' || o.kind === 'platform-event')) {
    p.error(file, 'trackHistory', `${o.kind} fields cannot track history`);
  }
}

function checkObjects(p: Problems, project: Project): void {
  for (const o of project.objects.values()) {
    if (o.file !== undefined && o.kind !== 'standard') {
      checkApiName(p, o.file, 'fullName', o.name);
      checkLength(p, o.file, 'label', o.label, 40);
      checkLength(p, o.file, 'pluralLabel', o.pluralLabel, 40);
    }
    if (o.kind !== 'standard' && o.file === undefined) {
      const anyField = [...o.fields.values()][0];
      p.error(
        anyField?.file ?? o.name,
        'CustomObject',
        `${o.name} has fields but no ${o.name}.object-meta.xml`,
      );
    }
    const tracked = [...o.fields.values()].filter((f) => f.trackHistory);
    for (const f of tracked) {
      if (!o.enableHistory && o.kind !== 'custom-metadata' && o.kind !== 'platform-event') {
        p.error(
          f.file ?? fileOf(o),
          'trackHistory',
          `${o.name}.${f.name} tracks history but ${o.name} does not enable history`,
        );
      }
    }
    if (tracked.length > MAX_TRACKED_FIELDS) {
      p.error(
        fileOf(o),
        'enableHistory',
        `${o.name} tracks history on ${tracked.length} fields; Salesforce allows ${MAX_TRACKED_FIELDS} (${tracked.map((f) => f.name).join(', ')})`,
      );
    }
    for (const f of o.fields.values()) checkField(p, project, o, f);
  }
}

function objectExists(project: Project, name: string): boolean {
  return project.objects.get(name)?.file !== undefined || STANDARD_OBJECTS.has(name);
}

function tabExists(project: Project, tab: string): boolean {
  if (tab.startsWith('standard-')) return true;
  return project.files.some((f) => f.root === 'CustomTab' && path.basename(f.file) === `${tab}.tab-meta.xml`);
}

function baseName(file: string, suffix: string): string {
  return path.basename(file).slice(0, -suffix.length);
}

function checkPermissionSet(p: Problems, project: Project, f: MetadataFile): void {
  const name = baseName(f.file, '.permissionset-meta.xml');
  checkApiName(p, f.file, 'fullName', name, 80);
  checkLength(p, f.file, 'label', text(f.node, 'label'), 80);
  for (const fp of children(f.node, 'fieldPermissions')) {
    const field = text(fp, 'field') ?? '';
    const info = findField(project, field);
    const where = `fieldPermissions ${field}`;
    if (info === undefined)
      p.error(f.file, where, `${field} is not a field of the package or a known standard field`);
    else if (info.required)
      p.error(f.file, where, `${field} is required; Salesforce rejects required fields in fieldPermissions`);
    else if (info.type === 'MasterDetail')
      p.error(f.file, where, `${field} is master-detail; it cannot be in fieldPermissions`);
    else if (!info.permissionable) p.error(f.file, where, `${field} does not take field-level security`);
    if (text(fp, 'editable') === 'true' && text(fp, 'readable') !== 'true') {
      p.error(f.file, where, 'editable requires readable');
    }
  }
  for (const op of children(f.node, 'objectPermissions')) {
    const object = text(op, 'object') ?? '';
    if (!objectExists(project, object))
      p.error(f.file, `objectPermissions ${object}`, `${object} is not an object of the package`);
  }
  for (const t of children(f.node, 'tabSettings')) {
    const tab = text(t, 'tab') ?? '';
    if (!tabExists(project, tab)) p.error(f.file, `tabSettings ${tab}`, `no tab ${tab} in the package`);
  }
  for (const a of children(f.node, 'applicationVisibilities')) {
    const app = text(a, 'application') ?? '';
    if (
      !project.files.some(
        (x) => x.root === 'CustomApplication' && path.basename(x.file) === `${app}.app-meta.xml`,
      )
    ) {
      p.error(f.file, `applicationVisibilities ${app}`, `no application ${app} in the package`);
    }
  }
  for (const c of children(f.node, 'customMetadataTypeAccesses')) {
    const type = text(c, 'name') ?? '';
    if (project.objects.get(type)?.kind !== 'custom-metadata') {
      p.error(
        f.file,
        `customMetadataTypeAccesses ${type}`,
        `${type} is not a custom metadata type of the package`,
      );
    }
  }
}

/** A list-view column or filter names a field when it is a custom field; standard columns are tokens. */
function checkListViewField(
  p: Problems,
  project: Project,
  file: string,
  element: string,
  object: string,
  field: string,
): void {
  if (!field.endsWith('__c')) return;
  const name = field.includes('.') ? field.slice(field.lastIndexOf('.') + 1) : field;
  if (project.objects.get(object)?.fields.get(name) === undefined) {
    p.error(file, element, `${object}.${name} is not a field of the package`);
  }
}

function objectFromPath(file: string): string | undefined {
  const parts = file.split(/[\\/]/);
  const i = parts.indexOf('objects');
  return i >= 0 ? parts[i + 1] : undefined;
}

function checkListView(p: Problems, project: Project, f: MetadataFile): void {
  const object = objectFromPath(f.file) ?? '';
  checkApiName(p, f.file, 'fullName', text(f.node, 'fullName') ?? baseName(f.file, '.listView-meta.xml'));
  checkLength(p, f.file, 'label', text(f.node, 'label'), 40);
  for (const c of texts(f.node, 'columns')) checkListViewField(p, project, f.file, `columns ${c}`, object, c);
  for (const flt of children(f.node, 'filters')) {
    const field = text(flt, 'field') ?? '';
    checkListViewField(p, project, f.file, `filters ${field}`, object, field);
    const info = project.objects.get(object)?.fields.get(field);
    const value = text(flt, 'value');
    if (info?.type === 'Picklist' && value !== undefined) {
      for (const v of value.split(',')) {
        if (!info.picklistValues.includes(v))
          p.error(f.file, `filters ${field}`, `"${v}" is not a value of ${object}.${field}`);
      }
    }
  }
}

function checkValidationRule(p: Problems, project: Project, f: MetadataFile): void {
  const object = objectFromPath(f.file) ?? '';
  checkApiName(
    p,
    f.file,
    'fullName',
    text(f.node, 'fullName') ?? baseName(f.file, '.validationRule-meta.xml'),
  );
  checkLength(p, f.file, 'errorMessage', text(f.node, 'errorMessage'), 255);
  const formula = text(f.node, 'errorConditionFormula') ?? '';
  for (const m of formula.matchAll(/(?<![.\w])([A-Za-z][A-Za-z0-9_]*__c)\b/g)) {
    const field = m[1] ?? '';
    if (project.objects.get(object)?.fields.get(field) === undefined) {
      p.error(f.file, 'errorConditionFormula', `${object}.${field} is not a field of the package`);
    }
  }
  const display = text(f.node, 'errorDisplayField');
  if (display !== undefined && project.objects.get(object)?.fields.get(display) === undefined) {
    p.error(f.file, 'errorDisplayField', `${object}.${display} is not a field of the package`);
  }
}

function checkLayout(p: Problems, project: Project, f: MetadataFile): void {
  const object = path.basename(f.file).split('-')[0] ?? '';
  if (!objectExists(project, object)) p.error(f.file, 'Layout', `${object} is not an object of the package`);
  const walk = (node: XmlNode): void => {
    for (const item of children(node, 'layoutItems')) {
      const field = text(item, 'field');
      if (
        field !== undefined &&
        project.objects.get(object)?.fields.get(field) === undefined &&
        field.endsWith('__c')
      ) {
        p.error(f.file, `layoutItems ${field}`, `${object}.${field} is not a field of the package`);
      }
    }
    for (const key of ['layoutSections', 'layoutColumns']) for (const c of children(node, key)) walk(c);
  };
  walk(f.node);
}

function checkCustomMetadataRecord(p: Problems, project: Project, f: MetadataFile): void {
  const base = baseName(f.file, '.md-meta.xml');
  const dot = base.indexOf('.');
  const typeName = `${base.slice(0, dot)}__mdt`;
  const record = base.slice(dot + 1);
  const type = project.objects.get(typeName);
  if (dot <= 0 || type?.kind !== 'custom-metadata') {
    p.error(f.file, 'CustomMetadata', `${typeName} is not a custom metadata type of the package`);
    return;
  }
  checkApiName(p, f.file, 'fullName', record);
  checkLength(p, f.file, 'label', text(f.node, 'label'), 40);
  for (const v of children(f.node, 'values')) {
    const field = text(v, 'field') ?? '';
    const info = type.fields.get(field);
    if (info === undefined) {
      p.error(f.file, `values ${field}`, `${typeName}.${field} is not a field of the type`);
      continue;
    }
    const value = text(v, 'value');
    if (value !== undefined && info.length !== undefined && value.length > info.length) {
      p.error(
        f.file,
        `values ${field}`,
        `${value.length} characters; ${typeName}.${field} holds ${info.length}`,
      );
    }
  }
}

function flexiPageExists(project: Project, name: string): boolean {
  return project.files.some(
    (x) => x.root === 'FlexiPage' && path.basename(x.file) === `${name}.flexipage-meta.xml`,
  );
}

function checkApplication(p: Problems, project: Project, f: MetadataFile): void {
  for (const tab of texts(f.node, 'tabs')) {
    if (!tabExists(project, tab)) p.error(f.file, `tabs ${tab}`, `no tab ${tab} in the package`);
  }
  for (const o of [...children(f.node, 'actionOverrides'), ...children(f.node, 'profileActionOverrides')]) {
    const content = text(o, 'content') ?? '';
    if (text(o, 'type') === 'Flexipage' && !flexiPageExists(project, content)) {
      p.error(f.file, `actionOverrides ${content}`, `no Lightning page ${content} in the package`);
    }
    const object = text(o, 'pageOrSobjectType');
    if (object !== undefined && !objectExists(project, object)) {
      p.error(f.file, `actionOverrides ${content}`, `${object} is not an object of the package`);
    }
  }
}

function checkTab(p: Problems, project: Project, f: MetadataFile): void {
  if (text(f.node, 'customObject') === 'true') {
    const object = baseName(f.file, '.tab-meta.xml');
    if (project.objects.get(object)?.file === undefined)
      p.error(f.file, 'customObject', `no object ${object} in the package`);
  }
  const page = text(f.node, 'flexiPage');
  if (page !== undefined && !flexiPageExists(project, page))
    p.error(f.file, 'flexiPage', `no Lightning page ${page} in the package`);
}

// ---------------------------------------------------------------------------------------------------
// The data map against the package and the Cliniko spec

function checkDataMap(
  p: Problems,
  project: Project,
  map: LoadedDataMap,
  spec: ClinikoSpec,
  mapFile: string,
): void {
  const targets = new Map<string, string>();
  const claim = (target: string, label: string) => {
    const first = targets.get(target);
    if (first !== undefined) p.error(mapFile, label, `${target} is already the target of ${first}`);
    else targets.set(target, label);
  };
  const checkTargetExists = (target: string, label: string): FieldInfo | undefined => {
    const info = findField(project, target);
    if (info === undefined) {
      p.error(mapFile, label, `target ${target} does not exist in force-app (or as a known standard field)`);
      return undefined;
    }
    const kind = project.objects.get(info.object)?.kind;
    if (kind === 'custom-metadata' || kind === 'platform-event') {
      p.error(mapFile, label, `target ${target} is on a ${kind}, which the sync does not write as a record`);
    }
    return info;
  };

  for (const e of map.entries) {
    const fields = spec.get(e.resource);
    if (fields === undefined)
      p.error(mapFile, e.label, `Cliniko's OpenAPI spec has no list resource "${e.resource}"`);
    for (const s of e.sources) {
      if (fields !== undefined && !fields.has(s))
        p.error(mapFile, e.label, `Cliniko's ${e.resource} has no field "${s}"`);
    }
    if (e.classification === 'clinician-only') {
      if (e.target !== undefined)
        p.error(mapFile, e.label, 'a clinician-only field must not have a Salesforce target');
      if (e.transform !== undefined)
        p.error(mapFile, e.label, 'a clinician-only field must not have a transform');
      continue;
    }
    if (e.target === undefined) {
      p.error(mapFile, e.label, `a ${e.classification} field needs a Salesforce target (Object.Field)`);
      continue;
    }
    claim(e.target, e.label);
    const info = checkTargetExists(e.target, e.label);
    if (info === undefined) continue;
    const transformName = e.transform ?? 'none';
    const transform = TRANSFORMS.get(transformName);
    if (transform === undefined) {
      p.error(
        mapFile,
        e.label,
        `unknown transform "${transformName}" (known: ${[...TRANSFORMS.keys()].join(', ')})`,
      );
    } else if (!(transform.fieldTypes as readonly string[]).includes(info.type)) {
      p.error(
        mapFile,
        e.label,
        `transform "${transformName}" writes ${transform.fieldTypes.join('/')} but ${e.target} is ${info.type}`,
      );
    }
    // Length: a value longer than the target field is rejected by Salesforce (STRING_TOO_LONG).
    if (TEXT_LIKE.has(info.type) && info.length !== undefined) {
      if (transformName === 'id' && info.length < CLINIKO_ID_DIGITS) {
        p.error(
          mapFile,
          e.label,
          `${e.target} holds ${info.length} characters; a Cliniko id can have ${CLINIKO_ID_DIGITS}`,
        );
      }
      const [only] = e.sources;
      const sourceMax =
        e.sources.length === 1 && only !== undefined ? fields?.get(only)?.maxLength : undefined;
      if (sourceMax !== undefined && sourceMax > info.length) {
        const message = `Cliniko allows ${sourceMax} characters in ${e.resource}.${only} but ${e.target} holds ${info.length}`;
        // A standard field's length is Salesforce's to decide; a package field's is ours to fix.
        if (info.standard)
          p.warn(mapFile, e.label, `${message}; longer values will be rejected by Salesforce`);
        else p.error(mapFile, e.label, message);
      }
    }
  }
  for (const d of map.derived) {
    if (d.classification === 'clinician-only')
      p.error(mapFile, d.label, 'a derived Salesforce field cannot be clinician-only');
    claim(d.target, d.label);
    checkTargetExists(d.target, d.label);
    for (const input of d.from) {
      const dot = input.indexOf('.');
      const fields = spec.get(input.slice(0, dot));
      if (dot <= 0 || fields === undefined || !fields.has(input.slice(dot + 1))) {
        p.error(mapFile, d.label, `"${input}" is not resource.field of Cliniko's OpenAPI spec`);
      }
    }
  }
  // Every object the sync writes needs a unique, case-sensitive Text external id for idempotent upserts.
  const syncedObjects = new Set([...targets.keys()].map((t) => t.slice(0, t.indexOf('.'))));
  for (const object of syncedObjects) {
    const o = project.objects.get(object);
    if (o === undefined) continue;
    const key = [...o.fields.values()].find(
      (f) => f.externalId && f.type === 'Text' && f.unique && f.caseSensitive,
    );
    if (key === undefined) {
      p.error(
        fileOf(o),
        'externalId',
        `${object} is written by the sync but has no unique, case-sensitive Text external id`,
      );
    }
  }
  if (map.signoff.sha256 !== map.currentSha256) {
    p.error(
      mapFile,
      'signoff.sha256',
      `the map was changed after its sign-off by ${map.signoff.approvedBy} on ${map.signoff.approvedOn} (signed ${map.signoff.sha256}, now ${map.currentSha256}); record a new sign-off`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Package contents: what an unlocked package cannot carry

/**
 * What a package cannot carry, each as Salesforce documents it. These belong in the unpackaged
 * force-app-org-setup/ (or force-app-shield/), which the admin deploys after installing the package
 * (docs/go-live.md). Exported on their own so the Salesforce emulator's deploy can apply the same
 * rules to a package it is asked to install.
 */
export const PACKAGE_CONTENT_RULES = {
  standardObjectHistory:
    'history tracking on a standard object is an org setting a package cannot carry (enableHistory, and trackHistory on any of its fields); deploy it from force-app-org-setup',
  historyRetentionPolicy:
    'a history retention policy needs Field Audit Trail (Shield) in the org; deploy it from force-app-shield',
  standardObjectPermission:
    'object permissions on a standard object are not installed by a package ("During package installation, all object permissions for standard objects are ignored"); grant them in the set\'s force-app-org-setup companion',
  standardFieldPermission:
    "field permissions on a standard field belong to a standard object, which a package does not grant; grant them in the set's force-app-org-setup companion",
  standardTab: 'a standard tab belongs to a standard object; set its visibility in force-app-org-setup',
  userPermission:
    "user permissions are not carried by a packaged permission set; grant them in the set's force-app-org-setup companion",
  viewAllContact:
    'View All or Modify All on Contact opens every Contact in the org, not only patients (least privilege); only the integration user may see every patient Contact',
} as const;

export type PackageContentRule = keyof typeof PACKAGE_CONTENT_RULES;

export interface PackageContentProblem extends RuleProblem {
  readonly rule: PackageContentRule;
}

function isStandardObjectName(project: Pick<Project, 'objects'>, name: string): boolean {
  return (
    (project.objects.get(name)?.kind ?? (/__(c|e|mdt|x|b)$/.test(name) ? 'custom' : 'standard')) ===
    'standard'
  );
}

/** The packaged folder must carry nothing a package cannot (PACKAGE_CONTENT_RULES). */
export function checkPackageContents(project: Pick<Project, 'objects' | 'files'>): PackageContentProblem[] {
  const out: PackageContentProblem[] = [];
  const add = (rule: PackageContentRule, file: string, element: string) =>
    out.push({ rule, file, element, message: PACKAGE_CONTENT_RULES[rule], severity: 'error' });
  for (const o of project.objects.values()) {
    if (o.kind !== 'standard') continue;
    if (o.enableHistory && o.file !== undefined) add('standardObjectHistory', o.file, 'enableHistory');
    for (const f of o.fields.values()) {
      if (f.trackHistory && f.file !== undefined)
        add('standardObjectHistory', f.file, `trackHistory ${o.name}.${f.name}`);
    }
  }
  for (const f of project.files) {
    if (f.root === 'CustomObject' && children(f.node, 'historyRetentionPolicy').length > 0)
      add('historyRetentionPolicy', f.file, 'historyRetentionPolicy');
    if (f.root !== 'PermissionSet') continue;
    for (const op of children(f.node, 'objectPermissions')) {
      const object = text(op, 'object') ?? '';
      if (isStandardObjectName(project, object))
        add('standardObjectPermission', f.file, `objectPermissions ${object}`);
    }
    for (const fp of children(f.node, 'fieldPermissions')) {
      const field = text(fp, 'field') ?? '';
      const object = field.slice(0, Math.max(field.indexOf('.'), 0));
      const name = field.slice(object.length + 1);
      const info = project.objects.get(object)?.fields.get(name);
      const standardField = info === undefined ? !name.endsWith('__c') : info.standard;
      if (isStandardObjectName(project, object) && standardField)
        add('standardFieldPermission', f.file, `fieldPermissions ${field}`);
    }
    for (const t of children(f.node, 'tabSettings')) {
      const tab = text(t, 'tab') ?? '';
      if (tab.startsWith('standard-')) add('standardTab', f.file, `tabSettings ${tab}`);
    }
    for (const up of children(f.node, 'userPermissions'))
      add('userPermission', f.file, `userPermissions ${text(up, 'name') ?? ''}`);
  }
  // In the package no set may (any Contact grant there is already standardObjectPermission; say both).
  out.push(...checkContactVisibility(project.files, () => false));
  return out;
}

/**
 * No permission set but the integration user's opens every Contact (View All or Modify All): an
 * audience sees patient Contacts through the org's own Contact sharing, not every Contact there is.
 * `mayViewAll` names the sets allowed to (the integration user's org-setup companion).
 */
export function checkContactVisibility(
  files: readonly MetadataFile[],
  mayViewAll: (permissionSet: string) => boolean,
): PackageContentProblem[] {
  const out: PackageContentProblem[] = [];
  for (const f of files) {
    if (f.root !== 'PermissionSet') continue;
    const name = baseName(f.file, '.permissionset-meta.xml');
    for (const op of children(f.node, 'objectPermissions')) {
      if (text(op, 'object') !== 'Contact') continue;
      const wide = text(op, 'viewAllRecords') === 'true' || text(op, 'modifyAllRecords') === 'true';
      if (wide && !mayViewAll(name))
        out.push({
          rule: 'viewAllContact',
          file: f.file,
          element: 'objectPermissions Contact',
          message: PACKAGE_CONTENT_RULES.viewAllContact,
          severity: 'error',
        });
    }
  }
  return out;
}

/** The integration user's org-setup set: the one that may see every patient Contact. */
export const CONTACT_VIEW_ALL_SETS: ReadonlySet<string> = new Set(['Cliniko_Sync_Integration_Org']);

/** Runs every project rule. */
export function checkProjectRules(
  project: Project,
  map: LoadedDataMap | undefined,
  spec: ClinikoSpec | undefined,
  mapFile = 'config/data-map.yaml',
): RuleProblem[] {
  const p = new Problems();
  for (const [file, message] of project.unreadable)
    p.error(file, '(document)', `not well-formed XML: ${message}`);
  checkObjects(p, project);
  for (const f of project.files) {
    switch (f.root) {
      case 'PermissionSet':
        checkPermissionSet(p, project, f);
        break;
      case 'ListView':
        checkListView(p, project, f);
        break;
      case 'ValidationRule':
        checkValidationRule(p, project, f);
        break;
      case 'Layout':
        checkLayout(p, project, f);
        p.list.push(...checkRelatedLists(project, f));
        break;
      case 'FlexiPage':
        p.list.push(...checkRelatedLists(project, f));
        break;
      case 'CustomMetadata':
        checkCustomMetadataRecord(p, project, f);
        break;
      case 'CustomApplication':
        checkApplication(p, project, f);
        break;
      case 'CustomTab':
        checkTab(p, project, f);
        break;
      case 'Flow':
        p.list.push(...checkFlow(project, f));
        break;
      default:
        break;
    }
  }
  if (map !== undefined && spec !== undefined) checkDataMap(p, project, map, spec, mapFile);
  return p.list;
}
