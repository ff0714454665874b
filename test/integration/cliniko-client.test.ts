import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClinikoTransport,
  createClinikoClient,
  type ClinikoClient,
  type ResourceStream,
  type StreamEvent,
} from '../../sync-service/src/cliniko/index.js';
import { isSyncError } from '../../sync-service/src/errors.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';

/*
 * The Cliniko client against the Cliniko emulator over loopback HTTP: paging cost, visibility of archived
 * and cancelled rows, same-second updates at page boundaries, a list that moves while it is paged,
 * write-back and authentication. Faults and the request budget: cliniko-client-faults.test.ts.
 */

const EMAIL = 'integration@clinic.example';
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  }),
});

function clientFor(
  emulator: ClinikoEmulator,
  apiKey = emulator.apiKey,
  requestsPerMinute = 200,
): ClinikoClient {
  return createClinikoClient(
    { apiKey, shard: emulator.shard, baseUrl: emulator.baseUrl, contactEmail: EMAIL, requestsPerMinute },
    logger,
  );
}

interface Collected {
  records: Array<{ id: string; updatedAt: string; record: unknown; raw: Readonly<Record<string, unknown>> }>;
  quarantine: unknown[];
  pages: number;
  end: Extract<StreamEvent<unknown>, { kind: 'end' }> | undefined;
}

async function collect<T>(
  events: AsyncIterable<StreamEvent<T>>,
  onPage?: (e: Extract<StreamEvent<T>, { kind: 'page' }>, soFar: Collected) => void,
): Promise<Collected> {
  const out: Collected = { records: [], quarantine: [], pages: 0, end: undefined };
  for await (const e of events) {
    if (e.kind === 'record')
      out.records.push({ id: e.id, updatedAt: e.updatedAt, record: e.record, raw: e.raw });
    else if (e.kind === 'quarantine') out.quarantine.push(e.item);
    else if (e.kind === 'page') {
      out.pages += 1;
      onPage?.(e, out);
    } else out.end = e;
  }
  return out;
}

function listRequests(emulator: ClinikoEmulator, path: string) {
  return emulator.requestLog().filter((r) => r.method === 'GET' && r.url.split('?')[0] === `/v1/${path}`);
}

