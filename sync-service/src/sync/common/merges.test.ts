import { describe, expect, it } from 'vitest';
import type { FactInput } from '../../store/index.js';
import { MERGED_FACT } from '../payloads.js';
import { storedSurvivors } from './merges.js';

describe('stored merged-patient facts', () => {
  it('maps each merged-away patient to its survivor, asking the store for merge facts by id in chunks of 500', async () => {
    const asked: number[] = [];
    const facts: FactInput[] = [
      { resource: MERGED_FACT, id: '7', patientId: '7', data: JSON.stringify({ survivor: '3' }) },
      // Control: other facts of the same patient, and a merge fact without a survivor, are not merges.
      { resource: 'appointment', id: 'a1', patientId: '7', data: JSON.stringify({ survivor: '9' }) },
      { resource: MERGED_FACT, id: '8', patientId: '8', data: JSON.stringify({}) },
    ];
    // The store's contract (getFacts: the facts of one resource with these ids), faked over the list.
    const store = {
      getFacts: (resource: string, ids: readonly string[]) => {
        asked.push(ids.length);
        return Promise.resolve(facts.filter((f) => f.resource === resource && ids.includes(f.id)));
      },
    };
    const ids = Array.from({ length: 1001 }, (_, i) => String(i));
    const survivors = await storedSurvivors(store, ids);
    expect([...survivors]).toEqual([['7', '3']]);
    expect(asked).toEqual([500, 500, 1]);
  });
});
