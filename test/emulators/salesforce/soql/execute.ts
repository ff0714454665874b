/**
 * The SOQL engine: parse with soql-parser-js, check every name against the schema and the running
 * user's field-level security, then filter, group, sort, slice and shape the records as the REST API
 * returns them. Pure: everything it knows comes through the SoqlContext.
 */
import {
  parseQuery,
  type OrderByClause,
  type Query,
  type GroupByClause,
  type Subquery,
} from '@jetstreamapp/soql-parser-js';
import type { SoqlContext, SoqlResult } from '../model.js';
import { compileClause, type ConditionCompiler, type Operand, type Predicate } from './conditions.js';
import { DATE_FUNCTIONS } from './date-literals.js';
import { malformed, SoqlError, unknownRelationship } from './errors.js';
import { comparable, compareValues, restValue, type Comparable } from './values.js';
import type { Row, Scope } from './scope.js';
import { describeOrThrow, resolvePath, isLive, rawValue, recordOperand } from './scope.js';
import type { SelectItem } from './select.js';
import { AGGREGATES, pathGroupKey, dateFunctionKey, buildSelect, shapeRecord } from './select.js';
import type { Group } from './aggregate.js';
import { aggregateValue, groupOperand } from './aggregate.js';

// ---- ordering -----------------------------------------------------------------------------------

