import type { Store } from '../../store/index.js';
import { findGoneContacts, holdGoneContact } from './deleted.js';
import type { MatchSalesforce } from './salesforce.js';

/**
 * The reconciliation's part of issue #19, item 5: of the Contacts it found missing in Salesforce, those
 * the sync had written (it holds their Id) are looked up by Id; deleted ones are held and reported,
 * never re-created; patients already held (deleted, or in match review) are left alone as well.
 * Returns the patients whose Contact must not be re-sent, and how many were newly found deleted.
 */
export async function contactsNotToRecreate(
  store: Store,
  salesforce: MatchSalesforce,
  missing: readonly string[],
  context: { runId: string; now: number },
): Promise<{ skip: Set<string>; deleted: number; alreadyHeld: number; unlinked: number }> {
  const out = { skip: new Set<string>(), deleted: 0, alreadyHeld: 0, unlinked: 0 };
  if (missing.length === 0) return out;
  for (const hold of await store.listContactHolds({ patientIds: missing, open: true })) {
    out.skip.add(hold.patientId);
    out.alreadyHeld += 1;
  }
  const states = await store.getRecordStates(
    'Contact',
    missing.filter((p) => !out.skip.has(p)),
  );
  const known = [...states.values()].flatMap((s) =>
    s.salesforceId ? [{ patientId: s.externalId, salesforceId: s.salesforceId }] : [],
  );
  for (const gone of await findGoneContacts(salesforce, known)) {
    await holdGoneContact(store, gone, { runId: context.runId, actor: 'reconcile', now: context.now });
    out.skip.add(gone.patientId);
    if (gone.kind === 'deleted') out.deleted += 1;
    else out.unlinked += 1;
  }
  return out;
}
