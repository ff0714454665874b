import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { SyncError } from '../errors.js';
import { DEFAULT_TRANSFORM, TRANSFORMS } from './transforms.js';

/**
 * config/data-map.yaml: parsing and validation (format: docs/data-model.md, "config/data-map.yaml
 * format"). Pure: the caller reads the file, the Cliniko OpenAPI document and the package metadata and
 * passes text and lookups in (see spec-fields.ts for the builders).
 *
 * Every problem is collected, not just the first, and each names the entry (`resource.source -> target`)
 * and the key at fault, so the compliance officer can fix the map in one pass.
 */

export const CLASSIFICATIONS = ['marketing-safe', 'operations-safe', 'billing', 'clinician-only'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

export const DIRECTIONS = ['cliniko-to-salesforce', 'both'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** The upsert key of each synced object (docs/data-model.md); every write is an upsert on it. */
export const EXTERNAL_ID_FIELDS: Readonly<Record<string, string>> = {
  Contact: 'Cliniko_Patient_Id__c',
  Care_Plan__c: 'Cliniko_Case_Id__c',
  Cliniko_Appointment__c: 'Cliniko_Appointment_Id__c',
  Cliniko_Invoice__c: 'Cliniko_Invoice_Id__c',
};

/** Cliniko resources whose records the service writes back to (Salesforce never creates or deletes them). */
export const WRITE_BACK_RESOURCES: ReadonlySet<string> = new Set(['patients']);

export interface FieldRef {
  readonly object: string;
  readonly field: string;
  /** `Object.Field`, as written in the map. */
  readonly path: string;
  /** Maximum length of a text target, from the package; the projector refuses longer values. */
  readonly maxLength?: number;
  /**
   * The metadata `<type>` the package declares for the target (`Phone`, `Currency`, ...), when known:
   * what Salesforce stores decides when two values are the same (sync/common/value-equality.ts).
   */
  readonly type?: string;
}

export interface DataMapEntry {
  /** Stable identity used in messages, sign-off digests and diffs: `resource.source[+source] -> Object.Field`. */
  readonly key: string;
  readonly resource: string;
  readonly sources: readonly string[];
  readonly classification: Classification;
  /** Absent exactly when the classification is clinician-only. */
  readonly target: FieldRef | undefined;
  readonly direction: Direction;
  /** The transform name; `none` when the map gives none. */
  readonly transform: string;
  readonly rationale: string;
}

export interface DerivedField {
  readonly key: string;
  readonly target: FieldRef;
  readonly classification: Exclude<Classification, 'clinician-only'>;
  readonly from: readonly string[];
  readonly rationale: string;
}

export interface DataMapSignoff {
  readonly approvedBy: string;
  /** YYYY-MM-DD */
  readonly approvedOn: string;
  readonly sha256: string;
  /**
   * Optional per-entry digests (entry key -> sha256 of that entry's canonical JSON) recorded by
   * `signDataMap`, so that a refusal can name the entries that changed without the old file.
   */
  readonly entries: Readonly<Record<string, string>> | undefined;
}

export interface DataMap {
  readonly version: 1;
  readonly signoff: DataMapSignoff | undefined;
  readonly entries: readonly DataMapEntry[];
  readonly derived: readonly DerivedField[];
  /**
   * `entries` and `derived` exactly as written (plain objects from the YAML), which is what the
   * canonical form and its sha256 cover (canonical.ts).
   */
  readonly raw: { readonly entries: readonly unknown[]; readonly derived: readonly unknown[] };
}

export interface PackageField {
  /** The metadata `<type>` (a SalesforceFieldType for every type a transform writes; others pass through). */
  readonly type: string;
  readonly length?: number;
  /** For Lookup / MasterDetail: the referenced object. */
  readonly referenceTo?: string;
}

export interface DataMapLookups {
  /** Cliniko resource (API path, e.g. `patients`) -> the field names its schema declares. */
  readonly clinikoSpecFields: ReadonlyMap<string, ReadonlySet<string>>;
  /** `Object.Field` -> what the package (force-app + standard fields) declares. */
  readonly packageFields: ReadonlyMap<string, PackageField>;
}

export interface DataMapProblem {
  /** `entries[3] (patients.email -> Contact.Email)`, `derived[0] (Contact.Journey_Stage__c)`, `signoff`, ... */
  readonly where: string;
  /** The YAML key at fault (`classification`, `target`, ...), when there is one. */
  readonly key: string | undefined;
  readonly message: string;
}

export type DataMapParseResult =
  | { readonly ok: true; readonly map: DataMap }
  | { readonly ok: false; readonly problems: readonly DataMapProblem[] };

// ---------------------------------------------------------------------------------------------------

const TARGET_PATTERN = /^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)$/;
const FIELD_NAME = /^[a-z][a-z0-9_]*$/;

const nonEmpty = (what: string) =>
  z
    .string({ message: `${what} must be text` })
    .trim()
    .min(1, `${what} is empty`);

const entrySchema = z.object({
  resource: nonEmpty('resource'),
  source: z.union([nonEmpty('source'), z.array(nonEmpty('source')).min(1, 'source list is empty')], {
    message: 'source must be a field name or a list of field names',
  }),
  classification: z.enum(CLASSIFICATIONS, { message: `must be one of ${CLASSIFICATIONS.join(', ')}` }),
  target: nonEmpty('target')
    .regex(TARGET_PATTERN, 'target must be Object.Field, e.g. Contact.Email')
    .optional(),
  direction: z.enum(DIRECTIONS, { message: `must be one of ${DIRECTIONS.join(', ')}` }).optional(),
  transform: nonEmpty('transform').optional(),
  rationale: nonEmpty('rationale'),
});

const derivedSchema = z.object({
  target: nonEmpty('target').regex(
    TARGET_PATTERN,
    'target must be Object.Field, e.g. Contact.Journey_Stage__c',
  ),
  classification: z.enum(CLASSIFICATIONS, { message: `must be one of ${CLASSIFICATIONS.join(', ')}` }),
  from: z.array(nonEmpty('from')).min(1, 'from lists no inputs'),
  rationale: nonEmpty('rationale'),
});

const isoDate = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v.trim()))
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v), 'must be a date YYYY-MM-DD');

