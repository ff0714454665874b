import { randomUUID } from 'node:crypto';
import type { ClinikoClient, QuarantineItem as ClinikoQuarantine, StreamEvent } from '../cliniko/index.js';
import { DEFAULT_OVERLAP_SECONDS, toClinikoTime } from '../cliniko/index.js';
import { SyncError } from '../errors.js';
import type { DataMap } from '../governance/data-map.js';
import { payloadSha256 } from '../governance/stable-json.js';
import { buildSyncRunPayload, RunCounter, type RunMode as SyncRunMode } from '../governance/sync-run.js';
import { evaluateJourney, type JourneyConfig, type JourneyState } from '../journey/index.js';
import type { Logger } from '../logger.js';
import type { FactInput, OutboxInput, QuarantineInput, Store } from '../store/index.js';
import { factsByKind } from './facts.js';
import type { DrainResult, OutboxWorker } from './outbox-worker.js';
import { JOURNEY_EVENT, PRIORITY, UPSERT_KEYS } from './objects.js';
import { loadReferences as readReferences, type References } from './references.js';
import {
  createPayloadRules,
  MERGED_FACT,
  patientRefOf,
  survivorOf,
  type PayloadCandidate,
} from './payloads.js';

/**
 * One sync cycle: read every stream incrementally from Cliniko, validate, project through the signed
 * data map, derive journey and care-plan facts, skip what is unchanged, and enqueue the rest to the
 * durable outbox in the same transaction that advances the stream's watermark; then drain the outbox
 * into Salesforce and record the run.
 *
 * Bookmark discipline (per stream): the signpost is Cliniko's clock when the read starts (the Date
 * header of the first page); the watermark never passes it, and only moves in the transaction that
 * makes the page's work durable. Reads overlap the previous watermark (default 120 s) and
 * de-duplicate, so records updated in the same second across a page boundary are not missed.
 */
export interface SyncRunnerDeps {
  readonly store: Store;
  readonly cliniko: ClinikoClient;
  readonly worker: OutboxWorker;
  readonly dataMap: DataMap;
  readonly dataMapHash: string;
  readonly journeyConfig: JourneyConfig;
  readonly clinicTimezone: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly overlapSeconds?: number;
  /** Salesforce API calls made so far (for the run summary). */
  readonly salesforceCalls?: () => number;
  /** Called after every page read, for progress displays (counts only). */
  readonly onProgress?: (progress: {
    stream: string;
    pages: number;
    records: number;
    totalEntries?: number;
  }) => void;
}

export type CycleMode = 'incremental' | 'backfill';

export interface RunSummary {
  readonly runId: string;
  readonly mode: CycleMode | 'journey-daily';
  /** `skipped`: another instance sharing the PostgreSQL store was running a cycle. */
  readonly status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly counts: Record<
    string,
    { read: number; written: number; skipped: number; quarantined: number; deadLettered: number }
  >;
  readonly drain: DrainResult | null;
  readonly clinikoRequests: number;
  readonly salesforceCalls: number;
  /** Wall-clock duration (the run's timestamps follow the injected clock, which tests may freeze). */
  readonly durationMs: number;
  readonly error: string | null;
}

/**
 * Several instances may share one PostgreSQL store. One cycle runs at a time across them, under this
 * lease (renewed with every page read), so no stream is polled twice at once and no change is enqueued
 * twice; the outbox is drained by whichever instance holds it, and its items are leased one by one
 * besides. A crashed holder's lease expires after LEASE_MS. SQLite serves one instance and needs none.
 */
const CYCLE_LEASE = 'sync-cycle';
const LEASE_MS = 10 * 60_000;

/** Streams whose records become Salesforce records, in the order they are read. */
const DATA_STREAMS = [
  { key: 'patients', resource: 'patients' },
  { key: 'patientCases', resource: 'patient_cases' },
  { key: 'individualAppointments', resource: 'individual_appointments' },
  { key: 'invoices', resource: 'invoices' },
] as const;

