/**
 * Formula fields and validation rules on save. Salesforce computes a formula field when it is read; here
 * it is computed when the record is saved, which gives the same value for formulas over the record's
 * own fields and the users of its audit fields (they change only when the record is saved). Validation
 * rules run after the system checks, against the record as it will be stored, and fail the save with
 * FIELD_CUSTOM_VALIDATION_EXCEPTION and the rule's message, as Salesforce does.
 */
import { RecordError } from '../errors.js';
import { evaluate, type FormulaScope } from '../formula.js';
import type { ObjectDef } from '../schema.js';
import type { OrgCore } from './core.js';
import type { Rec } from './types.js';

/** A field's value on `record`, following relationship names (`LastModifiedBy.LastName`). */
function pathValue(
  core: OrgCore,
  object: ObjectDef,
  record: Rec | undefined,
  path: readonly string[],
): unknown {
  const [head, ...rest] = path;
  if (record === undefined || head === undefined) return null;
  if (rest.length === 0) {
    const f = object.fields.get(head.toLowerCase());
    if (f === undefined) throw new Error(`formula: ${object.name} has no field ${head}`);
    return record[f.name] ?? null;
  }
  const lookup = [...object.fields.values()].find(
    (f) => f.relationshipName?.toLowerCase() === head.toLowerCase(),
  );
  if (lookup === undefined) throw new Error(`formula: ${object.name} has no relationship ${head}`);
  const id = record[lookup.name];
  if (typeof id !== 'string' || id === '') return null;
  const parent = core.store.byId(id);
  return parent === undefined ? null : pathValue(core, parent.object, parent.record, rest);
}

function scopeOf(
  core: OrgCore,
  object: ObjectDef,
  save: { userId: string; existing: Rec | undefined; next: Rec; now: string },
): FormulaScope {
  return {
    value: (path) => pathValue(core, object, save.next, path),
    prior: (field) => pathValue(core, object, save.existing, [field]),
    isNew: save.existing === undefined,
    userId: save.userId,
    now: save.now,
    customMetadata: (type, record, field) => {
      const row = core.store.findRecords(type, (r) => r.DeveloperName === record)[0];
      if (row === undefined) return null;
      const key = Object.keys(row).find((k) => k.toLowerCase() === field.toLowerCase());
      return key === undefined ? null : (row[key] ?? null);
    },
  };
}

/** Sets every formula field of `next` (in place). */
export function computeFormulaFields(
  core: OrgCore,
  object: ObjectDef,
  save: { userId: string; existing: Rec | undefined; next: Rec; now: string },
): void {
  const formulas = [...object.fields.values()].filter((f) => f.formula !== undefined);
  if (formulas.length === 0) return;
  const scope = scopeOf(core, object, save);
  for (const f of formulas) {
    const value = evaluate(f.formula!, scope);
    save.next[f.name] = value === '' || value === undefined ? null : value;
  }
}

/** Throws the first validation rule whose error condition holds. */
export function checkValidationRules(
  core: OrgCore,
  object: ObjectDef,
  save: { userId: string; existing: Rec | undefined; next: Rec; now: string },
): void {
  const rules = object.validationRules ?? [];
  if (rules.length === 0) return;
  const scope = scopeOf(core, object, save);
  for (const rule of rules) {
    if (evaluate(rule.condition, scope) === true) {
      throw new RecordError(
        'FIELD_CUSTOM_VALIDATION_EXCEPTION',
        rule.message,
        rule.displayField !== undefined ? [rule.displayField] : [],
      );
    }
  }
}
