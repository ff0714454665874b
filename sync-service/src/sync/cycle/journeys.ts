import type { RunCounter } from '../../governance/sync-run.js';
import { evaluateJourney, type JourneyState } from '../../journey/index.js';
import {
  appliesCallsInOrder,
  type BatchCommit,
  type FactInput,
  type JourneyChunk,
  type JourneyStateRow,
} from '../../store/index.js';
import { letLoopThrough } from '../../loop.js';
import { JOURNEY_EVENT } from '../objects.js';
import type { PayloadCandidate } from '../payloads.js';
import { changedItems } from './changes.js';
import type { CycleContext } from './context.js';
import { factsByKind } from './facts.js';
import type { References } from './references.js';
import { slotKey } from '../outbox/keys.js';

type JourneyRefs = Pick<References, 'businessTimeZones' | 'names'>;
type JourneyResult = ReturnType<typeof evaluateJourney>;
type Kinds = ReturnType<typeof factsByKind>;

const CHUNK = 200;

/**
 * Which patients: those the streams queued (the store's `journey_due`, each chunk leaving the queue in
 * the transaction that commits its journeys), or every patient with facts (the daily pass).
 */
export type JourneySource = 'queued' | 'all';

/**
 * Journey, aggregates and care-plan progress for the source's patients, from their stored facts, in
 * keyset pages of CHUNK (issue #16: memory bounded by the page, never by the practice).
 */
export async function deriveJourneys(
  ctx: CycleContext,
  source: JourneySource,
  refs: JourneyRefs,
  runId: string,
  counter: RunCounter,
): Promise<void> {
  const { store } = ctx.deps;
  const dequeue = source === 'queued';
  // One call a chunk: its patients, their facts and states (Store.readJourneyChunk).
  const read = async (after: string | null): Promise<ChunkInputs> =>
    byPatient(await store.readJourneyChunk(source, after, CHUNK));
  const inOrder = appliesCallsInOrder(store);
  let committing: Promise<void> = Promise.resolve();
  // A chunk is sent only once the one before it is durable: a failed commit ends the pass.
  const commit = async (derived: Derived): Promise<void> => {
    const batch = await derived.batch;
    await committing;
    committing = store.commitBatch({
      ...batch,
      // A patient the engine rejected leaves the queue too: its input is logged, and it is derived
      // again when its facts next change or by the daily pass.
      ...(dequeue ? { journeyDone: derived.chunk } : {}),
    });
    committing.catch(() => undefined);
    // PostgreSQL: the commit before the next chunk's change checks (store/index.ts).
    if (!inOrder) await committing;
  };
  let next: Promise<ChunkInputs> = read(null);
  // The chunk derived last, whose change checks may still be with the store: on SQLite it is committed
  // once the next chunk is derived (issue #16), so that the service's thread evaluates that chunk while
  // the store's thread answers this one's checks, instead of each waiting for the other in turn. No
  // chunk's checks read what another writes: each holds other patients, and every key it checks
  // (Contact, care plans, transitions, events) is one of its own patients'.
  let derived: Derived | undefined;
  try {
    for (;;) {
      const inputs = await next;
      const ended = inputs.chunk.length === 0;
      let current: Derived | undefined;
      if (!ended) {
        // The next chunk is read while this one is derived and committed (issue #16): its patients,
        // facts and states are not touched by this chunk's commit (it dequeues and writes this chunk's).
        next = read(inputs.chunk[inputs.chunk.length - 1]!);
        next.catch(() => undefined);
        current = { chunk: inputs.chunk, batch: deriveChunk(ctx, inputs, refs, runId, counter) };
        current.batch.catch(() => undefined);
      }
      // `derived` names the chunk in hand before the commit before it, so a failed commit leaves it
      // awaited on the way out (finally) like the chunk read ahead.
      const previous = derived;
      derived = current;
      if (previous) await commit(previous);
      if (derived && !inOrder) {
        await commit(derived);
        derived = undefined;
      }
      if (ended) break;
      await letLoopThrough();
    }
  } finally {
    await next.catch(() => undefined);
    await derived?.batch.catch(() => undefined);
  }
  await committing;
}

