import { describe, expect, it } from 'vitest';
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
const readsOf = (reads: Array<{ stream: string }>) => reads.filter((r) => r.stream === 'businesses').length;

describe('reference lists cached across cycles', () => {
  it('are read once while fresh and again when older than the maximum age (control: age 0 reads every cycle)', async () => {
    const cached = clinikoWith(() => ['1']);
    const cache = createReferenceCache(cached.client, 'Australia/Sydney', 10 * MINUTE);
    await cache.forCycle(T0);
    await cache.forCycle(T0 + MINUTE);
    await cache.forCycle(T0 + 9 * MINUTE);
    expect(readsOf(cached.reads)).toBe(1);
    await cache.forCycle(T0 + 10 * MINUTE);
    expect(readsOf(cached.reads)).toBe(2);

    const uncached = clinikoWith(() => ['1']);
    const every = createReferenceCache(uncached.client, 'Australia/Sydney', 0);
    for (let i = 0; i < 3; i++) await every.forCycle(T0 + i * MINUTE);
    expect(readsOf(uncached.reads)).toBe(3);
  });

  it('are read again when a record links an unknown id, once per cycle; a known id reads nothing', async () => {
    let ids = ['1'];
    const { client, reads } = clinikoWith(() => ids);
    const cache = createReferenceCache(client, 'Australia/Sydney', 10 * MINUTE);
    const refs = await cache.forCycle(T0);
    expect(await cache.forRecord(businessLink('1'), refs, T0 + MINUTE)).toBeUndefined();
    // A new cycle; a clinic opened since the lists were read.
    const second = await cache.forCycle(T0 + MINUTE);
    ids = ['1', '2'];
    const fresh = await cache.forRecord(businessLink('2'), second, T0 + MINUTE);
    expect(fresh?.names.businesses.get('2')).toBe('Clinic 2');
    expect(readsOf(reads)).toBe(2);
    // Still unknown after the read (Cliniko does not list it): not read again in this cycle.
    expect(await cache.forRecord(businessLink('3'), fresh!, T0 + MINUTE)).toBeUndefined();
    expect(readsOf(reads)).toBe(2);
  });

  it('give each cycle the clinic date of its own clock', async () => {
    const { client } = clinikoWith(() => ['1']);
    const cache = createReferenceCache(client, 'Australia/Sydney', 24 * 60 * MINUTE);
    expect((await cache.forCycle(Date.parse('2026-11-22T12:00:00Z'))).context.today).toBe('2026-11-22');
    expect((await cache.forCycle(Date.parse('2026-11-22T13:30:00Z'))).context.today).toBe('2026-11-23');
  });

  it('linksUnknown looks at business, practitioner and appointment type links only', async () => {
    const { client } = clinikoWith(() => ['1']);
    const refs = await createReferenceCache(client, 'Australia/Sydney').forCycle(T0);
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
