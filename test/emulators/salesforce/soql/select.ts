/**
 * The select list: fields, parent fields, functions, aggregates and child subqueries, checked against
 * the schema; and shaping a record as the REST API returns it.
 */
import { type FieldType, type Subquery } from '@jetstreamapp/soql-parser-js';
import type { SoqlField, SoqlObject, SoqlResult } from '../model.js';
import { applyDateFunction, DATE_FUNCTIONS } from './date-literals.js';
import { malformed, SoqlError } from './errors.js';
import { comparable, isNumeric, restValue, type Comparable } from './values.js';
import type { Row, FieldPath, Scope } from './scope.js';
import { resolvePath, parentOf, rawValue, sobjectUrl } from './scope.js';

// ---- select list --------------------------------------------------------------------------------

export type SelectItem =
  | { kind: 'path'; path: FieldPath }
  | { kind: 'aggregate'; fn: string; path?: FieldPath; outputName: string; raw: string }
  | { kind: 'group'; group: GroupKey; outputName: string }
  | { kind: 'subquery'; subquery: Subquery };

export const AGGREGATES = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);

export type FunctionExpression = { functionName?: string; parameters?: unknown[]; rawValue?: string };

/** A GROUP BY term: a field path or a date function of one, e.g. CALENDAR_YEAR(CreatedDate). */
export interface GroupKey {
  key: string;
  /** The term's own type and name (DAY_ONLY is a date, the other date functions integers). */
  field: SoqlField;
  read: (row: Row) => Comparable;
  output: (row: Row) => unknown;
}

export function pathGroupKey(scope: Scope, path: FieldPath): GroupKey {
  return {
    key: path.key,
    field: path.field,
    read: (row) => comparable(path.field.type, rawValue(scope.ctx, row, path)),
    output: (row) => restValue(path.field, rawValue(scope.ctx, row, path)),
  };
}

export function dateFunctionKey(scope: Scope, fn: FunctionExpression): GroupKey {
  const name = (fn.functionName ?? '').toUpperCase();
  const param = fn.parameters?.[0];
  if (!DATE_FUNCTIONS.has(name) || typeof param !== 'string' || fn.parameters?.length !== 1) {
    throw malformed(`${fn.rawValue ?? name} is not supported by this emulator`);
  }
  const path = resolvePath(scope, param);
  const allowed = name === 'DAY_ONLY' || name === 'HOUR_IN_DAY' ? ['datetime'] : ['date', 'datetime'];
  if (!allowed.includes(path.field.type)) {
    throw new SoqlError(
      'INVALID_FIELD',
      `${name} can only be applied to a ${allowed.join(' or ')} field: ${path.field.name}`,
    );
  }
  const field: SoqlField = { name: path.field.name, type: name === 'DAY_ONLY' ? 'date' : 'int' };
  const read = (row: Row) =>
    applyDateFunction(name, comparable(path.field.type, rawValue(scope.ctx, row, path)));
  return { key: `${name}(${path.key})`, field, read, output: (row) => restValue(field, read(row)) };
}
/** Functions that return the field's value here: picklist labels equal their API values in the emulator. */
export const PASS_THROUGH = new Set(['TOLABEL', 'FORMAT', 'CONVERTCURRENCY']);

export function expandFields(scope: Scope, which: string): FieldType[] {
  const mode = which.toUpperCase();
  if (mode !== 'ALL' && mode !== 'STANDARD' && mode !== 'CUSTOM')
    throw malformed(`unexpected token: '${which}'`);
  return [...scope.object.fields.values()]
    .filter((f) => scope.ctx.canRead(scope.object.name, f.name))
    .filter((f) => mode === 'ALL' || f.name.endsWith('__c') === (mode === 'CUSTOM'))
    .map((f) => ({ type: 'Field', field: f.name }));
}

