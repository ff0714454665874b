/**
 * WHERE and HAVING: turns the parser's clause into a predicate.
 *
 * soql-parser-js returns a right-leaning chain (`left OP right`) whose parentheses survive only as
 * `openParen` / `closeParen` counts on the conditions, so the chain is first flattened back into tokens
 * and re-parsed with SOQL's rules: NOT binds to the next condition or parenthesised group, and AND and
 * OR may not be mixed at one level without parentheses (Salesforce rejects `a AND b OR c`).
 */
import type {
  Condition,
  ConditionWithValueQuery,
  HavingClause,
  LiteralType,
  WhereClause,
} from '@jetstreamapp/soql-parser-js';
import type { SoqlFieldType } from '../model.js';
import { dateLiteralRange, type DateRange } from './date-literals.js';
import { malformed, SoqlError } from './errors.js';
import {
  compareValues,
  isNumeric,
  isTextual,
  parseDate,
  parseDateTime,
  sameValue,
  sameValueKey,
  type Comparable,
} from './values.js';

export type Predicate<R> = (row: R) => boolean;

/** What a condition's left-hand side reads from a row (a record in WHERE, a group in HAVING). */
export interface Operand<R> {
  name: string;
  type: SoqlFieldType;
  get(row: R): Comparable;
}

export interface ConditionCompiler<R> {
  /** Resolves `Field`, `Parent__r.Field` (WHERE and HAVING). */
  field(path: string): Operand<R>;
  /** Resolves `CALENDAR_YEAR(CreatedDate)` (WHERE and HAVING) and `COUNT(Id)` (HAVING only). */
  func(fn: { functionName?: string; parameters?: unknown[]; rawValue?: string }): Operand<R>;
  /** Runs a semi-join `Id IN (SELECT ...)` and returns its values; absent where nesting is not allowed. */
  semiJoin?(query: ConditionWithValueQuery & { valueQuery: unknown }): Comparable[];
  now: Date;
}

type Token = '(' | ')' | 'NOT' | 'AND' | 'OR' | { condition: ConditionWithValueQuery };

function flatten(clause: WhereClause | HavingClause, out: Token[]): void {
  const node = clause as { left: unknown; operator?: string; right?: WhereClause };
  const left = node.left as (ConditionWithValueQuery & { openParen?: number; closeParen?: number }) | null;
  const isNegation = left === null || (!('field' in left) && !('fn' in left));
  if (isNegation) {
    for (let i = 0; i < (left?.openParen ?? 0); i++) out.push('(');
    out.push('NOT');
    if (node.right) flatten(node.right, out);
    return;
  }
  for (let i = 0; i < (left.openParen ?? 0); i++) out.push('(');
  out.push({ condition: left });
  for (let i = 0; i < (left.closeParen ?? 0); i++) out.push(')');
  if (node.operator && node.right) {
    out.push(node.operator as 'AND' | 'OR');
    flatten(node.right, out);
  }
}

export function compileClause<R>(
  clause: WhereClause | HavingClause,
  compiler: ConditionCompiler<R>,
): Predicate<R> {
  const tokens: Token[] = [];
  flatten(clause, tokens);
  let pos = 0;

  const expression = (): Predicate<R> => {
    const parts = [unary()];
    let joiner: 'AND' | 'OR' | undefined;
    for (;;) {
      const t = tokens[pos];
      if (t !== 'AND' && t !== 'OR') break;
      if (joiner && joiner !== t) throw malformed(`unexpected token: '${t}'`);
      joiner = t;
      pos++;
      parts.push(unary());
    }
    if (parts.length === 1) return parts[0]!;
    return joiner === 'AND' ? (r) => parts.every((p) => p(r)) : (r) => parts.some((p) => p(r));
  };
  const unary = (): Predicate<R> => {
    const t = tokens[pos++];
    if (t === 'NOT') {
      const inner = unary();
      return (r) => !inner(r);
    }
    if (t === '(') {
      const inner = expression();
      if (tokens[pos++] !== ')') throw malformed("unexpected token: expecting ')'");
      return inner;
    }
    if (t === undefined || typeof t === 'string') throw malformed(`unexpected token: '${t ?? '<EOF>'}'`);
    return compileCondition(t.condition, compiler);
  };

  const predicate = expression();
  const extra = tokens[pos];
  if (extra !== undefined)
    throw malformed(`unexpected token: '${typeof extra === 'string' ? extra : 'condition'}'`);
  return predicate;
}

