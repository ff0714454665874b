import { readFileSync } from 'node:fs';
import { dataMapSha256 } from '../../sync-service/src/governance/canonical.js';
import {
  CLASSIFICATIONS,
  entryKey,
  readDataMapDocument,
  shapeDerived,
  shapeEntry,
  sourcesOf,
  type Classification,
  type DataMapProblem,
  type DerivedShape,
  type EntryShape,
  type SignoffShape,
} from '../../sync-service/src/governance/data-map-schema.js';

/**
 * config/data-map.yaml as the metadata tools need it (format: docs/data-model.md). The shape and the
 * classifications are the service's (sync-service/src/governance/data-map-schema.ts, declared once);
 * the service validates the map in depth at run time, and this loader checks the structure the
 * generator relies on, reporting problems naming the entry, so the tools fail with a clear message
 * rather than write wrong permissions.
 */

export { CLASSIFICATIONS, type Classification };

// The lattice is declared once, in the service's governance (the access picture checks readers against it).
export {
  AUDIENCES,
  AUDIENCES_BY_CLASSIFICATION,
  type Audience,
} from '../../sync-service/src/governance/access-lattice.js';

export interface MapEntry {
  readonly index: number;
  readonly resource: string;
  readonly sources: readonly string[];
  readonly classification: Classification;
  readonly target: string | undefined;
  readonly direction: 'cliniko-to-salesforce' | 'both';
  readonly transform: string | undefined;
  /** The declared shape of the value (data-map-schema.ts SHAPES), for the review's spot check. */
  readonly shape: string | undefined;
  readonly rationale: string;
  /** `patients.email -> Contact.Email`, for messages. */
  readonly label: string;
}

export interface MapDerived {
  readonly index: number;
  readonly target: string;
  readonly classification: Classification;
  readonly from: readonly string[];
  readonly rationale: string;
  readonly label: string;
}

export interface LoadedDataMap {
  readonly signoff: { readonly approvedBy: string; readonly approvedOn: string; readonly sha256: string };
  readonly entries: readonly MapEntry[];
  readonly derived: readonly MapDerived[];
  /** sha256 of the canonical form of the map as it is now (sync-service/src/governance/canonical.ts). */
  readonly currentSha256: string;
}

export class DataMapError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`config/data-map.yaml:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DataMapError';
  }
}

function line(p: DataMapProblem): string {
  return `${p.where}${p.key === undefined ? '' : ` ${p.key}`}: ${p.message}`;
}

function toEntry(e: EntryShape, index: number): MapEntry {
  const sources = sourcesOf(e.source);
  return {
    index,
    resource: e.resource,
    sources,
    classification: e.classification,
    target: e.target,
    direction: e.direction ?? 'cliniko-to-salesforce',
    transform: e.transform,
    shape: e.shape,
    rationale: e.rationale,
    label: `entries[${index}] (${entryKey(e.resource, sources, e.target)})`,
  };
}

function toDerived(d: DerivedShape, index: number): MapDerived {
  return { index, ...d, label: `derived[${index}] (${d.target})` };
}

/**
 * The generator writes the sign-off into Data_Map_Signoff__mdt, so it needs one, with a real hash
 * (the service also parses an unsigned map, for a dry run; the tools do not).
 */
function signoffOf(signoff: SignoffShape | undefined, problems: string[]): LoadedDataMap['signoff'] {
  if (signoff === undefined) problems.push('signoff: is required');
  else if (!/^[0-9a-f]{64}$/.test(signoff.sha256))
    problems.push('signoff sha256: must be 64 lower-case hex digits');
  return {
    approvedBy: signoff?.approvedBy ?? '',
    approvedOn: signoff?.approvedOn ?? '',
    sha256: signoff?.sha256 ?? '',
  };
}

/**
 * Parses the map text with the service's one declaration of its shape (governance/data-map-schema.ts);
 * throws DataMapError listing every structural problem.
 */
export function parseDataMapText(yamlText: string): LoadedDataMap {
  const doc = readDataMapDocument(yamlText);
  const problems = doc.problems.map(line);
  if (!doc.readable) throw new DataMapError(problems);
  const signoff = signoffOf(doc.signoff, problems);
  const entries: MapEntry[] = [];
  doc.rawEntries.forEach((raw, index) => {
    const shaped = shapeEntry(raw, index);
    problems.push(...shaped.problems.map(line));
    if (shaped.ok) entries.push(toEntry(shaped.value, index));
  });
  const derived: MapDerived[] = [];
  doc.rawDerived.forEach((raw, index) => {
    const shaped = shapeDerived(raw, index);
    problems.push(...shaped.problems.map(line));
    if (shaped.ok) derived.push(toDerived(shaped.value, index));
  });
  if (problems.length > 0) throw new DataMapError(problems);
  return { signoff, entries, derived, currentSha256: dataMapSha256(doc.rawEntries, doc.rawDerived) };
}

export function loadDataMap(file: string): LoadedDataMap {
  return parseDataMapText(readFileSync(file, 'utf8'));
}

/** A synced Salesforce field: a target of an entry or of a derived field, with its classification. */
export interface SyncedField {
  readonly target: string;
  readonly object: string;
  readonly field: string;
  readonly classification: Exclude<Classification, 'clinician-only'>;
  readonly from: string;
}

/** Every Salesforce field the map fills, sorted by target. */
export function syncedFields(map: LoadedDataMap): SyncedField[] {
  const out: SyncedField[] = [];
  const add = (target: string, classification: Classification, from: string) => {
    if (classification === 'clinician-only') return;
    const dot = target.indexOf('.');
    out.push({ target, object: target.slice(0, dot), field: target.slice(dot + 1), classification, from });
  };
  for (const e of map.entries) if (e.target !== undefined) add(e.target, e.classification, e.label);
  for (const d of map.derived) add(d.target, d.classification, d.label);
  return out.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
