/**
 * The SOQL engine: parse with soql-parser-js, check every name against the schema and the running
 * user's field-level security, then filter, group, sort, slice and shape the records as the REST API
 * returns them. Pure: everything it knows comes through the SoqlContext.
 */
import {
  parseQuery,
  type FieldType,
  type OrderByClause,
  type Query,
  type GroupByClause,
  type Subquery,
} from '@jetstreamapp/soql-parser-js';
import type { SoqlContext, SoqlField, SoqlObject, SoqlResult } from '../model.js';
import { compileClause, type ConditionCompiler, type Operand, type Predicate } from './conditions.js';
import { applyDateFunction, DATE_FUNCTIONS } from './date-literals.js';
import { malformed, noSuchColumn, SoqlError, unknownRelationship, unsupportedObject } from './errors.js';
import { comparable, compareValues, isNumeric, restValue, type Comparable } from './values.js';

type Row = Readonly<Record<string, unknown>>;

interface Hop {
  /** The lookup field, e.g. Contact__c. */
  field: SoqlField;
  /** Canonical relationship name, e.g. Contact__r. */
  relationshipName: string;
}

/** A resolved field path such as `Contact__r.Account.Name`. */
interface FieldPath {
  hops: Hop[];
  field: SoqlField;
  /** Lower-cased canonical path, for duplicate and GROUP BY checks. */
  key: string;
}

interface Scope {
  ctx: SoqlContext;
  object: SoqlObject;
  alias?: string;
}

function describeOrThrow(ctx: SoqlContext, name: string): SoqlObject {
  const object = ctx.describe(name);
  if (!object) throw unsupportedObject(name);
  return object;
}

function resolvePath(scope: Scope, rawPath: string): FieldPath {
  const { ctx } = scope;
  const segments = rawPath.split('.');
  if (segments.length > 1) {
    // `c.Name` with `FROM Contact c`, or `Contact.Name` with `FROM Contact` unless Contact has a
    // relationship of that name.
    const first = segments[0]!.toLowerCase();
    const isRelationship = [...scope.object.fields.values()].some(
      (f) => f.relationshipName?.toLowerCase() === first,
    );
    if (
      first === scope.alias?.toLowerCase() ||
      (first === scope.object.name.toLowerCase() && !isRelationship)
    ) {
      segments.shift();
    }
  }
  let current = scope.object;
  const hops: Hop[] = [];
  for (const segment of segments.slice(0, -1)) {
    const lower = segment.toLowerCase();
    const lookup = [...current.fields.values()].find(
      (f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === lower,
    );
    const target = lookup?.referenceTo?.[0];
    const parent = target === undefined ? undefined : ctx.describe(target);
    if (!lookup || !parent || !ctx.canRead(current.name, lookup.name)) throw unknownRelationship(segment);
    hops.push({ field: lookup, relationshipName: lookup.relationshipName! });
    current = parent;
  }
  const last = segments[segments.length - 1]!;
  const field = current.fields.get(last.toLowerCase());
  if (!field || !ctx.canRead(current.name, field.name)) throw noSuchColumn(last, current.name);
  const key = [...hops.map((h) => h.relationshipName), field.name].join('.').toLowerCase();
  return { hops, field, key };
}

function isLive(ctx: SoqlContext, record: Row): boolean {
  return ctx.includeDeleted || record.IsDeleted !== true;
}

/** The parent record a lookup points at, or undefined when empty, dangling or deleted. */
function parentOf(ctx: SoqlContext, record: Row, hop: Hop): { objectName: string; record: Row } | undefined {
  const id = record[hop.field.name];
  if (typeof id !== 'string' || id === '') return undefined;
  const parent = ctx.byId(id);
  if (!parent || parent.record.IsDeleted === true) return undefined;
  return parent;
}

function rawValue(ctx: SoqlContext, record: Row, path: FieldPath): unknown {
  let current: Row | undefined = record;
  for (const hop of path.hops) {
    current = parentOf(ctx, current, hop)?.record;
    if (!current) return null;
  }
  return current[path.field.name];
}

function recordOperand(scope: Scope, rawPath: string): Operand<Row> {
  const path = resolvePath(scope, rawPath);
  return {
    name: path.field.name,
    type: path.field.type,
    get: (record) => comparable(path.field.type, rawValue(scope.ctx, record, path)),
  };
}

function sobjectUrl(ctx: SoqlContext, type: string, id: unknown): string {
  return `/services/data/v${ctx.apiVersion}/sobjects/${type}/${String(id)}`;
}

// ---- select list --------------------------------------------------------------------------------

type SelectItem =
  | { kind: 'path'; path: FieldPath }
  | { kind: 'aggregate'; fn: string; path?: FieldPath; outputName: string; raw: string }
  | { kind: 'group'; group: GroupKey; outputName: string }
  | { kind: 'subquery'; subquery: Subquery };

const AGGREGATES = new Set(['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX']);

type FunctionExpression = { functionName?: string; parameters?: unknown[]; rawValue?: string };

/** A GROUP BY term: a field path or a date function of one, e.g. CALENDAR_YEAR(CreatedDate). */
interface GroupKey {
  key: string;
  /** The term's own type and name (DAY_ONLY is a date, the other date functions integers). */
  field: SoqlField;
  read: (row: Row) => Comparable;
  output: (row: Row) => unknown;
}

function pathGroupKey(scope: Scope, path: FieldPath): GroupKey {
  return {
    key: path.key,
    field: path.field,
    read: (row) => comparable(path.field.type, rawValue(scope.ctx, row, path)),
    output: (row) => restValue(path.field, rawValue(scope.ctx, row, path)),
  };
}

function dateFunctionKey(scope: Scope, fn: FunctionExpression): GroupKey {
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
const PASS_THROUGH = new Set(['TOLABEL', 'FORMAT', 'CONVERTCURRENCY']);

function expandFields(scope: Scope, which: string): FieldType[] {
  const mode = which.toUpperCase();
  if (mode !== 'ALL' && mode !== 'STANDARD' && mode !== 'CUSTOM')
    throw malformed(`unexpected token: '${which}'`);
  return [...scope.object.fields.values()]
    .filter((f) => scope.ctx.canRead(scope.object.name, f.name))
    .filter((f) => mode === 'ALL' || f.name.endsWith('__c') === (mode === 'CUSTOM'))
    .map((f) => ({ type: 'Field', field: f.name }));
}

function buildSelect(scope: Scope, fields: FieldType[], grouped: boolean): SelectItem[] {
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
function childKey(object: SoqlObject, sub: Subquery): string {
  const rel = object.childRelationships?.get(sub.relationshipName.toLowerCase()) as
    { relationshipName?: string } | undefined;
  return rel?.relationshipName ?? sub.relationshipName;
}

// ---- shaping records ----------------------------------------------------------------------------

function shapeRecord(
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

// ---- aggregation --------------------------------------------------------------------------------

interface Group {
  rows: Row[];
}

function aggregateValue(
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

function groupOperand(scope: Scope, groupKeys: GroupKey[]) {
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