type Literal = { kind: 'value'; value: Comparable } | { kind: 'range'; range: DateRange };

const TYPE_WORD: Partial<Record<SoqlFieldType, string>> = {
  boolean: 'boolean',
  int: 'int',
  double: 'double',
  currency: 'currency',
  percent: 'percent',
  date: 'date',
  datetime: 'dateTime',
};

function wrongType(operand: { name: string; type: SoqlFieldType }): SoqlError {
  const word = TYPE_WORD[operand.type] ?? 'string';
  const quoting = isTextual(operand.type)
    ? 'should be enclosed in quotes'
    : 'should not be enclosed in quotes';
  return new SoqlError(
    'INVALID_FIELD',
    `value of filter criterion for field '${operand.name}' must be of type ${word} and ${quoting}`,
  );
}

/** Strips the quotes and resolves SOQL escapes (\' \" \\ \n \t \r \b \f; \% and \_ stay literal). */
export function unquote(raw: string): string {
  const body = raw.slice(1, -1);
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
  return body.replace(/\\(.)/gs, (_m, c: string) => map[c] ?? c);
}

/** LIKE pattern -> anchored, case-insensitive regular expression; `\%` and `\_` match themselves. */
export function likeRegex(raw: string): RegExp {
  const body = raw.slice(1, -1);
  const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };
  let source = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      const next = body[++i]!;
      source += escapeRegex(map[next] ?? next);
    } else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegex(c);
  }
  return new RegExp(`^${source}$`, 'i');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function toLiteral(
  raw: string,
  literalType: LiteralType | undefined,
  operand: { name: string; type: SoqlFieldType },
  now: Date,
): Literal {
  const { type } = operand;
  switch (literalType) {
    case 'NULL':
      return { kind: 'value', value: null };
    case 'STRING':
      if (!isTextual(type) && type !== 'multipicklist') throw wrongType(operand);
      return { kind: 'value', value: unquote(raw) };
    case 'INTEGER':
    case 'DECIMAL':
    case 'INTEGER_WITH_CURRENCY_PREFIX':
    case 'DECIMAL_WITH_CURRENCY_PREFIX':
      if (!isNumeric(type)) throw wrongType(operand);
      return { kind: 'value', value: Number(raw.replace(/^[A-Z]{3}/i, '')) };
    case 'BOOLEAN':
      if (type !== 'boolean') throw wrongType(operand);
      return { kind: 'value', value: raw.toUpperCase() === 'TRUE' };
    case 'DATE':
      if (type !== 'date') throw wrongType(operand);
      return { kind: 'value', value: parseDate(raw) };
    case 'DATETIME': {
      if (type !== 'datetime') throw wrongType(operand);
      const ms = parseDateTime(raw);
      if (Number.isNaN(ms)) throw malformed(`invalid datetime: ${raw}`);
      return { kind: 'value', value: ms };
    }
    case 'DATE_LITERAL':
    case 'DATE_N_LITERAL':
      if (type !== 'date' && type !== 'datetime') throw wrongType(operand);
      return { kind: 'range', range: dateLiteralRange(raw, now) };
    default:
      throw malformed(`unexpected token: '${raw}' (${literalType ?? 'unknown literal'} is not supported)`);
  }
}

function inRange(v: Comparable, r: DateRange): boolean {
  return typeof v === 'number' && v >= r.start && v < r.end;
}

function multiSet(value: Comparable): Set<string> {
  return new Set(
    typeof value === 'string'
      ? value
          .split(';')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean)
      : [],
  );
}

/**
 * `IN (...)` membership. Plain values are bucketed by `sameValueKey` and compared only within their
 * bucket, so a query with hundreds of values (the matcher asks for 100 emails at a time) costs one map
 * look-up per row, not one comparison per value; date ranges and multi-select picklists compare one by one.
 */
function inList(
  type: SoqlFieldType,
  literals: readonly Literal[],
  equals: (v: Comparable, l: Literal) => boolean,
): (v: Comparable) => boolean {
  if (type === 'multipicklist' || literals.some((l) => l.kind === 'range'))
    return (v) => literals.some((l) => equals(v, l));
  const buckets = new Map<string, Literal[]>();
  const nullMatches = literals.some((l) => equals(null, l));
  for (const l of literals) {
    if (l.kind !== 'value' || l.value === null) continue;
    const key = sameValueKey(type, l.value);
    const bucket = buckets.get(key);
    if (bucket) bucket.push(l);
    else buckets.set(key, [l]);
  }
  return (v) =>
    v === null ? nullMatches : (buckets.get(sameValueKey(type, v))?.some((l) => equals(v, l)) ?? false);
}

