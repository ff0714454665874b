import type { ClinikoClient, StreamEvent } from '../../cliniko/index.js';
import { DEFAULT_OVERLAP_SECONDS } from '../../cliniko/index.js';
import { SyncError } from '../../errors.js';
import type { LeadMatchMode } from '../../config/index.js';
import type { DataMap } from '../../governance/data-map.js';
import { EXTERNAL_ID_FIELDS } from '../../governance/project.js';
import type { JourneyConfig } from '../../journey/index.js';
import type { Store } from '../../store/index.js';
import { storedSurvivors } from '../common/merges.js';
import { fieldTypesOf, type FieldTypes } from '../common/value-equality.js';
import { createPayloadRules, patientRefOf, survivorOf, type PayloadRules } from '../payloads.js';
import { bookmarksOf, clinikoNow, readFrom, recheckDue } from '../cycle/bookmarks.js';
import { loadReferences, type References } from '../cycle/references.js';
import {
  emptyMatchCounts,
  previewMatches,
  type MatchPreview,
  type MatchPreviewCounts,
} from '../match/preview.js';
import {
  currentValuesQuery,
  diffRecord,
  flattenFields,
  type DesiredRecord,
  type PreviewProblem,
  type RecordPreview,
} from './compare.js';

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

export interface DryRunDeps {
  readonly cliniko: Pick<ClinikoClient, 'streams' | 'stats'>;
  /** Read only: watermarks, the hashes of the last written payloads, known merges (facts). */
  readonly store: Pick<Store, 'getWatermark' | 'getRecordStates' | 'getFacts' | 'listContactHolds'>;
  readonly dataMap: DataMap;
  readonly journeyConfig: JourneyConfig;
  readonly clinicTimezone: string;
  readonly now: () => number;
  /** Runs one SOQL query and returns every record (following nextRecordsUrl). */
  readonly query: (soql: string) => Promise<Array<Record<string, unknown>>>;
  readonly overlapSeconds?: number;
  /** SYNC_LEAD_MATCH, as the matcher applies it (default `link`). */
  readonly leadMatch?: LeadMatchMode;
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
  /** What the Contact creates become once existing Contacts and Leads are matched (issue #19). */
  readonly matches: MatchPreviewCounts;
  readonly problems: number;
  readonly clinikoRequests: number;
  readonly salesforceQueries: number;
}

/** A payload waiting for its Salesforce values, as the runner builds it (unflattened, external id included). */
interface Payload {
  readonly externalIdField: string;
  readonly externalId: string;
  readonly fields: Record<string, unknown>;
}

type Stream = (typeof PREVIEW_STREAMS)[number];
type StreamEntry = {
  -readonly [K in keyof DryRunResult['streams'][number]]: DryRunResult['streams'][number][K];
};

/** One dry run's moving parts. */
interface DryRun {
  readonly deps: DryRunDeps;
  readonly options: DryRunOptions;
  readonly limit: number;
  readonly overlapSeconds: number;
  /** The runner's own payload builder, so the preview and the sync agree on every payload and its hash. */
  readonly rules: PayloadRules;
  readonly refs: References;
  readonly types: FieldTypes;
  readonly counts: Record<string, ObjectCounts>;
  readonly matches: MatchPreviewCounts;
  readonly streams: StreamEntry[];
  problems: number;
  queries: number;
  /** Payloads waiting for their Salesforce values, by object and external id (last read wins). */
  readonly pending: Map<string, Map<string, Payload>>;
  /**
   * Merged patients, as the runner handles them: children still pointing at a merged-away patient are
   * written against the survivor. Known from the stored `merged-patient` facts and from the patients
   * read in this run (null: not merged).
   */
  readonly survivors: Map<string, string | null>;
}

