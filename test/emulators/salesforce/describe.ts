/**
 * Describe results in Salesforce's shape, computed from the schema and from the running user's
 * object and field-level security: fields the user cannot read are absent, and `createable` /
 * `updateable` are false for fields the user cannot edit.
 */
import type { Org } from './org.js';
import type { FieldDef, ObjectDef } from './schema.js';

const SOAP_TYPES: Record<string, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

function urls(object: ObjectDef, version: string): Record<string, string> {
  const base = `/services/data/v${version}/sobjects/${object.name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

export function describeGlobalEntry(org: Org, userId: string, object: ObjectDef, version: string) {
  const access = org.objectAccess(userId, object);
  return {
    name: object.name,
    label: object.label,
    labelPlural: object.labelPlural,
    keyPrefix: object.keyPrefix,
    custom: object.custom,
    customSetting: false,
    createable: object.createable && access.create,
    updateable: object.updateable && access.edit,
    deletable: object.deletable && access.delete,
    queryable: object.queryable,
    retrieveable: object.queryable,
    searchable: object.category === 'standard' || object.category === 'custom',
    undeletable: object.deletable && access.delete,
    triggerable: object.category !== 'metadata',
    layoutable: object.category === 'standard' || object.category === 'custom',
    mergeable: object.name === 'Contact' || object.name === 'Account',
    replicateable: object.category !== 'event',
    feedEnabled: false,
    activateable: false,
    deprecatedAndHidden: false,
    hasSubtypes: false,
    isSubtype: false,
    urls: urls(object, version),
  };
}

function describeField(org: Org, userId: string, object: ObjectDef, f: FieldDef) {
  const access = org.fieldAccess(userId, object, f);
  const isText = f.length !== undefined && f.type !== 'reference' && f.type !== 'id';
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    soapType: SOAP_TYPES[f.type] ?? 'xsd:string',
    length: isText ? f.length : f.type === 'reference' || f.type === 'id' ? 18 : 0,
    byteLength: isText ? (f.length ?? 0) * 3 : f.type === 'reference' || f.type === 'id' ? 18 : 0,
    precision: f.precision ?? 0,
    scale: f.scale ?? 0,
    digits: f.type === 'int' ? 9 : 0,
    custom: f.custom,
    nillable: f.nillable,
    createable: f.createable && access.edit,
    updateable: f.updateable && access.edit,
    defaultedOnCreate: f.defaultedOnCreate,
    defaultValue: f.defaultValue ?? null,
    externalId: f.externalId,
    unique: f.unique,
    caseSensitive: f.caseSensitive,
    idLookup: f.idLookup || f.name === 'Id',
    calculated: f.calculated,
    autoNumber: f.autoNumberFormat !== undefined,
    filterable: f.type !== 'textarea' || (f.length ?? 0) <= 255,
    sortable: f.type !== 'textarea' || (f.length ?? 0) <= 255,
    groupable: !['double', 'currency', 'percent', 'datetime', 'textarea'].includes(f.type),
    nameField: f.name === 'Name',
    restrictedPicklist: f.restrictedPicklist,
    dependentPicklist: false,
    picklistValues: (f.picklistValues ?? []).map((p) => ({
      active: true,
      defaultValue: p.default,
      label: p.label,
      validFor: null,
      value: p.value,
    })),
    referenceTo: f.referenceTo ?? [],
    relationshipName: f.relationshipName ?? null,
    relationshipOrder: null,
    cascadeDelete: false,
    restrictedDelete: false,
    writeRequiresMasterRead: false,
    htmlFormatted: false,
    encrypted: false,
    deprecatedAndHidden: false,
    permissionable: f.permissionable,
    inlineHelpText: null,
  };
}

export function describeObject(org: Org, userId: string, object: ObjectDef, version: string) {
  const fields = [...object.fields.values()]
    .filter((f) => org.fieldAccess(userId, object, f).read)
    .map((f) => describeField(org, userId, object, f));
  const childRelationships = [...object.childRelationships.values()]
    .filter((rel) => org.visibleObject(userId, rel.childObject) !== undefined)
    .map((rel) => {
      return {
        childSObject: rel.childObject,
        field: rel.field,
        relationshipName: rel.relationshipName,
        cascadeDelete: false,
        restrictedDelete: false,
        deprecatedAndHidden: false,
      };
    });
  return {
    ...describeGlobalEntry(org, userId, object, version),
    fields,
    childRelationships,
    recordTypeInfos: [],
    supportedScopes: [{ label: 'All', name: 'everything' }],
    namedLayoutInfos: [],
    networkScopeFieldName: null,
    sobjectDescribeOption: 'FULL',
  };
}
