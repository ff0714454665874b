import { SyncError } from '../errors.js';
import { deniedSources } from './clinical-deny-list.js';
import type { DocumentSignature } from './signatures.js';
import {
  type Classification,
  type Shape,
  type DataMapProblem,
  type DerivedShape,
  type Direction,
  type EntryShape,
  formatDataMapProblems,
  readDataMapDocument,
  shapeDerived,
  shapeEntry,
  sourcesOf,
  entryKey,
  TARGET_PATTERN,
} from './data-map-schema.js';
import { DEFAULT_TRANSFORM, TRANSFORMS, type TransformDefinition } from './transforms.js';

/**
 * config/data-map.yaml: validation against Cliniko's spec and the package's fields (format:
 * docs/data-model.md, "config/data-map.yaml format"; the shape itself is declared once, in
 * data-map-schema.ts, which the metadata scripts share). Pure: the caller reads the file, the Cliniko
 * OpenAPI document and the package's field catalogue and passes text and lookups in.
 *
 * Every problem is collected, not just the first, and each names the entry (`resource.source -> target`)
 * and the key at fault, so the compliance officer can fix the map in one pass.
 */

export {
  CLASSIFICATIONS,
  DIRECTIONS,
  entryKey,
  formatDataMapProblems,
  type Classification,
  type DataMapProblem,
  type Direction,
} from './data-map-schema.js';

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
  /** The value's declared shape, checked by the governance review's spot check; absent when none. */
  readonly shape: Shape | undefined;
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
  /** Approvers' Ed25519 signatures over the map's hash (signatures.ts); the gate verifies each. */
  readonly signatures?: readonly DocumentSignature[] | undefined;
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

export type DataMapParseResult =
  | { readonly ok: true; readonly map: DataMap }
  | { readonly ok: false; readonly problems: readonly DataMapProblem[] };

// ---------------------------------------------------------------------------------------------------

const FIELD_NAME = /^[a-z][a-z0-9_]*$/;

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

/** What the checks of one parse share: the lookups, the problems so far, and what is already used. */
interface Checker {
  readonly lookups: DataMapLookups;
  readonly problems: DataMapProblem[];
  /** Object.Field -> where it was first used as a target. */
  readonly targets: Map<string, string>;
  /** Entry key -> where it was first listed. */
  readonly keys: Map<string, string>;
  add(where: string, key: string | undefined, message: string): void;
}

function newChecker(lookups: DataMapLookups, problems: DataMapProblem[]): Checker {
  return {
    lookups,
    problems,
    targets: new Map(),
    keys: new Map(),
    add: (where, key, message) => {
      problems.push({ where, key, message });
    },
  };
}

/** The Cliniko side: the resource and every source field must exist in the official spec. */
function checkSources(c: Checker, where: string, resource: string, sources: readonly string[]): void {
  const specFields = c.lookups.clinikoSpecFields.get(resource);
  if (specFields === undefined) {
    c.add(where, 'resource', `Cliniko has no resource "${resource}" in the OpenAPI spec`);
    return;
  }
  const seen = new Set<string>();
  for (const s of sources) {
    if (!FIELD_NAME.test(s)) c.add(where, 'source', `"${s}" is not a Cliniko field name`);
    else if (!specFields.has(s))
      c.add(where, 'source', `the Cliniko spec has no field "${s}" on ${resource}`);
    if (seen.has(s)) c.add(where, 'source', `"${s}" is listed twice`);
    seen.add(s);
  }
}

/** Classification and target go together: clinical content has nowhere to go. */
function checkClassification(c: Checker, where: string, e: EntryShape, direction: Direction): void {
  if (e.classification === 'clinician-only') {
    if (e.target !== undefined) c.add(where, 'target', 'a clinician-only field must not have a target');
    if (e.transform !== undefined)
      c.add(where, 'transform', 'a clinician-only field must not have a transform');
    if (direction === 'both')
      c.add(where, 'direction', 'a clinician-only field cannot flow in any direction');
  } else if (e.target === undefined) {
    c.add(where, 'target', `a ${e.classification} field needs a target (Object.Field)`);
  }
}

