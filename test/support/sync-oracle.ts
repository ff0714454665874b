import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The crash-and-fault suite's oracle: does the org hold exactly what Cliniko holds? It is written
 * independently of the service: it parses `config/data-map.yaml` with the `yaml` package (not through
 * `governance/`), reads Cliniko over its public API (not through the service's client), and applies its
 * own reading of the declared transforms. A transform it does not implement is not compared (the list
 * of compared fields is returned, so a test can insist on coverage); the record set itself (lost,
 * duplicated, unexpected) is checked for every mapped object.
 */

/** One `entries` item of the data map, as the YAML declares it. */
interface MapEntry {
  readonly resource: string;
  readonly source: string | string[];
  readonly target?: string;
  readonly transform?: string;
}

export interface MappedField {
  readonly resource: string;
  readonly source: string;
  readonly object: string;
  readonly field: string;
  readonly transform: string;
}

export interface OracleMap {
  /** resource -> the object and external-id field its `id` entry targets. */
  readonly keys: ReadonlyMap<string, { object: string; field: string }>;
  /** Single-source entries whose transform the oracle implements. */
  readonly fields: readonly MappedField[];
}

/**
 * Fields the journey engine writes as well as the map (docs/journey.md): after a run, the org holds the
 * journey's value, so the map's value is not the expected one. The journey tests check them.
 */
const JOURNEY_OWNED = new Set(['Care_Plan__c.Sessions_Allowed__c', 'Care_Plan__c.Expiry_Date__c']);

const COMPARED_TRANSFORMS = new Set([
  'id',
  'text',
  'email',
  'date',
  'datetime',
  'boolean',
  'consent-opt-out',
  'money',
  'integer',
  'patient-ref',
  'case-ref',
  'appointment-ref',
]);

/** Reads the declared targets of `config/data-map.yaml`. */
export function loadOracleMap(path: string): OracleMap {
  const doc = parse(readFileSync(path, 'utf8')) as { entries?: unknown };
  if (!Array.isArray(doc.entries)) throw new Error(`${path}: no entries list`);
  const keys = new Map<string, { object: string; field: string }>();
  const fields: MappedField[] = [];
  for (const raw of doc.entries as MapEntry[]) {
    if (typeof raw.target !== 'string' || typeof raw.source !== 'string') continue;
    const [object, field] = raw.target.split('.') as [string, string];
    const transform = raw.transform ?? 'none';
    if (raw.source === 'id' && transform === 'id') keys.set(raw.resource, { object, field });
    if (!COMPARED_TRANSFORMS.has(transform) || JOURNEY_OWNED.has(raw.target)) continue;
    fields.push({ resource: raw.resource, source: raw.source, object, field, transform });
  }
  return { keys, fields };
}

export type ClinikoRecords = ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>;

/** Hidden rows Cliniko shows only when a request filters on the column (reference/README.md). */
const REVEAL: Record<string, string[]> = {
  patients: ['archived_at:*'],
  patient_cases: ['archived_at:*'],
  individual_appointments: ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'],
  invoices: ['archived_at:*', 'deleted_at:*'],
};

/** Every record of the mapped resources, read page by page from the Cliniko API. */
export async function readCliniko(
  baseUrl: string,
  apiKey: string,
  resources: Iterable<string>,
): Promise<ClinikoRecords> {
  const out = new Map<string, Array<Record<string, unknown>>>();
  const headers = {
    authorization: `Basic ${Buffer.from(`${apiKey}:`).toString('base64')}`,
    accept: 'application/json',
    'user-agent': 'crash-oracle (oracle@clinic.example)',
  };
  for (const resource of resources) {
    const query = new URLSearchParams({ per_page: '100' });
    for (const q of REVEAL[resource] ?? []) query.append('q[]', q);
    let url: string | undefined = `${baseUrl}/${resource}?${query.toString()}`;
    const rows: Array<Record<string, unknown>> = [];
    while (url) {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`oracle: GET ${resource} answered ${res.status}`);
      const body = (await res.json()) as Record<string, unknown>;
      const page = body[resource];
      if (!Array.isArray(page)) throw new Error(`oracle: GET ${resource} has no "${resource}" array`);
      rows.push(...(page as Array<Record<string, unknown>>));
      const links = body.links as { next?: string } | undefined;
      url = links?.next;
    }
    out.set(resource, rows);
  }
  return out;
}

export interface OracleReport {
  readonly lost: string[];
  readonly duplicated: string[];
  readonly unexpected: string[];
  readonly stale: string[];
  /** Field comparisons made (a proof needs many). */
  readonly compared: number;
}

