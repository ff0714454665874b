import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from './server.js';
import { control } from './testing.js';

/**
 * The org at benchmark scale (org/compact.ts, org/store.ts, org/events.ts): records are stored without
 * their empty fields yet every reader still sees them as null; ids find their record without a map of
 * every id; platform events are kept for 72 hours and at most `maxEvents`, and a replay from a dropped
 * event is refused as Salesforce refuses one outside the retention window.
 */
let sf: SalesforceEmulator;
let token: string;

beforeAll(async () => {
  // A session that outlives the clock moves of the 72-hour test.
  sf = await startSalesforceEmulator({ controls: true, maxEvents: 16, tokenLifetimeSeconds: 10 * 24 * 3600 });
  const response = await fetch(`${sf.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sf.clientId,
      client_secret: sf.clientSecret,
    }).toString(),
  });
  token = ((await response.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await sf.close();
});

const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${sf.loginUrl}/services/data/v${sf.apiVersion}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as unknown };
};

const bayeux = async (messages: unknown[]) => {
  const response = await fetch(`${sf.instanceUrl}/cometd/${sf.apiVersion}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `OAuth ${token}` },
    body: JSON.stringify(messages),
  });
  return (await response.json()) as Array<Record<string, unknown>>;
};

describe('compact records', () => {
  it('stores only the fields that hold a value; every reader sees the empty ones as null', async () => {
    const created = await api('PATCH', 'sobjects/Contact/Cliniko_Patient_Id__c/7001', {
      LastName: 'Compact',
      Email: 'c@example.org',
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    // Emptying a field removes it from the stored record, and the REST view still shows it as null.
    expect((await api('PATCH', `sobjects/Contact/${id}`, { Email: null })).status).toBe(204);

    const stored = sf.org.store.table('Contact').get(id) ?? {};
    expect(Object.values(stored)).not.toContain(null);
    expect(stored).not.toHaveProperty('Email');
    expect(stored).not.toHaveProperty('MobilePhone');
    // Control: what the org hands out has every field, null where empty, as before.
    const view = sf.org.byId(id)?.record ?? {};
    const contact = sf.org.schema.objects.get('contact');
    expect(Object.keys(view)).toEqual([...(contact?.fields.values() ?? [])].map((f) => f.name));
    expect(view).toMatchObject({ LastName: 'Compact', Email: null, MobilePhone: null });
    const rest = (await api('GET', `sobjects/Contact/${id}?fields=Email,LastName`)).body;
    expect(rest).toMatchObject({ Email: null, LastName: 'Compact' });
    const soql = await api(
      'GET',
      `query?q=${encodeURIComponent(`SELECT Email FROM Contact WHERE Id = '${id}'`)}`,
    );
    expect(soql.body).toMatchObject({ records: [{ Email: null }] });
    const empty = await api(
      'GET',
      `query?q=${encodeURIComponent("SELECT Id FROM Contact WHERE Email = null AND Cliniko_Patient_Id__c = '7001'")}`,
    );
    expect(empty.body).toMatchObject({ totalSize: 1 });
    const dumped = await control<Array<Record<string, unknown>>>(
      sf.loginUrl,
      'GET',
      'records/Contact?field=Cliniko_Patient_Id__c&value=7001',
    );
    expect(dumped[0]).toMatchObject({ Email: null, LastName: 'Compact' });
  });

  it('finds records by id through the key prefix, history rows (shared prefix 017) included', async () => {
    const { body } = await api('PATCH', 'sobjects/Contact/Cliniko_Patient_Id__c/7002', {
      LastName: 'Prefix',
    });
    const id = (body as { id: string }).id;
    expect(sf.org.byId(id)?.object.name).toBe('Contact');
    expect(sf.org.byId(id.slice(0, 15))?.record.LastName).toBe('Prefix');
    const history = [...sf.org.store.table('ContactHistory').values()].find((r) => r.ContactId === id);
    expect(history).toBeDefined();
    expect(sf.org.byId(String(history?.Id))?.object.name).toBe('ContactHistory');
    // Control: an id of the right shape that no record has is not found.
    expect(sf.org.byId(`${id.slice(0, 14)}Z`)).toBeUndefined();
  });

  it('keeps the external-id index right when several records share a value and when one leaves', async () => {
    const contact = sf.org.schema.objects.get('contact');
    const field = contact?.fields.get('cliniko_patient_id__c');
    if (!contact || !field) throw new Error('schema has no Contact.Cliniko_Patient_Id__c');
    const { body } = await api('PATCH', 'sobjects/Contact/Cliniko_Patient_Id__c/7003', { LastName: 'One' });
    const id = (body as { id: string }).id;
    expect(sf.org.matchByField(contact, field, '7003').map((r) => r.Id)).toEqual([id]);
    // Moving the record to another value leaves the old one empty.
    expect((await api('PATCH', `sobjects/Contact/${id}`, { Cliniko_Patient_Id__c: '7004' })).status).toBe(
      204,
    );
    expect(sf.org.matchByField(contact, field, '7003')).toEqual([]);
    expect(sf.org.matchByField(contact, field, '7004').map((r) => r.Id)).toEqual([id]);
  });
});

describe('platform event retention', () => {
  const publish = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await api('POST', 'sobjects/Patient_Journey_Event__e', {
        Cliniko_Patient_Id__c: String(i),
        To_Stage__c: 'Active',
      });
      expect(r.status).toBe(201);
    }
  };

  it('keeps at most maxEvents (trimmed in steps), counts every event published', async () => {
    await control(sf.loginUrl, 'DELETE', 'events');
    await publish(40);
    const retained = sf.org.events.length;
    expect(retained).toBeGreaterThanOrEqual(16);
    expect(retained).toBeLessThanOrEqual(16 + 2);
    const stats = await control<{ events: number; eventsRetained: number }>(sf.loginUrl, 'GET', 'stats');
    expect(stats).toMatchObject({ events: 40, eventsRetained: retained });
    // The newest are the ones kept, in order.
    const ids = sf.org.events.map((e) => e.replayId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.at(-1)).toBe(sf.org.events.at(-1)?.replayId);
    expect(sf.org.eventsDroppedThrough).toBe((ids[0] ?? 0) - 1);
  });

  it('refuses a replay from a dropped event, accepts one from the last dropped on', async () => {
    const [hello] = await bayeux([
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    const clientId = String(hello?.clientId);
    const channel = '/event/Patient_Journey_Event__e';
    const subscribe = async (replay: number) =>
      (
        await bayeux([
          {
            channel: '/meta/subscribe',
            clientId,
            subscription: channel,
            id: '2',
            ext: { replay: { [channel]: replay } },
          },
        ])
      )[0];
    const dropped = sf.org.eventsDroppedThrough;
    expect(dropped).toBeGreaterThan(1);
    const refused = await subscribe(dropped - 1);
    expect(refused).toMatchObject({ successful: false });
    expect(String(refused?.error)).toMatch(/^400::The replayId \{\d+\} you provided was invalid/);
    // Control: from the last dropped event on, nothing retained is missed, so it is accepted.
    expect(await subscribe(dropped)).toMatchObject({ successful: true });
    expect(await subscribe(-2)).toMatchObject({ successful: true });
  });

  it('drops events older than 72 hours on the org clock', async () => {
    await control(sf.loginUrl, 'DELETE', 'events');
    await publish(3);
    await control(sf.loginUrl, 'POST', 'clock', { advanceSeconds: 71 * 3600 });
    await publish(1);
    expect(sf.org.events).toHaveLength(4);
    await control(sf.loginUrl, 'POST', 'clock', { advanceSeconds: 2 * 3600 });
    sf.org.retainEvents();
    // Control above: at 71 hours all four were kept; at 73 hours the first three are gone.
    expect(sf.org.events).toHaveLength(1);
    await control(sf.loginUrl, 'POST', 'clock', { advanceSeconds: -73 * 3600 });
  });
});
