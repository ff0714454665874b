/**
 * Row-lock faults set through the test controls: a write touching a matching record fails with
 * UNABLE_TO_LOCK_ROW, as a record locked by another transaction does in an org.
 */
import { RecordError } from '../errors.js';
import type { ObjectDef } from '../schema.js';
import { asText } from '../values.js';
import type { LockFault, Rec } from './types.js';

export function checkLockFaults(
  faults: LockFault[],
  object: ObjectDef,
  before: Rec | undefined,
  after: Rec,
): void {
  for (const fault of faults) {
    if (fault.object.toLowerCase() !== object.name.toLowerCase()) continue;
    if (fault.times !== undefined && fault.times <= 0) continue;
    const hit = [before, after].some((r) => r !== undefined && asText(r[fault.field] ?? '') === fault.value);
    if (!hit) continue;
    if (fault.times !== undefined) fault.times--;
    throw new RecordError(
      'UNABLE_TO_LOCK_ROW',
      `unable to obtain exclusive access to this record or 1 records: ${String(after.Id)}`,
      [],
    );
  }
}
