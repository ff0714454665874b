/**
 * The Bulk API 2.0 bridge: CSV rows applied one by one through the same DML as REST (see
 * BulkDeps.applyDml in ../model.ts: an empty cell leaves the field unchanged, one result per row).
 */
import type { DmlOperation, DmlRowResult } from '../model.js';
import type { FieldDef, ObjectDef } from '../schema.js';
import type { OrgCore } from './core.js';
import { deleteBatch } from './delete.js';
import { saveBatch } from './dml.js';
import type { Rec, SaveItem } from './types.js';

type Row = Record<string, string | null>;

export function applyDml(
  core: OrgCore,
  userId: string,
  objectName: string,
  job: { operation: DmlOperation; externalIdFieldName: string | undefined },
  rows: Row[],
): DmlRowResult[] {
  const { operation, externalIdFieldName } = job;
  const object = core.security.visibleObject(userId, objectName);
  if (!object) {
    const error = {
      statusCode: 'INVALID_TYPE',
      message: `sObject type '${objectName}' is not supported.`,
      fields: [],
    };
    return rows.map(() => ({ success: false, errors: [error] }));
  }
  let extField: FieldDef | undefined;
  if (operation === 'upsert') {
    extField = core.security.visibleField(userId, object, externalIdFieldName ?? 'Id');
    if (!extField || !(extField.externalId || extField.idLookup)) {
      const error = {
        statusCode: 'INVALID_FIELD',
        message: `Provided external ID field does not exist or is not accessible: ${externalIdFieldName ?? ''}`,
        fields: [],
      };
      return rows.map(() => ({ success: false, errors: [error] }));
    }
  }
  return rows.map((row) => applyRow(core, userId, { object, operation, extField }, row));
}

function applyRow(
  core: OrgCore,
  userId: string,
  job: { object: ObjectDef; operation: DmlOperation; extField: FieldDef | undefined },
  row: Row,
): DmlRowResult {
  const { object, operation, extField } = job;
  const values: Rec = {};
  let id: string | undefined;
  for (const [column, value] of Object.entries(row)) {
    if (column.toLowerCase() === 'id') {
      if (value !== null && value !== '') id = value;
      continue;
    }
    if (value === '') continue; // Bulk 2.0: an empty cell leaves the field unchanged
    values[column] = value;
  }
  if (operation === 'delete') {
    const [result] = deleteBatch(core, userId, [id ?? ''], false);
    return result ?? { success: false };
  }
  if (operation === 'upsert' && extField?.name === 'Id' && id !== undefined) values.Id = id;
  const item: SaveItem =
    operation === 'update'
      ? { operation, object, values, ...(id !== undefined ? { id } : {}) }
      : operation === 'upsert'
        ? { operation, object, values, ...(extField ? { externalIdField: extField } : {}) }
        : { operation: 'insert', object, values };
  const [result] = saveBatch(core, userId, [item], false);
  if (!result) return { success: false };
  return {
    success: result.success,
    id: result.id,
    errors: result.errors,
    created: operation === 'insert' ? result.success : result.created,
  };
}
