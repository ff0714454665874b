/**
 * Conformance: every route the emulator serves answers with JSON that validates against the official
 * spec's response schema for that operation, and the filter allow-lists equal the spec's tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILTERS } from './filters.js';
import type { ClinikoEmulator } from './index.js';
import { startClinikoEmulator } from './index.js';
import type { ListBody } from './helpers.js';
import { call, enc } from './helpers.js';
import { responseValidator, specFilters } from './spec.js';

let emu: ClinikoEmulator;
type Rec = Record<string, unknown>;

beforeAll(async () => {
  // Small practice, no rate limit: this walks every page of every list.
  emu = await startClinikoEmulator({ seed: 3, patients: 40, rateLimitPerMinute: 1_000_000 });
});
afterAll(async () => {
  await emu.close();
});

const SOFT = ['archived_at', 'cancelled_at', 'deleted_at'];

async function validated(method: string, specPath: string, url: string, status = '200'): Promise<unknown> {
  const r = await call(emu, url, { method });
  expect(r.status, `${method} ${url}: ${r.text.slice(0, 200)}`).toBe(Number(status));
  const validate = responseValidator(method, specPath, status);
  const ok = validate(r.json);
  expect(
    ok,
    `${method} ${url} does not match the spec for ${specPath}: ${JSON.stringify(validate.errors?.slice(0, 5))}`,
  ).toBe(true);
  return r.json;
}

/** Walk every page of a list (default visibility, then with every soft-delete column opened) and validate each. */
async function walkValidated(specPath: string, url: string, plural: string): Promise<Rec[]> {
  const allowed = FILTERS[specPath] ?? {};
  const open = SOFT.filter((c) => c in allowed)
    .map((c) => `&${enc(`${c}:*`)}`)
    .join('');
  const out: Rec[] = [];
  for (const start of [
    `${url}${url.includes('?') ? '&' : '?'}per_page=100`,
    `${url}${url.includes('?') ? '&' : '?'}per_page=100${open}`,
  ]) {
    let next: string | undefined = start;
    const seen: Rec[] = [];
    while (next) {
      const body = (await validated('GET', specPath, next)) as ListBody;
      seen.push(...(body[plural] as Rec[]));
      next = body.links.next;
    }
    if (out.length === 0 || seen.length > out.length) out.splice(0, out.length, ...seen);
  }
  return out;
}

const idOf = (r: Rec | undefined): string => {
  if (!r) throw new Error('no record to take an id from');
  return r.id as string;
};

