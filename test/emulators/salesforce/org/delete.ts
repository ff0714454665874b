/**
 * Deleting records: a soft delete where the object has IsDeleted (the record stays visible to queryAll
 * with IsDeleted = true), a hard delete otherwise. Batches are transactional as saves are.
 */
import { RecordError } from '../errors.js';
import { to18 } from '../ids.js';
import { formatDateTime } from '../values.js';
import type { OrgCore } from './core.js';
import { checkLockFaults } from './lock-faults.js';
import type { Rec, SaveResult } from './types.js';
import { rolledBack } from './types.js';

/** Deletes one record or throws RecordError; the full id of the deleted record. */
export function deleteOne(core: OrgCore, userId: string, id: string): string {
  const full = to18(id);
  if (!full) throw new RecordError('MALFORMED_ID', `bad id ${id}`, []);
  const hit = core.store.byId(full);
  if (!hit) throw new RecordError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', []);
  if (hit.record.IsDeleted === true) throw new RecordError('ENTITY_IS_DELETED', 'entity is deleted', []);
  const { object, record } = hit;
  if (object.category === 'setup' && !core.security.user(userId).bypassSecurity) {
    throw new RecordError(
      'INSUFFICIENT_ACCESS_OR_READONLY',
      `insufficient access rights on object ${object.name}`,
    );
  }
  if (!object.deletable)
    throw new RecordError('INVALID_TYPE_FOR_OPERATION', `entity type ${object.name} does not support delete`);
  if (!core.security.objectAccess(userId, object).delete) {
    throw new RecordError(
      'INSUFFICIENT_ACCESS_OR_READONLY',
      `insufficient access rights on object ${object.name}`,
    );
  }
  checkLockFaults(core.lockFaults, object, record, record);
  if (!object.fields.has('isdeleted')) {
    core.store.put(object, full, undefined);
    return full;
  }
  const now = formatDateTime(core.clock.now());
  const next: Rec = { ...record, IsDeleted: true };
  if (object.fields.has('lastmodifieddate'))
    Object.assign(next, { LastModifiedDate: now, LastModifiedById: userId, SystemModstamp: now });
  core.store.put(object, full, next);
  return full;
}

export function deleteBatch(core: OrgCore, userId: string, ids: string[], allOrNone: boolean): SaveResult[] {
  const one = (id: string): SaveResult => {
    try {
      return { id: deleteOne(core, userId, id), success: true, errors: [] };
    } catch (error) {
      if (error instanceof RecordError) return { id, success: false, errors: [error.toJSON()] };
      throw error;
    }
  };
  if (!allOrNone)
    return ids.map((id) =>
      core.store.transaction(
        () => one(id),
        (r) => r.success,
      ),
    );
  return core.store.transaction(
    () => {
      const results = ids.map(one);
      return results.every((r) => r.success)
        ? results
        : results.map((r) => (r.success ? { ...rolledBack(), id: r.id } : r));
    },
    (results) => results.every((r) => r.success),
  );
}
