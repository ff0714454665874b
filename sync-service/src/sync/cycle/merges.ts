import type { RunCounter } from '../../governance/sync-run.js';
import { CHILD_OBJECTS, UPSERT_KEYS } from '../objects.js';
import { storedSurvivors } from '../common/merges.js';
import { patientRefOf, type PayloadCandidate } from '../payloads.js';
import { changedItems } from './changes.js';
import type { CycleContext } from './context.js';
import { slotKey } from '../outbox/keys.js';

/*
 * Merged patients: Cliniko archives the merged-away patient and links it to the survivor. Children that
 * still point at the merged patient (Cliniko moves appointments and cases, but a child it leaves behind
 * would otherwise stay on a Contact that is out of every campaign) are written against the survivor
 * (CHILD_OBJECTS, sync/objects.ts). Known merges are kept as facts (`merged-patient`), so they survive
 * restarts.
 */

/** Fills `cache` with the survivor (or null) of every patient id not looked up yet. */
async function survivorsOf(
  ctx: CycleContext,
  patientIds: Iterable<string>,
  cache: Map<string, string | null>,
): Promise<void> {
  const unknown = [...new Set(patientIds)].filter((id) => !cache.has(id));
  if (unknown.length === 0) return;
  const found = await storedSurvivors(ctx.deps.store, unknown);
  for (const id of unknown) cache.set(id, found.get(id) ?? null);
}

/** Points every child payload whose patient was merged away at the survivor (in place). */
export async function pointChildrenAtSurvivors(
  ctx: CycleContext,
  pending: readonly PayloadCandidate[],
  survivors: Map<string, string | null>,
): Promise<void> {
  const childRefs = pending.filter((p) => p.object !== 'Contact').map((p) => patientRefOf(p.fields));
  await survivorsOf(
    ctx,
    childRefs.filter((id): id is string => id !== undefined),
    survivors,
  );
  for (const p of pending) {
    const survivor = p.object === 'Contact' ? undefined : survivors.get(patientRefOf(p.fields) ?? '');
    if (survivor) p.fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
  }
}

/**
 * After a merge, children Cliniko left on the merged-away patient (their facts still name it, because
 * they were not re-read with a new patient) are pointed at the survivor through a `#parent` slot.
 */
export async function reparentMerged(
  ctx: CycleContext,
  discovered: ReadonlyMap<string, string>,
  runId: string,
  counter: RunCounter,
): Promise<void> {
  if (discovered.size === 0) return;
  const candidates: PayloadCandidate[] = [];
  for (const fact of await ctx.deps.store.listFacts([...discovered.keys()])) {
    const object = CHILD_OBJECTS[fact.resource];
    const survivor = discovered.get(fact.patientId);
    const keyField = object ? UPSERT_KEYS[object] : undefined;
    if (!object || !survivor || !keyField) continue;
    candidates.push({
      object,
      key: slotKey(object, fact.id, 'parent'),
      fields: { [keyField]: fact.id, Contact__r: { Cliniko_Patient_Id__c: survivor } },
      operation: 'upsert',
    });
  }
  const outbox = await changedItems(ctx, candidates, runId, counter);
  await ctx.deps.store.commitBatch({ stream: 'merges', outbox, now: ctx.deps.now() });
}
