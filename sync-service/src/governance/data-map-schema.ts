import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

/**
 * The one declaration of config/data-map.yaml's shape (format: docs/data-model.md, "config/data-map.yaml
 * format"): classifications, directions, the entry / derived / sign-off schemas, and the structural read
 * of a map's text. Used by the service (data-map.ts adds the checks against Cliniko's spec and the
 * package's fields) and by the metadata scripts (scripts/lib/metadata-datamap.ts). Pure: no I/O.
 *
 * Every problem names where it is (`entries[3] (patients.email -> Contact.Email)`) and the key at
 * fault, never a value.
 */

export const CLASSIFICATIONS = ['marketing-safe', 'operations-safe', 'billing', 'clinician-only'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const DIRECTIONS = ['cliniko-to-salesforce', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface DataMapProblem {
  /** `entries[3] (patients.email -> Contact.Email)`, `derived[0] (Contact.Journey_Stage__c)`, `signoff`, ... */
  readonly where: string;
  /** The YAML key at fault (`classification`, `target`, ...), when there is one. */
  readonly key: string | undefined;
  readonly message: string;
}

export const TARGET_PATTERN = /^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)$/;

const TOP_KEYS = ['version', 'signoff', 'entries', 'derived'];
const ENTRY_KEYS = [
  'resource',
  'source',
  'classification',
  'target',
  'direction',
  'transform',
  'shape',
  'rationale',
];

/**
 * What a synced value must look like, for the governance review's spot check (issue #17, item 5): the
 * review checks each sampled record's value against its entry's shape and flags what does not fit (a
 * note pasted into a name field, a phone number in the postcode). Optional; signed with the entry.
 */
export const SHAPES = ['email', 'phone', 'postcode', 'date', 'picklist', 'name'] as const;
export type Shape = (typeof SHAPES)[number];
const DERIVED_KEYS = ['target', 'classification', 'from', 'rationale'];

const nonEmpty = (what: string) =>
  z
    .string({ message: `${what} must be text` })
    .trim()
    .min(1, `${what} is empty`);

const classification = z.enum(CLASSIFICATIONS, { message: `must be one of ${CLASSIFICATIONS.join(', ')}` });

export const entrySchema = z.object({
  resource: nonEmpty('resource'),
  source: z.union([nonEmpty('source'), z.array(nonEmpty('source')).min(1, 'source list is empty')], {
    message: 'source must be a field name or a list of field names',
  }),
  classification,
  target: nonEmpty('target')
    .regex(TARGET_PATTERN, 'target must be Object.Field, e.g. Contact.Email')
    .optional(),
  direction: z.enum(DIRECTIONS, { message: `must be one of ${DIRECTIONS.join(', ')}` }).optional(),
  transform: nonEmpty('transform').optional(),
  shape: z.enum(SHAPES, { message: `must be one of ${SHAPES.join(', ')}` }).optional(),
  rationale: nonEmpty('rationale'),
});
export type EntryShape = z.infer<typeof entrySchema>;

export const derivedSchema = z.object({
  target: nonEmpty('target').regex(
    TARGET_PATTERN,
    'target must be Object.Field, e.g. Contact.Journey_Stage__c',
  ),
  classification,
  from: z.array(nonEmpty('from')).min(1, 'from lists no inputs'),
  rationale: nonEmpty('rationale'),
});
export type DerivedShape = z.infer<typeof derivedSchema>;

const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v.trim()))
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v), 'must be a date YYYY-MM-DD');

export const signoffSchema = z.object({
  approvedBy: nonEmpty('approvedBy'),
  approvedOn: isoDate,
  // Any text is accepted here (e.g. `PENDING` before the first sign-off): a hash that does not match is
  // the sign-off gate's business, and an unsigned map must still parse so that dry-run can preview it.
  sha256: nonEmpty('sha256'),
  entries: z.record(z.string(), z.string().regex(/^[0-9a-f]{16,64}$/, 'must be a hex digest')).optional(),
  // Ed25519 signatures of registered approvers (governance/signatures.ts); checked by the sign-off gate.
  signatures: z
    .array(
      z.object({
        approver: nonEmpty('approver'),
        role: nonEmpty('role'),
        signedOn: isoDate,
        signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature'),
      }),
    )
    .optional(),
});
export type SignoffShape = z.infer<typeof signoffSchema>;

/** `source: email` and `source: [email]` mean the same. */
export function sourcesOf(source: string | readonly string[]): string[] {
  return typeof source === 'string' ? [source] : [...source];
}

/** The identity of an entry: what sign-off digests and diffs match on. */
export function entryKey(resource: string, sources: readonly string[], target: string | undefined): string {
  const base = `${resource}.${sources.join('+')}`;
  return target === undefined ? base : `${base} -> ${target}`;
}

/** Where an entry is, for messages, read from whatever the YAML holds (it may be malformed). */
export function labelOf(raw: unknown, index: number, list: 'entries' | 'derived'): string {
  if (typeof raw !== 'object' || raw === null) return `${list}[${index}]`;
  const r = raw as Record<string, unknown>;
  const target = typeof r.target === 'string' ? r.target : undefined;
  if (list === 'derived') return `derived[${index}] (${target ?? 'no target'})`;
  const resource = typeof r.resource === 'string' ? r.resource : '?';
  const source = Array.isArray(r.source)
    ? r.source.map(String)
    : typeof r.source === 'string'
      ? [r.source]
      : ['?'];
  return `entries[${index}] (${entryKey(resource, source, target)})`;
}