/** A chunk's patients and the batch its journeys make (its change checks asked for). */
interface Derived {
  readonly chunk: readonly string[];
  readonly batch: Promise<BatchCommit>;
}

interface ChunkInputs {
  readonly chunk: readonly string[];
  readonly facts: ReadonlyMap<string, FactInput[]>;
  readonly states: ReadonlyArray<JourneyStateRow | undefined>;
}

/** A chunk's stored facts, by patient, and each patient's journey state, in the chunk's order. */
function byPatient(read: JourneyChunk): ChunkInputs {
  const chunk = read.patientIds;
  const byId = new Map(read.states.map((row) => [row.patientId, row]));
  const states = chunk.map((patientId) => byId.get(patientId));
  const facts = new Map<string, FactInput[]>();
  for (const f of read.facts) {
    const list = facts.get(f.patientId);
    if (list) list.push(f);
    else facts.set(f.patientId, [f]);
  }
  return { chunk, facts, states };
}

async function deriveChunk(
  ctx: CycleContext,
  inputs: ChunkInputs,
  refs: JourneyRefs,
  runId: string,
  counter: RunCounter,
): Promise<BatchCommit> {
  const candidates: PayloadCandidate[] = [];
  const states: Array<{ patientId: string; state: string }> = [];
  inputs.chunk.forEach((patientId, i) => {
    const kinds = factsByKind(inputs.facts.get(patientId) ?? []);
    const result = evaluatePatient(ctx, patientId, kinds, refs, inputs.states[i]);
    if (!result) {
      counter.add('journey', 'quarantined');
      return;
    }
    candidates.push(...journeyCandidates(ctx, patientId, result, kinds, refs));
    states.push({ patientId, state: JSON.stringify(result.state) });
  });
  const outbox = await changedItems(ctx, candidates, runId, counter);
  // The fired transitions and the state that remembers them commit together: never twice, never lost.
  return { stream: 'journey', outbox, journeyStates: states, now: ctx.deps.now() };
}

/** The journey engine's verdict for one patient; undefined (logged, no value) when it rejects the input. */
function evaluatePatient(
  ctx: CycleContext,
  patientId: string,
  kinds: Kinds,
  refs: JourneyRefs,
  previous: JourneyStateRow | undefined,
): JourneyResult | undefined {
  const { deps } = ctx;
  try {
    return evaluateJourney(
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
    ctx.log.warn(
      { patientId, err: err instanceof Error ? err.message : 'invalid input' },
      'journey input rejected',
    );
    return undefined;
  }
}

/**
 * The payloads one patient's journey produces. Fields the service computes reach Salesforce only if the
 * signed map lists them under `derived`: the same allow-list rule as for copied fields.
 */
function journeyCandidates(
  ctx: CycleContext,
  patientId: string,
  result: JourneyResult,
  kinds: Kinds,
  refs: JourneyRefs,
): PayloadCandidate[] {
  const allow = (object: string, keyField: string, fields: Record<string, unknown>) =>
    ctx.rules.allowDerived(object, keyField, fields);
  const out: PayloadCandidate[] = [
    {
      object: 'Contact',
      key: slotKey('Contact', patientId, 'journey'),
      fields: allow('Contact', 'Cliniko_Patient_Id__c', {
        ...result.contact,
        Home_Clinic__c: homeClinicOf(kinds.appointments, refs.names),
      }),
      operation: 'upsert',
    },
  ];
  for (const plan of result.carePlans) {
    out.push({
      object: 'Care_Plan__c',
      key: slotKey('Care_Plan__c', plan.Cliniko_Case_Id__c, 'progress'),
      fields: allow('Care_Plan__c', 'Cliniko_Case_Id__c', { ...plan }),
      operation: 'upsert',
    });
  }
  for (const t of result.transitions) {
    out.push({
      object: 'Journey_Transition__c',
      key: t.Transition_Key__c,
      fields: allow('Journey_Transition__c', 'Transition_Key__c', { ...t }),
      operation: 'upsert',
    });
  }
  for (const e of result.events) {
    out.push({ object: JOURNEY_EVENT, key: e.Transition_Key__c, fields: { ...e }, operation: 'publish' });
  }
  return out;
}

/** The clinic of the patient's latest appointment (by start), by its business display name. */
export function homeClinicOf(
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
