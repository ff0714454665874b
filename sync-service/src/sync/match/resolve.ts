import type { AuditOperation } from '../../governance/audit.js';
import type { ContactHold, Store } from '../../store/index.js';
import { appendEntry } from '../common/audit-log.js';

/**
 * An admin's answer to a hold (issue #19): `matches resolve` and `contacts restore`. Resolving releases
 * the patient's parked outbox items; the next drain writes them under the answer (matcher.ts reads it):
 * - a review, `link <Salesforce id>` (one of the candidates): that Contact gets the patient's id, then
 *   the upsert updates it; `create`: a new Contact is created (the admin judged none is the patient);
 * - a deleted Contact, `restore`: the stored state of the patient's Contact is forgotten so it is
 *   written again (a reconciliation or the patient's next change re-sends it) and created anew.
 */
export type Resolution = { readonly link: string } | 'create' | 'restore';

export type ResolveOutcome =
  { readonly ok: true; readonly hold: ContactHold } | { readonly ok: false; readonly reason: string };

/** The Contact keys of a patient: its base record and the journey slots written onto it. */
export const contactKeysOf = (patientId: string): string[] => [
  patientId,
  `${patientId}#journey`,
  `${patientId}#progress`,
];

export async function resolveHold(
  store: Store,
  patientId: string,
  answer: Resolution,
  context: { actor: string; now: number; runId: string },
): Promise<ResolveOutcome> {
  const [hold] = await store.listContactHolds({ patientIds: [patientId], open: true });
  if (!hold) return { ok: false, reason: `patient ${patientId} has no open hold` };
  const restoring = answer === 'restore';
  if (restoring !== (hold.kind === 'deleted')) {
    return {
      ok: false,
      reason:
        hold.kind === 'deleted'
          ? `patient ${patientId}: its Contact was deleted in Salesforce; use contacts restore`
          : `patient ${patientId} is in match review; choose --link <id> or --create`,
    };
  }
  if (typeof answer === 'object' && !hold.candidates.some((c) => sameId(c, answer.link))) {
    return { ok: false, reason: `${answer.link} is not one of the candidates of patient ${patientId}` };
  }
  const resolution = typeof answer === 'object' ? `link:${answer.link}` : answer;
  const operation: AuditOperation = restoring ? 'contact-restore' : 'match-resolve';
  const done = await store.resolveContactHold(
    patientId,
    { resolution, by: context.actor, ...(restoring ? { forget: contactKeysOf(patientId) } : {}) },
    appendEntry(
      {
        timestamp: new Date(context.now).toISOString(),
        actor: context.actor,
        sourceSystem: 'sync-service',
        object: 'Contact',
        externalId: patientId,
        salesforceId: typeof answer === 'object' ? answer.link : null,
        patientId,
        operation,
        changedFields: [],
        payload: { resolution },
        runId: context.runId,
      },
      context.now,
    ),
    context.now,
  );
  return done ? { ok: true, hold: done } : { ok: false, reason: `patient ${patientId} has no open hold` };
}

/** Salesforce ids compare on their case-sensitive 15-character form. */
function sameId(a: string, b: string): boolean {
  return a.length >= 15 && b.length >= 15 && a.slice(0, 15) === b.slice(0, 15);
}