function compileCondition<R>(
  condition: ConditionWithValueQuery,
  compiler: ConditionCompiler<R>,
): Predicate<R> {
  const c = condition as Condition & {
    operator?: string;
    field?: string;
    fn?: { functionName?: string; parameters?: unknown[]; rawValue?: string };
    value?: string | string[];
    literalType?: LiteralType | LiteralType[];
    valueQuery?: unknown;
  };
  const operand = c.fn ? compiler.func(c.fn) : compiler.field(c.field ?? '');
  const op = c.operator;

  if (c.valueQuery !== undefined) {
    return semiJoin(c as ConditionWithValueQuery & { valueQuery: unknown }, op, operand, compiler);
  }

  const rawValues = Array.isArray(c.value) ? c.value : [c.value ?? ''];
  const types = Array.isArray(c.literalType)
    ? c.literalType
    : rawValues.map(() => c.literalType as LiteralType);

  if (op === 'LIKE') {
    if (!isTextual(operand.type) || types[0] !== 'STRING') throw wrongType(operand);
    const regex = likeRegex(rawValues[0]!);
    return (r) => {
      const v = operand.get(r);
      return typeof v === 'string' && regex.test(v);
    };
  }

  const literals = rawValues.map((raw, i) => toLiteral(raw, types[i], operand, compiler.now));
  const type = operand.type;

  if (op === 'INCLUDES' || op === 'EXCLUDES') {
    if (type !== 'multipicklist')
      throw malformed(`INCLUDES/EXCLUDES operator only valid on multipicklist field`);
    // Each literal may itself be 'a;b', meaning "holds both a and b".
    const wanted = literals.map((l) => multiSet(l.kind === 'value' ? l.value : null));
    return (r) => {
      const have = multiSet(operand.get(r));
      const any = wanted.some((set) => set.size > 0 && [...set].every((x) => have.has(x)));
      return op === 'INCLUDES' ? any : !any;
    };
  }

  const equals = (v: Comparable, l: Literal): boolean => {
    if (l.kind === 'range') return inRange(v, l.range);
    if (type === 'multipicklist' && v !== null && l.value !== null) {
      const a = multiSet(v);
      const b = multiSet(l.value);
      return a.size === b.size && [...a].every((x) => b.has(x));
    }
    return sameValue(type, v, l.value);
  };

  if (op === 'IN' || op === 'NOT IN') {
    const found = inList(type, literals, equals);
    return (r) => (op === 'IN' ? found(operand.get(r)) : !found(operand.get(r)));
  }

  const literal = literals[0]!;
  switch (op) {
    case '=':
      return (r) => equals(operand.get(r), literal);
    case '!=':
      return (r) => !equals(operand.get(r), literal);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return relational(op, operand, literal);
    default:
      throw malformed(`unexpected token: '${String(op)}'`);
  }
}

/** `field IN (SELECT ...)` / `NOT IN`: the sub-select runs once, then each row is looked up. */
function semiJoin<R>(
  c: ConditionWithValueQuery & { valueQuery: unknown },
  op: string | undefined,
  operand: Operand<R>,
  compiler: ConditionCompiler<R>,
): Predicate<R> {
  if (op !== 'IN' && op !== 'NOT IN') throw malformed(`unexpected token: '${op}'`);
  if (!compiler.semiJoin) throw malformed('Nesting of semi join sub-selects is not supported');
  const values = compiler.semiJoin(c);
  return (r) => {
    const v = operand.get(r);
    const found = v !== null && values.some((x) => sameValue(operand.type, v, x));
    return op === 'IN' ? found : !found;
  };
}

/** `<`, `<=`, `>`, `>=`: null never compares; a date range compares by its bounds. */
function relational<R>(op: '<' | '<=' | '>' | '>=', operand: Operand<R>, literal: Literal): Predicate<R> {
  return (r) => {
    const v = operand.get(r);
    if (v === null) return false;
    if (literal.kind === 'range') {
      const n = v as number;
      const { start, end } = literal.range;
      return op === '<' ? n < start : op === '<=' ? n < end : op === '>' ? n >= end : n >= start;
    }
    if (literal.value === null) return false;
    const cmp = compareValues(v, literal.value);
    return op === '<' ? cmp < 0 : op === '<=' ? cmp <= 0 : op === '>' ? cmp > 0 : cmp >= 0;
  };
}
