/**
 * Aggregation: the value of COUNT / COUNT_DISTINCT / SUM / AVG / MIN / MAX over a group, and the
 * operands HAVING and ORDER BY see in a grouped query.
 */
import type { SoqlContext, SoqlField } from '../model.js';
import { type Operand } from './conditions.js';
import { DATE_FUNCTIONS } from './date-literals.js';
import { malformed } from './errors.js';
import { comparable, compareValues, type Comparable } from './values.js';
import type { Row, FieldPath, Scope } from './scope.js';
import { resolvePath, rawValue } from './scope.js';
import type { FunctionExpression, GroupKey } from './select.js';
import { AGGREGATES, pathGroupKey, dateFunctionKey } from './select.js';

// ---- aggregation --------------------------------------------------------------------------------

export interface Group {
  rows: Row[];
}

export function aggregateValue(
  ctx: SoqlContext,
  fn: string,
  path: FieldPath | undefined,
  rows: Row[],
): { value: unknown; field?: SoqlField } {
  if (!path) return { value: rows.length };
  const values = rows
    .map((r) => comparable(path.field.type, rawValue(ctx, r, path)))
    .filter((v): v is Exclude<Comparable, null> => v !== null);
  switch (fn) {
    case 'COUNT':
      return { value: values.length };
    case 'COUNT_DISTINCT':
      return { value: new Set(values.map((v) => (typeof v === 'string' ? v.toLowerCase() : v))).size };
    case 'SUM':
      return { value: values.length ? (values as number[]).reduce((a, b) => a + b, 0) : null };
    case 'AVG':
      return {
        value: values.length ? (values as number[]).reduce((a, b) => a + b, 0) / values.length : null,
      };
    case 'MIN':
    case 'MAX': {
      if (!values.length) return { value: null, field: path.field };
      const sorted = [...values].sort(compareValues);
      return { value: fn === 'MIN' ? sorted[0] : sorted[sorted.length - 1], field: path.field };
    }
    default:
      throw malformed(`unexpected token: '${fn}'`);
  }
}

export function groupOperand(scope: Scope, groupKeys: GroupKey[]) {
  const grouped = (group: GroupKey): Operand<Group> => {
    if (!groupKeys.some((g) => g.key === group.key)) {
      throw malformed(`Field must be grouped or aggregated: ${group.field.name}`);
    }
    return {
      name: group.field.name,
      type: group.field.type,
      get: (g) => (g.rows[0] ? group.read(g.rows[0]) : null),
    };
  };
  return {
    field: (rawPath: string): Operand<Group> => grouped(pathGroupKey(scope, resolvePath(scope, rawPath))),
    func(fn: FunctionExpression): Operand<Group> {
      const name = (fn.functionName ?? '').toUpperCase();
      if (DATE_FUNCTIONS.has(name)) return grouped(dateFunctionKey(scope, fn));
      if (!AGGREGATES.has(name)) throw malformed(`unexpected token: '${fn.rawValue ?? name}'`);
      const param = fn.parameters?.[0];
      const path = typeof param === 'string' ? resolvePath(scope, param) : undefined;
      const type =
        name === 'COUNT' || name === 'COUNT_DISTINCT'
          ? 'int'
          : name === 'SUM' || name === 'AVG'
            ? 'double'
            : (path?.field.type ?? 'int');
      return {
        name: fn.rawValue ?? name,
        type,
        get: (g) => comparable(type, aggregateValue(scope.ctx, name, path, g.rows).value),
      };
    },
  };
}
