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
  const byObject = new Map<string, PayloadCandidate[]>();
  for (const c of candidates) {
    const list = byObject.get(c.object);
    if (list) list.push(c);
    else byObject.set(c.object, [c]);
  }
  const out: OutboxInput[] = [];
  for (const [object, list] of byObject) {
    const keys = list.map((c) => c.key);
    const states = await ctx.deps.store.getRecordStates(object, keys);
    const queued = await ctx.deps.store.pendingPayloadHashes(object, keys);
    const dead = await ctx.deps.store.openDeadLetterHashes(object, keys);
    for (const c of list) {
      const item = ctx.rules.outboxItem(c, runId);
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
      out.push(item);
    }
  }
  return blockDependants(ctx, candidates, out);
}

async function blockDependants(
  ctx: CycleContext,
  candidates: readonly PayloadCandidate[],
  items: OutboxInput[],
): Promise<OutboxInput[]> {
  const parentOf = new Map<OutboxInput, string>();
  for (const item of items) {
    const parent = parentKeyOf(
      item.object,
      item.externalId,
      JSON.parse(item.payload) as Record<string, unknown>,
    );
    if (parent !== null) parentOf.set(item, parent);
  }
  if (parentOf.size === 0) return items;
  // A patient whose own Contact is being queued now is not blocking anything.
  const queuedNow = new Set(
    candidates.filter((c) => c.object === 'Contact' && !c.key.includes('#')).map((c) => c.key),
  );
  const patients = [...new Set([...parentOf.values()].map(patientOfParentKey))].filter(
    (p): p is string => p !== null && !queuedNow.has(p),
  );
  const failed = await ctx.deps.store.unwrittenFailedPatients(patients);
  if (failed.size === 0) return items;
  return items.map((item) => {
    const parent = parentOf.get(item);
    const patient = parent === undefined ? null : patientOfParentKey(parent);
    return patient !== null && failed.has(patient) ? { ...item, blockedBy: parent } : item;
  });
}
