import type { RunCounter } from '../../governance/sync-run.js';
import type { OutboxInput } from '../../store/index.js';
import type { PayloadCandidate } from '../payloads.js';
import type { CycleContext } from './context.js';

/**
 * Change detection: outbox items for the payloads whose hash differs from what was last written.
 * A payload equal to the record's last written state is counted `skipped`, unless a different payload
 * for the same key is still queued (a change since reverted while it waited for a retry would otherwise
 * be written after, and win).
 */
export async function changedItems(
  ctx: CycleContext,
  candidates: readonly PayloadCandidate[],
  runId: string,
  counter: RunCounter,
): Promise<OutboxInput[]> {
  const byObject = new Map<string, PayloadCandidate[]>();
  for (const c of candidates) byObject.set(c.object, [...(byObject.get(c.object) ?? []), c]);
  const out: OutboxInput[] = [];
  for (const [object, list] of byObject) {
    const keys = list.map((c) => c.key);
    const states = await ctx.deps.store.getRecordStates(object, keys);
    const queued = await ctx.deps.store.pendingPayloadHashes(object, keys);
    for (const c of list) {
      const item = ctx.rules.outboxItem(c, runId);
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