export async function runDryRun(deps: DryRunDeps, options: DryRunOptions = {}): Promise<DryRunResult> {
  const requestsBefore = deps.cliniko.stats().requests;
  const rules = createPayloadRules({
    dataMap: deps.dataMap,
    journeyConfig: deps.journeyConfig,
    now: deps.now,
  });
  const run: DryRun = {
    deps,
    options,
    limit: options.limit ?? Infinity,
    overlapSeconds: deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS,
    rules,
    refs: await loadReferences(deps.cliniko, deps.clinicTimezone, deps.now()),
    types: fieldTypesOf(deps.dataMap),
    counts: {},
    matches: emptyMatchCounts(),
    streams: [],
    problems: 0,
    queries: 0,
    pending: new Map(),
    survivors: new Map(),
  };
  for (const stream of PREVIEW_STREAMS) await readStream(run, stream);
  return {
    streams: run.streams,
    counts: run.counts,
    matches: run.matches,
    problems: run.problems,
    clinikoRequests: deps.cliniko.stats().requests - requestsBefore,
    salesforceQueries: run.queries,
  };
}

async function readStream(run: DryRun, stream: Stream): Promise<void> {
  const { deps, options } = run;
  const watermark = options.full ? undefined : await deps.store.getWatermark(stream.resource);
  // From where the next cycle would read: its cursor, or its settled point when a recheck is due.
  const overlapMs = run.overlapSeconds * 1000;
  const start = watermark && bookmarksOf(watermark, overlapMs);
  const since = start && readFrom(start, recheckDue(start, clinikoNow(watermark, deps.now()), overlapMs));
  const entry: StreamEntry = {
    resource: stream.resource,
    since: since ?? null,
    read: 0,
    quarantined: 0,
    limited: false,
  };
  run.streams.push(entry);
  if (run.limit <= 0) return;
  const events = deps.cliniko.streams[stream.key].read({
    ...(since ? { since } : {}),
    overlapSeconds: 0,
  }) as AsyncGenerator<StreamEvent<Record<string, unknown>>>;
  for await (const ev of events) {
    if (ev.kind === 'quarantine') {
      problem(run, entry, {
        resource: ev.item.resource,
        recordId: ev.item.id,
        reason: `${ev.item.field}: ${ev.item.reason}`,
      });
      continue;
    }
    if (ev.kind !== 'record') continue;
    entry.read += 1;
    options.onProgress?.(stream.resource, entry.read);
    await addRecord(run, stream, entry, ev);
    if (entry.read >= run.limit) {
      entry.limited = true;
      break; // ends the stream's generator: no further pages are requested
    }
  }
  for (const object of [...run.pending.keys()]) await flush(run, object);
}

function problem(run: DryRun, entry: StreamEntry, found: PreviewProblem): void {
  entry.quarantined += 1;
  run.problems += 1;
  run.options.onProblem?.(found);
}

/** Builds the record's payloads and queues them; a full batch is compared at once. */
async function addRecord(
  run: DryRun,
  stream: Stream,
  entry: StreamEntry,
  ev: Extract<StreamEvent<Record<string, unknown>>, { kind: 'record' }>,
): Promise<void> {
  const built = run.rules.recordPayloads(stream.resource, ev.raw, ev.record, run.refs);
  if (!built.ok) {
    const reason = built.problems.map((p) => `${p.entry ?? p.field ?? 'record'}: ${p.message}`).join('; ');
    problem(run, entry, { resource: stream.resource, recordId: ev.id, reason });
    return;
  }
  if (stream.resource === 'patients') {
    const survivor = survivorOf(ev.raw, ev.id);
    if (survivor) run.survivors.set(ev.id, survivor);
  }
  for (const candidate of built.payloads) {
    const externalIdField = EXTERNAL_ID_FIELDS[candidate.object];
    if (externalIdField === undefined) continue; // projectRecord refuses such payloads
    const batch = run.pending.get(candidate.object) ?? new Map<string, Payload>();
    run.pending.set(candidate.object, batch);
    batch.set(candidate.key, { externalIdField, externalId: candidate.key, fields: candidate.fields });
    if (batch.size >= QUERY_CHUNK) await flush(run, candidate.object);
  }
}

