import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../store/index.js';
import { ev, fakeCliniko } from '../test-fakes.js';
import { createReferenceCache, linksUnknown } from './references.js';

/**
 * The reference lists cached across cycles (issue #16): read once, again when stale, and again when a
 * record links an id they lack, at most once per cycle.
 */

const T0 = Date.parse('2026-11-22T01:00:00.000Z');
const MINUTE = 60_000;

function clinikoWith(businessIds: () => string[]) {
  return fakeCliniko({
    businesses: () => [
      ...businessIds().map((id) =>
        ev.record('businesses', {
          id,
          display_name: `Clinic ${id}`,
          time_zone_identifier: 'Australia/Sydney',
        }),
      ),
      ev.end('businesses', true),
    ],
  });
}

const businessLink = (id: string) => ({
  business: { links: { self: `https://api.example/v1/businesses/${id}` } },
});
const cacheOf = (client: ReturnType<typeof fakeCliniko>['client'], maxAgeMs?: number, store?: SqliteStore) =>
  createReferenceCache({ cliniko: client, clinicTimezone: 'Australia/Sydney', maxAgeMs, store });
const readsOf = (reads: Array<{ stream: string }>) => reads.filter((r) => r.stream === 'businesses').length;

describe('reference lists cached across cycles', () => {
  it('are read once while fresh and again when older than the maximum age (control: age 0 reads every cycle)', async () => {
    const cached = clinikoWith(() => ['1']);
    const cache = cacheOf(cached.client, 10 * MINUTE);
    await cache.forCycle(T0);
    await cache.forCycle(T0 + MINUTE);
    await cache.forCycle(T0 + 9 * MINUTE);
    expect(readsOf(cached.reads)).toBe(1);
    await cache.forCycle(T0 + 10 * MINUTE);
    expect(readsOf(cached.reads)).toBe(2);

    const uncached = clinikoWith(() => ['1']);
    const every = cacheOf(uncached.client, 0);
    for (let i = 0; i < 3; i++) await every.forCycle(T0 + i * MINUTE);
    expect(readsOf(uncached.reads)).toBe(3);
  });

  it('are read again when a record links an unknown id, once per cycle; a known id reads nothing', async () => {
    let ids = ['1'];
    const { client, reads } = clinikoWith(() => ids);
    const cache = cacheOf(client, 10 * MINUTE);
    const refs = await cache.forCycle(T0);
    expect(await cache.forRecord(businessLink('1'), refs, T0 + MINUTE)).toBeUndefined();
    // A new cycle; a clinic opened since the lists were read.
    const second = await cache.forCycle(T0 + MINUTE);
    ids = ['1', '2'];
    const fresh = await cache.forRecord(businessLink('2'), second, T0 + MINUTE);
    expect(fresh?.names.businesses.get('2')).toBe('Clinic 2');
    expect(readsOf(reads)).toBe(2);
    // Still unknown after the read (Cliniko does not list it): not read again in this cycle.
    expect(await cache.forRecord(businessLink('3'), fresh!, T0 + MINUTE)).toBe(fresh);
    expect(readsOf(reads)).toBe(2);
  });

  it('give a record met while the read is under way the lists it brings, read once (streams read at once)', async () => {
    let ids = ['1'];
    const { client, reads } = clinikoWith(() => ids);
    const cache = cacheOf(client, 10 * MINUTE);
    await cache.forCycle(T0);
    // The next cycle serves the cached lists; a clinic opened since they were read.
    const refs = await cache.forCycle(T0 + MINUTE);
    ids = ['1', '2'];
    // Two streams meet the new clinic before the read started by the first has answered.
    const [first, second] = await Promise.all([
      cache.forRecord(businessLink('2'), refs, T0 + MINUTE),
      cache.forRecord(businessLink('2'), refs, T0 + MINUTE),
    ]);
    expect(first?.names.businesses.get('2')).toBe('Clinic 2');
    expect(second?.names.businesses.get('2')).toBe('Clinic 2');
    expect(readsOf(reads)).toBe(2);
    // A known id asks for nothing, during the cycle or after it.
    expect(await cache.forRecord(businessLink('1'), refs, T0 + MINUTE)).toBeUndefined();
  });

  it('give each cycle the clinic date of its own clock', async () => {
    const { client } = clinikoWith(() => ['1']);
    const cache = cacheOf(client, 24 * 60 * MINUTE);
    expect((await cache.forCycle(Date.parse('2026-11-22T12:00:00Z'))).context.today).toBe('2026-11-22');
    expect((await cache.forCycle(Date.parse('2026-11-22T13:30:00Z'))).context.today).toBe('2026-11-23');
  });

  it('linksUnknown looks at business, practitioner and appointment type links only', async () => {
    const { client } = clinikoWith(() => ['1']);
    const refs = await cacheOf(client).forCycle(T0);
    expect(linksUnknown({ ...businessLink('1') }, refs)).toBe(false);
    expect(linksUnknown({ ...businessLink('9') }, refs)).toBe(true);
    expect(
      linksUnknown({ practitioner: { links: { self: 'https://api.example/v1/practitioners/5' } } }, refs),
    ).toBe(true);
    expect(linksUnknown({ patient: { links: { self: 'https://api.example/v1/patients/5' } } }, refs)).toBe(
      false,
    );
  });
});