describe('reading 20,000 patients', () => {
  let emulator: ClinikoEmulator;
  beforeAll(async () => {
    // The synthetic practice adds duplicate registrations on top of `patients`; start a little under
    // 20,000 rows and register the rest through the emulator's controls to land on exactly 20,000.
    emulator = await startClinikoEmulator({ seed: 20, patients: 19_000 });
    const missing = 20_000 - emulator.practice.patients.length;
    for (let i = 0; i < missing; i += 1) {
      emulator.controls.createPatient({ first_name: `Top${i}`, last_name: `Up${i}` });
    }
    emulator.controls.clearRequestLog();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('takes exactly ceil(20000 / 100) list requests, within the 200/min limit, and loses nothing', async () => {
    const client = clientFor(emulator);
    try {
      expect(emulator.practice.patients.length).toBe(20_000);
      const out = await collect(client.streams.patients.read());
      const requests = listRequests(emulator, 'patients');
      // Every patient is read, archived and merged ones included, each exactly once.
      expect(out.records.length).toBe(20_000);
      expect(new Set(out.records.map((r) => r.id)).size).toBe(20_000);
      expect(out.quarantine).toEqual([]);
      expect(requests).toHaveLength(Math.ceil(20_000 / 100));
      expect(requests.every((r) => r.status === 200)).toBe(true);
      expect(emulator.requestLog()).toHaveLength(200);
      expect(out.end).toMatchObject({ complete: true, passes: 1, pages: 200, records: 20_000 });
      expect(out.records.some((r) => (r.record as { archived_at: string | null }).archived_at !== null)).toBe(
        true,
      );
      expect(client.stats().budget).toMatchObject({ granted: 200, limit: 200, waits: 0 });
      // No patient data in the client's logs.
      const sample = out.records[0]!.record as { first_name: string; last_name: string };
      expect(logLines.join('')).not.toContain(sample.last_name);
    } finally {
      await client.close();
    }
  });
});

describe('the Cliniko client against the emulator', () => {
  let emulator: ClinikoEmulator;
  let client: ClinikoClient;
  beforeAll(async () => {
    emulator = await startClinikoEmulator({ seed: 7, patients: 300, rateLimitPerMinute: 100_000 });
    client = clientFor(emulator, emulator.apiKey, 100_000);
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('reads every synced resource with records that all pass their schemas', async () => {
    const counts: Record<string, number> = {};
    const streams: Record<string, ResourceStream<unknown>> = client.streams;
    for (const [name, stream] of Object.entries(streams)) {
      const out = await collect(stream.read());
      expect(out.quarantine, name).toEqual([]);
      expect(out.end?.complete, name).toBe(true);
      counts[name] = out.records.length;
      // Ids are exact strings of digits, relations resolve from links.self.
      for (const r of out.records) expect(r.id).toMatch(/^\d+$/);
    }
    for (const name of Object.keys(client.streams)) expect(counts[name], name).toBeGreaterThan(0);
    // The practitioners stream walks both the active and the inactive endpoint.
    expect(listRequests(emulator, 'practitioners/inactive').length).toBeGreaterThan(0);
  });

  it('sees archived patients and cancelled appointments that Cliniko hides by default', async () => {
    emulator.controls.setClock({ advanceSeconds: 3600 });
    const since = emulator.controls.now();
    emulator.controls.setClock({ advanceSeconds: 5 });
    const patientId = recordId('patient', 3);
    emulator.controls.archivePatient(patientId);
    const appointments = await collect(client.streams.individualAppointments.read());
    const target = appointments.records.find(
      (r) => (r.record as { cancelled_at: string | null }).cancelled_at === null,
    )!;
    emulator.controls.cancel(target.id);

    // A plain request without the visibility filters does not show them: this is what the filters fix.
    const plain = await request(`${emulator.baseUrl}/patients?q%5B%5D=id%3A%3D${patientId}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${emulator.apiKey}:`).toString('base64')}`,
        'user-agent': `Test (${EMAIL})`,
        accept: 'application/json',
      },
    });
    expect(((await plain.body.json()) as { total_entries: number }).total_entries).toBe(0);

    const patients = await collect(client.streams.patients.read({ since, overlapSeconds: 0 }));
    expect(patients.records.map((r) => r.id)).toEqual([patientId]);
    expect((patients.records[0]!.record as { archived_at: string | null }).archived_at).not.toBeNull();
    const changed = await collect(client.streams.individualAppointments.read({ since, overlapSeconds: 0 }));
    expect(changed.records.map((r) => r.id)).toContain(target.id);
    const cancelled = changed.records.find((r) => r.id === target.id)!.record as {
      cancelled_at: string | null;
    };
    expect(cancelled.cancelled_at).not.toBeNull();
  });

  it('misses no record updated in the same second as the watermark or across a page boundary', async () => {
    emulator.controls.setClock({ advanceSeconds: 3600, frozen: true });
    const second = emulator.controls.now();
    const first = Array.from({ length: 150 }, (_, i) => recordId('patient', i));
    emulator.controls.touch('patients', first);
    const seen = new Set<string>();
    const run1 = await collect(client.streams.patients.read({ since: second, overlapSeconds: 0, seen }));
    expect(run1.records).toHaveLength(150);
    expect(run1.pages).toBe(2);
    expect(run1.end?.maxUpdatedAt).toBe(second);

    // More rows change in that same second after the read; the next run starts at the watermark.
    const later = Array.from({ length: 120 }, (_, i) => recordId('patient', 150 + i));
    emulator.controls.touch('patients', later);
    const run2 = await collect(
      client.streams.patients.read({ since: run1.end!.maxUpdatedAt!, overlapSeconds: 0, seen }),
    );
    expect(run2.records.map((r) => r.id).sort()).toEqual([...later].sort());
    expect(run2.end).toMatchObject({ duplicates: 150, records: 120, complete: true });
    emulator.controls.setClock({ frozen: false });
  });

  it('walks an incremental list again when a row already read changes mid-read, and misses nothing', async () => {
    emulator.controls.setClock({ advanceSeconds: 3600 });
    const since = '2000-01-01T00:00:00Z';
    const before = await collect(client.streams.patients.read({ since }));
    let touched: string | undefined;
    const out = await collect(client.streams.patients.read({ since }), (page, soFar) => {
      if (page.pass === 1 && page.pageNumber === 1) {
        touched = soFar.records[10]!.id;
        emulator.controls.touch('patients', [touched]);
      }
    });
    expect(out.end).toMatchObject({ complete: true, passes: 2 });
    const ids = new Set(out.records.map((r) => r.id));
    expect(ids).toEqual(new Set(before.records.map((r) => r.id)));
    expect(out.records.filter((r) => r.id === touched)).toHaveLength(2);
    expect(new Set(out.records.map((r) => `${r.id}@${r.updatedAt}`)).size).toBe(out.records.length);
  });

  it('backfills by id in one pass even when rows change between pages', async () => {
    emulator.controls.setClock({ advanceSeconds: 3600 });
    const before = await collect(client.streams.patients.read());
    const out = await collect(client.streams.patients.read(), (page, soFar) => {
      if (page.pageNumber === 1) emulator.controls.touch('patients', [soFar.records[10]!.id]);
    });
    expect(out.end).toMatchObject({ complete: true, passes: 1 });
    expect(out.records.map((r) => r.id)).toEqual(before.records.map((r) => r.id));
    expect(out.pages).toBe(Math.ceil(before.records.length / 100));
  });

  it('patches a patient and reports a 422 by field name', async () => {
    const id = recordId('patient', 20);
    const updated = await client.patchPatient(id, {
      email: 'moved@clinic.example',
      unsubscribe_sms_marketing: true,
    });
    expect(updated.email).toBe('moved@clinic.example');
    expect(updated.accepted_sms_marketing).toBe(false);
    const err = await client.patchPatient(id, { email: 'no at sign' }).catch((e: unknown) => e);
    expect(isSyncError(err) && err.code).toBe('CLINIKO_VALIDATION_FAILED');
    expect((err as { fields: string[] }).fields).toEqual(['email']);
    expect(JSON.stringify(err)).not.toContain('no at sign');
    expect((await client.getPatient(id)).email).toBe('moved@clinic.example');
  });

  it("reports Cliniko's 400 for a column that is not searchable, without retrying", async () => {
    const transport = new ClinikoTransport({
      baseUrl: emulator.baseUrl,
      apiKey: emulator.apiKey,
      contactEmail: EMAIL,
      requestsPerMinute: 100,
      logger,
    });
    try {
      const before = emulator.requestLog().length;
      const err = await transport
        .getJson(transport.url('patients', { 'q[]': ['notes:~back'] }))
        .catch((e: unknown) => e);
      expect(isSyncError(err) && err.code).toBe('CLINIKO_BAD_REQUEST');
      expect(isSyncError(err) && err.message).toContain('This column is not searchable.');
      expect(emulator.requestLog().length - before).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it('gets an archived patient by id rather than a 404', async () => {
    const id = recordId('patient', 4);
    emulator.controls.archivePatient(id);
    const patient = await client.getPatient(id);
    expect(patient.id).toBe(id);
    expect(patient.archived_at).not.toBeNull();
    const missing = await client.getPatient('999999999999999999').catch((e: unknown) => e);
    expect(isSyncError(missing) && missing.code).toBe('CLINIKO_NOT_FOUND');
  });

  it('checks the connection cheaply and reports a bad or wrong-shard key without retrying', async () => {
    expect(await client.checkConnection()).toMatchObject({ status: 'ok' });
    for (const key of [emulator.keyForShard('uk1'), `${emulator.apiKey.slice(0, -6)}x-au1`]) {
      const wrong = clientFor(emulator, key);
      try {
        const before = emulator.requestLog().length;
        const err = await collect(wrong.streams.patients.read()).catch((e: unknown) => e);
        expect(isSyncError(err) && err.code).toBe('CLINIKO_AUTH_FAILED');
        expect(emulator.requestLog().length - before).toBe(1);
        expect(await wrong.checkConnection()).toMatchObject({ status: 'error', code: 'CLINIKO_AUTH_FAILED' });
      } finally {
        await wrong.close();
      }
    }
  });
});