describe('every route validates against the official spec', () => {
  const lists: Record<string, Rec[]> = {};

  it('top-level lists', async () => {
    const top: [string, string][] = [
      ['/patients', 'patients'],
      ['/individual_appointments', 'individual_appointments'],
      ['/attendees', 'attendees'],
      ['/bookings', 'bookings'],
      ['/appointment_types', 'appointment_types'],
      ['/practitioners', 'practitioners'],
      ['/practitioners/inactive', 'practitioners'],
      ['/businesses', 'businesses'],
      ['/patient_cases', 'patient_cases'],
      ['/patient_cases/active', 'patient_cases'],
      ['/invoices', 'invoices'],
      ['/invoice_items', 'invoice_items'],
      ['/concession_types', 'concession_types'],
      ['/contacts', 'contacts'],
      ['/treatment_notes', 'treatment_notes'],
      ['/medical_alerts', 'medical_alerts'],
      ['/users', 'users'],
    ];
    for (const [path, plural] of top) {
      lists[path] = await walkValidated(path, path, plural);
    }
    expect(lists['/patients']?.length).toBeGreaterThan(40);
    expect(lists['/individual_appointments']?.length).toBeGreaterThan(100);
    expect(lists['/invoices']?.map((i) => i.status).sort()).toEqual(expect.arrayContaining([10, 20, 30]));
  });

  it('nested lists', async () => {
    const patient = idOf(lists['/patients']?.find((p) => p.archived_at === null));
    const appt = idOf(lists['/individual_appointments']?.find((a) => a.invoice_status !== null));
    const kase = idOf(lists['/patient_cases']?.[0]);
    const prac = idOf(lists['/practitioners']?.[0]);
    const biz = idOf(lists['/businesses']?.[0]);
    const type = idOf(lists['/appointment_types']?.[0]);
    const invoice = idOf(lists['/invoices']?.[0]);
    const attendee = (await call(emu, `/individual_appointments/${appt}/attendees`)).json as ListBody;
    const attendeeId = idOf((attendee.attendees as Rec[])[0]);
    const nested: [string, string, string][] = [
      [
        '/individual_appointments/{individual_appointment_id}/attendees',
        `/individual_appointments/${appt}/attendees`,
        'attendees',
      ],
      ['/patient_cases/{patient_case_id}/attendees', `/patient_cases/${kase}/attendees`, 'attendees'],
      ['/patient_cases/{patient_case_id}/bookings', `/patient_cases/${kase}/bookings`, 'bookings'],
      [
        '/practitioners/{practitioner_id}/appointment_types',
        `/practitioners/${prac}/appointment_types`,
        'appointment_types',
      ],
      ['/businesses/{business_id}/practitioners', `/businesses/${biz}/practitioners`, 'practitioners'],
      [
        '/appointment_types/{appointment_type_id}/practitioners',
        `/appointment_types/${type}/practitioners`,
        'practitioners',
      ],
      ['/patients/{patient_id}/invoices', `/patients/${patient}/invoices`, 'invoices'],
      ['/appointments/{appointment_id}/invoices', `/appointments/${appt}/invoices`, 'invoices'],
      ['/attendees/{attendee_id}/invoices', `/attendees/${attendeeId}/invoices`, 'invoices'],
      ['/patient_cases/{patient_case_id}/invoices', `/patient_cases/${kase}/invoices`, 'invoices'],
      ['/practitioners/{practitioner_id}/invoices', `/practitioners/${prac}/invoices`, 'invoices'],
      ['/invoices/{invoice_id}/invoice_items', `/invoices/${invoice}/invoice_items`, 'invoice_items'],
      ['/patients/{patient_id}/treatment_notes', `/patients/${patient}/treatment_notes`, 'treatment_notes'],
      ['/patients/{patient_id}/medical_alerts', `/patients/${patient}/medical_alerts`, 'medical_alerts'],
    ];
    for (const [specPath, url, plural] of nested) {
      const rows = await walkValidated(specPath, url, plural);
      if (
        specPath.includes('/attendees') ||
        specPath.startsWith('/invoices/') ||
        specPath.includes('practitioners')
      ) {
        expect(rows.length, url).toBeGreaterThan(0);
      }
    }
  });

  it('records by id, including archived and cancelled ones when asked for', async () => {
    const byId: [string, string, Rec[] | undefined][] = [
      ['/patients/{id}', 'patients', lists['/patients']],
      ['/individual_appointments/{id}', 'individual_appointments', lists['/individual_appointments']],
      ['/attendees/{id}', 'attendees', lists['/attendees']],
      ['/bookings/{id}', 'bookings', lists['/bookings']],
      ['/appointment_types/{id}', 'appointment_types', lists['/appointment_types']],
      ['/practitioners/{id}', 'practitioners', lists['/practitioners']],
      ['/businesses/{id}', 'businesses', lists['/businesses']],
      ['/patient_cases/{id}', 'patient_cases', lists['/patient_cases']],
      ['/invoices/{id}', 'invoices', lists['/invoices']],
      ['/invoice_items/{id}', 'invoice_items', lists['/invoice_items']],
      ['/concession_types/{id}', 'concession_types', lists['/concession_types']],
      ['/contacts/{id}', 'contacts', lists['/contacts']],
      ['/treatment_notes/{id}', 'treatment_notes', lists['/treatment_notes']],
      ['/medical_alerts/{id}', 'medical_alerts', lists['/medical_alerts']],
      ['/users/{id}', 'users', lists['/users']],
    ];
    for (const [specPath, segment, rows] of byId) {
      expect(rows?.length, specPath).toBeGreaterThan(0);
      const allowed = FILTERS[specPath] ?? {};
      const open = SOFT.filter((c) => c in allowed)
        .map((c) => enc(`${c}:*`))
        .join('&');
      // Every soft-deleted record plus a spread of the others.
      const sample = (rows ?? []).filter(
        (r, i) => i % 7 === 0 || SOFT.some((c) => r[c] !== null && r[c] !== undefined),
      );
      for (const r of sample) {
        await validated('GET', specPath, `/${segment}/${idOf(r)}${open ? `?${open}` : ''}`);
      }
    }
    await validated('GET', '/user', '/user');
    await validated('GET', '/settings/public', '/settings/public');
  });

  it('writes: PATCH, unarchive, and the 422 body', async () => {
    const patient = idOf(lists['/patients']?.find((p) => p.archived_at === null));
    const patched = await call(emu, `/patients/${patient}`, { method: 'PATCH', body: { first_name: 'Zoë' } });
    expect(responseValidator('PATCH', '/patients/{id}', '200')(patched.json)).toBe(true);
    const bad = await call(emu, `/patients/${patient}`, { method: 'PATCH', body: { email: 'not-an-email' } });
    expect(bad.status).toBe(422);
    expect(responseValidator('PATCH', '/patients/{id}', '422')(bad.json)).toBe(true);
    const archived = await call(emu, `/patients/${patient}/archive`, { method: 'POST' });
    expect(archived.status).toBe(204);
    expect(archived.text).toBe('');
    await validated('POST', '/patients/{id}/unarchive', `/patients/${patient}/unarchive`, '200');
  });
});

describe('filter allow-lists', () => {
  it('equal the q[] tables of the spec for every served list and get operation', () => {
    for (const [path, table] of Object.entries(FILTERS)) {
      expect(table, path).toEqual(specFilters(path));
    }
    expect(Object.keys(FILTERS).length).toBeGreaterThan(40);
  });

  it('the validator is real: a record with a wrong type fails', () => {
    const v = responseValidator('GET', '/patients/{id}', '200');
    expect(v({ id: 12345, created_at: 'yesterday' })).toBe(false);
    expect(v({ id: '1100001099511627776', accepted_sms_marketing: null, reminder_type: null })).toBe(true);
    expect(v({ reminder_type: 'Carrier pigeon' })).toBe(false);
  });
});
