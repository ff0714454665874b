/**
 * "jsforce cannot tell" (issue 18): what jsforce 3 does against a real org it must be able to do
 * against the emulator, over loopback HTTP. Field names in bodies are case-insensitive; CometD
 * streaming delivers platform events to jsforce's streaming client (live, and replayed with
 * `StreamingExtension.Replay`); describeGlobal / describe cover a marketing org's standard objects;
 * `layouts()` answers in Salesforce's shape. Each proof has a control that shows it can fail.
 */
import { Connection } from 'jsforce';
import { StreamingExtension } from 'jsforce/api/streaming';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { control, signJwt } from '../emulators/salesforce/testing.js';
import { startSyncHarness } from '../support/harness.js';
import { recordId } from '../emulators/cliniko/index.js';

const VERSION = '66.0';
const CHANNEL = '/event/Patient_Journey_Event__e';

let emu: SalesforceEmulator;
/** Keeps external ids unique if vitest retries a test against the same org. */
const run = Date.now().toString(36);

beforeAll(async () => {
  emu = await startSalesforceEmulator({ controls: true });
});

afterAll(async () => {
  await emu?.close();
});

async function integrationConnection(): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: emu.clientSecret },
    version: VERSION,
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

async function adminConnection(): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId },
    version: VERSION,
  });
  const assertion = signJwt(
    {
      iss: emu.clientId,
      sub: emu.adminUsername,
      aud: emu.loginUrl,
      exp: Math.floor(Date.now() / 1000) + 180,
    },
    emu.jwt.privateKeyPem ?? '',
  );
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  return conn;
}

function journeyEvent(key: string) {
  return {
    Cliniko_Patient_Id__c: '100001',
    Transition_Key__c: key,
    Trigger__c: 'T1 New Initial Consult Booked',
    From_Stage__c: 'Lead',
    To_Stage__c: 'New Patient Booked',
    Occurred_At__c: '2026-11-22T01:00:00.000Z',
  };
}

/** What Faye hands a subscriber: the Bayeux message's `data`. */
interface StreamMessage {
  payload?: Record<string, unknown>;
  event?: { replayId?: number };
}

/** jsforce's typings leave out Faye's `disconnect()`, which sends `/meta/disconnect`. */
function disconnect(client: unknown): void {
  (client as { disconnect(): void }).disconnect();
}

