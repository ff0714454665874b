import type { RunCounter } from '../../governance/sync-run.js';
import { evaluateJourney, type JourneyState } from '../../journey/index.js';
import type { FactInput } from '../../store/index.js';
import { letLoopThrough } from '../common/loop.js';
import { JOURNEY_EVENT } from '../objects.js';
import type { PayloadCandidate } from '../payloads.js';
import { changedItems } from './changes.js';
import type { CycleContext } from './context.js';
import { factsByKind } from './facts.js';
import type { References } from './references.js';

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
  let after: string | null = null;
  for (;;) {
    const chunk: string[] = dequeue
      ? await store.listJourneyDue(after, CHUNK)
      : await store.listFactPatientIds(after, CHUNK);
    if (chunk.length === 0) return;
    await deriveChunk(ctx, chunk, refs, runId, counter, dequeue);
    after = chunk[chunk.length - 1]!;
    await letLoopThrough();
  }
}

async function deriveChunk(
  ctx: CycleContext,
  chunk: readonly string[],
  refs: JourneyRefs,
  runId: string,
  counter: RunCounter,
  dequeue: boolean,
): Promise<void> {
  const byPatient = new Map<string, FactInput[]>();
  for (const f of await ctx.deps.store.listFacts([...chunk])) {
    const facts = byPatient.get(f.patientId);
    if (facts) facts.push(f);
    else byPatient.set(f.patientId, [f]);
  }
  const candidates: PayloadCandidate[] = [];
  const states: Array<{ patientId: string; state: string }> = [];
  for (const patientId of chunk) {
    const kinds = factsByKind(byPatient.get(patientId) ?? []);
    const result = await evaluatePatient(ctx, patientId, kinds, refs);
    if (!result) {
      counter.add('journey', 'quarantined');
      continue;
    }
    candidates.push(...journeyCandidates(ctx, patientId, result, kinds, refs));
    states.push({ patientId, state: JSON.stringify(result.state) });
  }
  const outbox = await changedItems(ctx, candidates, runId, counter);
  // The fired transitions and the state that remembers them commit together: never twice, never lost.
  await ctx.deps.store.commitBatch({
    stream: 'journey',
    outbox,
    journeyStates: states,
    // A patient the engine rejected leaves the queue too: its input is logged, and it is derived again
    // when its facts next change or by the daily pass.
    ...(dequeue ? { journeyDone: chunk } : {}),
    now: ctx.deps.now(),
  });
}

/** The journey engine's verdict for one patient; undefined (logged, no value) when it rejects the input. */
async function evaluatePatient(
  ctx: CycleContext,
  patientId: string,
  kinds: Kinds,
  refs: JourneyRefs,
): Promise<JourneyResult | undefined> {
  const { deps } = ctx;
  const previous = await deps.store.getJourneyState(patientId);
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
      key: `${patientId}#journey`,
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
      key: `${plan.Cliniko_Case_Id__c}#progress`,
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
