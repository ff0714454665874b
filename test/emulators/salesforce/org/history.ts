/**
 * Field history: with history tracking enabled on a standard or custom object, a create writes one
 * `created` row and an update one row per tracked field whose value changed, into the object's history
 * object (ContactHistory, Care_Plan__History, ...).
 */
import type { ObjectDef } from '../schema.js';
import { historyDataType } from '../values.js';
import type { OrgCore } from './core.js';
import type { Rec } from './types.js';

export function writeHistory(
  core: OrgCore,
  userId: string,
  object: ObjectDef,
  change: { before: Rec | undefined; after: Rec; now: string },
): void {
  const { before, after, now } = change;
  if (
    !object.enableHistory ||
    !object.historyObject ||
    (object.category !== 'custom' && object.category !== 'standard')
  )
    return;
  const history = core.schema.objects.get(object.historyObject.toLowerCase());
  if (!history?.historyParentField) return;
  const row = (fieldName: string, dataType: string, oldValue: unknown, newValue: unknown) => {
    const id = core.store.nextId(history.name);
    core.store.put(history, id, {
      Id: id,
      IsDeleted: false,
      [history.historyParentField ?? 'ParentId']: after.Id,
      CreatedById: userId,
      CreatedDate: now,
      Field: fieldName,
      DataType: dataType,
      OldValue: oldValue ?? null,
      NewValue: newValue ?? null,
    });
  };
  if (!before) {
    row('created', 'Text', null, null);
    return;
  }
  for (const f of core.store.layoutOf(object).tracked) {
    const oldValue = before[f.name] ?? null;
    const newValue = after[f.name] ?? null;
    if (oldValue !== newValue) row(f.name, historyDataType(f), oldValue, newValue);
  }
}
