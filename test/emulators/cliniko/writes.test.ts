import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClinikoEmulator } from './index.js';
import { startClinikoEmulator } from './index.js';
import type { ListBody } from './helpers.js';
import { basic, call, enc, getJson, USER_AGENT } from './helpers.js';

const headersFor = (e: ClinikoEmulator): Record<string, string> => ({
  authorization: basic(e.apiKey),
  'user-agent': USER_AGENT,
  accept: 'application/json',
});

let emu: ClinikoEmulator;
type Rec = Record<string, unknown>;

beforeAll(async () => {
  emu = await startClinikoEmulator({ seed: 11, patients: 30, frozenClock: true });
});
afterAll(async () => {
  await emu.close();
});

async function firstVisiblePatient(offset = 0): Promise<Rec> {
  const body = await getJson<ListBody>(emu, `/patients?per_page=10&page=1`);
  const p = (body.patients as Rec[])[offset];
  if (!p) throw new Error('no patient');
  return p;
}

describe('PATCH /patients/{id}', () => {
  it('changes only the fields sent and bumps updated_at', async () => {
    const before = await firstVisiblePatient(0);
    emu.controls.setClock({ advanceSeconds: 60 });
    const r = await call(emu, `/patients/${before.id as string}`, {
      method: 'PATCH',
      body: {
        first_name: "Siobhán O'Reilly-Ng",
        email: 'siobhan@mail.example',
        address_1: '1 Rue de l’Église',
      },
    });
    expect(r.status).toBe(200);
    const after = r.json as Rec;
    expect(after.first_name).toBe("Siobhán O'Reilly-Ng");
    expect(after.email).toBe('siobhan@mail.example');
    expect(after.address_1).toBe('1 Rue de l’Église');
    expect(after.last_name).toBe(before.last_name);
    expect(after.date_of_birth).toBe(before.date_of_birth);
    expect(after.notes).toBe(before.notes);
    expect(after.updated_at).toBe(emu.controls.now());
    expect((after.updated_at as string) > (before.updated_at as string)).toBe(true);
    expect(after.created_at).toBe(before.created_at);
    const reread = await getJson(emu, `/patients/${before.id as string}`);
    expect(reread).toEqual(after);
  });

  it('answers bad input with 422 {"message":"Validation Failed","errors":{field: message}} and changes nothing', async () => {
    const p = await firstVisiblePatient(1);
    const r = await call(emu, `/patients/${p.id as string}`, {
      method: 'PATCH',
      body: {
        first_name: '',
        email: 'not an email',
        date_of_birth: '2001-02-30',
        reminder_type: 'Carrier pigeon',
        accepted_email_marketing: 'yes',
        title: 'x'.repeat(256),
        concession_type_id: '42',
        patient_phone_numbers: [{ number: '0400 000 000', phone_type: 'Pager' }],
      },
    });
    expect(r.status).toBe(422);
    expect(r.json).toEqual({
      message: 'Validation Failed',
      errors: {
        first_name: "can't be blank",
        email: 'is invalid',
        date_of_birth: 'is not a valid date',
        reminder_type: 'is not included in the list',
        accepted_email_marketing: 'must be true or false',
        title: 'is too long (maximum is 255 characters)',
        concession_type_id: 'does not exist',
        patient_phone_numbers: 'is invalid',
      },
    });
    expect(await getJson(emu, `/patients/${p.id as string}`)).toEqual(p);
  });

  it('ignores read-only accepted_sms_marketing; write-only unsubscribe_sms_marketing opts out', async () => {
    const created = emu.controls.createPatient({
      first_name: 'Mãe',
      last_name: 'Gonçalves',
      accepted_sms_marketing: true,
    });
    const id = created.id as string;
    const ignored = await call(emu, `/patients/${id}`, {
      method: 'PATCH',
      body: { accepted_sms_marketing: false },
    });
    expect(ignored.status).toBe(200);
    expect((ignored.json as Rec).accepted_sms_marketing).toBe(true);
    const noOptIn = await call(emu, `/patients/${id}`, {
      method: 'PATCH',
      body: { unsubscribe_sms_marketing: false },
    });
    expect((noOptIn.json as Rec).accepted_sms_marketing).toBe(true);
    const out = await call(emu, `/patients/${id}`, {
      method: 'PATCH',
      body: { unsubscribe_sms_marketing: true },
    });
    expect((out.json as Rec).accepted_sms_marketing).toBe(false);
    expect(out.json).not.toHaveProperty('unsubscribe_sms_marketing');
  });

  it('404s an unknown or archived patient', async () => {
    expect((await call(emu, '/patients/1100001099511699999', { method: 'PATCH', body: {} })).status).toBe(
      404,
    );
    const archived = await getJson<ListBody>(emu, `/patients?${enc('archived_at:?')}`);
    const gone = (archived.patients as Rec[])[0];
    expect(gone).toBeDefined();
    expect((await call(emu, `/patients/${gone?.id as string}`, { method: 'PATCH', body: {} })).status).toBe(
      404,
    );
    expect((await call(emu, '/patients/12', { method: 'PATCH', body: {} })).status).toBe(404);
  });
});

