import type { ClinikoClient, StreamEvent } from '../cliniko/index.js';
import { DEFAULT_OVERLAP_SECONDS } from '../cliniko/index.js';
import { SyncError } from '../errors.js';
import type { DataMap } from '../governance/data-map.js';
import { EXTERNAL_ID_FIELDS } from '../governance/project.js';
import type { JourneyConfig } from '../journey/index.js';
import type { Store } from '../store/index.js';
import { createPayloadRules, MERGED_FACT, patientRefOf, survivorOf } from './payloads.js';
import { loadReferences, type References } from './references.js';

/**
 * The dry run: what a sync would create or change in Salesforce, field by field, without writing
 * anything anywhere. It reads the same Cliniko streams as a cycle (from the stored watermarks, or
 * everything), builds each record's payloads with the runner's own rules (payloads.ts: projection with
 * the same reference context, suppression, record-level derivations; children of merged-away patients
 * against the survivor), reads the current values of those records from Salesforce by external id
 * (queries only) and compares field by field.
 *
 * The store is only read (watermarks, last written hashes, merge facts); nothing is enqueued, no
 * watermark moves, no run is recorded.
 *
 * What it does not preview: the journey engine's derived fields (journey stage, aggregates, care-plan
 * progress, transitions and platform events), the `#parent` re-parenting of children a cycle does not
 * re-read, and the run summary record. Those come from the stored history of every patient, not from
 * the records read, and are reported as not previewed.
 */

/** Streams whose records become Salesforce records, in the runner's order. */
export const PREVIEW_STREAMS = [
  { key: 'patients', resource: 'patients' },
  { key: 'patientCases', resource: 'patient_cases' },
  { key: 'individualAppointments', resource: 'individual_appointments' },
  { key: 'invoices', resource: 'invoices' },
] as const;

/** Salesforce's SOQL `IN` clause is kept to the collection size the writer also uses. */
export const QUERY_CHUNK = 200;

export type ChangeKind = 'set' | 'changed' | 'cleared';

export interface FieldChange {
  /** Field API name; a lookup written by external id appears as `Contact__r.Cliniko_Patient_Id__c`. */
  readonly field: string;
  readonly kind: ChangeKind;
  /** The values, for `--show-values` only: they may hold patient data. */
  readonly before: unknown;
  readonly after: unknown;
}

export interface RecordPreview {
  readonly object: string;
  readonly externalIdField: string;
  readonly externalId: string;
  /**
   * `drift`: Salesforce differs, but Cliniko has not changed since the sync last wrote this record (its
   * payload hash is the stored one), so a sync skips it; the nightly reconciliation repairs it.
   */
  readonly action: 'create' | 'update' | 'drift' | 'unchanged';
  /** For a create, every field the sync would set (non-empty values); for an update, the differences. */
  readonly changes: readonly FieldChange[];
}

export interface DesiredRecord {
  readonly object: string;
  readonly externalIdField: string;
  readonly externalId: string;
  /** Flattened (see flattenFields), without the external id field. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The hash the runner's change detection computes for this payload, when known. */
  readonly payloadHash?: string;
}

/** A record the sync would quarantine instead of writing: the reason names fields, never values. */
export interface PreviewProblem {
  readonly resource: string;
  readonly recordId: string;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------------
// comparison (pure)

/**
 * `Contact__r: { Cliniko_Patient_Id__c: '1' }` (a lookup written by external id) becomes
 * `'Contact__r.Cliniko_Patient_Id__c': '1'`, the path SOQL reads it back by. Other fields are unchanged.
 */
export function flattenFields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(fields)) {
    if (field.endsWith('__r') && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        if (key !== 'attributes') out[`${field}.${key}`] = inner;
      }
    } else {
      out[field] = value;
    }
  }
  return out;
}

/** The value at a dotted path of a queried record (`Contact__r.Cliniko_Patient_Id__c`). */
export function valueAt(record: Readonly<Record<string, unknown>>, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return null;
    current = (current as Record<string, unknown>)[part];
  }
  return current ?? null;
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;

/**
 * Whether Salesforce already holds the value a sync would write. Salesforce spells values its own way:
 * numbers come back as numbers (a payload may hold "12.50"), datetimes as `…T…000+0000`, an empty text
 * field as null, an unticked checkbox as false (writing null to a checkbox stores false), and
 * multi-select picklists in any order.
 */
