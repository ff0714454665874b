import type { Store } from '../../store/index.js';
import { MERGED_FACT } from '../payloads.js';

/** Patient ids per `getFacts` call (a SQL `IN` list of this size is fine on both stores). */
const FACT_CHUNK = 500;

/**
 * Merged-away patient id -> survivor, from the `merged-patient` facts the cycle stored (payloads.ts
 * MERGED_FACT), for the ids given; an id with no such fact is absent. The cycle, the dry run and the
 * reconciliation write children of a merged-away patient against its survivor, so they read merges
 * the same way.
 */
export async function storedSurvivors(
  store: Pick<Store, 'getFacts'>,
  patientIds: readonly string[],
): Promise<Map<string, string>> {
  const survivors = new Map<string, string>();
  // A merge fact is keyed by the merged-away patient's id: looked up by key, never by reading (and
  // decrypting) every fact of those patients, which grows with their history.
  for (let i = 0; i < patientIds.length; i += FACT_CHUNK) {
    for (const fact of await store.getFacts(MERGED_FACT, patientIds.slice(i, i + FACT_CHUNK))) {
      const survivor = (JSON.parse(fact.data) as { survivor?: unknown }).survivor;
      if (typeof survivor === 'string') survivors.set(fact.id, survivor);
    }
  }
  return survivors;
}