describe('archive and unarchive', () => {
  it('archives (204), hides the patient, and unarchives (200) with updated_at bumped each time', async () => {
    const p = await firstVisiblePatient(2);
    const id = p.id as string;
    emu.controls.setClock({ advanceSeconds: 5 });
    const archived = await call(emu, `/patients/${id}/archive`, { method: 'POST' });
    expect(archived.status).toBe(204);
    expect((await call(emu, `/patients/${id}`)).status).toBe(404);
    const seen = await getJson(emu, `/patients/${id}?${enc('archived_at:*')}`);
    expect(seen.archived_at).toBe(emu.controls.now());
    expect(seen.updated_at).toBe(emu.controls.now());
    const changed = await getJson<ListBody>(
      emu,
      `/patients?${enc(`updated_at:>=${emu.controls.now()}`)}&${enc('archived_at:*')}`,
    );
    expect((changed.patients as Rec[]).map((x) => x.id)).toContain(id);
    emu.controls.setClock({ advanceSeconds: 5 });
    const un = await call(emu, `/patients/${id}/unarchive`, { method: 'POST' });
    expect(un.status).toBe(200);
    expect((un.json as Rec).archived_at).toBeNull();
    expect((un.json as Rec).updated_at).toBe(emu.controls.now());
    expect((await call(emu, `/patients/${id}`)).status).toBe(200);
  });

  it('a list read again after a write reflects it (no stale page cache)', async () => {
    const before = await getJson<ListBody>(emu, '/patients?per_page=5');
    const p = (before.patients as Rec[])[0] as Rec;
    await call(emu, `/patients/${p.id as string}/archive`, { method: 'POST' });
    const after = await getJson<ListBody>(emu, '/patients?per_page=5');
    expect(after.total_entries).toBe(before.total_entries - 1);
    expect((after.patients as Rec[]).map((x) => x.id)).not.toContain(p.id);
    await call(emu, `/patients/${p.id as string}/unarchive`, { method: 'POST' });
    expect((await getJson<ListBody>(emu, '/patients?per_page=5')).total_entries).toBe(before.total_entries);
  });

  it('accepts an archive POST with a JSON content type and no body; rejects a PATCH whose body is not JSON', async () => {
    const p = await firstVisiblePatient(4);
    const res = await fetch(`${emu.baseUrl}/patients/${p.id as string}/archive`, {
      method: 'POST',
      headers: { ...headersFor(emu), 'content-type': 'application/json' },
    });
    expect(res.status).toBe(204);
    await call(emu, `/patients/${p.id as string}/unarchive`, { method: 'POST' });
    const bad = await fetch(`${emu.baseUrl}/patients/${p.id as string}`, {
      method: 'PATCH',
      headers: { ...headersFor(emu), 'content-type': 'application/json' },
      body: '{"first_name": ',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: 'Request body is not valid JSON' });
  });

  it('the deprecated DELETE /patients/{id} archives too', async () => {
    const p = await firstVisiblePatient(3);
    expect((await call(emu, `/patients/${p.id as string}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(emu, `/patients/${p.id as string}`)).status).toBe(404);
    await call(emu, `/patients/${p.id as string}/unarchive`, { method: 'POST' });
  });
});

describe('rate limit', () => {
  it('answers the request over the per-key budget with 429 and X-RateLimit-Reset in epoch seconds', async () => {
    const small = await startClinikoEmulator({ seed: 2, patients: 3, rateLimitPerMinute: 5 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await call(small, '/businesses')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const r = await call(small, '/businesses');
      const reset = Number(r.headers.get('x-ratelimit-reset'));
      // On the server's clock, the one its Date header states (the emulated clock).
      const nowS = Date.parse(r.headers.get('date') ?? '') / 1000;
      expect(reset).toBeGreaterThan(nowS);
      expect(reset).toBeLessThanOrEqual(Math.ceil(nowS) + 61);
      small.controls.resetRateLimit();
      expect((await call(small, '/businesses')).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('does not charge injected faults or rejected keys to the budget', async () => {
    const small = await startClinikoEmulator({ seed: 2, patients: 3, rateLimitPerMinute: 2 });
    try {
      small.controls.injectFault({ path: '/v1/users', kind: '503', count: 3 });
      for (let i = 0; i < 3; i++) expect((await call(small, '/users')).status).toBe(503);
      expect((await call(small, '/users', { key: 'MS0xbogus-au1' })).status).toBe(401);
      expect((await call(small, '/users')).status).toBe(200);
      expect((await call(small, '/users')).status).toBe(200);
      expect((await call(small, '/users')).status).toBe(429);
    } finally {
      await small.close();
    }
  });

  it('counts per key and frees the budget when the window passes', async () => {
    const small = await startClinikoEmulator({
      seed: 2,
      patients: 3,
      rateLimitPerMinute: 2,
      rateLimitWindowSeconds: 1,
    });
    try {
      expect((await call(small, '/users')).status).toBe(200);
      expect((await call(small, '/users')).status).toBe(200);
      expect((await call(small, '/users')).status).toBe(429);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await call(small, '/users')).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
