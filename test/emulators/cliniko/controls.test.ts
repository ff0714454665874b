import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANARY_PATTERN } from './canary.js';
import type { ClinikoEmulator } from './index.js';
import { startClinikoEmulator } from './index.js';
import type { ListBody } from './helpers.js';
import { call, enc, getJson, walk } from './helpers.js';

let emu: ClinikoEmulator;
let control: string;
// Non-global copy: a /g RegExp keeps lastIndex between .test() calls.
const CANARY = new RegExp(CANARY_PATTERN.source);
type Rec = Record<string, unknown>;

beforeAll(async () => {
  emu = await startClinikoEmulator({
    seed: 5,
    patients: 25,
    controls: true,
    now: '2025-07-01T00:00:00Z',
    rateLimitPerMinute: 100_000,
    frozenClock: true,
  });
  control = emu.baseUrl.replace(/\/v1$/, '/__control');
});
afterAll(async () => {
  await emu.close();
});

async function ctl(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${control}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function aPatient(): Promise<Rec> {
  const body = await getJson<ListBody>(emu, '/patients?per_page=1&page=2');
  return (body.patients as Rec[])[0] as Rec;
}

describe('controls are off unless enabled', () => {
  it('404s /__control/ on an emulator started without controls', async () => {
    const plain = await startClinikoEmulator({ seed: 5, patients: 2 });
    try {
      const res = await fetch(plain.baseUrl.replace(/\/v1$/, '/__control/clock'));
      expect(res.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('clock', () => {
  it('reads, sets, advances and freezes the emulated clock that stamps writes', async () => {
    expect((await ctl('GET', '/clock')).json).toEqual({ now: '2025-07-01T00:00:00Z', frozen: true });
    expect((await ctl('POST', '/clock', { now: '2025-08-01T09:30:00Z' })).json).toEqual({
      now: '2025-08-01T09:30:00Z',
      frozen: true,
    });
    expect((await ctl('POST', '/clock', { advanceSeconds: 90 })).json).toMatchObject({
      now: '2025-08-01T09:31:30Z',
    });
    const p = await aPatient();
    const patched = await call(emu, `/patients/${p.id as string}`, {
      method: 'PATCH',
      body: { occupation: 'Baker' },
    });
    expect((patched.json as Rec).updated_at).toBe('2025-08-01T09:31:30Z');
    expect((await ctl('POST', '/clock', { now: 'soon' })).status).toBe(400);
  });
});

describe('record mutations', () => {
  it('books, reschedules, cancels with a reason, and marks arrived / did not arrive', async () => {
    const p = await aPatient();
    const canariesBefore = emu.canaries.length;
    const booked = await ctl('POST', '/appointments', {
      patient_id: p.id,
      starts_at: '2025-08-05T23:00:00Z',
    });
    expect(booked.status).toBe(201);
    const appt = booked.json as Rec;
    expect(appt.starts_at).toBe('2025-08-05T23:00:00Z');
    expect(appt.created_at).toBe(emu.controls.now());
    expect(appt.notes).toMatch(CANARY);
    // The new appointment's and attendee's notes join the canary list.
    expect(emu.canaries.length).toBe(canariesBefore + 2);
    expect(emu.canaries).toContain(CANARY.exec(appt.notes as string)?.[0]);
    const id = appt.id as string;
    expect((await getJson(emu, `/individual_appointments/${id}`)).id).toBe(id);
    const pat = await getJson(emu, `/patients/${p.id as string}`);
    expect((pat.latest_booking as { links: { self: string } }).links.self).toBe(
      `${emu.baseUrl}/bookings/${id}`,
    );

    await ctl('POST', '/clock', { advanceSeconds: 10 });
    const moved = await ctl('POST', `/appointments/${id}/reschedule`, { starts_at: '2025-08-06T01:00:00Z' });
    expect(moved.json).toMatchObject({ starts_at: '2025-08-06T01:00:00Z', updated_at: emu.controls.now() });

    await ctl('POST', '/clock', { advanceSeconds: 10 });
    const arrived = await ctl('POST', `/appointments/${id}/arrived`);
    expect(arrived.json).toMatchObject({ patient_arrived: true, did_not_arrive: false });
    const dna = await ctl('POST', `/appointments/${id}/did-not-arrive`);
    expect(dna.json).toMatchObject({ patient_arrived: false, did_not_arrive: true });
    const dnaList = await getJson<ListBody>(
      emu,
      `/individual_appointments?${enc('did_not_arrive:=true')}&${enc(`id:=${id}`)}`,
    );
    expect(dnaList.total_entries).toBe(1);

    const cancelled = await ctl('POST', `/appointments/${id}/cancel`, {
      reason: 'Feeling Better',
      note: 'Moved interstate',
    });
    expect(cancelled.json).toMatchObject({
      cancelled_at: emu.controls.now(),
      cancellation_reason: 10,
      cancellation_reason_description: 'Feeling Better',
      cancellation_note: 'Moved interstate',
    });
    expect((await call(emu, `/individual_appointments/${id}`)).status).toBe(404);
    const attendee = await getJson<ListBody>(
      emu,
      `/individual_appointments/${id}/attendees?${enc('cancelled_at:*')}`,
    );
    expect((attendee.attendees as Rec[])[0]).toMatchObject({ cancelled_at: emu.controls.now() });
    expect((await ctl('POST', `/appointments/${id}/cancel`, { reason: 'Bored' })).status).toBe(400);
    expect(
      (await ctl('POST', '/appointments', { patient_id: 'nope', starts_at: '2025-08-05T23:00:00Z' })).status,
    ).toBe(404);
  });

  it('updates patient fields and consent directly (as a receptionist in Cliniko would)', async () => {
    const p = await aPatient();
    await ctl('POST', '/clock', { advanceSeconds: 1 });
    const r = await ctl('PATCH', `/patients/${p.id as string}`, {
      accepted_sms_marketing: false,
      accepted_email_marketing: null,
      last_name: 'Ó Súilleabháin',
    });
    expect(r.json).toMatchObject({
      accepted_sms_marketing: false,
      accepted_email_marketing: null,
      last_name: 'Ó Súilleabháin',
      updated_at: emu.controls.now(),
    });
    expect((await ctl('PATCH', `/patients/${p.id as string}`, { shoe_size: 9 })).status).toBe(400);
  });

  it('archives and merges patients', async () => {
    const list = await getJson<ListBody>(emu, '/patients?per_page=5&page=3');
    const [a, b] = list.patients as Rec[];
    const archived = await ctl('POST', `/patients/${a?.id as string}/archive`);
    expect((archived.json as Rec).archived_at).toBe(emu.controls.now());
    await ctl('POST', `/patients/${a?.id as string}/unarchive`);

    const survivorAppointmentsBefore = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc(`patient_id:=${a?.id as string}`)}`,
      'individual_appointments',
    );
    const mergedAway = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc(`patient_id:=${b?.id as string}`)}`,
      'individual_appointments',
    );
    const merged = await ctl('POST', `/patients/${b?.id as string}/merge`, { into: a?.id });
    expect(merged.json).toMatchObject({
      merged_at: emu.controls.now(),
      archived_at: emu.controls.now(),
      merged_with_patient: { links: { self: `${emu.baseUrl}/patients/${a?.id as string}` } },
    });
    expect((await call(emu, `/patients/${b?.id as string}`)).status).toBe(404);
    const after = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc(`patient_id:=${a?.id as string}`)}`,
      'individual_appointments',
    );
    expect(after.length).toBe(survivorAppointmentsBefore.length + mergedAway.length);
    expect((await ctl('POST', `/patients/${a?.id as string}/merge`, { into: a?.id })).status).toBe(400);
  });

  it('touch bumps updated_at so several records share one second', async () => {
    const list = await getJson<ListBody>(emu, '/patients?per_page=3');
    const ids = (list.patients as Rec[]).map((p) => p.id as string);
    await ctl('POST', '/clock', { advanceSeconds: 100 });
    expect((await ctl('POST', '/touch', { resource: 'patients', ids })).json).toEqual({ touched: 3 });
    const same = await getJson<ListBody>(emu, `/patients?${enc(`updated_at:>=${emu.controls.now()}`)}`);
    expect((same.patients as Rec[]).map((p) => p.id).sort()).toEqual([...ids].sort());
  });
});

describe('late commits (hold / release)', () => {
  it('keeps a held write out of every read until released, then shows it with the time it was stamped', async () => {
    const patient = await aPatient();
    const id = patient.id as string;
    const since = emu.controls.now();
    const changed = `/patients?${enc(`updated_at:>=${since}`)}`;
    const idsIn = async (path: string) =>
      ((await getJson<ListBody>(emu, path)).patients as Rec[]).map((p) => p.id);
    expect((await ctl('POST', '/hold', { resource: 'patients', ids: [id] })).json).toEqual({ held: 1 });
    expect((await ctl('PATCH', `/patients/${id}`, { email: 'late.commit@example.com' })).status).toBe(200);
    // Stamped now, but not committed: no list nor single read shows it.
    expect(await idsIn(changed)).not.toContain(id);
    expect((await call(emu, `/patients/${id}`)).status).toBe(404);
    // Later, the commit lands: the row appears with its earlier stamp, below a reader that has moved on.
    await ctl('POST', '/clock', { advanceSeconds: 30 });
    expect((await ctl('POST', '/release')).json).toEqual({ released: 1 });
    const row = await getJson<Rec>(emu, `/patients/${id}`);
    expect(row.email).toBe('late.commit@example.com');
    expect(row.updated_at).toBe(since);
    expect(await idsIn(changed)).toContain(id);
    // Control: a write that is not held is visible at once.
    expect((await ctl('PATCH', `/patients/${id}`, { email: 'on.time@example.com' })).status).toBe(200);
    expect((await getJson<Rec>(emu, `/patients/${id}`)).email).toBe('on.time@example.com');
  });

  it('refuses a hold without a resource and ids', async () => {
    expect((await ctl('POST', '/hold', { resource: 'invoices', ids: ['1'] })).status).toBe(400);
  });
});

describe('fault injection', () => {
  it('429 bursts carry X-RateLimit-Reset and stop after count', async () => {
    await ctl('POST', '/faults', { path: '/v1/businesses', kind: '429', count: 2, resetSeconds: 3 });
    const a = await call(emu, '/businesses');
    const b = await call(emu, '/businesses');
    const c = await call(emu, '/businesses');
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    // The reset is stated on the server's clock (this emulator runs in 2025), as its Date header is:
    // reset minus Date is the wait a client takes.
    const wait = Number(a.headers.get('x-ratelimit-reset')) - Date.parse(a.headers.get('date') ?? '') / 1000;
    expect(wait).toBeGreaterThanOrEqual(2);
    expect(wait).toBeLessThanOrEqual(4);
  });

  it('the per-key limit states its reset on the emulated clock (control: the wall clock is a year away)', async () => {
    const limited = await startClinikoEmulator({
      patients: 1,
      rateLimitPerMinute: 2,
      now: '2025-07-01T00:00:00Z',
    });
    try {
      for (let i = 0; i < 2; i++) expect((await call(limited, '/businesses')).status).toBe(200);
      const refused = await call(limited, '/businesses');
      expect(refused.status).toBe(429);
      const reset = Number(refused.headers.get('x-ratelimit-reset'));
      const serverNow = Date.parse(refused.headers.get('date') ?? '') / 1000;
      expect(reset - serverNow).toBeGreaterThan(0);
      expect(reset - serverNow).toBeLessThanOrEqual(61);
      // Control: measured against the wall clock the same reset would mean "already past" by months.
      expect(Date.now() / 1000 - reset).toBeGreaterThan(30 * 86_400);
    } finally {
      await limited.close();
    }
  });

  it('5xx: JSON 500 from the API, HTML 502/503/504 from the gateway; prefix paths and methods match', async () => {
    for (const kind of ['500', '502', '503', '504']) {
      await ctl('POST', '/faults', { path: '/v1/patients*', method: 'get', kind });
      const r = await call(emu, '/patients?per_page=1');
      expect(r.status).toBe(Number(kind));
      if (kind === '500') expect(r.json).toEqual({ message: 'Internal Server Error' });
      else expect(r.headers.get('content-type')).toContain('text/html');
      expect((await call(emu, '/patients?per_page=1')).status).toBe(200);
    }
  });

  it('slow responses, malformed JSON and dropped connections', async () => {
    await ctl('POST', '/faults', { path: '/v1/users', kind: 'slow', delayMs: 300 });
    const t0 = Date.now();
    expect((await call(emu, '/users')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);

    await ctl('POST', '/faults', { path: '/v1/users', kind: 'malformed' });
    await expect(call(emu, '/users')).rejects.toThrow(SyntaxError);

    await ctl('POST', '/faults', { path: '*', kind: 'drop' });
    await expect(fetch(`${emu.baseUrl}/users`)).rejects.toThrow();
    expect((await call(emu, '/users')).status).toBe(200);
  });

  it('lists and clears faults, and rejects unknown kinds', async () => {
    await ctl('POST', '/faults', { path: '/v1/contacts', kind: '503', count: 5 });
    expect(((await ctl('GET', '/faults')).json as { faults: Rec[] }).faults).toHaveLength(1);
    expect((await ctl('DELETE', '/faults')).status).toBe(204);
    expect(((await ctl('GET', '/faults')).json as { faults: Rec[] }).faults).toHaveLength(0);
    expect((await ctl('POST', '/faults', { path: '/v1/contacts', kind: 'gremlins' })).status).toBe(400);
  });
});

describe('request log', () => {
  it('records method, url, status, key, User-Agent and fault of each API request', async () => {
    await ctl('DELETE', '/requests');
    await call(emu, `/patients?per_page=2&${enc('archived_at:*')}`);
    await call(emu, '/patients', { key: 'wrong-au1' });
    const log = ((await ctl('GET', '/requests')).json as { requests: Rec[] }).requests;
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({ method: 'GET', status: 200, key: emu.apiKey, fault: null });
    expect(log[0]?.url).toContain('/v1/patients?per_page=2');
    expect(log[1]).toMatchObject({ status: 401, key: 'wrong-au1' });
    expect(emu.requestLog()).toHaveLength(2);
  });
});

describe('canaries', () => {
  it('every clinical free-text field carries a unique canary listed in emu.canaries', async () => {
    const canaries = emu.canaries;
    expect(new Set(canaries).size).toBe(canaries.length);
    const listed = new Set(canaries);
    const served = new Set<string>();
    const collect = (value: unknown): void => {
      for (const m of JSON.stringify(value).matchAll(CANARY_PATTERN)) served.add(m[0]);
    };
    const clinical: [string, string, string[]][] = [
      ['/patients', 'patients', ['notes', 'appointment_notes']],
      ['/individual_appointments', 'individual_appointments', ['notes']],
      ['/attendees', 'attendees', ['notes']],
      ['/patient_cases', 'patient_cases', ['name', 'notes']],
      ['/treatment_notes', 'treatment_notes', ['title', 'content']],
      ['/medical_alerts', 'medical_alerts', ['name']],
      ['/invoices', 'invoices', ['notes']],
    ];
    for (const [path, plural, fields] of clinical) {
      const rows = await walk(emu, `${path}?per_page=100&${enc('archived_at:*')}`, plural);
      expect(rows.length, path).toBeGreaterThan(0);
      for (const row of rows) {
        for (const f of fields) {
          expect(JSON.stringify(row[f]), `${path} ${row.id as string} ${f}`).toMatch(CANARY);
        }
        collect(row);
      }
    }
    const cancelled = await walk(
      emu,
      `/individual_appointments?per_page=100&${enc('cancelled_at:?')}`,
      'individual_appointments',
    );
    expect(
      cancelled.some((a) => typeof a.cancellation_note === 'string' && CANARY.test(a.cancellation_note)),
    ).toBe(true);
    cancelled.forEach(collect);
    for (const c of served) expect(listed.has(c), c).toBe(true);
  });
});

describe('benchmark controls', () => {
  it('GET /__control/requests?since=N lists only the requests after N; a bad N is a 400', async () => {
    await getJson(emu, '/patients?per_page=1');
    const all = (await ctl('GET', '/requests')).json as { requests: Array<{ seq: number }> };
    const last = all.requests.at(-1)?.seq ?? 0;
    await getJson(emu, '/businesses?per_page=1');
    await getJson(emu, '/patients?per_page=2');
    const after = (await ctl('GET', `/requests?since=${last}`)).json as {
      requests: Array<{ seq: number; url: string }>;
    };
    expect(after.requests.map((r) => r.url)).toEqual([
      '/v1/businesses?per_page=1',
      '/v1/patients?per_page=2',
    ]);
    expect((await ctl('GET', '/requests?since=-1')).status).toBe(400);
  });

  it('POST /__control/rate-limit changes the limit at once: the next request over it is a 429', async () => {
    expect((await ctl('POST', '/rate-limit', { perMinute: 2 })).status).toBe(204);
    try {
      expect((await call(emu, '/patients?per_page=1')).status).toBe(200);
      expect((await call(emu, '/patients?per_page=1')).status).toBe(200);
      // Control: the third request of the window is refused, so the new limit is in force.
      expect((await call(emu, '/patients?per_page=1')).status).toBe(429);
      expect((await ctl('POST', '/rate-limit', { perMinute: 0 })).status).toBe(400);
    } finally {
      await ctl('POST', '/rate-limit', { perMinute: 100_000 });
    }
    expect((await call(emu, '/patients?per_page=1')).status).toBe(200);
  });
});