export function createSyncRunner(deps: SyncRunnerDeps) {
  const log = deps.logger.child({ module: 'runner' });
  const overlapSeconds = deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  // Fields the service computes reach Salesforce only if the signed map lists them under `derived`:
  // the same allow-list rule as for copied fields.
  const rules = createPayloadRules(deps);
  const allowDerived = (object: string, keyField: string, fields: Record<string, unknown>) =>
    rules.allowDerived(object, keyField, fields);

  /**
   * Merged patients: Cliniko archives the merged-away patient and links it to the survivor. Children that
   * still point at the merged patient (Cliniko moves appointments and cases, but a child it leaves behind
   * would otherwise stay on a Contact that is out of every campaign) are written against the survivor.
   * Known merges are kept as facts (`merged-patient`), so they survive restarts.
   */
  const CHILD_OBJECTS: Readonly<Record<string, string>> = {
    individual_appointments: 'Cliniko_Appointment__c',
    patient_cases: 'Care_Plan__c',
    invoices: 'Cliniko_Invoice__c',
  };
  async function survivorsOf(patientIds: Iterable<string>, cache: Map<string, string | null>): Promise<void> {
    const unknown = [...new Set(patientIds)].filter((id) => !cache.has(id));
    if (unknown.length === 0) return;
    for (const id of unknown) cache.set(id, null);
    for (const fact of await deps.store.listFacts(unknown)) {
      if (fact.resource === MERGED_FACT)
        cache.set(fact.id, (JSON.parse(fact.data) as { survivor: string }).survivor);
    }
  }
  /** Reference records (businesses, practitioners, appointment types): small, read whole each cycle. */
  function loadReferences(): Promise<References> {
    return readReferences(deps.cliniko, deps.clinicTimezone, deps.now());
  }

  /** Outbox items for payloads whose hash differs from what was last written (change detection). */
  async function changed(
    candidates: readonly PayloadCandidate[],
    runId: string,
    counter: RunCounter,
  ): Promise<OutboxInput[]> {
    const byObject = new Map<string, typeof candidates>();
    for (const c of candidates) byObject.set(c.object, [...(byObject.get(c.object) ?? []), c]);
    const out: OutboxInput[] = [];
    for (const [object, list] of byObject) {
      const keys = list.map((c) => c.key);
      const states = await deps.store.getRecordStates(object, keys);
      const queued = await deps.store.pendingPayloadHashes(object, keys);
      for (const c of list) {
        const item = rules.outboxItem(c, runId);
        // Equal to what was last written, and no different payload still queued (a change since
        // reverted while it waited for a retry would otherwise be written after, and win).
        const waiting = queued.get(c.key);
        if (
          states.get(c.key)?.payloadHash === item.payloadHash &&
          (waiting === undefined || waiting === item.payloadHash)
        ) {
          counter.add(object, 'skipped');
          continue;
        }
        out.push(item);
      }
    }
    return out;
  }

  async function readStream(
    stream: (typeof DATA_STREAMS)[number],
    mode: CycleMode,
    refs: References,
    runId: string,
    counter: RunCounter,
    affectedPatients: Set<string>,
    lease: string | undefined,
    merges: { survivors: Map<string, string | null>; discovered: Map<string, string> },
  ): Promise<void> {
    const watermark = mode === 'backfill' ? undefined : await deps.store.getWatermark(stream.resource);
    let pending: PayloadCandidate[] = [];
    let quarantine: QuarantineInput[] = [];
    let facts: FactInput[] = [];
    // Records read and projected cleanly: any quarantine row of theirs is stale (the record changed
    // since it was quarantined and now passes), so it is released once the page is durable.
    let clean: string[] = [];
    let complete = true;
    let pages = 0;
    let read = 0;

    // A read without `since` pages by id, so only its end may move the watermark (to Cliniko's clock when
    // it started); an incremental read is ordered by updated_at and may advance page by page.
    const backfilling = watermark === undefined;
    let signpostMs: number | undefined;
    const capped = (t: string | undefined): string | undefined => {
      const ms = t === undefined ? NaN : Date.parse(t);
      return Number.isFinite(ms) ? toClinikoTime(Math.min(ms, signpostMs ?? ms)) : undefined;
    };
    let moved = false; // a page flush advanced the watermark during this read
    const flush = async (candidate: string | undefined, restore = false): Promise<void> => {
      const childRefs = pending.filter((p) => p.object !== 'Contact').map((p) => patientRefOf(p.fields));
      await survivorsOf(
        childRefs.filter((id): id is string => id !== undefined),
        merges.survivors,
      );
      for (const p of pending) {
        const survivor =
          p.object === 'Contact' ? undefined : merges.survivors.get(patientRefOf(p.fields) ?? '');
        if (survivor) p.fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
      }
      const outbox = await changed(pending, runId, counter);
      const advance =
        candidate !== undefined &&
        complete &&
        (watermark === undefined || Date.parse(candidate) > Date.parse(watermark.cursor));
      // A read that never saw the list hold still may have had a row slide past it: the page flushes
      // must not keep the watermark they moved, so it goes back to where this read began.
      const target = advance ? candidate : restore && moved && watermark ? watermark.cursor : undefined;
      if (advance) moved = true;
      await deps.store.commitBatch({
        stream: stream.resource,
        ...(target !== undefined ? { watermark: target } : {}),
        outbox,
        quarantine,
        facts,
        now: deps.now(),
      });
      pending = [];
      quarantine = [];
      facts = [];
      if (clean.length > 0) await deps.store.releaseQuarantine(stream.resource, clean);
      clean = [];
    };

    const events = deps.cliniko.streams[stream.key].read({
      ...(watermark ? { since: watermark.cursor } : {}),
      overlapSeconds,
    }) as AsyncGenerator<StreamEvent<Record<string, unknown>>>;
    for await (const ev of events) {
      if (ev.kind === 'page') {
        pages += 1;
        deps.onProgress?.({
          stream: stream.resource,
          pages,
          records: read,
          ...(ev.totalEntries !== undefined ? { totalEntries: ev.totalEntries } : {}),
        });
        if (lease && !(await deps.store.acquireLease(lease, deps.worker.owner, LEASE_MS, Date.now()))) {
          throw new SyncError('STORE_CONFLICT', `lost the ${lease} lease to another instance`);
        }
        signpostMs ??= Date.parse(ev.serverDate ?? new Date(deps.now()).toISOString());
        await flush(backfilling ? undefined : capped(ev.maxUpdatedAt));
      } else if (ev.kind === 'end') {
        complete = ev.complete;
        signpostMs ??= Date.parse(ev.startedAt ?? new Date(deps.now()).toISOString());
        // A complete pass has read everything updated up to the signpost, whichever order it read in:
        // the watermark goes to the signpost, so an idle stream's lag stays honest. Rows committed late
        // with an earlier updated_at fall inside the next read's overlap window.
        await flush(complete ? capped(ev.startedAt ?? toClinikoTime(signpostMs)) : undefined, !complete);
      } else if (ev.kind === 'quarantine') {
        counter.add(stream.resource, 'quarantined');
        quarantine.push(toQuarantine(ev.item, runId));
      } else {
        counter.add(stream.resource, 'read');
        read += 1;
        const built = rules.recordPayloads(stream.resource, ev.raw, ev.record, refs);
        if (!built.ok) {
          counter.add(stream.resource, 'quarantined');
          const first = built.problems[0];
          quarantine.push({
            resource: stream.resource,
            recordId: ev.id,
            field: first?.field ?? first?.entry ?? '(record)',
            reason: built.problems.map((p) => `${p.entry ?? p.field ?? 'record'}: ${p.message}`).join('; '),
            payload: JSON.stringify(ev.raw),
            runId,
          });
          continue;
        }
        pending.push(...built.payloads);
        clean.push(ev.id);
        if (built.fact) {
          facts.push(built.fact);
          affectedPatients.add(built.fact.patientId);
        }
        if (stream.resource === 'patients') {
          affectedPatients.add(ev.id);
          const survivor = survivorOf(ev.raw, ev.id);
          if (survivor) {
            merges.survivors.set(ev.id, survivor);
            merges.discovered.set(ev.id, survivor);
            facts.push({
              resource: MERGED_FACT,
              id: ev.id,
              patientId: ev.id,
              data: JSON.stringify({ survivor }),
            });
          }
        }
      }
    }
    if (!complete)
      log.warn({ stream: stream.resource }, 'list kept moving; watermark held back for the next cycle');
  }

  /**
   * After a merge, children Cliniko left on the merged-away patient (their facts still name it, because
   * they were not re-read with a new patient) are pointed at the survivor through a `#parent` slot.
   */
  async function reparentMerged(
    discovered: ReadonlyMap<string, string>,
    runId: string,
    counter: RunCounter,
  ): Promise<void> {
    if (discovered.size === 0) return;
    const candidates: PayloadCandidate[] = [];
    for (const fact of await deps.store.listFacts([...discovered.keys()])) {
      const object = CHILD_OBJECTS[fact.resource];
      const survivor = discovered.get(fact.patientId);
      const keyField = object ? UPSERT_KEYS[object] : undefined;
      if (!object || !survivor || !keyField) continue;
      candidates.push({
        object,
        key: `${fact.id}#parent`,
        fields: { [keyField]: fact.id, Contact__r: { Cliniko_Patient_Id__c: survivor } },
        operation: 'upsert',
      });
    }
    const outbox = await changed(candidates, runId, counter);
    await deps.store.commitBatch({ stream: 'merges', outbox, now: deps.now() });
  }

  /** Journey, aggregates and care-plan progress for these patients, from their stored facts. */
  async function deriveJourneys(
    patientIds: readonly string[],
    refs: Pick<References, 'businessTimeZones' | 'names'>,
    runId: string,
    counter: RunCounter,
  ) {
    const ids = [...patientIds].sort();
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const facts = await deps.store.listFacts(chunk);
      const byPatient = new Map<string, FactInput[]>();
      for (const f of facts) byPatient.set(f.patientId, [...(byPatient.get(f.patientId) ?? []), f]);
      const candidates: PayloadCandidate[] = [];
      const states: Array<{ patientId: string; state: string }> = [];
      for (const patientId of chunk) {
        const previous = await deps.store.getJourneyState(patientId);
        const kinds = factsByKind(byPatient.get(patientId) ?? []);
        let result;
        try {
          result = evaluateJourney(
            {
              patientId,
              ...kinds,
              businessTimeZones: refs.businessTimeZones,
              fallbackTimeZone: deps.clinicTimezone,
              previousState: previous ? (JSON.parse(previous.state) as JourneyState) : null,
              now: new Date(deps.now()).toISOString(),
            },
            deps.journeyConfig,
          );
        } catch (err) {
          counter.add('journey', 'quarantined');
          log.warn(
            { patientId, err: err instanceof Error ? err.message : 'invalid input' },
            'journey input rejected',
          );
          continue;
        }
        candidates.push({
          object: 'Contact',
          key: `${patientId}#journey`,
          fields: allowDerived('Contact', 'Cliniko_Patient_Id__c', {
            ...result.contact,
            Home_Clinic__c: homeClinicOf(kinds.appointments, refs.names),
          }),
          operation: 'upsert',
        });
        for (const plan of result.carePlans) {
          candidates.push({
            object: 'Care_Plan__c',
            key: `${plan.Cliniko_Case_Id__c}#progress`,
            fields: allowDerived('Care_Plan__c', 'Cliniko_Case_Id__c', { ...plan }),
            operation: 'upsert',
          });
        }
        for (const t of result.transitions) {
          candidates.push({
            object: 'Journey_Transition__c',
            key: t.Transition_Key__c,
            fields: allowDerived('Journey_Transition__c', 'Transition_Key__c', { ...t }),
            operation: 'upsert',
          });
        }
        for (const e of result.events) {
          candidates.push({
            object: JOURNEY_EVENT,
            key: e.Transition_Key__c,
            fields: { ...e },
            operation: 'publish',
          });
        }
        states.push({ patientId, state: JSON.stringify(result.state) });
      }
      const outbox = await changed(candidates, runId, counter);
      // The fired transitions and the state that remembers them commit together: never twice, never lost.
      await deps.store.commitBatch({ stream: 'journey', outbox, journeyStates: states, now: deps.now() });
    }
  }

  async function finish(
    runId: string,
    mode: RunSummary['mode'],
    started: number,
    counter: RunCounter,
    error: string | null,
    before: { clinikoRequests: number; salesforceCalls: number; wallMs: number },
  ): Promise<RunSummary> {
    let drain: DrainResult | null = null;
    if (error === null) {
      // A drain that throws (the store unreachable mid-write) fails the run; it must still be finished
      // below, or it would show as running forever. Its items stay in the outbox for the next drain.
      try {
        drain = await deps.worker.drain();
        for (const [object, n] of Object.entries(drain.writtenByObject)) counter.add(object, 'written', n);
        for (const [object, n] of Object.entries(drain.deadLetteredByObject))
          counter.add(object, 'deadLettered', n);
      } catch (err) {
        error =
          err instanceof SyncError
            ? `${err.code}: ${err.message}`
            : err instanceof Error
              ? err.message
              : 'unknown error';
        log.error({ runId, err }, 'outbox drain failed');
      }
    }
    const status: RunSummary['status'] =
      error !== null
        ? 'failed'
        : drain && (drain.deadLettered > 0 || drain.pending > 0)
          ? 'partial'
          : 'succeeded';
    const finished = deps.now();
    const counts = counter.byObject();
    const syncRunMode: SyncRunMode =
      mode === 'backfill' ? 'backfill' : mode === 'journey-daily' ? 'reconcile' : 'incremental';
    const summaryPayload = buildSyncRunPayload({
      runId,
      mode: syncRunMode,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      failed: error !== null,
      counts,
      dataMapSha256: deps.dataMapHash,
    });
    // A run that changed nothing is kept in the local run history (GET /runs) but not sent to
    // Salesforce: an idle clinic would otherwise add a Sync_Run__c every minute.
    const changedSomething =
      error !== null || Object.values(counts).some((c) => c.written + c.quarantined + c.deadLettered > 0);
    if (changedSomething) {
      await deps.store.commitBatch({
        stream: 'runs',
        outbox: [
          {
            object: 'Sync_Run__c',
            externalId: runId,
            operation: 'upsert',
            payload: JSON.stringify(summaryPayload),
            payloadHash: payloadSha256(summaryPayload),
            runId,
            priority: PRIORITY.Sync_Run__c ?? 90,
          },
        ],
        now: finished,
      });
      await deps.worker.drain().catch((err: unknown) => log.warn({ err }, 'run summary not written yet'));
    }
    await deps.store.finishRun({
      id: runId,
      status,
      finishedAt: finished,
      counts: JSON.stringify(counts),
      error,
    });
    const summary: RunSummary = {
      runId,
      mode,
      status,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      counts,
      drain,
      clinikoRequests: deps.cliniko.stats().requests - before.clinikoRequests,
      salesforceCalls: (deps.salesforceCalls?.() ?? 0) - before.salesforceCalls,
      durationMs: Math.round(performance.now() - before.wallMs),
      error,
    };
    log.info({ runId, mode, status, counts, clinikoRequests: summary.clinikoRequests }, 'run finished');
    return summary;
  }

  function snapshot() {
    return {
      clinikoRequests: deps.cliniko.stats().requests,
      salesforceCalls: deps.salesforceCalls?.() ?? 0,
      wallMs: performance.now(),
    };
  }

  /** Runs `work` under the cycle lease on PostgreSQL; undefined when another instance holds it. */
  async function exclusive(
    work: (lease: string | undefined) => Promise<RunSummary>,
  ): Promise<RunSummary | undefined> {
    if (deps.store.kind !== 'postgres') return work(undefined);
    if (!(await deps.store.acquireLease(CYCLE_LEASE, deps.worker.owner, LEASE_MS, Date.now()))) {
      log.info({}, 'another instance is running a cycle; this one waits for the next');
      return undefined;
    }
    try {
      return await work(CYCLE_LEASE);
    } finally {
      await deps.store.releaseLease(CYCLE_LEASE, deps.worker.owner);
    }
  }

  function skipped(mode: RunSummary['mode']): RunSummary {
    const at = new Date(deps.now()).toISOString();
    return {
      runId: '-',
      mode,
      status: 'skipped',
      startedAt: at,
      finishedAt: at,
      counts: {},
      drain: null,
      clinikoRequests: 0,
      salesforceCalls: 0,
      durationMs: 0,
      error: null,
    };
  }

  /** One full cycle: streams, derivations, outbox drain, run record. Skipped while another instance runs one. */
  async function runCycle(mode: CycleMode): Promise<RunSummary> {
    return (await exclusive((lease) => cycle(mode, lease))) ?? skipped(mode);
  }

  async function cycle(mode: CycleMode, lease: string | undefined): Promise<RunSummary> {
    const runId = `run-${new Date(deps.now())
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    const started = deps.now();
    const counter = new RunCounter();
    const before = snapshot();
    await deps.store.startRun({
      id: runId,
      mode: mode,
      startedAt: started,
      dataMapHash: deps.dataMapHash,
    });
    let error: string | null = null;
    try {
      const refs = await loadReferences();
      const affected = new Set<string>();
      const merges = { survivors: new Map<string, string | null>(), discovered: new Map<string, string>() };
      for (const stream of DATA_STREAMS) {
        await readStream(stream, mode, refs, runId, counter, affected, lease, merges);
      }
      await reparentMerged(merges.discovered, runId, counter);
      await deriveJourneys([...affected], refs, runId, counter);
    } catch (err) {
      error =
        err instanceof SyncError
          ? `${err.code}: ${err.message}`
          : err instanceof Error
            ? err.message
            : 'unknown error';
      log.error({ runId, err }, 'run failed');
    }
    return finish(runId, mode, started, counter, error, before);
  }

  /**
   * The daily pass: time-based triggers (drop-off risk, lapsed, lead nurture, maintenance) for every
   * patient with history, not only those that changed. Each occurrence fires once (the journey state
   * remembers it).
   */
  async function runJourneyDaily(): Promise<RunSummary> {
    return (await exclusive(() => journeyDaily())) ?? skipped('journey-daily');
  }

  async function journeyDaily(): Promise<RunSummary> {
    const runId = `journey-${new Date(deps.now()).toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
    const started = deps.now();
    const counter = new RunCounter();
    const before = snapshot();
    await deps.store.startRun({
      id: runId,
      mode: 'journey-daily',
      startedAt: started,
      dataMapHash: deps.dataMapHash,
    });
    let error: string | null = null;
    try {
      const refs = await loadReferences();
      await deriveJourneys(await deps.store.listFactPatientIds(), refs, runId, counter);
    } catch (err) {
      error = err instanceof Error ? err.message : 'unknown error';
      log.error({ runId, err }, 'daily journey pass failed');
    }
    return finish(runId, 'journey-daily', started, counter, error, before);
  }

  return { runCycle, runJourneyDaily };
}

export type SyncRunner = ReturnType<typeof createSyncRunner>;

/** The clinic of the patient's latest appointment (by start), by its business display name. */
function homeClinicOf(
  appointments: ReadonlyArray<{ starts_at: string; business_id?: string | null; deleted_at?: string | null }>,
  names: { readonly businesses: ReadonlyMap<string, string> },
): string | null {
  let latest: { starts_at: string; business_id?: string | null } | undefined;
  for (const a of appointments) {
    if (a.deleted_at || !a.business_id) continue;
    if (!latest || a.starts_at > latest.starts_at) latest = a;
  }
  return latest?.business_id ? (names.businesses.get(latest.business_id) ?? null) : null;
}

function toQuarantine(item: ClinikoQuarantine, runId: string): QuarantineInput {
  return {
    resource: item.resource,
    recordId: item.id,
    field: item.field,
    reason: item.reason,
    // The stream already dropped the invalid record's value; keep what identifies it for replay.
    payload: JSON.stringify({ resource: item.resource, id: item.id, updated_at: item.updatedAt ?? null }),
    runId,
  };
}