const signoffSchema = z.object({
  approvedBy: nonEmpty('approvedBy'),
  approvedOn: isoDate,
  // Any text is accepted here (e.g. `PENDING` before the first sign-off): a hash that does not match is
  // the sign-off gate's business, and an unsigned map must still parse so that dry-run can preview it.
  sha256: nonEmpty('sha256'),
  entries: z.record(z.string(), z.string().regex(/^[0-9a-f]{16,64}$/, 'must be a hex digest')).optional(),
});

function sourcesOf(source: string | string[]): string[] {
  return typeof source === 'string' ? [source] : source;
}

/** The identity of an entry: what sign-off digests and diffs match on. */
export function entryKey(resource: string, sources: readonly string[], target: string | undefined): string {
  const base = `${resource}.${sources.join('+')}`;
  return target === undefined ? base : `${base} -> ${target}`;
}

function labelOf(raw: unknown, index: number, list: 'entries' | 'derived'): string {
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

function zodProblems(where: string, error: z.ZodError, raw: unknown): DataMapProblem[] {
  return error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : undefined;
    // zod does not say whether the key was missing or had the wrong type; look at the input.
    let present = true;
    let node: unknown = raw;
    for (const part of issue.path) {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) {
        present = false;
        break;
      }
      node = (node as Record<PropertyKey, unknown>)[part];
    }
    return { where, key, message: present ? issue.message : `${key ?? 'value'} is required` };
  });
}

function fieldRef(path: string, declared?: PackageField): FieldRef {
  const m = TARGET_PATTERN.exec(path);
  // The schema has already checked the pattern; this guards the type.
  if (!m?.[1] || !m[2]) throw new Error(`not Object.Field: ${path}`);
  return {
    object: m[1],
    field: m[2],
    path,
    ...(declared?.length ? { maxLength: declared.length } : {}),
    ...(declared ? { type: declared.type } : {}),
  };
}

/**
 * Parses and validates the data map. Returns every problem found; an `ok` result is safe to project
 * with (every non-clinical entry has a target the package declares, a known transform that fits it,
 * and sources the Cliniko spec declares).
 */
