/**
 * Saving records with Salesforce's validation order and error codes: the object's category and the
 * user's object access, the record to update (by id, or matched by external id for an upsert), field
 * by field security and coercion (all errors of a record reported together), then required fields,
 * unique values, lock faults; then the write and its field history. A batch is transactional: with
 * allOrNone, any failure rolls back every record.
 */
import { RecordError } from '../errors.js';
import { to18 } from '../ids.js';
import type { ObjectDef } from '../schema.js';
import { asText, coerceValue } from '../values.js';
import type { OrgCore } from './core.js';
import { checkValidationRules, computeFormulaFields } from './formulas.js';
import { writeHistory } from './history.js';
import { checkLockFaults } from './lock-faults.js';
import { checkReference, relationshipOf, resolveReference } from './references.js';
import type { Rec, SaveItem, SaveResult } from './types.js';
import { failedResult, RecordErrors, rolledBack } from './types.js';

const insufficientAccess = (object: ObjectDef): RecordError =>
  new RecordError('INSUFFICIENT_ACCESS_OR_READONLY', `insufficient access rights on object ${object.name}`);

/**
 * Saves a batch. With allOrNone, every record is attempted inside one transaction and, if any fails,
 * all are rolled back and the valid ones report ALL_OR_NONE_OPERATION_ROLLED_BACK.
 */
export function saveBatch(
  core: OrgCore,
  userId: string,
  items: SaveItem[],
  allOrNone: boolean,
): SaveResult[] {
  if (!allOrNone) {
    return items.map((item) =>
      core.store.transaction(
        () => trySave(core, userId, item),
        (r) => r.success,
      ),
    );
  }
  return core.store.transaction(
    () => {
      const results = items.map((item) => trySave(core, userId, item));
      if (results.every((r) => r.success)) return results;
      return results.map((r) => (r.success ? rolledBack() : r));
    },
    (results) => results.every((r) => r.success),
  );
}

function trySave(core: OrgCore, userId: string, item: SaveItem): SaveResult {
  try {
    const { id, created } = saveOne(core, userId, item);
    return { id, success: true, errors: [], ...(item.operation === 'upsert' ? { created } : {}) };
  } catch (error) {
    return failedResult(error);
  }
}

/** Saves one record or throws RecordError(s). Assumes a surrounding transaction. */
export function saveOne(core: OrgCore, userId: string, item: SaveItem): { id: string; created: boolean } {
  const { object } = item;
  const access = core.security.objectAccess(userId, object);
  checkSavable(core, userId, object);
  const values = { ...item.values };
  delete values.attributes;
  const existing = findExisting(core, item, values);
  const creating = existing === undefined;
  if (creating ? !access.create : !access.edit) throw insufficientAccess(object);
  const changes = collectChanges(core, userId, item, values, creating);
  const now = core.store.now();
  const next = buildRecord(core, userId, object, { existing, changes, now });
  computeFormulaFields(core, object, { userId, existing, next, now });
  validateRecord(core, object, next, changes, creating);
  checkValidationRules(core, object, { userId, existing, next, now });
  checkLockFaults(core.lockFaults, object, existing, next);
  core.store.put(object, String(next.Id), next);
  writeHistory(core, userId, object, { before: existing, after: next, now });
  return { id: String(next.Id), created: creating };
}

function checkSavable(core: OrgCore, userId: string, object: ObjectDef): void {
  if (object.category === 'event') {
    // Events are published (events.ts), never stored as records.
    throw new RecordError(
      'INVALID_TYPE_FOR_OPERATION',
      `entity type ${object.name} does not support this operation`,
    );
  }
  if (object.category === 'setup' && !core.security.user(userId).bypassSecurity) {
    // Assigning permission sets needs an administrator, as in an org ("Assign Permission Sets").
    throw insufficientAccess(object);
  }
  if (!object.createable && !object.updateable) {
    throw new RecordError(
      'INVALID_TYPE_FOR_OPERATION',
      `entity type ${object.name} does not support this operation`,
    );
  }
}

