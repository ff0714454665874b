/**
 * The pages the sync asks for: keyset pages (`sort=id&q[]=id:>last`) and incremental windows
 * (`sort=updated_at,id&q[]=updated_at:>=T`). listing.ts answers these from one cached sorted list per
 * query without the lower bound, found by binary search; these tests compare every page with what an
 * independent filter over the whole list (read without that bound) says it must hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClinikoEmulator } from './index.js';
import { startClinikoEmulator } from './index.js';
import type { ListBody } from './helpers.js';
import { call, enc, getJson, walk } from './helpers.js';

let emu: ClinikoEmulator;

beforeAll(async () => {
  emu = await startClinikoEmulator({ seed: 3, patients: 150, rateLimitPerMinute: 100_000, controls: true });
});
afterAll(async () => {
  await emu.close();
});

type Rec = Record<string, unknown>;
const REVEAL = ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'].map(enc).join('&');
const byId = (a: Rec, b: Rec): number => (BigInt(a.id as string) < BigInt(b.id as string) ? -1 : 1);
const byUpdated = (a: Rec, b: Rec): number =>
  (a.updated_at as string) < (b.updated_at as string)
    ? -1
    : (a.updated_at as string) > (b.updated_at as string)
      ? 1
      : byId(a, b);
const ids = (rows: readonly Rec[]): string[] => rows.map((r) => r.id as string);

async function everyAppointment(): Promise<Rec[]> {
  return walk(emu, `/individual_appointments?per_page=100&${REVEAL}`, 'individual_appointments');
}

/** A keyset walk as the sync's backfill does it; returns the rows and each page's total_entries. */
async function keysetWalk(perPage: number): Promise<{ rows: Rec[]; totals: number[] }> {
  const rows: Rec[] = [];
  const totals: number[] = [];
  let after: string | undefined;
  for (;;) {
    const bound = after === undefined ? '' : `&${enc(`id:>${after}`)}`;
    const page = await getJson<ListBody>(
      emu,
      `/individual_appointments?per_page=${perPage}&sort=id&${REVEAL}${bound}`,
    );
    const items = page.individual_appointments as Rec[];
    rows.push(...items);
    totals.push(page.total_entries);
    if (items.length < perPage) return { rows, totals };
    after = items.at(-1)?.id as string;
  }
}

describe('keyset and incremental pages', () => {
  it('a keyset walk by id returns every row once, in id order, with the remaining count as total_entries', async () => {
    const all = (await everyAppointment()).sort(byId);
    const { rows, totals } = await keysetWalk(100);
    expect(ids(rows)).toEqual(ids(all));
    // Each page's total_entries is the number of rows at or after its first row.
    let seen = 0;
    for (const total of totals) {
      expect(total).toBe(all.length - seen);
      seen += 100;
    }
  });

  it('an incremental window sorted by updated_at,id holds exactly the rows at or after the bound', async () => {
    const all = (await everyAppointment()).sort(byUpdated);
    const pivot = all[Math.floor(all.length * 0.8)]?.updated_at as string;
    const expected = all.filter((a) => (a.updated_at as string) >= pivot);
    const pages = await walk(
      emu,
      `/individual_appointments?per_page=7&sort=updated_at,id&${REVEAL}&${enc(`updated_at:>=${pivot}`)}`,
      'individual_appointments',
    );
    expect(ids(pages)).toEqual(ids(expected));
    const first = await getJson<ListBody>(
      emu,
      `/individual_appointments?per_page=7&sort=updated_at,id&${REVEAL}&${enc(`updated_at:>${pivot}`)}`,
    );
    expect(first.total_entries).toBe(all.filter((a) => (a.updated_at as string) > pivot).length);
  });

  it('a bound on a key that does not lead the sort, or leads it descending, still filters', async () => {
    const all = (await everyAppointment()).sort(byId);
    const pivot = all[40]?.id as string;
    const desc = await walk(
      emu,
      `/individual_appointments?per_page=100&sort=id:desc&${REVEAL}&${enc(`id:>${pivot}`)}`,
      'individual_appointments',
    );
    expect(ids(desc)).toEqual(ids(all.slice(41)).reverse());
    const byUpdatedThenBound = await walk(
      emu,
      `/individual_appointments?per_page=100&sort=updated_at,id&${REVEAL}&${enc(`id:>${pivot}`)}`,
      'individual_appointments',
    );
    expect(ids(byUpdatedThenBound)).toEqual(ids(all.slice(41).sort(byUpdated)));
  });

  it('a write between two pages shows on the next page (the cached list is rebuilt)', async () => {
    const all = (await everyAppointment()).sort(byId);
    const first = await getJson<ListBody>(emu, `/individual_appointments?per_page=10&sort=id&${REVEAL}`);
    const after = (first.individual_appointments as Rec[]).at(-1)?.id as string;
    const target = all[15] as Rec;
    emu.controls.setClock({ advanceSeconds: 3_600 });
    emu.controls.touch('individual_appointments', [target.id as string]);
    const next = await getJson<ListBody>(
      emu,
      `/individual_appointments?per_page=10&sort=id&${REVEAL}&${enc(`id:>${after}`)}`,
    );
    const row = (next.individual_appointments as Rec[]).find((r) => r.id === target.id);
    expect(row?.updated_at).toBe(emu.controls.now());
    expect(row?.updated_at).not.toBe(target.updated_at);
  });

  it('a page is written as JSON.stringify writes its object, names outside Latin-1 included', async () => {
    // listing.ts encodes a page a record at a time; what arrives must be the one serialisation a
    // client could tell from Fastify's: no space, the keys in order, UTF-8.
    for (const path of ['/patients?per_page=50', `/individual_appointments?per_page=100&sort=id&${REVEAL}`]) {
      const res = await call(emu, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.text).toBe(JSON.stringify(res.json));
      expect(Object.keys(res.json as Rec)).toEqual([path.slice(1).split('?')[0], 'total_entries', 'links']);
      // The practice's names include some outside Latin-1 (two-byte strings in V8): the case at stake.
      expect([...res.text].some((ch) => ch.charCodeAt(0) > 0xff)).toBe(true);
    }
    const empty = await call(emu, `/patients?per_page=50&${enc('id:<0')}`);
    expect(empty.status).toBe(200);
    expect((empty.json as Rec).patients).toEqual([]);
    expect(empty.text).toBe(JSON.stringify(empty.json));
  });
});
