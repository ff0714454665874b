import { STANDARD_KEY_PREFIXES } from './ids.js';
import type { SoqlFieldType } from './model.js';
import type { FieldDef, ObjectCategory, ObjectDef } from './schema.js';

// ---------------------------------------------------------------------------------------------
// Field builders for the built-in standard objects.

export type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>>;

export function field(name: string, type: SoqlFieldType, options: FieldOptions = {}): FieldDef {
  const nillable = options.nillable ?? type !== 'boolean';
  const createable = options.createable ?? true;
  return {
    name,
    type,
    label: options.label ?? name.replace(/__c$/, '').replace(/_/g, ' '),
    custom: options.custom ?? false,
    nillable,
    required: options.required ?? false,
    createable,
    updateable: options.updateable ?? createable,
    defaultedOnCreate: options.defaultedOnCreate ?? type === 'boolean',
    externalId: false,
    unique: false,
    caseSensitive: false,
    idLookup: false,
    restrictedPicklist: false,
    trackHistory: false,
    calculated: false,
    permissionable: false,
    ...options,
  };
}

export const text = (name: string, length: number, o: FieldOptions = {}) =>
  field(name, 'string', { length, ...o });
export const sys = (name: string, type: SoqlFieldType, o: FieldOptions = {}) =>
  field(name, type, { createable: false, updateable: false, defaultedOnCreate: true, ...o });
export const ref = (name: string, to: string, relationshipName: string, o: FieldOptions = {}) =>
  field(name, 'reference', { referenceTo: [to], relationshipName, length: 18, ...o });
export const picklist = (name: string, values: string[], o: FieldOptions = {}) =>
  field(name, 'picklist', {
    length: 255,
    picklistValues: values.map((v) => ({ value: v, label: v, default: false })),
    ...o,
  });

export function auditFields(): FieldDef[] {
  return [
    sys('Id', 'id', { length: 18, nillable: false, idLookup: true, label: 'Record ID' }),
    sys('IsDeleted', 'boolean', { label: 'Deleted' }),
    sys('CreatedDate', 'datetime', { nillable: false }),
    ref('CreatedById', 'User', 'CreatedBy', {
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    sys('LastModifiedDate', 'datetime', { nillable: false }),
    ref('LastModifiedById', 'User', 'LastModifiedBy', {
      createable: false,
      updateable: false,
      defaultedOnCreate: true,
    }),
    sys('SystemModstamp', 'datetime', { nillable: false }),
  ];
}

export const ownerField = () => ref('OwnerId', 'User', 'Owner', { defaultedOnCreate: true, nillable: false });

export function makeObject(
  name: string,
  category: ObjectCategory,
  fields: FieldDef[],
  extra: Partial<ObjectDef> = {},
): ObjectDef {
  const custom = category === 'custom' || category === 'event' || category === 'metadata';
  const writable = category === 'standard' || category === 'custom';
  return {
    name,
    label: extra.label ?? name.replace(/__(c|e|mdt)$/, '').replace(/_/g, ' '),
    labelPlural:
      extra.labelPlural ?? `${extra.label ?? name.replace(/__(c|e|mdt)$/, '').replace(/_/g, ' ')}s`,
    keyPrefix: extra.keyPrefix ?? STANDARD_KEY_PREFIXES[name] ?? '000',
    custom,
    category,
    fields: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
    childRelationships: new Map(),
    enableHistory: false,
    // Custom metadata records are readable by every user here (orgs usually grant that broadly).
    permissionable: category === 'custom' || category === 'event',
    createable: writable || category === 'event',
    updateable: writable,
    deletable: writable,
    queryable: category !== 'event',
    ...extra,
  };
}

export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];

export function address(prefix: string): FieldDef[] {
  return [
    field(`${prefix}Street`, 'textarea', { length: 255 }),
    text(`${prefix}City`, 40),
    text(`${prefix}State`, 80),
    text(`${prefix}PostalCode`, 20),
    text(`${prefix}Country`, 80),
  ];
}
