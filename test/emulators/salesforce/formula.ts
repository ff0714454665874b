/**
 * A small Salesforce formula engine: enough of the language for the validation rules and formula
 * fields this repository ships (and ones like them), evaluated by the org on every save. A formula that
 * uses anything outside this subset is refused when it is loaded, naming the function or token, so a
 * rule the emulator cannot enforce never passes silently as "always true" or "always false".
 *
 * Supported: literals (text in double or single quotes, numbers, TRUE, FALSE, NULL); field references
 * (case-insensitive) and relationship paths (`LastModifiedBy.LastName`, `Signed_By__r.Name`); `$User.Id`;
 * `$CustomMetadata.Type__mdt.Record.Field__c` (a custom metadata record's field);
 * operators `&&`, `||`, `!`, `=`/`==`, `<>`/`!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `&` (text
 * concatenation); functions AND, OR, NOT, IF, ISNEW, ISCHANGED, PRIORVALUE, ISPICKVAL, ISBLANK, ISNULL,
 * BLANKVALUE, NOW, TEXT, CASESAFEID, TRIM, HYPERLINK (whose value the API returns as the anchor's HTML,
 * `<a href="url" target="_blank">label</a>`, as Salesforce's REST API does for a HYPERLINK formula).
 *
 * Semantics follow Salesforce's "treat blank fields as blanks": a blank text is null; ISBLANK is true
 * for null and ''; comparisons with null are false except `null = null`.
 */

export type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'field'; path: string[] }
  | { kind: 'global'; name: string }
  | { kind: 'customMetadata'; type: string; record: string; field: string }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'unary'; op: '!' | '-'; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr };

/** What a formula reads: the record being saved, its prior values, who saves and when. */
export interface FormulaScope {
  /** The field's value on the record being saved (`path` of one part), or through a relationship. */
  readonly value: (path: readonly string[]) => unknown;
  /** The field's value before this save; undefined on create. */
  readonly prior: (field: string) => unknown;
  readonly isNew: boolean;
  readonly userId: string;
  /** ISO date-time of the save. */
  readonly now: string;
  /** A custom metadata record's field (`$CustomMetadata.Type.Record.Field`); null when absent. */
  readonly customMetadata: (type: string, record: string, field: string) => unknown;
}

const FUNCTIONS: Record<string, [number, number]> = {
  AND: [1, 99],
  OR: [1, 99],
  NOT: [1, 1],
  IF: [3, 3],
  ISNEW: [0, 0],
  ISCHANGED: [1, 1],
  PRIORVALUE: [1, 1],
  ISPICKVAL: [2, 2],
  ISBLANK: [1, 1],
  ISNULL: [1, 1],
  BLANKVALUE: [2, 2],
  NOW: [0, 0],
  TEXT: [1, 1],
  CASESAFEID: [1, 1],
  TRIM: [1, 1],
  HYPERLINK: [2, 3],
};

/** Binding power of each binary operator (higher binds tighter). */
const BINARY: Record<string, number> = {
  '||': 1,
  '&&': 2,
  '=': 3,
  '==': 3,
  '<>': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '+': 5,
  '-': 5,
  '&': 5,
};

type Token =
  { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

const OPERATORS = [
  '&&',
  '||',
  '<>',
  '!=',
  '==',
  '<=',
  '>=',
  '=',
  '<',
  '>',
  '+',
  '-',
  '&',
  '!',
  '(',
  ')',
  ',',
];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new Error('formula: unterminated text literal');
      tokens.push({ t: 'str', v: source.slice(i + 1, end) });
      i = end + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_.]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, i));
      if (op === undefined) throw new Error(`formula: unsupported character '${c}'`);
      tokens.push({ t: 'op', v: op });
      i += op.length;
    }
  }
  return tokens;
}

/** Parses a formula; throws naming what the emulator does not support. */
export function parseFormula(source: string): Expr {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const expectOp = (v: string): void => {
    const tok = tokens[pos++];
    if (tok?.t !== 'op' || tok.v !== v) throw new Error(`formula: expected '${v}'`);
  };
  const primary = (): Expr => {
    const tok = tokens[pos++];
    if (tok === undefined) throw new Error('formula: unexpected end');
    if (tok.t === 'num' || tok.t === 'str') return { kind: 'literal', value: tok.v };
    if (tok.t === 'op') {
      if (tok.v === '(') {
        const inner = expression(0);
        expectOp(')');
        return inner;
      }
      if (tok.v === '!' || tok.v === '-') return { kind: 'unary', op: tok.v, arg: primary() };
      throw new Error(`formula: unexpected '${tok.v}'`);
    }
    const upper = tok.v.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'literal', value: upper === 'TRUE' };
    if (upper === 'NULL') return { kind: 'literal', value: null };
    if (tok.v.startsWith('$')) {
      const parts = tok.v.split('.');
      if (upper.startsWith('$CUSTOMMETADATA.') && parts.length === 4) {
        const [, type, record, field] = parts as [string, string, string, string];
        return { kind: 'customMetadata', type, record, field };
      }
      if (upper !== '$USER.ID') throw new Error(`formula: unsupported global ${tok.v}`);
      return { kind: 'global', name: '$User.Id' };
    }
    const next = peek();
    if (next?.t === 'op' && next.v === '(') {
      const arity = FUNCTIONS[upper];
      if (arity === undefined) throw new Error(`formula: unsupported function ${tok.v}`);
      pos++;
      const args: Expr[] = [];
      const close = peek();
      if (!(close?.t === 'op' && close.v === ')')) {
        args.push(expression(0));
        while (peek()?.t === 'op' && peek()?.v === ',') {
          pos++;
          args.push(expression(0));
        }
      }
      expectOp(')');
      if (args.length < arity[0] || args.length > arity[1])
        throw new Error(`formula: ${upper} takes ${arity[0]}..${arity[1]} arguments, got ${args.length}`);
      return { kind: 'call', name: upper, args };
    }
    return { kind: 'field', path: tok.v.split('.') };
  };
  const expression = (minPower: number): Expr => {
    let left = primary();
    for (;;) {
      const tok = peek();
      const power = tok?.t === 'op' ? BINARY[tok.v] : undefined;
      if (tok === undefined || power === undefined || power <= minPower) return left;
      pos++;
      left = { kind: 'binary', op: String(tok.v), left, right: expression(power) };
    }
  };
  const expr = expression(0);
  if (pos !== tokens.length) throw new Error('formula: unexpected text after the expression');
  return expr;
}