export function buildSelect(scope: Scope, fields: FieldType[], grouped: boolean): SelectItem[] {
  const items: SelectItem[] = [];
  const seen = new Set<string>();
  let exprIndex = 0;
  const addPath = (rawPath: string, alias?: string): void => {
    const path = resolvePath(scope, rawPath);
    if (seen.has(path.key)) throw malformed(`duplicate field selected: ${rawPath}`);
    seen.add(path.key);
    items.push(
      grouped
        ? { kind: 'group', group: pathGroupKey(scope, path), outputName: alias ?? path.field.name }
        : { kind: 'path', path },
    );
  };
  for (const f of fields) {
    switch (f.type) {
      case 'Field':
        addPath(f.field, f.alias);
        break;
      case 'FieldRelationship':
        addPath(f.rawValue ?? [...f.relationships, f.field].join('.'), (f as { alias?: string }).alias);
        break;
      case 'FieldSubquery':
        if (grouped) throw malformed('Aggregate queries do not support child relationship subqueries');
        items.push({ kind: 'subquery', subquery: f.subquery });
        break;
      case 'FieldFunctionExpression': {
        const name = f.functionName.toUpperCase();
        const param = f.parameters[0];
        if (name === 'FIELDS' && typeof param === 'string') {
          for (const expanded of expandFields(scope, param)) addPath((expanded as { field: string }).field);
        } else if (AGGREGATES.has(name)) {
          if (param !== undefined && typeof param !== 'string')
            throw malformed(`unexpected token: '${f.rawValue}'`);
          const path = param === undefined ? undefined : resolvePath(scope, param);
          if (path && (name === 'SUM' || name === 'AVG') && !isNumeric(path.field.type)) {
            throw malformed(`field ${path.field.name} does not support aggregate operator ${name}`);
          }
          const outputName = f.alias ?? `expr${exprIndex++}`;
          items.push({ kind: 'aggregate', fn: name, path, outputName, raw: f.rawValue ?? name });
        } else if (PASS_THROUGH.has(name) && typeof param === 'string') {
          addPath(param, f.alias);
        } else if (DATE_FUNCTIONS.has(name)) {
          if (!grouped) throw malformed(`${f.rawValue ?? name} is only allowed in aggregate queries`);
          const group = dateFunctionKey(scope, f);
          if (seen.has(group.key)) throw malformed(`duplicate field selected: ${f.rawValue ?? name}`);
          seen.add(group.key);
          items.push({ kind: 'group', group, outputName: f.alias ?? `expr${exprIndex++}` });
        } else {
          throw malformed(`${f.functionName}() is not supported by this emulator`);
        }
        break;
      }
      default:
        throw malformed('TYPEOF is not supported by this emulator');
    }
  }
  return items;
}

/**
 * The key of a child subquery in the result: the canonical relationship name when the core supplies
 * one (optional `relationshipName` beside `childObject`/`field`, see CONTRACT.md), else as written.
 */
export function childKey(object: SoqlObject, sub: Subquery): string {
  const rel = object.childRelationships?.get(sub.relationshipName.toLowerCase()) as
    { relationshipName?: string } | undefined;
  return rel?.relationshipName ?? sub.relationshipName;
}

// ---- shaping records ----------------------------------------------------------------------------

export function shapeRecord(
  scope: Scope,
  record: Row,
  items: SelectItem[],
  childRows: (sub: Subquery, parent: Row) => SoqlResult | null,
): Record<string, unknown> {
  const { ctx, object } = scope;
  const out: Record<string, unknown> = {
    attributes: { type: object.name, url: sobjectUrl(ctx, object.name, record.Id) },
  };
  for (const item of items) {
    if (item.kind === 'subquery') {
      out[childKey(scope.object, item.subquery)] = childRows(item.subquery, record);
      continue;
    }
    if (item.kind !== 'path') continue;
    let target = out;
    let source: Row | undefined = record;
    for (const hop of item.path.hops) {
      const existing = target[hop.relationshipName];
      if (existing === null) {
        source = undefined;
        break;
      }
      const parent = parentOf(ctx, source, hop);
      if (!parent) {
        target[hop.relationshipName] = null;
        source = undefined;
        break;
      }
      if (existing === undefined) {
        target[hop.relationshipName] = {
          attributes: { type: parent.objectName, url: sobjectUrl(ctx, parent.objectName, parent.record.Id) },
        };
      }
      target = target[hop.relationshipName] as Record<string, unknown>;
      source = parent.record;
    }
    if (source) target[item.path.field.name] = restValue(item.path.field, source[item.path.field.name]);
  }
  return out;
}
