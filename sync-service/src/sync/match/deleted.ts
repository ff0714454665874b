import type { Store } from '../../store/index.js';
import { appendEntry } from '../common/audit-log.js';
import type { MatchSalesforce } from './salesforce.js';

/**
 * Respecting deletions in Salesforce (issue #19, item 5). An upsert by external id never finds a deleted
 * Contact (it is in the recycle bin, or purged), so writing a patient whose Contact an admin deleted
 * would silently create a new one. Before that can happen, the Contacts the sync holds an Id for are
 * looked up by Id with `queryAll` (deleted rows included):
 * - deleted (IsDeleted) or gone (purged) -> the patient is held as `deleted`, audited `contact-deleted`;
 * - alive but no longer carrying the patient's id (someone cleared or changed `Cliniko_Patient_Id__c`)
 *   -> held for `review` with that Contact as the one candidate: an upsert would create a duplicate.
 * Held patients are not written (the outbox worker parks their items) until an admin restores them
 * (`npm run sync -- contacts restore <patientId>`) or resolves the review.
 */
export interface GoneContact {
  readonly patientId: string;
  readonly salesforceId: string;
  readonly kind: 'deleted' | 'unlinked';
}

/** Of these patients' stored Contact ids, the ones Salesforce no longer holds under that patient. */
export async function findGoneContacts(
  salesforce: MatchSalesforce,
  known: ReadonlyArray<{ patientId: string; salesforceId: string }>,
): Promise<GoneContact[]> {
  if (known.length === 0) return [];
  const rows = await salesforce.contactsById(known.map((k) => k.salesforceId));
  // Salesforce answers 18-character ids; the store may hold either form.
  const byId = new Map(rows.map((r) => [r.id.slice(0, 15), r]));
  const gone: GoneContact[] = [];
  for (const k of known) {
    const row = byId.get(k.salesforceId.slice(0, 15));
    if (row === undefined || row.deleted) gone.push({ ...k, kind: 'deleted' });
    else if (row.externalId !== k.patientId) gone.push({ ...k, kind: 'unlinked' });
  }
  return gone;
}

/** Opens the hold for each gone Contact (audited once per hold), optionally parking an outbox item. */
export async function holdGoneContact(
  store: Store,
  gone: GoneContact,
  context: { runId: string; actor: string; now: number; block?: { outboxId: string; payloadHash: string } },
): Promise<boolean> {
  const deleted = gone.kind === 'deleted';
  return store.holdContact(
    {
      patientId: gone.patientId,
      kind: deleted ? 'deleted' : 'review',
      object: 'Contact',
      candidates: [gone.salesforceId],
      reason: deleted
        ? 'the Contact was deleted in Salesforce; restore it to re-create it'
        : "the Contact the sync wrote no longer carries the patient's Cliniko id",
    },
    context.block ?? null,
    appendEntry(
      {
        timestamp: new Date(context.now).toISOString(),
        actor: context.actor,
        sourceSystem: 'salesforce',
        object: 'Contact',
        externalId: gone.patientId,
        salesforceId: gone.salesforceId,
        patientId: gone.patientId,
        operation: deleted ? 'contact-deleted' : 'match-review',
        changedFields: [],
        payload: { kind: gone.kind },
        runId: context.runId,
      },
      context.now,
    ),
    context.now,
  );
}