/**
 * The clinical deny-list (clinical-deny-list.ts) outranks the map and its signature: an entry that sends
 * a denied field anywhere is refused, naming the entry, the field and the reason.
 */
function checkDenyList(c: Checker, where: string, resource: string, sources: readonly string[]): void {
  for (const denied of deniedSources(resource, sources)) {
    c.add(
      where,
      'source',
      `${denied.field} is on the clinical deny-list (${denied.reason}); no sign-off can send it to Salesforce`,
    );
  }
}

/** The transform must exist and take the sources the entry lists. */
function checkTransform(
  c: Checker,
  where: string,
  transform: string,
  sources: readonly string[],
): TransformDefinition | undefined {
  const def = TRANSFORMS.get(transform);
  if (def === undefined) {
    c.add(
      where,
      'transform',
      `unknown transform "${transform}" (known: ${[...TRANSFORMS.keys()].join(', ')})`,
    );
  } else if (def.sources === undefined) {
    if (sources.length !== 1)
      c.add(where, 'source', `transform "${transform}" takes exactly one source field`);
  } else if (
    def.sources !== 'variadic' &&
    [...def.sources].sort().join(',') !== [...sources].sort().join(',')
  ) {
    c.add(where, 'source', `transform "${transform}" needs source [${def.sources.join(', ')}]`);
  }
  return def;
}

/** A target is used once. */
function claimTarget(c: Checker, where: string, target: string): void {
  const first = c.targets.get(target);
  if (first !== undefined) c.add(where, 'target', `${target} is already the target of ${first}`);
  else c.targets.set(target, where);
}

/** The target must be a package (or standard) field of a type the transform writes. */
function checkTarget(
  c: Checker,
  where: string,
  target: string,
  transform: string,
  def: TransformDefinition | undefined,
): FieldRef {
  const declared = c.lookups.packageFields.get(target);
  if (declared === undefined) {
    c.add(where, 'target', `${target} is not a field of the package (force-app) or a standard field`);
  } else if (def !== undefined && !(def.fieldTypes as readonly string[]).includes(declared.type)) {
    c.add(
      where,
      'transform',
      `transform "${transform}" writes ${def.fieldTypes.join('/')} but ${target} is ${declared.type}`,
    );
  }
  claimTarget(c, where, target);
  return fieldRef(target, declared);
}

/** Only Contact fields of write-back resources, through a transform with an inverse, flow back. */
function checkWriteBack(
  c: Checker,
  where: string,
  resource: string,
  target: FieldRef | undefined,
  transform: string,
  def: TransformDefinition | undefined,
): void {
  if (target !== undefined && target.object !== 'Contact') {
    c.add(where, 'direction', 'only Contact fields are written back to Cliniko patients');
  }
  if (!WRITE_BACK_RESOURCES.has(resource)) {
    c.add(where, 'direction', `only ${[...WRITE_BACK_RESOURCES].join(', ')} fields can flow back to Cliniko`);
  }
  if (def !== undefined && def.inverse === undefined) {
    c.add(where, 'direction', `transform "${transform}" has no way back, so the field cannot be "both"`);
  }
}

/** Validates one entry; returns it when it added no problem. */
function checkEntry(c: Checker, raw: unknown, index: number): DataMapEntry | undefined {
  const shaped = shapeEntry(raw, index);
  c.problems.push(...shaped.problems);
  if (!shaped.ok) return undefined;
  const { where, value: e } = shaped;
  const before = c.problems.length - shaped.problems.length;
  const sources = sourcesOf(e.source);
  const transform = e.transform ?? DEFAULT_TRANSFORM;
  const direction = e.direction ?? 'cliniko-to-salesforce';
  checkSources(c, where, e.resource, sources);
  checkClassification(c, where, e, direction);
  if (e.classification !== 'clinician-only') checkDenyList(c, where, e.resource, sources);
  const def =
    e.classification === 'clinician-only'
      ? TRANSFORMS.get(transform)
      : checkTransform(c, where, transform, sources);
  const target = e.target === undefined ? undefined : checkTarget(c, where, e.target, transform, def);
  if (direction === 'both' && e.classification !== 'clinician-only') {
    checkWriteBack(c, where, e.resource, target, transform, def);
  }
  const key = entryKey(e.resource, sources, e.target);
  const firstKey = c.keys.get(key);
  if (firstKey !== undefined) c.add(where, 'source', `the same entry is already listed as ${firstKey}`);
  c.keys.set(key, where);
  if (c.problems.length !== before) return undefined;
  return {
    key,
    resource: e.resource,
    sources,
    classification: e.classification,
    target,
    direction,
    transform,
    shape: e.shape,
    rationale: e.rationale,
  };
}