/** The record an update or upsert writes to (undefined: create). Removes the matching key from `values`. */
function findExisting(core: OrgCore, item: SaveItem, values: Rec): Rec | undefined {
  const { object } = item;
  if (item.operation === 'update') return liveRecord(core, object, item.id);
  if (item.operation === 'insert') {
    if (Object.keys(values).some((k) => k.toLowerCase() === 'id'))
      throw new RecordError('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
    return undefined;
  }
  const extField = item.externalIdField;
  if (!extField) throw new Error('upsert without an external id field');
  const key = Object.keys(values).find((k) => k.toLowerCase() === extField.name.toLowerCase());
  const extValue = key === undefined ? undefined : values[key];
  if (extField.name === 'Id') {
    if (key !== undefined) delete values[key];
    return extValue !== undefined && extValue !== null && extValue !== ''
      ? liveRecord(core, object, asText(extValue))
      : undefined;
  }
  if (extValue === undefined || extValue === null || extValue === '') {
    throw new RecordError('MISSING_ARGUMENT', `${extField.name} not specified`, [extField.name]);
  }
  const matches = core.store.matchByField(object, extField, extValue);
  if (matches.length > 1) {
    throw new RecordError(
      'DUPLICATE_EXTERNAL_ID',
      `${extField.label}: more than one record found for external id field: [${matches.map((m) => String(m.Id)).join(', ')}]`,
      [extField.name],
    );
  }
  const existing = matches[0];
  // The matching value need not be written again; writing it is also allowed when unchanged.
  if (existing && key !== undefined) delete values[key];
  return existing;
}

function liveRecord(core: OrgCore, object: ObjectDef, id: string | undefined): Rec {
  // No Id at all is a different failure from a bad one (Salesforce's wording for both).
  if (id === undefined || id === '')
    throw new RecordError('MISSING_ARGUMENT', 'Id not specified in an update call', []);
  const full = to18(id);
  if (!full)
    throw new RecordError('MALFORMED_ID', `${object.label} ID: id value of incorrect type: ${id}`, ['Id']);
  const hit = core.store.byId(full);
  if (!hit || hit.object !== object)
    throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
  if (hit.record.IsDeleted === true) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
  return hit.record;
}

/** Field values to write, after security and coercion; every error of the record at once. */
function collectChanges(core: OrgCore, userId: string, item: SaveItem, values: Rec, creating: boolean): Rec {
  const { object } = item;
  const { security } = core;
  const errors: RecordError[] = [];
  const notWritable: string[] = [];
  const changes: Rec = {};
  const collect = (work: () => void): void => {
    try {
      work();
    } catch (error) {
      if (error instanceof RecordError) errors.push(error);
      else throw error;
    }
  };
  for (const [key, raw] of Object.entries(values)) {
    if (item.operation === 'update' && key.toLowerCase() === 'id') continue;
    const relationship = relationshipOf(core.store.layoutOf(object), key);
    if (relationship) {
      const { field } = relationship;
      collect(() => {
        const parentId = resolveReference(core, userId, field, relationship.extFieldName, raw);
        if (
          !security.fieldAccess(userId, object, field).edit ||
          !(creating ? field.createable : field.updateable)
        )
          notWritable.push(field.name);
        else changes[field.name] = parentId;
      });
      continue;
    }
    const f = security.visibleField(userId, object, key);
    if (!f) {
      errors.push(
        new RecordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`, [key]),
      );
      continue;
    }
    if (!security.fieldAccess(userId, object, f).edit || !(creating ? f.createable : f.updateable)) {
      notWritable.push(f.name);
      continue;
    }
    collect(() => {
      let value = coerceValue(f, raw);
      if (f.type === 'reference' && value !== null) value = checkReference(core, f, asText(value));
      changes[f.name] = value;
    });
  }
  if (notWritable.length > 0) {
    errors.unshift(
      new RecordError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${notWritable.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        notWritable,
      ),
    );
  }
  if (errors.length > 0) throw new RecordErrors(errors);
  return changes;
}

/** The record as it will be stored: defaults, id, owner and auto numbers on create; audit fields. */
function buildRecord(
  core: OrgCore,
  userId: string,
  object: ObjectDef,
  write: { existing: Rec | undefined; changes: Rec; now: string },
): Rec {
  const { existing, changes, now } = write;
  let next: Rec;
  if (existing === undefined) {
    const layout = core.store.layoutOf(object);
    next = { ...layout.blank, ...changes };
    next.Id = core.store.nextId(object.name);
    if ('IsDeleted' in next) next.IsDeleted = false;
    if (object.fields.has('ownerid') && (next.OwnerId === null || next.OwnerId === undefined))
      next.OwnerId = userId;
    for (const f of layout.autoNumbered) next[f.name] = core.store.autoNumber(object, f);
    Object.assign(next, { CreatedDate: now, CreatedById: userId });
  } else {
    next = { ...existing, ...changes };
  }
  if (object.fields.has('lastmodifieddate'))
    Object.assign(next, { LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now });
  if (object.name === 'Contact')
    next.Name = [next.FirstName, next.LastName].filter((v) => typeof v === 'string' && v !== '').join(' ');
  return next;
}

/** Required fields (on create, or when the write touches them) and unique values. */
function validateRecord(core: OrgCore, object: ObjectDef, next: Rec, changes: Rec, creating: boolean): void {
  const layout = core.store.layoutOf(object);
  const missing = layout.required
    .filter(
      (f) =>
        (creating || f.name in changes) &&
        (next[f.name] === null || next[f.name] === undefined || next[f.name] === ''),
    )
    .map((f) => f.name);
  if (missing.length > 0) {
    throw new RecordError(
      'REQUIRED_FIELD_MISSING',
      `Required fields are missing: [${missing.join(', ')}]`,
      missing,
    );
  }
  for (const f of layout.unique) {
    if (next[f.name] === null || next[f.name] === undefined) continue;
    const clash = core.store.matchByField(object, f, next[f.name]).find((r) => r.Id !== next.Id);
    if (clash) {
      throw new RecordError(
        'DUPLICATE_VALUE',
        `duplicate value found: ${f.name} duplicates value on record with id: ${String(clash.Id)}`,
        [f.name],
      );
    }
  }
}
