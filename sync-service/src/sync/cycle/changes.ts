import type { RunCounter } from '../../governance/sync-run.js';
import type { OutboxInput } from '../../store/index.js';
import { parentKeyOf, patientOfParentKey } from '../common/parents.js';
import type { PayloadCandidate } from '../payloads.js';
import type { CycleContext } from './context.js';

/**
 * Change detection: outbox items for the payloads whose hash differs from what was last written.
 * A payload equal to the record's last written state is counted `skipped`, unless a different payload
 * for the same key is still queued (a change since reverted while it waited for a retry would otherwise
 * be written after, and win) or an open dead letter holds a different one (written again, so the record
 * has a write newer than the letter and a replay of it is dropped instead of restoring the older value).
 *
 * Dependants of a patient whose Contact is unwritten because the patient is quarantined or dead-lettered
 * are queued blocked by that Contact (`Contact:123`): they wait, unclaimed, until it is written
 * (sync/common/parents.ts), unless the patient's own Contact is among these candidates.
 */
export async function changedItems(
  ctx: CycleContext,
  candidates: readonly PayloadCandidate[],
  runId: string,
  counter: RunCounter,
): Promise<OutboxInput[]> {
  const { store } = ctx.deps;
  const byObject = new Map<string, PayloadCandidate[]>();
  for (const c of candidates) {
    const list = byObject.get(c.object);
    if (list) list.push(c);
    else byObject.set(c.object, [c]);
  }
  // Every look-up is asked for at once (issue #16): none depends on another's answer, and each one
  // asked after the last was answered was a round trip to the store's thread, waiting behind the
  // commit before it, for every page. The failed patients are looked up for every candidate's parent:
  // those of unchanged candidates are asked about too, and never used.
  const lookups = [...byObject].map(([object, list]) => {
    const keys = list.map((c) => c.key);
    return Promise.all([
      store.getRecordStates(object, keys),
      store.pendingPayloadHashes(object, keys),
      store.openDeadLetterHashes(object, keys),
    ]);
  });
  const parents = dependants(candidates);
  const failing = failedParents(ctx, candidates, parents);
  // Observed now: awaited below, after the look-ups before it (a rejection is never left unhandled).
  failing.catch(() => undefined);
  const answering = Promise.all(lookups);
  answering.catch(() => undefined);
  // Each payload is stamped and hashed while the store's thread answers (issue #16): the hashing held
  // the service's thread after the answers came, and the store's thread waited for the next call.
  const stamped = [...byObject.values()].map((list) => list.map((c) => ctx.rules.outboxItem(c, runId)));
  const answers = await answering;
  const out: OutboxInput[] = [];
  const parentOf = new Map<OutboxInput, string>();
  let index = 0;
  for (const [object, list] of byObject) {
    const items = stamped[index]!;
    const [states, queued, dead] = answers[index++]!;
    for (const [i, c] of list.entries()) {
      const item = items[i]!;
      const waiting = queued.get(c.key);
      const failed = dead.get(c.key);
      if (
        states.get(c.key)?.payloadHash === item.payloadHash &&
        (waiting === undefined || waiting === item.payloadHash) &&
        (failed === undefined || failed === item.payloadHash)
      ) {
        counter.add(object, 'skipped');
        continue;
      }
      const parent = parents.get(c);
      if (parent !== undefined) parentOf.set(item, parent);
      out.push(item);
    }
  }
  return blockDependants(out, parentOf, await failing);
}

/** The parent key of each candidate that has one (the payload's own fields, before it is stamped). */
function dependants(candidates: readonly PayloadCandidate[]): Map<PayloadCandidate, string> {
  const parents = new Map<PayloadCandidate, string>();
  for (const c of candidates) {
    const parent = parentKeyOf(c.object, c.key, c.fields);
    if (parent !== null) parents.set(c, parent);
  }
  return parents;
}

/** Of the patients these parents name, those whose Contact is unwritten (quarantined or dead-lettered). */
async function failedParents(
  ctx: CycleContext,
  candidates: readonly PayloadCandidate[],
  parents: ReadonlyMap<PayloadCandidate, string>,
): Promise<ReadonlySet<string>> {
  // A patient whose own Contact is being queued now is not blocking anything.
  const queuedNow = new Set<string>();
  for (const c of candidates) if (c.object === 'Contact' && !c.key.includes('#')) queuedNow.add(c.key);
  const patients = new Set<string>();
  for (const parent of parents.values()) {
    const patient = patientOfParentKey(parent);
    if (patient !== null && !queuedNow.has(patient)) patients.add(patient);
  }
  return patients.size === 0 ? new Set() : ctx.deps.store.unwrittenFailedPatients([...patients]);
}

function blockDependants(
  items: OutboxInput[],
  parentOf: ReadonlyMap<OutboxInput, string>,
  failed: ReadonlySet<string>,
): OutboxInput[] {
  if (failed.size === 0) return items;
  return items.map((item) => {
    const parent = parentOf.get(item);
    const patient = parent === undefined ? null : patientOfParentKey(parent);
    return patient !== null && failed.has(patient) ? { ...item, blockedBy: parent } : item;
  });
}
