import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClinikoEmulator } from './index.js';
import { startClinikoEmulator } from './index.js';
import type { ListBody } from './helpers.js';
import { basic, call, enc, getJson, rawGet, USER_AGENT, walk } from './helpers.js';

let emu: ClinikoEmulator;

beforeAll(async () => {
  // The rate limit has its own tests (writes.test.ts); these walk many pages.
  emu = await startClinikoEmulator({ seed: 7, patients: 120, rateLimitPerMinute: 100_000 });
});
afterAll(async () => {
  await emu.close();
});

type Rec = Record<string, unknown>;
const ids = (rows: Rec[]): string[] => rows.map((r) => r.id as string);

describe('auth and transport', () => {
  it('accepts the key as Basic user name with a contact User-Agent and Accept: application/json', async () => {
    const r = await call(emu, '/patients?per_page=1');
    expect(r.status).toBe(200);
    expect(emu.apiKey).toMatch(/-au1$/);
  });

  it('answers a bad key with a plain 401', async () => {
    const r = await call(emu, '/patients', { key: 'MS0xbogus-au1' });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(r.text).toBe('HTTP Basic: Access denied.\n');
  });

  it('answers a valid key for another shard with 401', async () => {
    const r = await call(emu, '/patients', { key: emu.keyForShard('au2') });
    expect(r.status).toBe(401);
  });

  it('treats a key without a shard suffix as au1', async () => {
    const bare = emu.apiKey.slice(0, emu.apiKey.lastIndexOf('-'));
    expect((await call(emu, '/patients?per_page=1', { key: bare })).status).toBe(200);
    const uk = await startClinikoEmulator({ seed: 7, patients: 1, shard: 'uk1' });
    try {
      expect(uk.apiKey).toMatch(/-uk1$/);
      expect((await call(uk, '/patients', { key: bare })).status).toBe(401);
      expect((await call(uk, '/patients')).status).toBe(200);
    } finally {
      await uk.close();
    }
  });

  it('refuses bad options with a message naming the option', async () => {
    await expect(startClinikoEmulator({ shard: 'AU-1' })).rejects.toThrow(/shard/);
    await expect(startClinikoEmulator({ patients: -1 })).rejects.toThrow(/patients/);
    await expect(startClinikoEmulator({ rateLimitPerMinute: 0 })).rejects.toThrow(/rateLimitPerMinute/);
    await expect(startClinikoEmulator({ now: 'tomorrow' })).rejects.toThrow(/now/);
  });

  it('rejects requests without credentials', async () => {
    expect((await call(emu, '/patients', { key: null })).status).toBe(401);
  });

  it('rejects a missing User-Agent and one without a contact e-mail', async () => {
    const none = await call(emu, '/patients', { userAgent: null });
    expect(none.status).toBe(403);
    expect(none.json).toMatchObject({ message: expect.stringContaining('User-Agent') as unknown });
    expect((await call(emu, '/patients', { userAgent: 'curl/8.0' })).status).toBe(403);
    expect((await call(emu, '/patients', { userAgent: USER_AGENT })).status).toBe(200);
  });

  it('requires Accept: application/json', async () => {
    const headers = { authorization: basic(emu.apiKey), 'user-agent': USER_AGENT };
    expect((await rawGet(`${emu.baseUrl}/patients`, headers)).status).toBe(406);
    expect((await rawGet(`${emu.baseUrl}/patients`, { ...headers, accept: 'application/json' })).status).toBe(
      200,
    );
    expect((await call(emu, '/patients', { accept: 'text/html' })).status).toBe(406);
  });

  it('serves ids as 19-digit strings beyond Number.MAX_SAFE_INTEGER and datetimes in UTC seconds', async () => {
    const body = await getJson<ListBody>(emu, '/patients?per_page=5');
    for (const p of body.patients as Rec[]) {
      expect(p.id).toMatch(/^\d{18,19}$/);
      expect(BigInt(p.id as string) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      expect(p.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    }
    const inv = await getJson<ListBody>(emu, '/invoices?per_page=5');
    for (const i of inv.invoices as Rec[]) expect(i.total_amount).toMatch(/^-?\d+\.\d{2}$/);
  });
});

describe('pagination', () => {
  it('defaults to 50 per page and links pages with absolute URLs', async () => {
    const first = await getJson<ListBody>(emu, '/patients');
    const total = first.total_entries;
    expect(total).toBeGreaterThan(100);
    expect((first.patients as Rec[]).length).toBe(50);
    expect(first.links.self).toBe(`${emu.baseUrl}/patients?page=1`);
    expect(first.links.next).toBe(`${emu.baseUrl}/patients?page=2`);
    expect(first.links.previous).toBeUndefined();
    const second = await getJson<ListBody>(emu, first.links.next ?? '');
    expect(second.links.previous).toBe(`${emu.baseUrl}/patients?page=1`);
  });

  it('walks every record exactly once with per_page=100 and ceil(total/100) requests', async () => {
    const first = await getJson<ListBody>(emu, '/patients?per_page=100');
    const all = await walk(emu, '/patients?per_page=100', 'patients');
    expect(all.length).toBe(first.total_entries);
    expect(new Set(ids(all)).size).toBe(all.length);
    const last = await getJson<ListBody>(
      emu,
      `/patients?per_page=100&page=${Math.ceil(first.total_entries / 100)}`,
    );
    expect(last.links.next).toBeUndefined();
  });

  it('keeps filters in the links, percent-encoded', async () => {
    const body = await getJson<ListBody>(
      emu,
      `/individual_appointments?per_page=10&${enc('updated_at:>2020-01-01T00:00:00Z')}`,
    );
    expect(body.links.next).toContain('q%5B%5D=updated_at%3A%3E2020-01-01T00%3A00%3A00Z');
    const next = await getJson<ListBody>(emu, body.links.next ?? '');
    expect((next.individual_appointments as Rec[]).length).toBe(10);
  });

  it('rejects per_page outside 1..100 and bad page numbers with 400', async () => {
    for (const q of ['per_page=0', 'per_page=101', 'per_page=abc', 'page=0', 'page=-1']) {
      const r = await call(emu, `/patients?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json).toHaveProperty('message');
    }
  });

  it('returns an empty page past the end, with total_entries and a previous link', async () => {
    const body = await getJson<ListBody>(emu, '/patients?page=999');
    expect(body.patients).toEqual([]);
    expect(body.total_entries).toBeGreaterThan(0);
    expect(body.links.previous).toContain('page=998');
  });
});

describe('filters', () => {
  it('answers a column that is not on the endpoint allow-list with 400 "This column is not searchable."', async () => {
    for (const path of [
      `/patients?${enc('notes:~x')}`,
      `/patients?q[]=city:=Fitzroy`,
      `/bookings?${enc('patient_id:=1')}`,
    ]) {
      const r = await call(emu, path);
      expect(r.status, path).toBe(400);
      expect(r.json).toEqual({ message: 'This column is not searchable.' });
    }
  });

  it('applies the allow-list of the endpoint, not of the resource: nested lists differ', async () => {
    const [p] = await walk(emu, '/patients?per_page=1', 'patients');
    const id = p?.id as string;
    expect((await call(emu, `/invoices?${enc(`patient_id:=${id}`)}`)).status).toBe(200);
    const nested = await call(emu, `/patients/${id}/invoices?${enc(`patient_id:=${id}`)}`);
    expect(nested.status).toBe(400);
    expect(nested.json).toEqual({ message: 'This column is not searchable.' });
    expect((await call(emu, `/patients/${id}?${enc('updated_at:>2020-01-01T00:00:00Z')}`)).status).toBe(400);
    expect((await call(emu, `/practitioners/${id}?${enc('archived_at:*')}`)).status).toBe(400);
  });

  it('understands raw q[] and percent-encoded q%5B%5D alike', async () => {
    const target = (await getJson<ListBody>(emu, '/patients?per_page=1')).patients as Rec[];
    const id = target[0]?.id as string;
    const raw = await getJson<ListBody>(emu, `/patients?q[]=id:=${id}`);
    const encoded = await getJson<ListBody>(emu, `/patients?${enc(`id:=${id}`)}`);
    expect(ids(raw.patients as Rec[])).toEqual([id]);
    expect(ids(encoded.patients as Rec[])).toEqual([id]);
  });

  it('numeric operators compare 64-bit ids exactly', async () => {
    const all = await walk(emu, '/patients?per_page=100', 'patients');
    const sorted = ids(all).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const pivot = sorted[10] as string;
    const gt = await walk(emu, `/patients?per_page=100&${enc(`id:>${pivot}`)}`, 'patients');
    expect(gt.length).toBe(sorted.length - 11);
    const ge = await walk(emu, `/patients?per_page=100&${enc(`id:>=${pivot}`)}`, 'patients');
    expect(ge.length).toBe(sorted.length - 10);
    const ne = await walk(emu, `/patients?per_page=100&${enc(`id:!=${pivot}`)}`, 'patients');
    expect(ne.length).toBe(sorted.length - 1);
    const lt = await walk(emu, `/patients?per_page=100&${enc(`id:<${pivot}`)}`, 'patients');
    expect(lt.length).toBe(10);
  });

  it('string operators: =, != , ~ (contains) and ~~ (wildcard)', async () => {
    const all = await walk(emu, '/patients?per_page=100', 'patients');
    const name = all[0]?.last_name as string;
    const eq = await walk(emu, `/patients?per_page=100&${enc(`last_name:=${name}`)}`, 'patients');
    expect(eq.length).toBe(all.filter((p) => p.last_name === name).length);
    const ne = await walk(emu, `/patients?per_page=100&${enc(`last_name:!=${name}`)}`, 'patients');
    expect(ne.length + eq.length).toBe(all.length);
    const contains = await walk(emu, `/patients?per_page=100&${enc('email:~MAIL.EXAMPLE')}`, 'patients');
    expect(contains.length).toBe(
      all.filter((p) => typeof p.email === 'string' && p.email.toLowerCase().includes('mail.example')).length,
    );
    const wildcard = await walk(emu, `/patients?per_page=100&${enc('first_name:~~o%')}`, 'patients');
    expect(wildcard.length).toBe(
      all.filter((p) => String(p.first_name).toLowerCase().startsWith('o')).length,
    );
  });

  it('boolean and date operators', async () => {
    const all = await walk(emu, '/patients?per_page=100', 'patients');
    const accepted = await walk(
      emu,
      `/patients?per_page=100&${enc('accepted_privacy_policy:=true')}`,
      'patients',
    );
    expect(accepted.length).toBe(all.filter((p) => p.accepted_privacy_policy === true).length);
    const born = await walk(emu, `/patients?per_page=100&${enc('date_of_birth:<1970-01-01')}`, 'patients');
    expect(born.length).toBe(
      all.filter((p) => typeof p.date_of_birth === 'string' && p.date_of_birth < '1970-01-01').length,
    );
    expect((await call(emu, `/patients?${enc('accepted_privacy_policy:=maybe')}`)).status).toBe(400);
  });

  it('date-time operators: > >= < <= ? !? *, and no =', async () => {
    const all = await walk(emu, '/individual_appointments?per_page=100', 'individual_appointments');
    const pivot = all[Math.floor(all.length / 2)]?.updated_at as string;
    const gt = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc(`updated_at:>${pivot}`)}`,
      'individual_appointments',
    );
    expect(gt.length).toBe(all.filter((a) => (a.updated_at as string) > pivot).length);
    const lte = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc(`updated_at:<=${pivot}`)}`,
      'individual_appointments',
    );
    expect(gt.length + lte.length).toBe(all.length);
    expect((await call(emu, `/individual_appointments?${enc(`updated_at:=${pivot}`)}`)).status).toBe(400);
    expect((await call(emu, `/individual_appointments?${enc('updated_at:>yesterday')}`)).status).toBe(400);
  });

  it('array operators on appointment_type_ids', async () => {
    const types = await walk(emu, '/appointment_types?per_page=100', 'appointment_types');
    const id = types[0]?.id as string;
    const with_ = await getJson<ListBody>(emu, `/businesses?${enc(`appointment_type_ids:~${id}`)}`);
    expect(with_.total_entries).toBe(3);
    const without = await getJson<ListBody>(emu, `/businesses?${enc(`appointment_type_ids:!~${id}`)}`);
    expect(without.total_entries).toBe(0);
  });

  it('ANDs several filters', async () => {
    const all = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc('cancelled_at:*')}`,
      'individual_appointments',
    );
    const pivot = all[Math.floor(all.length / 3)]?.starts_at as string;
    const both = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc('cancelled_at:?')}&${enc(`starts_at:<${pivot}`)}`,
      'individual_appointments',
    );
    expect(both.length).toBe(
      all.filter((a) => a.cancelled_at !== null && (a.starts_at as string) < pivot).length,
    );
    expect(both.length).toBeGreaterThan(0);
  });
});

describe('sort', () => {
  it('defaults to created_at ascending', async () => {
    const all = await walk(emu, '/individual_appointments?per_page=100', 'individual_appointments');
    const created = all.map((a) => a.created_at as string);
    expect(created).toEqual([...created].sort());
  });

  it('sorts by a field with :desc and by several keys', async () => {
    const desc = await walk(emu, '/patients?per_page=100&sort=updated_at:desc', 'patients');
    const u = desc.map((p) => p.updated_at as string);
    expect(u).toEqual([...u].sort().reverse());
    const multi = await walk(emu, '/patients?per_page=100&sort=last_name,first_name:desc', 'patients');
    for (let i = 1; i < multi.length; i++) {
      const a = multi[i - 1] as Rec;
      const b = multi[i] as Rec;
      const cmp =
        (a.last_name as string) < (b.last_name as string) ? -1 : a.last_name === b.last_name ? 0 : 1;
      expect(cmp).toBeLessThanOrEqual(0);
      if (cmp === 0) expect((a.first_name as string) >= (b.first_name as string)).toBe(true);
    }
  });

  it('sorts by updated_at,id (what an incremental reader asks for) with ids compared as 64-bit integers', async () => {
    const rows = await walk(
      emu,
      '/individual_appointments?per_page=100&sort=updated_at,id',
      'individual_appointments',
    );
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1] as Rec;
      const b = rows[i] as Rec;
      const ua = a.updated_at as string;
      const ub = b.updated_at as string;
      expect(ua <= ub).toBe(true);
      if (ua === ub) expect(BigInt(a.id as string) < BigInt(b.id as string)).toBe(true);
    }
    const byIdDesc = await walk(emu, '/patients?per_page=100&sort=id:desc', 'patients');
    const idsDesc = byIdDesc.map((p) => BigInt(p.id as string));
    expect(idsDesc).toEqual([...idsDesc].sort((x, y) => (x < y ? 1 : x > y ? -1 : 0)));
  });

  it('honours the deprecated order=desc as the default direction', async () => {
    const asc = await walk(emu, '/patients?per_page=100', 'patients');
    const desc = await walk(emu, '/patients?per_page=100&order=desc', 'patients');
    expect(desc.map((p) => p.created_at)).toEqual(asc.map((p) => p.created_at).reverse());
    expect((await call(emu, '/patients?order=sideways')).status).toBe(400);
  });

  it('rejects an unknown sort column with 400', async () => {
    const r = await call(emu, '/patients?sort=notes');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ message: 'This column is not sortable.' });
  });
});

describe('soft-delete visibility', () => {
  it('hides archived patients unless the request filters on archived_at', async () => {
    const visible = await walk(emu, '/patients?per_page=100', 'patients');
    expect(visible.every((p) => p.archived_at === null)).toBe(true);
    const everyone = await walk(emu, `/patients?per_page=100&${enc('archived_at:*')}`, 'patients');
    const archived = await walk(emu, `/patients?per_page=100&${enc('archived_at:?')}`, 'patients');
    const notArchived = await walk(emu, `/patients?per_page=100&${enc('archived_at:!?')}`, 'patients');
    expect(archived.length).toBeGreaterThan(0);
    expect(archived.every((p) => p.archived_at !== null)).toBe(true);
    expect(notArchived.length).toBe(visible.length);
    expect(everyone.length).toBe(visible.length + archived.length);
    const since = await walk(
      emu,
      `/patients?per_page=100&${enc('archived_at:>2000-01-01T00:00:00Z')}`,
      'patients',
    );
    expect(since.length).toBe(archived.length);
  });

  it('serves merged patients as archived with merged_at and a merged_with_patient link', async () => {
    const archived = await walk(emu, `/patients?per_page=100&${enc('archived_at:?')}`, 'patients');
    const merged = archived.filter((p) => p.merged_at !== null);
    expect(merged.length).toBeGreaterThan(0);
    for (const m of merged) {
      const link = (m.merged_with_patient as { links: { self: string } }).links.self;
      const survivor = await getJson(emu, link);
      expect(survivor.first_name).toBe(m.first_name);
      expect(survivor.archived_at).toBeNull();
    }
  });

  it('404s an archived patient by id unless q[]=archived_at:* is given', async () => {
    const [p] = await walk(emu, `/patients?per_page=100&${enc('archived_at:?')}`, 'patients');
    const id = p?.id as string;
    expect((await call(emu, `/patients/${id}`)).status).toBe(404);
    expect((await call(emu, `/patients/${id}?${enc('archived_at:*')}`)).status).toBe(200);
  });

  it('hides cancelled appointments (and their attendees and bookings) unless filtered on cancelled_at', async () => {
    const visible = await walk(emu, '/individual_appointments?per_page=100', 'individual_appointments');
    expect(visible.every((a) => a.cancelled_at === null)).toBe(true);
    const cancelled = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc('cancelled_at:?')}`,
      'individual_appointments',
    );
    expect(cancelled.length).toBeGreaterThan(0);
    const id = cancelled[0]?.id as string;
    expect((await call(emu, `/individual_appointments/${id}`)).status).toBe(404);
    expect((await call(emu, `/individual_appointments/${id}?${enc('cancelled_at:*')}`)).status).toBe(200);
    expect((await call(emu, `/bookings/${id}`)).status).toBe(404);
    const att = await getJson<ListBody>(emu, `/attendees?${enc('cancelled_at:?')}&per_page=1`);
    expect(att.total_entries).toBe(cancelled.length);
  });

  it('hides deleted appointments unless filtered on deleted_at', async () => {
    const deleted = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc('deleted_at:?')}`,
      'individual_appointments',
    );
    expect(deleted.length).toBeGreaterThan(0);
    const visible = await walk(emu, '/individual_appointments?per_page=100', 'individual_appointments');
    const ids = new Set(visible.map((a) => a.id));
    for (const d of deleted) {
      expect(ids.has(d.id)).toBe(false);
      expect((await call(emu, `/individual_appointments/${d.id as string}`)).status).toBe(404);
      expect(
        (await call(emu, `/individual_appointments/${d.id as string}?${enc('deleted_at:*')}`)).status,
      ).toBe(200);
    }
  });

  it('hides archived appointment types unless filtered', async () => {
    const visible = await getJson<ListBody>(emu, '/appointment_types?per_page=100');
    const all = await getJson<ListBody>(emu, `/appointment_types?per_page=100&${enc('archived_at:*')}`);
    expect(all.total_entries).toBe(visible.total_entries + 1);
    const names = (visible.appointment_types as Rec[]).map((t) => t.name);
    for (const n of [
      'Facebook Initial Appointment',
      'Initial Appointment',
      'NC Family Initial Appointment',
      'Decompression New Patient',
      'Workcover Initial',
      'TAC Initial',
      'Paediatric New Patient',
    ]) {
      expect(names).toContain(n);
    }
  });
});