function linkId(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const self = (value as { links?: { self?: unknown } }).links?.self;
  if (typeof self !== 'string') throw new Error('oracle: a reference without links.self');
  return self.slice(self.lastIndexOf('/') + 1);
}

function inactive(patient: Record<string, unknown>): boolean {
  return [patient.archived_at, patient.merged_at, patient.deleted_at].some(
    (v) => v !== null && v !== undefined,
  );
}

/** A scalar as text; anything else is a shape the oracle does not know, and says so. */
function scalar(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`oracle: ${where} is not a scalar`);
}

/** What the declared transform makes of the Cliniko value, in the oracle's own words. */
function expectedValue(f: MappedField, record: Record<string, unknown>): unknown {
  const v = record[f.source];
  const blank = v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
  const where = `${f.resource}.${f.source}`;
  switch (f.transform) {
    case 'id':
      return scalar(v, where);
    case 'text':
      return blank ? null : scalar(v, where).trim();
    case 'email':
      return blank ? null : scalar(v, where).trim().toLowerCase();
    case 'date':
      return blank ? null : scalar(v, where).slice(0, 10);
    case 'datetime':
      return blank ? null : new Date(scalar(v, where)).getTime();
    case 'boolean':
      return v === true;
    case 'consent-opt-out':
      // Not consenting, or no longer an active patient, means opted out (docs/data-map.md, suppression).
      return v !== true || inactive(record);
    case 'money':
      return blank ? null : Math.round(Number(v) * 100) / 100;
    case 'integer':
      return blank ? null : Number(v);
    case 'patient-ref':
    case 'case-ref':
    case 'appointment-ref':
      return linkId(v);
    default:
      // A field the oracle cannot read independently is a gap to close, never a field to skip silently.
      throw new Error(
        `oracle: no independent reading of transform ${f.transform}; add one before relying on it`,
      );
  }
}

function actualValue(f: MappedField, sfValue: unknown, externalIdOf: ReadonlyMap<string, string>): unknown {
  if (sfValue === null || sfValue === undefined || sfValue === '') {
    return f.transform === 'boolean' || f.transform === 'consent-opt-out' ? false : null;
  }
  const where = `${f.object}.${f.field}`;
  switch (f.transform) {
    case 'datetime':
      return Date.parse(scalar(sfValue, where).replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    case 'money':
    case 'integer':
      return Number(sfValue);
    case 'patient-ref':
    case 'case-ref':
    case 'appointment-ref':
      return externalIdOf.get(scalar(sfValue, where)) ?? 'an unknown Salesforce id';
    default:
      return sfValue;
  }
}

/**
 * Compares the org's records (`sfRecords`: object -> every record, deleted ones included) with Cliniko's.
 * Findings name object, external id and field, never a value.
 */
export function compareOrgWithCliniko(
  map: OracleMap,
  cliniko: ClinikoRecords,
  sfRecords: ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>,
): OracleReport {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const unexpected: string[] = [];
  const stale: string[] = [];
  let compared = 0;
  // Salesforce id -> the external id of the record, for references.
  const externalIdOf = new Map<string, string>();
  const byKey = new Map<string, Map<string, Array<Record<string, unknown>>>>();
  for (const { object, field } of map.keys.values()) {
    const index = new Map<string, Array<Record<string, unknown>>>();
    for (const r of sfRecords.get(object) ?? []) {
      if (r.IsDeleted === true) continue;
      const key = r[field];
      if (typeof key !== 'string') continue;
      externalIdOf.set(String(r.Id), key);
      index.set(key, [...(index.get(key) ?? []), r]);
    }
    byKey.set(object, index);
  }
  for (const [resource, { object }] of map.keys) {
    const index = byKey.get(object)!;
    const ids = new Set<string>();
    for (const record of cliniko.get(resource) ?? []) {
      const id = String(record.id);
      ids.add(id);
      const matches = index.get(id) ?? [];
      if (matches.length === 0) {
        lost.push(`${object} ${id}`);
        continue;
      }
      if (matches.length > 1) duplicated.push(`${object} ${id} (${matches.length} records)`);
      for (const f of map.fields) {
        if (f.resource !== resource || f.object !== object) continue;
        compared += 1;
        const want = expectedValue(f, record);
        const have = actualValue(f, matches[0]![f.field], externalIdOf);
        if (want !== have) stale.push(`${object} ${id} ${f.field}`);
      }
    }
    for (const key of index.keys()) if (!ids.has(key)) unexpected.push(`${object} ${key}`);
  }
  return { lost, duplicated, unexpected, stale, compared };
}