export function parseDataMap(yamlText: string, lookups: DataMapLookups): DataMapParseResult {
  const problems: DataMapProblem[] = [];
  const add = (where: string, key: string | undefined, message: string): void => {
    problems.push({ where, key, message });
  };

  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      // The message is not used: YAML error messages quote the offending text.
      const line = lineCounter.linePos(e.pos[0]).line;
      add(`data map line ${line}`, undefined, `not valid YAML: ${e.code}`);
    }
    return { ok: false, problems };
  }
  const root: unknown = doc.toJS();
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    add('data map', undefined, 'must be a YAML mapping with version, signoff, entries and derived');
    return { ok: false, problems };
  }
  const top = root as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['version', 'signoff', 'entries', 'derived'].includes(key)) {
      add('data map', key, 'unknown top-level key (expected version, signoff, entries, derived)');
    }
  }
  if (top.version !== 1) add('data map', 'version', 'must be 1');

  let signoff: DataMapSignoff | undefined;
  if (top.signoff !== undefined && top.signoff !== null) {
    const parsed = signoffSchema.safeParse(top.signoff);
    if (parsed.success) signoff = { ...parsed.data, entries: parsed.data.entries };
    else problems.push(...zodProblems('signoff', parsed.error, top.signoff));
  }

  const rawEntries = Array.isArray(top.entries) ? (top.entries as unknown[]) : [];
  if (!Array.isArray(top.entries)) add('data map', 'entries', 'must be a list');
  const rawDerived = top.derived === undefined || top.derived === null ? [] : top.derived;
  if (!Array.isArray(rawDerived)) add('data map', 'derived', 'must be a list');
  const derivedList = Array.isArray(rawDerived) ? (rawDerived as unknown[]) : [];

  const targets = new Map<string, string>(); // Object.Field -> where it was first used
  const keys = new Map<string, string>();
  const entries: DataMapEntry[] = [];

  rawEntries.forEach((raw, index) => {
    const where = labelOf(raw, index, 'entries');
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...zodProblems(where, parsed.error, raw));
      return;
    }
    const e = parsed.data;
    const sources = sourcesOf(e.source);
    const transform = e.transform ?? DEFAULT_TRANSFORM;
    const direction = e.direction ?? 'cliniko-to-salesforce';
    const before = problems.length;

    if (typeof raw === 'object' && raw !== null) {
      for (const k of Object.keys(raw)) {
        if (
          !['resource', 'source', 'classification', 'target', 'direction', 'transform', 'rationale'].includes(
            k,
          )
        ) {
          add(where, k, 'unknown key');
        }
      }
    }

    // The Cliniko side: the resource and every source field must exist in the official spec.
    const specFields = lookups.clinikoSpecFields.get(e.resource);
    if (specFields === undefined) {
      add(where, 'resource', `Cliniko has no resource "${e.resource}" in the OpenAPI spec`);
    } else {
      const seen = new Set<string>();
      for (const s of sources) {
        if (!FIELD_NAME.test(s)) add(where, 'source', `"${s}" is not a Cliniko field name`);
        else if (!specFields.has(s))
          add(where, 'source', `the Cliniko spec has no field "${s}" on ${e.resource}`);
        if (seen.has(s)) add(where, 'source', `"${s}" is listed twice`);
        seen.add(s);
      }
    }

    // Classification and target go together: clinical content has nowhere to go.
    if (e.classification === 'clinician-only') {
      if (e.target !== undefined) add(where, 'target', 'a clinician-only field must not have a target');
      if (e.transform !== undefined)
        add(where, 'transform', 'a clinician-only field must not have a transform');
      if (direction === 'both')
        add(where, 'direction', 'a clinician-only field cannot flow in any direction');
    } else if (e.target === undefined) {
      add(where, 'target', `a ${e.classification} field needs a target (Object.Field)`);
    }

    const def = TRANSFORMS.get(transform);
    if (e.classification !== 'clinician-only') {
      if (def === undefined) {
        add(
          where,
          'transform',
          `unknown transform "${transform}" (known: ${[...TRANSFORMS.keys()].join(', ')})`,
        );
      } else if (def.sources === 'variadic') {
        // any number of fields
      } else if (def.sources === undefined) {
        if (sources.length !== 1)
          add(where, 'source', `transform "${transform}" takes exactly one source field`);
      } else if ([...def.sources].sort().join(',') !== [...sources].sort().join(',')) {
        add(where, 'source', `transform "${transform}" needs source [${def.sources.join(', ')}]`);
      }
    }

    let target: FieldRef | undefined;
    if (e.target !== undefined) {
      const declared = lookups.packageFields.get(e.target);
      target = fieldRef(e.target, declared);
      if (declared === undefined) {
        add(where, 'target', `${e.target} is not a field of the package (force-app) or a standard field`);
      } else if (def !== undefined && !(def.fieldTypes as readonly string[]).includes(declared.type)) {
        add(
          where,
          'transform',
          `transform "${transform}" writes ${def.fieldTypes.join('/')} but ${e.target} is ${declared.type}`,
        );
      }
      const first = targets.get(e.target);
      if (first !== undefined) add(where, 'target', `${e.target} is already the target of ${first}`);
      else targets.set(e.target, where);
    }

    if (direction === 'both' && e.classification !== 'clinician-only') {
      if (target !== undefined && target.object !== 'Contact') {
        add(where, 'direction', 'only Contact fields are written back to Cliniko patients');
      }
      if (!WRITE_BACK_RESOURCES.has(e.resource)) {
        add(
          where,
          'direction',
          `only ${[...WRITE_BACK_RESOURCES].join(', ')} fields can flow back to Cliniko`,
        );
      }
      if (def !== undefined && def.inverse === undefined) {
        add(where, 'direction', `transform "${transform}" has no way back, so the field cannot be "both"`);
      }
    }

    const key = entryKey(e.resource, sources, e.target);
    const firstKey = keys.get(key);
    if (firstKey !== undefined) add(where, 'source', `the same entry is already listed as ${firstKey}`);
    keys.set(key, where);

    if (problems.length === before) {
      entries.push({
        key,
        resource: e.resource,
        sources,
        classification: e.classification,
        target,
        direction,
        transform,
        rationale: e.rationale,
      });
    }
  });

  const derived: DerivedField[] = [];
  derivedList.forEach((raw, index) => {
    const where = labelOf(raw, index, 'derived');
    const parsed = derivedSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...zodProblems(where, parsed.error, raw));
      return;
    }
    const d = parsed.data;
    const before = problems.length;
    if (typeof raw === 'object' && raw !== null) {
      for (const k of Object.keys(raw)) {
        if (!['target', 'classification', 'from', 'rationale'].includes(k)) add(where, k, 'unknown key');
      }
    }
    if (d.classification === 'clinician-only') {
      add(where, 'classification', 'a derived Salesforce field cannot be clinician-only');
    }
    if (!lookups.packageFields.has(d.target)) {
      add(where, 'target', `${d.target} is not a field of the package (force-app) or a standard field`);
    }
    const first = targets.get(d.target);
    if (first !== undefined) add(where, 'target', `${d.target} is already the target of ${first}`);
    else targets.set(d.target, where);
    for (const input of d.from) {
      const dot = input.indexOf('.');
      const resource = dot > 0 ? input.slice(0, dot) : '';
      const field = dot > 0 ? input.slice(dot + 1) : '';
      const spec = lookups.clinikoSpecFields.get(resource);
      if (spec === undefined || !spec.has(field)) {
        add(where, 'from', `"${input}" is not resource.field of the Cliniko spec`);
      }
    }
    if (problems.length === before && d.classification !== 'clinician-only') {
      derived.push({
        key: `derived -> ${d.target}`,
        target: fieldRef(d.target),
        classification: d.classification,
        from: d.from,
        rationale: d.rationale,
      });
    }
  });

  // Each resource must upsert each object it writes on that object's external id, taken from the
  // record's own id; otherwise every record of the resource would fail projection.
  const objectsByResource = new Map<string, Set<string>>();
  for (const e of entries) {
    if (e.target === undefined) continue;
    const set = objectsByResource.get(e.resource) ?? new Set<string>();
    set.add(e.target.object);
    objectsByResource.set(e.resource, set);
  }
  for (const [resource, objects] of objectsByResource) {
    for (const object of objects) {
      const key = EXTERNAL_ID_FIELDS[object];
      if (key === undefined) {
        add(
          `${resource} -> ${object}`,
          'target',
          `${object} is not a synced object (no external id to upsert on)`,
        );
      } else if (
        !entries.some(
          (e) =>
            e.resource === resource && e.target?.path === `${object}.${key}` && e.sources.join() === 'id',
        )
      ) {
        add(
          `${resource} -> ${object}`,
          'target',
          `no entry maps ${resource}.id to ${object}.${key}, the upsert key`,
        );
      }
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    map: {
      version: 1,
      signoff,
      entries,
      derived,
      raw: { entries: rawEntries, derived: derivedList },
    },
  };
}

/** One line per problem, for the CLI and the refusal message. */
export function formatDataMapProblems(problems: readonly DataMapProblem[]): string {
  return problems
    .map((p) => `- ${p.where}${p.key === undefined ? '' : ` ${p.key}`}: ${p.message}`)
    .join('\n');
}

/** parseDataMap for callers that stop on failure: throws DATA_MAP_INVALID listing every problem. */
export function loadDataMap(yamlText: string, lookups: DataMapLookups): DataMap {
  const result = parseDataMap(yamlText, lookups);
  if (result.ok) return result.map;
  throw new SyncError(
    'DATA_MAP_INVALID',
    `config/data-map.yaml has ${result.problems.length} problem(s):\n${formatDataMapProblems(result.problems)}`,
    { record: { system: 'config', object: 'data-map' } },
  );
}