/** Collects messages until `count` have arrived or `ms` pass; resolves with what arrived. */
function collect(messages: StreamMessage[], count: number, ms: number): Promise<StreamMessage[]> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const check = () => {
      if (messages.length >= count || Date.now() > until) resolve([...messages]);
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('field names in request bodies are case-insensitive', () => {
  it("multi-record update with jsforce's lowercase `id` updates every record", async () => {
    const conn = await integrationConnection();
    const created = await conn.sobject('Contact').create([
      { LastName: 'Case-One', Cliniko_Patient_Id__c: `ci-1-${run}` },
      { LastName: 'Case-Two', Cliniko_Patient_Id__c: `ci-2-${run}` },
    ]);
    const ids = created.map((r) => (r.success ? r.id : ''));
    expect(created, JSON.stringify(created)).toHaveLength(2);
    expect(
      ids.every((id) => id !== ''),
      JSON.stringify(created),
    ).toBe(true);
    // On the wire: `{"records":[{"id":"003...","attributes":{"type":"Contact"},"lastname":"..."}]}`.
    const updated = await conn
      .sobject('Contact')
      .update(ids.map((Id, i) => ({ Id, lastname: `Renamed-${i}` })));
    expect(updated.map((r) => r.success)).toEqual([true, true]);
    const log = await control<Array<{ method: string; url: string; body: string }>>(
      emu.loginUrl,
      'GET',
      'requests',
    );
    const sent = log.filter((e) => e.method === 'PATCH' && e.url.endsWith('/composite/sobjects')).at(-1);
    expect(sent?.body).toMatch(/"id":"003/); // the case Salesforce accepts and the emulator once refused
    expect(sent?.body).not.toMatch(/"Id":/);
    const rows = await conn.query<{ LastName: string }>(
      `SELECT LastName FROM Contact WHERE Id IN ('${ids.join("','")}') ORDER BY LastName`,
    );
    expect(rows.records.map((r) => r.LastName)).toEqual(['Renamed-0', 'Renamed-1']);
  });

  it('control: a key that is not a field name still fails the record', async () => {
    const conn = await integrationConnection();
    const [created] = await conn
      .sobject('Contact')
      .create([{ LastName: 'Ctl', Cliniko_Patient_Id__c: `ci-3-${run}` }]);
    const id = created?.success ? created.id : '';
    const [result] = await conn.sobject('Contact').update([{ Id: id, last_name: 'x' }], { allOrNone: false });
    expect(result?.success).toBe(false);
    expect(JSON.stringify(result)).toContain('INVALID_FIELD');
  });
});

describe('CometD streaming delivers platform events to jsforce', () => {
  it('a topic subscriber receives events published after it subscribed, with replay ids', async () => {
    const conn = await integrationConnection();
    await conn.sobject('Patient_Journey_Event__e').create(journeyEvent('before-subscribe'));
    const messages: StreamMessage[] = [];
    const subscription = conn.streaming.topic(CHANNEL).subscribe((m) => messages.push(m));
    await subscription; // the subscribe round trip is done
    await conn.sobject('Patient_Journey_Event__e').create(journeyEvent('live-1'));
    await conn.sobject('Patient_Journey_Event__e').create(journeyEvent('live-2'));
    const got = await collect(messages, 2, 10_000);
    subscription.cancel();
    // Control: the event published before subscribing is not delivered (-1: new events only).
    expect(got.map((m) => m.payload?.Transition_Key__c)).toEqual(['live-1', 'live-2']);
    const replayIds = got.map((m) => m.event?.replayId ?? 0);
    expect(replayIds[1]).toBeGreaterThan(replayIds[0] ?? Infinity);
  });

  it('StreamingExtension.Replay with -2 replays every retained event, N replays those after N', async () => {
    const conn = await integrationConnection();
    const all = emu.org.events.filter((e) => e.object === 'Patient_Journey_Event__e');
    expect(all.length).toBeGreaterThanOrEqual(3);
    const fromStart: StreamMessage[] = [];
    const client = conn.streaming.createClient([new StreamingExtension.Replay(CHANNEL, -2)]);
    const sub = client.subscribe(CHANNEL, (m: unknown) => fromStart.push(m as StreamMessage));
    const replayed = await collect(fromStart, all.length, 10_000);
    sub.cancel();
    disconnect(client);
    expect(replayed.map((m) => m.event?.replayId)).toEqual(all.map((e) => e.replayId));

    const after = all[0]?.replayId ?? 0;
    const fromN: StreamMessage[] = [];
    const client2 = conn.streaming.createClient([new StreamingExtension.Replay(CHANNEL, after)]);
    const sub2 = client2.subscribe(CHANNEL, (m: unknown) => fromN.push(m as StreamMessage));
    const tail = await collect(fromN, all.length - 1, 10_000);
    sub2.cancel();
    disconnect(client2);
    expect(tail.map((m) => m.event?.replayId)).toEqual(all.slice(1).map((e) => e.replayId));
  });

  it("control: a channel that does not exist is refused with Salesforce's error", async () => {
    const conn = await integrationConnection();
    const client = conn.streaming.createClient([]);
    const error = await new Promise<unknown>((resolve) => {
      const sub = client.subscribe('/event/No_Such_Event__e', () => undefined);
      sub.then(
        () => resolve(undefined),
        (e: unknown) => resolve(e),
      );
    });
    disconnect(client);
    expect(String((error as { message?: string } | undefined)?.message ?? error)).toContain(
      'The channel you requested to subscribe to does not exist',
    );
  });
});

describe('describe covers the standard objects a marketing org uses', () => {
  const STANDARD = [
    'Lead',
    'Opportunity',
    'Campaign',
    'CampaignMember',
    'Task',
    'Event',
    'Case',
    'User',
    'Profile',
    'PermissionSet',
    'PermissionSetAssignment',
    'PermissionSetGroup',
    'FieldPermissions',
    'ObjectPermissions',
  ];

  it('describeGlobal lists them and describe answers each with its key prefix', async () => {
    const conn = await adminConnection();
    const global = await conn.describeGlobal();
    const names = new Set(global.sobjects.map((o) => o.name));
    for (const name of STANDARD) expect(names.has(name), name).toBe(true);
    const lead = await conn.sobject('Lead').describe();
    expect(lead.keyPrefix).toBe('00Q');
    expect(lead.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Company', 'Status', 'LastName']));
    const campaignMember = await conn.sobject('CampaignMember').describe();
    expect(campaignMember.fields.find((f) => f.name === 'CampaignId')?.referenceTo).toEqual(['Campaign']);
  });

  it('control: an object that does not exist is NOT_FOUND', async () => {
    const conn = await adminConnection();
    await expect(conn.sobject('Not_An_Object__c').describe()).rejects.toMatchObject({
      errorCode: 'NOT_FOUND',
    });
  });
});

describe('layouts answer as Salesforce does', () => {
  it("Contact's layouts() has a detail section with the fields the user can see", async () => {
    const conn = await integrationConnection();
    const layouts = (await conn.sobject('Contact').layouts()) as unknown as {
      layouts: Array<{
        detailLayoutSections: Array<{
          layoutRows: Array<{
            layoutItems: Array<{ label: string; layoutComponents: Array<{ value: string }> }>;
          }>;
        }>;
      }>;
      recordTypeSelectorRequired: boolean[];
    };
    const values = layouts.layouts[0]?.detailLayoutSections.flatMap((s) =>
      s.layoutRows.flatMap((r) => r.layoutItems.flatMap((i) => i.layoutComponents.map((c) => c.value))),
    );
    expect(values).toEqual(expect.arrayContaining(['LastName', 'Cliniko_Patient_Id__c']));
    expect(layouts.recordTypeSelectorRequired).toEqual([false]);
  });

  it('control: a platform event has no layouts and says so with an error code, not NOT_FOUND', async () => {
    const conn = await integrationConnection();
    await expect(conn.sobject('Patient_Journey_Event__e').layouts()).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
    });
  });
});

describe('a jsforce streaming subscriber receives the journey events of a sync', () => {
  it('every Patient_Journey_Event__e the sync publishes arrives on the CometD channel, in replay order', async () => {
    const h = await startSyncHarness({ cliniko: { patients: 8, seed: 7 } });
    try {
      const conn = new Connection({
        oauth2: {
          loginUrl: h.salesforce.loginUrl,
          clientId: h.salesforce.clientId,
          clientSecret: h.salesforce.clientSecret,
        },
        version: VERSION,
      });
      await conn.authorize({ grant_type: 'client_credentials' });
      const received: StreamMessage[] = [];
      const subscription = conn.streaming.topic(CHANNEL).subscribe((m) => received.push(m));
      await subscription;
      // Control: nothing has been published yet, so nothing may have arrived.
      expect(received).toEqual([]);
      expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
      // A new patient books an initial consult: journey trigger T1, one event per transition.
      const { controls, practice } = h.cliniko;
      controls.setClock({ advanceSeconds: 60 });
      const patient = controls.createPatient({ first_name: 'Stream', last_name: 'Watcher' }) as {
        id: string;
      };
      controls.setClock({ advanceSeconds: 60 });
      const type = practice.appointmentTypes.findIndex(
        (t) => t.name === 'Initial Appointment' && t.archivedAt === null,
      );
      controls.book({
        patient_id: patient.id,
        starts_at: new Date(Date.parse(controls.now()) + 2 * 86_400_000).toISOString(),
        appointment_type_id: recordId('appointmentType', type),
      });
      expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
      await h.service.worker.drain();
      const published = h.salesforce.org.events.filter((e) => e.object === 'Patient_Journey_Event__e');
      expect(published.length).toBeGreaterThan(0);
      const got = await collect(received, published.length, 15_000);
      subscription.cancel();
      expect(got.map((m) => m.event?.replayId)).toEqual(published.map((e) => e.replayId));
      expect(got.map((m) => m.payload?.Transition_Key__c)).toEqual(
        published.map((e) => e.payload.Transition_Key__c),
      );
    } finally {
      await h.close();
    }
  }, 60_000);
});

describe('query columns (`columns=true`, what `sf data query` asks)', () => {
  interface Column {
    columnName: string;
    displayName: string;
    aggregate: boolean;
    apexType: string | null;
    foreignKeyName: string | null;
    joinColumns: Column[];
  }
  const names = (columns: Column[]): unknown[] =>
    columns.map((c) => (c.joinColumns.length ? { [c.columnName]: names(c.joinColumns) } : c.columnName));

  it('answers columnMetadata with canonical names, relationships, subqueries and aggregates', async () => {
    const conn = await integrationConnection();
    const columns = await conn.request<{ columnMetadata: Column[]; entityName: string; idSelected: boolean }>(
      `/services/data/v${VERSION}/query?q=${encodeURIComponent(
        'SELECT id, lastname, Owner.Name, (SELECT Name FROM care_plans__r) FROM contact',
      )}&columns=true`,
    );
    expect(columns.entityName).toBe('Contact');
    expect(columns.idSelected).toBe(true);
    expect(names(columns.columnMetadata)).toEqual([
      'Id',
      'LastName',
      { Owner: ['Name'] },
      { Care_Plans__r: ['Name'] },
    ]);
    expect(columns.columnMetadata[2]?.foreignKeyName).toBe('OwnerId');
    expect(columns.columnMetadata[3]?.aggregate).toBe(true);
    const counted = await conn.request<{ columnMetadata: Column[] }>(
      `/services/data/v${VERSION}/query?q=${encodeURIComponent('SELECT COUNT(Id), MAX(LastName) m FROM Contact')}&columns=true`,
    );
    expect(counted.columnMetadata.map((c) => [c.columnName, c.displayName, c.aggregate])).toEqual([
      ['expr0', 'COUNT(Id)', true],
      ['m', 'm', true],
    ]);
  });

  it('control: a bad query fails with the same error as the query itself', async () => {
    const conn = await integrationConnection();
    await expect(
      conn.request(
        `/services/data/v${VERSION}/query?q=${encodeURIComponent('SELECT Nope__c FROM Contact')}&columns=true`,
      ),
    ).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
  });
});

describe('Bayeux as Salesforce speaks it (raw messages)', () => {
  async function bayeux(token: string, messages: unknown[]): Promise<Array<Record<string, unknown>>> {
    const response = await fetch(`${emu.instanceUrl}/cometd/${VERSION}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `OAuth ${token}` },
      body: JSON.stringify(messages),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Array<Record<string, unknown>>;
  }

  it('handshake, subscribe with an invalid replay id, unknown client, bad session', async () => {
    const conn = await integrationConnection();
    const token = conn.accessToken ?? '';
    const [hello] = await bayeux(token, [
      { channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'], id: '1' },
    ]);
    expect(hello).toMatchObject({
      successful: true,
      ext: { replay: true },
      supportedConnectionTypes: ['long-polling'],
    });
    const clientId = String(hello?.clientId);
    const [first] = await bayeux(token, [
      { channel: '/meta/connect', clientId, connectionType: 'long-polling', id: '2' },
    ]);
    expect(first).toMatchObject({ successful: true, advice: { reconnect: 'retry', timeout: 110_000 } });
    const [badReplay] = await bayeux(token, [
      {
        channel: '/meta/subscribe',
        clientId,
        subscription: CHANNEL,
        id: '3',
        ext: { replay: { [CHANNEL]: 999_999 } },
      },
    ]);
    expect(badReplay).toMatchObject({ successful: false });
    expect(String(badReplay?.error)).toMatch(/^400::The replayId \{999999\} you provided was invalid/);
    // Control: the same subscribe with -2 is accepted.
    const [good] = await bayeux(token, [
      {
        channel: '/meta/subscribe',
        clientId,
        subscription: CHANNEL,
        id: '4',
        ext: { replay: { [CHANNEL]: -2 } },
      },
    ]);
    expect(good).toMatchObject({ successful: true, subscription: CHANNEL });
    const [unknown] = await bayeux(token, [
      { channel: '/meta/connect', clientId: 'not-a-client', connectionType: 'long-polling', id: '5' },
    ]);
    expect(unknown).toMatchObject({
      successful: false,
      error: '403::Unknown client',
      advice: { reconnect: 'handshake' },
    });
    const [denied] = await bayeux('not-a-token', [{ channel: '/meta/handshake', version: '1.0', id: '6' }]);
    expect(denied).toMatchObject({
      successful: false,
      error: '403::Handshake denied',
      ext: { sfdc: { failureReason: '401::Authentication invalid' } },
    });
    const [bye] = await bayeux(token, [{ channel: '/meta/disconnect', clientId, id: '7' }]);
    expect(bye).toMatchObject({ successful: true });
  });
});