describe('reference lists kept in the store across restarts', () => {
  let store: SqliteStore;
  let saved: string[] = [];
  beforeEach(async () => {
    saved = [];
    store = new SqliteStore(':memory:', {
      encrypt: (plaintext) => {
        saved.push(plaintext);
        return Buffer.from(`enc:${plaintext}`, 'utf8');
      },
      decrypt: (ciphertext) => Buffer.from(ciphertext).toString('utf8').replace(/^enc:/, ''),
    });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
  });

  it('a restarted service serves fresh saved lists without reading them (control: no store reads them)', async () => {
    const first = clinikoWith(() => ['1']);
    await cacheOf(first.client, 10 * MINUTE, store).forCycle(T0);
    expect(readsOf(first.reads)).toBe(1);
    expect(saved.some((text) => text.includes('Clinic 1'))).toBe(true);

    // A new process: a new cache over the same store, within the lists' age.
    const restarted = clinikoWith(() => ['1']);
    const refs = await cacheOf(restarted.client, 10 * MINUTE, store).forCycle(T0 + 5 * MINUTE);
    expect(readsOf(restarted.reads)).toBe(0);
    expect(refs.names.businesses.get('1')).toBe('Clinic 1');
    expect(refs.businessTimeZones['1']).toBe('Australia/Sydney');
    expect(refs.context.today).toBe('2026-11-22');

    const control = clinikoWith(() => ['1']);
    await cacheOf(control.client, 10 * MINUTE).forCycle(T0 + 5 * MINUTE);
    expect(readsOf(control.reads)).toBe(1);
  });

  it('saved lists past their age, saved after the clock, or unreadable are read again', async () => {
    await cacheOf(clinikoWith(() => ['1']).client, 10 * MINUTE, store).forCycle(T0);
    const late = clinikoWith(() => ['1', '2']);
    const refs = await cacheOf(late.client, 10 * MINUTE, store).forCycle(T0 + 10 * MINUTE);
    expect(readsOf(late.reads)).toBe(1);
    expect(refs.names.businesses.get('2')).toBe('Clinic 2');

    const behind = clinikoWith(() => ['1']);
    await cacheOf(behind.client, 10 * MINUTE, store).forCycle(T0 + 9 * MINUTE);
    expect(readsOf(behind.reads)).toBe(1);

    await store.saveReferenceLists('cliniko', T0 + 20 * MINUTE, '{"businesses": "not a list"}');
    const garbled = clinikoWith(() => ['1']);
    await cacheOf(garbled.client, 10 * MINUTE, store).forCycle(T0 + 21 * MINUTE);
    expect(readsOf(garbled.reads)).toBe(1);
  });

  it('lists read earlier never replace lists read later', async () => {
    await store.saveReferenceLists('cliniko', T0 + MINUTE, 'newer');
    await store.saveReferenceLists('cliniko', T0, 'older');
    expect(await store.getReferenceLists('cliniko')).toEqual({ loadedAt: T0 + MINUTE, lists: 'newer' });
    await store.saveReferenceLists('cliniko', T0 + 2 * MINUTE, 'newest');
    expect((await store.getReferenceLists('cliniko'))?.lists).toBe('newest');
  });
});