const blank = (v: unknown): boolean => v === null || v === undefined || v === '';
const norm = (v: unknown): unknown => (blank(v) ? null : v);

function fieldOf(arg: Expr | undefined, fn: string): string {
  if (arg?.kind !== 'field' || arg.path.length !== 1)
    throw new Error(`formula: ${fn} takes a field of the record`);
  return arg.path[0] ?? '';
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = norm(a);
  const y = norm(b);
  if (op === '=' || op === '==') return x === y;
  if (op === '<>' || op === '!=') return x !== y;
  if (x === null || y === null) return false;
  const l = x as number | string;
  const r = y as number | string;
  return op === '<' ? l < r : op === '<=' ? l <= r : op === '>' ? l > r : l >= r;
}

const escapeHtml = (v: string): string =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function call(name: string, args: Expr[], scope: FormulaScope): unknown {
  const ev = (e: Expr | undefined): unknown => (e === undefined ? null : evaluate(e, scope));
  switch (name) {
    case 'AND':
      return args.every((a) => ev(a) === true);
    case 'OR':
      return args.some((a) => ev(a) === true);
    case 'NOT':
      return ev(args[0]) !== true;
    case 'IF':
      return ev(args[0]) === true ? ev(args[1]) : ev(args[2]);
    case 'ISNEW':
      return scope.isNew;
    case 'ISCHANGED':
      return !scope.isNew && norm(scope.prior(fieldOf(args[0], name))) !== norm(ev(args[0]));
    case 'PRIORVALUE':
      return scope.isNew ? ev(args[0]) : norm(scope.prior(fieldOf(args[0], name)));
    case 'ISPICKVAL':
      return norm(ev(args[0])) === norm(ev(args[1]));
    case 'ISBLANK':
    case 'ISNULL':
      return blank(ev(args[0]));
    case 'BLANKVALUE': {
      const v = ev(args[0]);
      return blank(v) ? ev(args[1]) : v;
    }
    case 'NOW':
      return scope.now;
    case 'TEXT':
    case 'CASESAFEID': {
      const v = ev(args[0]);
      return blank(v) ? null : String(v);
    }
    case 'TRIM': {
      const v = ev(args[0]);
      return blank(v) ? null : String(v).trim();
    }
    case 'HYPERLINK': {
      const url = ev(args[0]);
      if (blank(url)) return null;
      const label = ev(args[1]);
      const target = args[2] === undefined ? '_blank' : ev(args[2]);
      const text = blank(label) ? String(url) : String(label);
      return `<a href="${escapeHtml(String(url))}" target="${escapeHtml(String(target))}">${escapeHtml(text)}</a>`;
    }
    default:
      throw new Error(`formula: unsupported function ${name}`);
  }
}

/** The formula's value for `scope`. */
export function evaluate(expr: Expr, scope: FormulaScope): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'field':
      return norm(scope.value(expr.path));
    case 'global':
      return scope.userId;
    case 'customMetadata':
      return norm(scope.customMetadata(expr.type, expr.record, expr.field));
    case 'call':
      return call(expr.name, expr.args, scope);
    case 'unary': {
      const v = evaluate(expr.arg, scope);
      return expr.op === '!' ? v !== true : blank(v) ? null : -(v as number);
    }
    case 'binary': {
      if (expr.op === '&&')
        return evaluate(expr.left, scope) === true && evaluate(expr.right, scope) === true;
      if (expr.op === '||')
        return evaluate(expr.left, scope) === true || evaluate(expr.right, scope) === true;
      const a = evaluate(expr.left, scope);
      const b = evaluate(expr.right, scope);
      if (expr.op === '&') return `${blank(a) ? '' : String(a)}${blank(b) ? '' : String(b)}`;
      if (expr.op === '+' || expr.op === '-') {
        if (blank(a) || blank(b)) return null;
        return expr.op === '+' ? (a as number) + (b as number) : (a as number) - (b as number);
      }
      return compare(expr.op, a, b);
    }
  }
}