export function sameValue(desired: unknown, current: unknown): boolean {
  if (isEmpty(desired)) return isEmpty(current) || current === false;
  if (isEmpty(current)) return false;
  if (typeof desired === 'boolean' || typeof current === 'boolean') return desired === current;
  const numericDesired =
    typeof desired === 'number' || (typeof desired === 'string' && NUMERIC.test(desired));
  const numericCurrent =
    typeof current === 'number' || (typeof current === 'string' && NUMERIC.test(current));
  if (numericDesired && numericCurrent) return Number(desired) === Number(current);
  if (typeof desired === 'string' && typeof current === 'string') {
    if (DATE_TIME.test(desired) && DATE_TIME.test(current)) {
      const a = Date.parse(desired);
      const b = Date.parse(current.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (Number.isFinite(a) && Number.isFinite(b)) return a === b;
    }
    if (desired.includes(';') || current.includes(';')) {
      const set = (s: string) =>
        s
          .split(';')
          .map((x) => x.trim())
          .sort()
          .join(';');
      return set(desired) === set(current);
    }
    return desired === current;
  }
  return JSON.stringify(desired) === JSON.stringify(current);
}

/**
 * Field-by-field difference between what a sync would write and what Salesforce holds (`current`
 * undefined: no record with that external id, so the sync would create one).
 */
export function diffRecord(
  desired: DesiredRecord,
  current: Readonly<Record<string, unknown>> | undefined,
): RecordPreview {
  const base = {
    object: desired.object,
    externalIdField: desired.externalIdField,
    externalId: desired.externalId,
  };
  const changes: FieldChange[] = [];
  if (current === undefined) {
    for (const [field, after] of Object.entries(desired.fields)) {
      if (!isEmpty(after)) changes.push({ field, kind: 'set', before: null, after });
    }
    return { ...base, action: 'create', changes };
  }
  for (const [field, after] of Object.entries(desired.fields)) {
    const before = valueAt(current, field);
    if (sameValue(after, before)) continue;
    const kind: ChangeKind = isEmpty(before) ? 'set' : isEmpty(after) ? 'cleared' : 'changed';
    changes.push({ field, kind, before, after });
  }
  return { ...base, action: changes.length > 0 ? 'update' : 'unchanged', changes };
}

/** A SOQL string literal. */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The query reading the current values of these records; only the fields a sync would write. */
export function currentValuesQuery(
  object: string,
  externalIdField: string,
  fields: Iterable<string>,
  externalIds: readonly string[],
): string {
  const select = [...new Set(['Id', externalIdField, ...fields])];
  return `SELECT ${select.join(', ')} FROM ${object} WHERE ${externalIdField} IN (${externalIds.map(soqlString).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------------
// the reader

export interface DryRunDeps {
  readonly cliniko: Pick<ClinikoClient, 'streams' | 'stats'>;
  /** Read only: watermarks, the hashes of the last written payloads, known merges (facts). */
  readonly store: Pick<Store, 'getWatermark' | 'getRecordStates' | 'listFacts'>;
  readonly dataMap: DataMap;
  readonly journeyConfig: JourneyConfig;
  readonly clinicTimezone: string;
  readonly now: () => number;
  /** Runs one SOQL query and returns every record (following nextRecordsUrl). */
  readonly query: (soql: string) => Promise<Array<Record<string, unknown>>>;
  readonly overlapSeconds?: number;
}

export interface DryRunOptions {
  /** Read every record instead of the changes since the stored watermarks. */
  readonly full?: boolean;
  /** At most this many records per stream. */
  readonly limit?: number;
  /** Called for each record compared, in batches as they are decided. */
  readonly onRecord?: (preview: RecordPreview) => void;
  readonly onProblem?: (problem: PreviewProblem) => void;
  /** Called after each record read (for a progress bar). */
  readonly onProgress?: (resource: string, read: number) => void;
}

export interface ObjectCounts {
  create: number;
  update: number;
  drift: number;
  unchanged: number;
}

export interface DryRunResult {
  /** Per stream: where the read started (null: from the beginning) and how many records it read. */
  readonly streams: ReadonlyArray<{
    resource: string;
    since: string | null;
    read: number;
    quarantined: number;
    limited: boolean;
  }>;
  readonly counts: Readonly<Record<string, ObjectCounts>>;
  readonly problems: number;
  readonly clinikoRequests: number;
  readonly salesforceQueries: number;
}

export async function runDryRun(deps: DryRunDeps, options: DryRunOptions = {}): Promise<DryRunResult> {
  const limit = options.limit ?? Infinity;
  const overlapSeconds = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  const requestsBefore = deps.cliniko.stats().requests;
  // The runner's own payload builder, so the preview and the sync agree on every payload and its hash.
  const rules = createPayloadRules({
    dataMap: deps.dataMap,
    journeyConfig: deps.journeyConfig,
    now: deps.now,
  });
  const counts: Record<string, ObjectCounts> = {};
  const streams: Array<DryRunResult['streams'][number]> = [];
  let problems = 0;
  let queries = 0;

  const refs: References = await loadReferences(deps.cliniko, deps.clinicTimezone, deps.now());

  // Payloads waiting for their Salesforce values, by object and external id (last read wins), as the
  // runner builds them (unflattened, external id included) until the batch is flushed.
  interface Payload {
    readonly externalIdField: string;
    readonly externalId: string;
    readonly fields: Record<string, unknown>;
  }
  const pending = new Map<string, Map<string, Payload>>();

  // Merged patients, as the runner handles them: children still pointing at a merged-away patient are
  // written against the survivor. Known from the stored `merged-patient` facts and from the patients
  // read in this run (null: not merged).
  const survivors = new Map<string, string | null>();
  async function loadSurvivors(patientIds: readonly string[]): Promise<void> {
    const unknown = [...new Set(patientIds)].filter((id) => !survivors.has(id));
    if (unknown.length === 0) return;
    for (const id of unknown) survivors.set(id, null);
    for (const fact of await deps.store.listFacts(unknown)) {
      if (fact.resource === MERGED_FACT)
        survivors.set(fact.id, (JSON.parse(fact.data) as { survivor: string }).survivor);
    }
  }

  async function flush(object: string): Promise<void> {
    const batch = pending.get(object);
    if (!batch || batch.size === 0) return;
    pending.delete(object);
    const payloads = [...batch.values()];
    if (object !== 'Contact') {
      await loadSurvivors(payloads.flatMap((p) => patientRefOf(p.fields) ?? []));
      for (const p of payloads) {
        const survivor = survivors.get(patientRefOf(p.fields) ?? '');
        if (survivor) p.fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
      }
    }
    const records = payloads.map((p): DesiredRecord => {
      const flat = flattenFields(p.fields);
      delete flat[p.externalIdField];
      return {
        object,
        externalIdField: p.externalIdField,
        externalId: p.externalId,
        fields: flat,
        payloadHash: rules.outboxItem(
          { object, key: p.externalId, fields: p.fields, operation: 'upsert' },
          'dry-run',
        ).payloadHash,
      };
    });
    const externalIdField = records[0]!.externalIdField;
    const fields = new Set<string>();
    for (const r of records) for (const f of Object.keys(r.fields)) fields.add(f);
    const soql = currentValuesQuery(
      object,
      externalIdField,
      fields,
      records.map((r) => r.externalId),
    );
    let found: Array<Record<string, unknown>>;
    try {
      queries += 1;
      found = await deps.query(soql);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A field or object the org does not have is the map's problem (a new map previewed before its
      // metadata is deployed); anything else is Salesforce being unreachable.
      const mapProblem = /INVALID_FIELD|INVALID_TYPE|No such column/i.test(message);
      throw new SyncError(
        mapProblem ? 'DATA_MAP_INVALID' : 'SALESFORCE_UNAVAILABLE',
        `reading the current ${object} records failed: ${message}`,
        { record: { system: 'salesforce', object } },
      );
    }
    const byKey = new Map(found.map((r) => [String(r[externalIdField]), r]));
    const states = await deps.store.getRecordStates(
      object,
      records.map((r) => r.externalId),
    );
    const c = (counts[object] ??= { create: 0, update: 0, drift: 0, unchanged: 0 });
    for (const desired of records) {
      const diff = diffRecord(desired, byKey.get(desired.externalId));
      // The runner skips a payload whose hash is the one it last wrote, whatever Salesforce holds now.
      const skipped =
        desired.payloadHash !== undefined &&
        states.get(desired.externalId)?.payloadHash === desired.payloadHash;
      const preview: RecordPreview =
        diff.action !== 'unchanged' && skipped ? { ...diff, action: 'drift' } : diff;
      c[preview.action] += 1;
      options.onRecord?.(preview);
    }
  }

  for (const stream of PREVIEW_STREAMS) {
    const watermark = options.full ? undefined : await deps.store.getWatermark(stream.resource);
    const entry = {
      resource: stream.resource,
      since: watermark?.cursor ?? null,
      read: 0,
      quarantined: 0,
      limited: false,
    };
    streams.push(entry);
    if (limit <= 0) continue;
    const events = deps.cliniko.streams[stream.key].read({
      ...(watermark ? { since: watermark.cursor } : {}),
      overlapSeconds,
    }) as AsyncGenerator<StreamEvent<Record<string, unknown>>>;
    for await (const ev of events) {
      if (ev.kind === 'quarantine') {
        entry.quarantined += 1;
        problems += 1;
        options.onProblem?.({
          resource: ev.item.resource,
          recordId: ev.item.id,
          reason: `${ev.item.field}: ${ev.item.reason}`,
        });
        continue;
      }
      if (ev.kind !== 'record') continue;
      entry.read += 1;
      options.onProgress?.(stream.resource, entry.read);
      const built = rules.recordPayloads(stream.resource, ev.raw, ev.record, refs);
      if (!built.ok) {
        entry.quarantined += 1;
        problems += 1;
        options.onProblem?.({
          resource: stream.resource,
          recordId: ev.id,
          reason: built.problems.map((p) => `${p.entry ?? p.field ?? 'record'}: ${p.message}`).join('; '),
        });
      } else {
        if (stream.resource === 'patients') {
          const survivor = survivorOf(ev.raw, ev.id);
          if (survivor) survivors.set(ev.id, survivor);
        }
        for (const candidate of built.payloads) {
          const externalIdField = EXTERNAL_ID_FIELDS[candidate.object];
          if (externalIdField === undefined) continue; // projectRecord refuses such payloads
          const batch = pending.get(candidate.object) ?? new Map<string, Payload>();
          pending.set(candidate.object, batch);
          batch.set(candidate.key, { externalIdField, externalId: candidate.key, fields: candidate.fields });
          if (batch.size >= QUERY_CHUNK) await flush(candidate.object);
        }
      }
      if (entry.read >= limit) {
        entry.limited = true;
        break; // ends the stream's generator: no further pages are requested
      }
    }
    for (const object of [...pending.keys()]) await flush(object);
  }

  return {
    streams,
    counts,
    problems,
    clinikoRequests: deps.cliniko.stats().requests - requestsBefore,
    salesforceQueries: queries,
  };
}

/** Renders a value for `--show-values`: JSON, cut at 80 characters. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'null' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * One line per record that would change: `CREATE Contact 1100: FirstName, LastName` or
 * `UPDATE Contact 1100: Email: changed, Phone: cleared`. Values only with `showValues`.
 */
export function formatPreview(preview: RecordPreview, showValues = false): string | undefined {
  if (preview.action === 'unchanged') return undefined;
  const head = `${preview.action.toUpperCase()} ${preview.object} ${preview.externalId}`;
  const parts = preview.changes.map((c) => {
    if (preview.action === 'create') return showValues ? `${c.field} = ${showValue(c.after)}` : c.field;
    return showValues
      ? `${c.field}: ${c.kind} ${showValue(c.before)} -> ${showValue(c.after)}`
      : `${c.field}: ${c.kind}`;
  });
  const line = parts.length > 0 ? `${head}: ${parts.join(', ')}` : head;
  return preview.action === 'drift' ? `${line} ${DRIFT_NOTE}` : line;
}

/** Why a drift line is not a write (see RecordPreview.action). */
export const DRIFT_NOTE = '(unchanged in Cliniko since the last sync: a sync skips it; reconcile repairs it)';