async function loadSurvivors(run: DryRun, patientIds: readonly string[]): Promise<void> {
  const unknown = [...new Set(patientIds)].filter((id) => !run.survivors.has(id));
  if (unknown.length === 0) return;
  const stored = await storedSurvivors(run.deps.store, unknown);
  for (const id of unknown) run.survivors.set(id, stored.get(id) ?? null);
}

/** Compares the object's waiting payloads with Salesforce's current values and reports each. */
async function flush(run: DryRun, object: string): Promise<void> {
  const batch = run.pending.get(object);
  if (!batch || batch.size === 0) return;
  run.pending.delete(object);
  const records = await desiredRecords(run, object, [...batch.values()]);
  const byKey = await currentValues(run, object, records);
  const states = await run.deps.store.getRecordStates(
    object,
    records.map((r) => r.externalId),
  );
  const c = (run.counts[object] ??= { create: 0, update: 0, drift: 0, unchanged: 0 });
  const previews = records.map((desired): RecordPreview => {
    const diff = diffRecord(desired, byKey.get(desired.externalId), run.types);
    // The runner skips a payload whose hash is the one it last wrote, whatever Salesforce holds now.
    const skipped =
      desired.payloadHash !== undefined &&
      states.get(desired.externalId)?.payloadHash === desired.payloadHash;
    return diff.action !== 'unchanged' && skipped ? { ...diff, action: 'drift' } : diff;
  });
  const matches =
    object === 'Contact' ? await matchesOf(run, batch, previews) : new Map<string, MatchPreview>();
  for (const preview of previews) {
    const match = matches.get(preview.externalId);
    c[preview.action] += 1;
    if (match) run.matches[match] += 1;
    run.options.onRecord?.(match ? { ...preview, match } : preview);
  }
}

/** For each Contact the sync would create: what matching existing records does instead. */
async function matchesOf(
  run: DryRun,
  batch: ReadonlyMap<string, Payload>,
  previews: readonly RecordPreview[],
) {
  const creates = previews
    .filter((p) => p.action === 'create')
    .map((p) => ({ patientId: p.externalId, fields: batch.get(p.externalId)?.fields ?? {} }));
  const { byPatient, queries } = await previewMatches(
    (_object, soql) => run.deps.query(soql),
    run.deps.store,
    creates,
    { leads: (run.deps.leadMatch ?? 'link') === 'link' },
  );
  run.queries += queries;
  return byPatient;
}

/** The payloads as the runner would write them: children of merged-away patients against the survivor. */
async function desiredRecords(
  run: DryRun,
  object: string,
  payloads: readonly Payload[],
): Promise<DesiredRecord[]> {
  if (object !== 'Contact') {
    await loadSurvivors(
      run,
      payloads.flatMap((p) => patientRefOf(p.fields) ?? []),
    );
    for (const p of payloads) {
      const survivor = run.survivors.get(patientRefOf(p.fields) ?? '');
      if (survivor) p.fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
    }
  }
  return payloads.map((p): DesiredRecord => {
    const flat = flattenFields(p.fields);
    delete flat[p.externalIdField];
    const item = run.rules.outboxItem(
      { object, key: p.externalId, fields: p.fields, operation: 'upsert' },
      'dry-run',
    );
    return {
      object,
      externalIdField: p.externalIdField,
      externalId: p.externalId,
      fields: flat,
      payloadHash: item.payloadHash,
    };
  });
}

/** Salesforce's current values of these records by external id (one query, only the fields a sync writes). */
async function currentValues(
  run: DryRun,
  object: string,
  records: readonly DesiredRecord[],
): Promise<Map<string, Record<string, unknown>>> {
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
    run.queries += 1;
    found = await run.deps.query(soql);
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
  return new Map(found.map((r) => [String(r[externalIdField]), r]));
}