function isPresent(raw: unknown, path: readonly PropertyKey[]): boolean {
  let node: unknown = raw;
  for (const part of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return false;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return true;
}

function zodProblems(where: string, error: z.ZodError, raw: unknown): DataMapProblem[] {
  return error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
    // zod does not say whether the key was missing or had the wrong type; look at the input.
    return {
      where,
      key,
      message: isPresent(raw, issue.path) ? issue.message : `${key ?? 'value'} is required`,
    };
  });
}

function unknownKeys(where: string, raw: unknown, known: readonly string[]): DataMapProblem[] {
  if (typeof raw !== 'object' || raw === null) return [];
  return Object.keys(raw)
    .filter((k) => !known.includes(k))
    .map((k) => ({ where, key: k, message: 'unknown key' }));
}

export type Shaped<T> =
  | {
      readonly ok: true;
      readonly where: string;
      readonly value: T;
      readonly problems: readonly DataMapProblem[];
    }
  | { readonly ok: false; readonly where: string; readonly problems: readonly DataMapProblem[] };

/** One entry's shape: the schema, then (only when it holds) keys the format does not know. */
export function shapeEntry(raw: unknown, index: number): Shaped<EntryShape> {
  const where = labelOf(raw, index, 'entries');
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, where, problems: zodProblems(where, parsed.error, raw) };
  return { ok: true, where, value: parsed.data, problems: unknownKeys(where, raw, ENTRY_KEYS) };
}

/** One derived field's shape, as `shapeEntry`. */
export function shapeDerived(raw: unknown, index: number): Shaped<DerivedShape> {
  const where = labelOf(raw, index, 'derived');
  const parsed = derivedSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, where, problems: zodProblems(where, parsed.error, raw) };
  return { ok: true, where, value: parsed.data, problems: unknownKeys(where, raw, DERIVED_KEYS) };
}

/** The map's document read structurally: the lists exactly as written, and the problems at the top. */
export interface DataMapDocument {
  readonly signoff: SignoffShape | undefined;
  readonly rawEntries: readonly unknown[];
  readonly rawDerived: readonly unknown[];
  readonly problems: readonly DataMapProblem[];
  /** False when the text is not YAML or not a mapping: nothing below the top can be checked. */
  readonly readable: boolean;
}

function yamlRoot(yamlText: string, problems: DataMapProblem[]): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { prettyErrors: false, uniqueKeys: true, lineCounter });
  for (const e of doc.errors) {
    // The message is not used: YAML error messages quote the offending text.
    const line = lineCounter.linePos(e.pos[0]).line;
    problems.push({ where: `data map line ${line}`, key: undefined, message: `not valid YAML: ${e.code}` });
  }
  return doc.errors.length > 0 ? undefined : (doc.toJS() as unknown);
}

function topLevelProblems(top: Record<string, unknown>): DataMapProblem[] {
  const problems: DataMapProblem[] = Object.keys(top)
    .filter((key) => !TOP_KEYS.includes(key))
    .map((key) => ({
      where: 'data map',
      key,
      message: 'unknown top-level key (expected version, signoff, entries, derived)',
    }));
  if (top.version !== 1) problems.push({ where: 'data map', key: 'version', message: 'must be 1' });
  return problems;
}

function readSignoff(raw: unknown, problems: DataMapProblem[]): SignoffShape | undefined {
  if (raw === undefined || raw === null) return undefined;
  const parsed = signoffSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  problems.push(...zodProblems('signoff', parsed.error, raw));
  return undefined;
}

/** Reads the map's text: YAML, the top-level keys, the sign-off, and the two lists (unchecked). */
export function readDataMapDocument(yamlText: string): DataMapDocument {
  const problems: DataMapProblem[] = [];
  const unreadable = { signoff: undefined, rawEntries: [], rawDerived: [], problems, readable: false };
  const root = yamlRoot(yamlText, problems);
  if (problems.length > 0) return unreadable;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    problems.push({
      where: 'data map',
      key: undefined,
      message: 'must be a YAML mapping with version, signoff, entries and derived',
    });
    return unreadable;
  }
  const top = root as Record<string, unknown>;
  problems.push(...topLevelProblems(top));
  const signoff = readSignoff(top.signoff, problems);
  if (!Array.isArray(top.entries))
    problems.push({ where: 'data map', key: 'entries', message: 'must be a list' });
  const derived = top.derived === undefined || top.derived === null ? [] : top.derived;
  if (!Array.isArray(derived))
    problems.push({ where: 'data map', key: 'derived', message: 'must be a list' });
  return {
    signoff,
    rawEntries: Array.isArray(top.entries) ? (top.entries as unknown[]) : [],
    rawDerived: Array.isArray(derived) ? (derived as unknown[]) : [],
    problems,
    readable: true,
  };
}

/** One line per problem, for the CLI, the scripts and the refusal message. */
export function formatDataMapProblems(problems: readonly DataMapProblem[]): string {
  return problems
    .map((p) => `- ${p.where}${p.key === undefined ? '' : ` ${p.key}`}: ${p.message}`)
    .join('\n');
}