/** Every input of a derived field must be `resource.field` of the Cliniko spec. */
function checkDerivedInputs(c: Checker, where: string, d: DerivedShape): void {
  for (const input of d.from) {
    const dot = input.indexOf('.');
    const resource = dot > 0 ? input.slice(0, dot) : '';
    const field = dot > 0 ? input.slice(dot + 1) : '';
    const spec = c.lookups.clinikoSpecFields.get(resource);
    if (spec === undefined || !spec.has(field))
      c.add(where, 'from', `"${input}" is not resource.field of the Cliniko spec`);
    for (const denied of deniedSources(resource, [field])) {
      c.add(
        where,
        'from',
        `${denied.field} is on the clinical deny-list (${denied.reason}); no derived field may read it`,
      );
    }
  }
}

/** Validates one derived field; returns it when it added no problem. */
function checkDerived(c: Checker, raw: unknown, index: number): DerivedField | undefined {
  const shaped = shapeDerived(raw, index);
  c.problems.push(...shaped.problems);
  if (!shaped.ok) return undefined;
  const { where, value: d } = shaped;
  const before = c.problems.length - shaped.problems.length;
  if (d.classification === 'clinician-only') {
    c.add(where, 'classification', 'a derived Salesforce field cannot be clinician-only');
  }
  if (!c.lookups.packageFields.has(d.target)) {
    c.add(where, 'target', `${d.target} is not a field of the package (force-app) or a standard field`);
  }
  claimTarget(c, where, d.target);
  checkDerivedInputs(c, where, d);
  if (c.problems.length !== before || d.classification === 'clinician-only') return undefined;
  return {
    key: `derived -> ${d.target}`,
    target: fieldRef(d.target),
    classification: d.classification,
    from: d.from,
    rationale: d.rationale,
  };
}

/**
 * Each resource must upsert each object it writes on that object's external id, taken from the
 * record's own id; otherwise every record of the resource would fail projection.
 */
function checkUpsertKeys(c: Checker, entries: readonly DataMapEntry[]): void {
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
      const where = `${resource} -> ${object}`;
      if (key === undefined) {
        c.add(where, 'target', `${object} is not a synced object (no external id to upsert on)`);
      } else if (
        !entries.some(
          (e) =>
            e.resource === resource && e.target?.path === `${object}.${key}` && e.sources.join() === 'id',
        )
      ) {
        c.add(where, 'target', `no entry maps ${resource}.id to ${object}.${key}, the upsert key`);
      }
    }
  }
}

function defined<T>(value: T | undefined): value is T {
  return value !== undefined;
}

/**
 * Parses and validates the data map. Returns every problem found; an `ok` result is safe to project
 * with (every non-clinical entry has a target the package declares, a known transform that fits it,
 * and sources the Cliniko spec declares).
 */
export function parseDataMap(yamlText: string, lookups: DataMapLookups): DataMapParseResult {
  const doc = readDataMapDocument(yamlText);
  const problems = [...doc.problems];
  if (!doc.readable) return { ok: false, problems };
  const c = newChecker(lookups, problems);
  const entries = doc.rawEntries.map((raw, index) => checkEntry(c, raw, index)).filter(defined);
  const derived = doc.rawDerived.map((raw, index) => checkDerived(c, raw, index)).filter(defined);
  checkUpsertKeys(c, entries);
  if (problems.length > 0) return { ok: false, problems };
  const signoff = doc.signoff === undefined ? undefined : { ...doc.signoff, entries: doc.signoff.entries };
  return {
    ok: true,
    map: { version: 1, signoff, entries, derived, raw: { entries: doc.rawEntries, derived: doc.rawDerived } },
  };
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
