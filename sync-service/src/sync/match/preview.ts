import type { Store } from '../../store/index.js';
import { decideMatch, normaliseEmail, personOf } from './decide.js';
import { candidatesByEmail, type MatchQuery } from './salesforce.js';

/**
 * The dry run's view of matching (issue #19): for each Contact a sync would create, what the outbox
 * worker's matcher would do instead, with the same rule (decide.ts) and the same queries (read only):
 * `link` an existing Contact, `link-lead` (create it pointing at the Lead, and mark the Lead), `review`
 * (held, nothing created), `create`, or `held` (an open hold, or a Contact the sync wrote that is gone from Salesforce).
 */
export type MatchPreview = 'link' | 'link-lead' | 'review' | 'create' | 'held';

export type MatchPreviewCounts = Record<MatchPreview, number>;

export function emptyMatchCounts(): MatchPreviewCounts {
  return { link: 0, 'link-lead': 0, review: 0, create: 0, held: 0 };
}

export async function previewMatches(
  query: MatchQuery,
  store: Pick<Store, 'listContactHolds' | 'getRecordStates'>,
  creates: ReadonlyArray<{ patientId: string; fields: Readonly<Record<string, unknown>> }>,
  options: { readonly leads?: boolean } = {},
): Promise<{ byPatient: Map<string, MatchPreview>; queries: number }> {
  const byPatient = new Map<string, MatchPreview>();
  if (creates.length === 0) return { byPatient, queries: 0 };
  const ids = creates.map((c) => c.patientId);
  const holds = await store.listContactHolds({ patientIds: ids });
  const states = await store.getRecordStates('Contact', ids);
  const resolved = new Map(holds.filter((h) => h.resolvedAt !== null).map((h) => [h.patientId, h]));
  for (const h of holds) if (h.resolvedAt === null) byPatient.set(h.patientId, 'held');
  for (const id of ids) if (states.get(id)?.salesforceId) byPatient.set(id, 'held');
  const search = creates.filter((c) => {
    if (byPatient.has(c.patientId)) return false;
    const hold = resolved.get(c.patientId);
    const choice = hold?.resolution;
    const link = hold?.object === 'Lead' ? 'link-lead' : 'link';
    if (choice) byPatient.set(c.patientId, choice.startsWith('link:') ? link : 'create');
    return !choice;
  });
  const emails = [
    ...new Set(search.map((c) => normaliseEmail(personOf(c.fields).email)).filter((e) => e !== null)),
  ];
  let queries = 0;
  let found: Awaited<ReturnType<typeof candidatesByEmail>> = { contacts: [], leads: [] };
  if (emails.length > 0) {
    const counting: MatchQuery = (object, soql, all) => {
      queries += 1;
      return query(object, soql, all);
    };
    found = await candidatesByEmail(counting, emails, options);
  }
  const kind = {
    'link-contact': 'link',
    'link-lead': 'link-lead',
    review: 'review',
    create: 'create',
    existing: 'create',
  } as const;
  for (const c of search) {
    byPatient.set(
      c.patientId,
      kind[decideMatch(c.patientId, personOf(c.fields), found.contacts, found.leads).action],
    );
  }
  return { byPatient, queries };
}