function comparator<R>(
  clauses: OrderByClause[],
  operandFor: (clause: OrderByClause) => Operand<R>,
): (a: R, b: R) => number {
  const keys = clauses.map((c) => ({
    operand: operandFor(c),
    desc: c.order === 'DESC',
    // Salesforce puts nulls first in ascending order and last in descending order unless told.
    nullsFirst: c.nulls ? c.nulls === 'FIRST' : c.order !== 'DESC',
  }));
  return (a, b) => {
    for (const k of keys) {
      const x = k.operand.get(a);
      const y = k.operand.get(b);
      if (x === null || y === null) {
        if (x === y) continue;
        return (x === null) === k.nullsFirst ? -1 : 1;
      }
      const cmp = compareValues(x, y);
      if (cmp !== 0) return k.desc ? -cmp : cmp;
    }
    return 0;
  };
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function slice<T>(rows: T[], query: { limit?: number; offset?: number }): T[] {
  const start = query.offset ?? 0;
  return rows.slice(start, query.limit === undefined ? undefined : start + query.limit);
}

/**
 * WHERE over records of one object. Semi-join sub-selects (`Id IN (SELECT ...)`) are run here, once
 * per query; Salesforce does not allow them to nest, so the inner WHERE gets none.
 */
function recordCompiler(scope: Scope, allowSemiJoin: boolean): ConditionCompiler<Row> {
  const { ctx } = scope;
  return {
    now: ctx.now,
    field: (path) => recordOperand(scope, path),
    func: (fn) => {
      if (!DATE_FUNCTIONS.has((fn.functionName ?? '').toUpperCase())) {
        throw malformed(
          `Aggregate functions are not allowed in WHERE: ${fn.rawValue ?? fn.functionName ?? ''}`,
        );
      }
      const group = dateFunctionKey(scope, fn);
      return { name: group.field.name, type: group.field.type, get: (row) => group.read(row) };
    },
    semiJoin: allowSemiJoin ? (condition) => semiJoinValues(ctx, condition.valueQuery as Query) : undefined,
  };
}

function semiJoinValues(ctx: SoqlContext, inner: Query): Comparable[] {
  const innerFields = inner.fields ?? [];
  const only = innerFields[0];
  if (innerFields.length !== 1 || !only || (only.type !== 'Field' && only.type !== 'FieldRelationship')) {
    throw malformed('semi join sub-selects must select exactly one id field');
  }
  const innerScope: Scope = {
    ctx,
    object: describeOrThrow(ctx, inner.sObject ?? ''),
    alias: inner.sObjectAlias,
  };
  const path = resolvePath(innerScope, only.type === 'Field' ? only.field : (only.rawValue ?? only.field));
  if (path.field.type !== 'id' && path.field.type !== 'reference') {
    throw malformed(`semi join sub-select field ${path.field.name} must be an id or a reference`);
  }
  const where = inner.where ? compileClause(inner.where, recordCompiler(innerScope, false)) : () => true;
  const matched = [...ctx.records(innerScope.object.name)].filter((r) => isLive(ctx, r) && where(r));
  return matched.map((r) => comparable('id', rawValue(ctx, r, path)));
}

// ---- the pipeline -------------------------------------------------------------------------------

/**
 * Runs a parsed query (top-level or child subquery). `restrict` narrows the rows first (the
 * parent-id filter of a child subquery).
 */
function run(ctx: SoqlContext, query: Query, objectName: string, restrict?: Predicate<Row>): SoqlResult {
  const scope: Scope = { ctx, object: describeOrThrow(ctx, objectName), alias: query.sObjectAlias };
  const fields = query.fields ?? [];
  const groupBy = asArray<GroupByClause>(query.groupBy);
  const first = fields[0];
  const isCountOnly =
    fields.length === 1 &&
    first?.type === 'FieldFunctionExpression' &&
    first.functionName.toUpperCase() === 'COUNT' &&
    first.parameters.length === 0;
  if (isCountOnly && groupBy.length) throw malformed('COUNT() cannot be used with GROUP BY');
  const hasAggregate = fields.some(
    (f) => f.type === 'FieldFunctionExpression' && AGGREGATES.has(f.functionName.toUpperCase()),
  );
  const grouped = !isCountOnly && (hasAggregate || groupBy.length > 0);
  const items = isCountOnly ? [] : buildSelect(scope, fields, grouped);
  if (!isCountOnly && items.length === 0) throw malformed('unexpected token: FROM');

  const compiler = recordCompiler(scope, true);
  const where = query.where ? compileClause(query.where, compiler) : () => true;
  let rows = [...ctx.records(scope.object.name)].filter(
    (r) => isLive(ctx, r) && (restrict ? restrict(r) : true) && where(r),
  );

  if (isCountOnly) {
    const count = slice(rows, query).length;
    return { totalSize: count, done: true, records: [] };
  }

  if (grouped) return runGrouped(scope, query, items, groupBy, rows);

  if (query.having) throw malformed('HAVING requires GROUP BY or an aggregate function');
  const orderBy = asArray(query.orderBy);
  if (orderBy.length) {
    rows = [...rows].sort(
      comparator<Row>(orderBy, (c) => {
        if (!('field' in c)) throw malformed('Ordering by a function requires an aggregate query');
        return recordOperand(scope, c.field);
      }),
    );
  }
  rows = slice(rows, query);
  const childRows = (sub: Subquery, parent: Row): SoqlResult | null => {
    const rel = scope.object.childRelationships?.get(sub.relationshipName.toLowerCase());
    const child = rel && ctx.describe(rel.childObject);
    if (!rel || !child || !ctx.canRead(child.name, rel.field))
      throw unknownRelationship(sub.relationshipName);
    const result = run(ctx, { ...sub, sObject: child.name }, child.name, (r) => r[rel.field] === parent.Id);
    return result.totalSize === 0 ? null : result;
  };
  const records = rows.map((r) => shapeRecord(scope, r, items, childRows));
  return { totalSize: records.length, done: true, records };
}

function runGrouped(
  scope: Scope,
  query: Query,
  items: SelectItem[],
  groupBy: GroupByClause[],
  rows: Row[],
): SoqlResult {
  const { ctx } = scope;
  const groupKeys = groupBy.map((g) =>
    'field' in g ? pathGroupKey(scope, resolvePath(scope, g.field)) : dateFunctionKey(scope, g.fn),
  );
  for (const item of items) {
    if (item.kind === 'group' && !groupKeys.some((g) => g.key === item.group.key)) {
      throw malformed(`Field must be grouped or aggregated: ${item.group.field.name}`);
    }
  }

  let groups: Group[];
  if (groupKeys.length === 0) {
    groups = [{ rows }];
  } else {
    const byKey = new Map<string, Group>();
    for (const row of rows) {
      const key = JSON.stringify(
        groupKeys.map((k) => {
          const v = k.read(row);
          return typeof v === 'string' && k.field.type !== 'id' && k.field.type !== 'reference'
            ? v.toLowerCase()
            : v;
        }),
      );
      let group = byKey.get(key);
      if (!group) byKey.set(key, (group = { rows: [] }));
      group.rows.push(row);
    }
    groups = [...byKey.values()];
  }

  const operands = groupOperand(scope, groupKeys);
  if (query.having) {
    const having = compileClause<Group>(query.having, { now: ctx.now, ...operands });
    groups = groups.filter(having);
  }
  const orderBy = asArray(query.orderBy);
  if (orderBy.length) {
    groups = [...groups].sort(
      comparator<Group>(orderBy, (c) => ('field' in c ? operands.field(c.field) : operands.func(c.fn))),
    );
  }
  groups = slice(groups, query);

  const records = groups.map((group) => {
    const out: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
    for (const item of items) {
      if (item.kind === 'group') {
        out[item.outputName] = group.rows[0] ? item.group.output(group.rows[0]) : null;
      } else if (item.kind === 'aggregate') {
        const { value, field } = aggregateValue(ctx, item.fn, item.path, group.rows);
        out[item.outputName] = field ? restValue(field, value) : value;
      }
    }
    return out;
  });
  return { totalSize: records.length, done: true, records };
}

/** Turns the parser's exception into Salesforce's MALFORMED_QUERY. */
function parse(soql: string): Query {
  try {
    return parseQuery(soql);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    // chevrotain says "but found: 'X'" or "but found --> 'X' <--"; an empty token is the end of input.
    const found = /but found(?::| -->) *'([^']*)'/.exec(text)?.[1];
    const token = found === undefined ? (text.split('\n')[0] ?? text) : found === '' ? '<EOF>' : `'${found}'`;
    throw malformed(`unexpected token: ${token}`);
  }
}

/**
 * Executes a SOQL query against the context. Throws SoqlError (MALFORMED_QUERY, INVALID_FIELD,
 * INVALID_TYPE) with Salesforce's wording; returns every matching record (the caller pages).
 */
export function executeSoql(soql: string, ctx: SoqlContext): SoqlResult {
  const query = parse(soql);
  if (!query.sObject) throw malformed('unexpected token: <EOF>');
  // Salesforce caps OFFSET at 2,000 so that clients page with query locators instead.
  if ((query.offset ?? 0) > 2000)
    throw new SoqlError('NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000');
  return run(ctx, query, query.sObject);
}
