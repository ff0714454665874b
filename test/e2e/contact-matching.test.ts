import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../sync-service/src/logger.js';
import { createOutboxWorker } from '../../sync-service/src/sync/outbox/worker.js';
import {
  createContactMatcher,
  matchSalesforceOf,
  resolveHold,
} from '../../sync-service/src/sync/match/index.js';
import type { SalesforceWriter } from '../../sync-service/src/salesforce/writer.js';
import { reconcilerForService, type Reconciler } from '../../sync-service/src/sync/reconcile/index.js';
import {
  runDryRun,
  type DryRunResult,
  type RecordPreview,
} from '../../sync-service/src/sync/dry-run/index.js';
import { recordId } from '../emulators/cliniko/index.js';
import { signJwt } from '../emulators/salesforce/testing.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #19, items 4 and 5, over both emulators: before creating a Contact the sync links an existing
 * Contact or Lead with the patient's email (no duplicate), holds an ambiguous patient for review until
 * an admin chooses, and never re-creates a Contact an admin deleted, in reconciliation or in ordinary
 * cycles, until `contacts restore`. A matched Lead is linked in Salesforce (SYNC_LEAD_MATCH=link, the
 * default): it carries the patient's id and the new Contact's Matched_Lead__c points at it; with
 * SYNC_LEAD_MATCH=ignore no Lead is even queried. Controls: a worker without the matcher does create the
 * duplicate; lifting the hold lets the same reconciliation re-create the Contact; the default mode's
 * request log does show the Lead query the ignore mode never sends.
 */
let h: SyncHarness;
let reconciler: Reconciler;

const adminId = () => h.salesforce.org.adminUser.id;
const now = () => Date.parse(h.cliniko.controls.now());

function objectDef(name: string) {
  const def = h.salesforce.org.schema.objects.get(name.toLowerCase());
  if (!def) throw new Error(`no ${name} in the emulated org`);
  return def;
}

/** A record an admin or a marketer made in Salesforce before the sync knew the patient. */
function createByHand(object: 'Contact' | 'Lead', values: Record<string, unknown>): string {
  const [result] = h.salesforce.org.saveBatch(
    adminId(),
    [{ operation: 'insert', object: objectDef(object), values }],
    false,
  );
  expect(result?.success, JSON.stringify(result)).toBe(true);
  return String(result!.id);
}

/** Counted through jsforce, as an admin's report would: every live Contact with this email. */
async function contactsWithEmail(
  email: string,
): Promise<Array<{ Id: string; Cliniko_Patient_Id__c: string | null }>> {
  const result = await h.service.salesforce.connection.query<{
    Id: string;
    Cliniko_Patient_Id__c: string | null;
  }>(`SELECT Id, Cliniko_Patient_Id__c FROM Contact WHERE Email = '${email}'`);
  return result.records;
}

function newPatient(first: string, last: string, email: string): string {
  return String(
    (h.cliniko.controls.createPatient({ first_name: first, last_name: last, email }) as { id: string }).id,
  );
}

/** A System Administrator's session (JWT bearer), as the admin or a marketer reading the org would have. */
async function adminConnection(target: SyncHarness): Promise<Connection> {
  const sf = target.salesforce;
  const conn = new Connection({ oauth2: { loginUrl: sf.loginUrl, clientId: sf.clientId }, version: '66.0' });
  const assertion = signJwt(
    { iss: sf.clientId, sub: sf.adminUsername, aud: sf.loginUrl, exp: Math.floor(Date.now() / 1000) + 180 },
    sf.jwt.privateKeyPem ?? '',
  );
  await conn.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
  return conn;
}

/** The SOQL queries on Lead the emulator received after request `since` (its request log). */
async function leadQueriesSince(target: SyncHarness, since: number): Promise<number> {
  const res = await fetch(`${target.salesforce.loginUrl}/__emulator/requests?since=${since}`);
  expect(res.status).toBe(200);
  const log = (await res.json()) as Array<{ seq: number; method: string; url: string }>;
  expect(Array.isArray(log)).toBe(true);
  return log.filter(
    (e) => e.url.includes('/query') && /\bFROM Lead\b/i.test(decodeURIComponent(e.url.replace(/\+/g, ' '))),
  ).length;
}

async function lastRequestSeq(target: SyncHarness): Promise<number> {
  const log = (await (await fetch(`${target.salesforce.loginUrl}/__emulator/requests`)).json()) as Array<{
    seq: number;
  }>;
  return log.at(-1)?.seq ?? 0;
}

async function auditOps(patientId: string): Promise<string[]> {
  const rows = await h.service.store.listAudit({ externalId: patientId });
  return rows.map((r) => (JSON.parse(r.entry) as { operation: string }).operation);
}

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 8, seed: 19 }, salesforce: { controls: true } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
  const s = h.service;
  reconciler = reconcilerForService(s, createLogger({ level: 'silent' }), now);
});

afterAll(async () => {
  await h?.close();
});

describe('matching existing records before creating a Contact', () => {
  it('a dry run reports what would be linked, created or held, and writes nothing', async () => {
    createByHand('Contact', { FirstName: 'Dry', LastName: 'Link', Email: 'dry-link@match.example' });
    createByHand('Contact', { LastName: 'Amb', Email: 'dry-amb@match.example' });
    createByHand('Contact', { LastName: 'Amb', Email: 'dry-amb@match.example' });
    createByHand('Lead', { LastName: 'Lead', Company: 'Self', Email: 'dry-lead@match.example' });
    const link = newPatient('Dry', 'Link', 'dry-link@match.example');
    const review = newPatient('Dry', 'Amb', 'dry-amb@match.example');
    const lead = newPatient('Dry', 'Lead', 'dry-lead@match.example');
    const fresh = newPatient('Dry', 'New', 'dry-new@match.example');
    const contactsBefore = activeRecords(h.salesforce, 'Contact').length;

    const seen: RecordPreview[] = [];
    const result: DryRunResult = await runDryRun(
      {
        cliniko: h.service.cliniko,
        store: h.service.store,
        dataMap: h.service.dataMap,
        journeyConfig: h.service.journeyConfig,
        clinicTimezone: h.config.clinicTimezone,
        now,
        query: async (soql) =>
          (await h.service.salesforce.connection.query<Record<string, unknown>>(soql)).records,
      },
      { onRecord: (p) => seen.push(p) },
    );

    const matchOf = (id: string) => seen.find((p) => p.object === 'Contact' && p.externalId === id)?.match;
    expect([matchOf(link), matchOf(review), matchOf(lead), matchOf(fresh)]).toEqual([
      'link',
      'review',
      'link-lead',
      'create',
    ]);
    expect(result.matches).toMatchObject({ link: 1, review: 1, 'link-lead': 1, create: 1 });
    expect(activeRecords(h.salesforce, 'Contact')).toHaveLength(contactsBefore);
    expect(await h.service.store.listContactHolds({ patientIds: [review] })).toEqual([]);
    // Leave the four to the sync, as the tests below expect a quiet queue.
    await h.service.runner.runCycle('incremental');
  });

  it('links the one existing Contact with the email instead of creating a duplicate', async () => {
    const existing = createByHand('Contact', {
      FirstName: 'Ema',
      LastName: 'Existing',
      Email: 'Ema@Match.Example',
    });
    const patientId = newPatient('Ema', 'Existing', 'EMA@match.example');

    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');

    const contacts = await contactsWithEmail('ema@match.example');
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.Id.slice(0, 15)).toBe(existing.slice(0, 15));
    expect(contacts[0]!.Cliniko_Patient_Id__c).toBe(patientId);
    expect(await auditOps(patientId)).toEqual(expect.arrayContaining(['contact-link', 'update']));
  });

  it('control: a worker without the matcher creates the duplicate', async () => {
    createByHand('Contact', { FirstName: 'Dee', LastName: 'Duplicate', Email: 'dee@match.example' });
    const s = h.service;
    const payload = JSON.stringify({
      Cliniko_Patient_Id__c: 'control-1',
      FirstName: 'Dee',
      LastName: 'Duplicate',
      Email: 'dee@match.example',
    });
    await s.store.commitBatch({
      stream: 'control',
      outbox: [
        {
          object: 'Contact',
          externalId: 'control-1',
          operation: 'upsert',
          payload,
          payloadHash: 'control-1',
          runId: 'control',
          priority: 10,
        },
      ],
      now: now(),
    });
    const bare = createOutboxWorker(
      {
        store: s.store,
        writer: s.writer,
        logger: createLogger({ level: 'silent' }),
        now,
        sleep: () => Promise.resolve(),
      },
      { owner: 'control-worker', retryDelaysMs: [10], jitterMs: 1, maxWaitMs: 2_000 },
    );
    expect((await bare.drain()).created).toBe(1);
    expect(await contactsWithEmail('dee@match.example')).toHaveLength(2);
  });

  it("two patients with one existing Contact's email, in two claims out together: the first links it, the second is created", async () => {
    // Issue #16: claims of Contacts overlap (one Bulk job processing while the next is screened and
    // sent). The second claim is screened only once the first one's link is made, so it sees the
    // Contact carrying the first patient's id (never a candidate) and creates its own.
    const existing = createByHand('Contact', {
      FirstName: 'Kim',
      LastName: 'Shared',
      Email: 'kim@match.example',
    });
    const s = h.service;
    const item = (id: string) => ({
      object: 'Contact',
      externalId: id,
      operation: 'upsert' as const,
      payload: JSON.stringify({
        Cliniko_Patient_Id__c: id,
        FirstName: 'Kim',
        LastName: 'Shared',
        Email: 'kim@match.example',
      }),
      payloadHash: id,
      runId: 'overlap',
      priority: 10,
    });
    await s.store.commitBatch({
      stream: 'overlap',
      outbox: [item('overlap-1'), item('overlap-2')],
      now: now(),
    });
    const trace: string[] = [];
    const writer: SalesforceWriter = {
      ...s.writer,
      async upsert(object, field, records, options) {
        const key = String(records[0]?.[field]);
        trace.push(`call ${key}`);
        const results = await s.writer.upsert(object, field, records, options);
        trace.push(`answered ${key}`);
        return results;
      },
    };
    const logger = createLogger({ level: 'silent' });
    const salesforce = matchSalesforceOf(s.salesforce.connection);
    const worker = createOutboxWorker(
      {
        store: s.store,
        writer,
        logger,
        now,
        sleep: () => Promise.resolve(),
        matcher: createContactMatcher({ salesforce, store: s.store, logger, now }),
      },
      {
        owner: 'overlap-worker',
        claimLimit: 1,
        bulkThreshold: 0,
        retryDelaysMs: [10],
        jitterMs: 1,
        maxWaitMs: 2_000,
      },
    );
    expect((await worker.drain()).written).toBe(2);
    // The two Bulk jobs were out together...
    expect(trace.indexOf('call overlap-2')).toBeLessThan(trace.indexOf('answered overlap-1'));
    // ...and the existing Contact went to the first patient only.
    const contacts = await contactsWithEmail('kim@match.example');
    expect(contacts.map((c) => c.Cliniko_Patient_Id__c).sort()).toEqual(['overlap-1', 'overlap-2']);
    expect(contacts.find((c) => c.Id.slice(0, 15) === existing.slice(0, 15))?.Cliniko_Patient_Id__c).toBe(
      'overlap-1',
    );
    expect(await auditOps('overlap-1')).toEqual(['contact-link', 'update']);
    expect(await auditOps('overlap-2')).toEqual(['create']);
  });

  it('links an existing Lead: the Contact is created once pointing at it, the Lead carries the patient id', async () => {
    const lead = createByHand('Lead', {
      LastName: 'Lead',
      FirstName: 'Lee',
      Company: 'Self',
      Email: 'lee@match.example',
    });
    const patientId = newPatient('Lee', 'Lead', 'lee@match.example');
    const since = await lastRequestSeq(h);

    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');

    // Control for the ignore mode below: the default mode does query Leads.
    expect(await leadQueriesSince(h, since)).toBeGreaterThanOrEqual(1);
    expect(await contactsWithEmail('lee@match.example')).toHaveLength(1);
    // What an admin (or a marketer's report) sees in Salesforce, read through jsforce.
    const admin = await adminConnection(h);
    const contacts = await admin.query<{ Id: string; Matched_Lead__c: string | null }>(
      `SELECT Id, Matched_Lead__c FROM Contact WHERE Cliniko_Patient_Id__c = '${patientId}'`,
    );
    expect(contacts.records.map((c) => String(c.Matched_Lead__c).slice(0, 15))).toEqual([lead.slice(0, 15)]);
    const patientLeads = await admin.query<{ Id: string; Cliniko_Patient_Id__c: string }>(
      `SELECT Id, Cliniko_Patient_Id__c FROM Lead WHERE Cliniko_Patient_Id__c != null AND Email = 'lee@match.example'`,
    );
    expect(patientLeads.records.map((l) => [l.Id.slice(0, 15), l.Cliniko_Patient_Id__c])).toEqual([
      [lead.slice(0, 15), patientId],
    ]);
    const rows = await h.service.store.listAudit({ externalId: patientId });
    const entries = rows.map(
      (r) =>
        JSON.parse(r.entry) as {
          operation: string;
          object: string;
          salesforceId: string | null;
          changedFields: string[];
        },
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ operation: 'lead-link', object: 'Lead', salesforceId: lead }),
    );
    expect(entries.find((e) => e.operation === 'create')?.changedFields).toContain('Matched_Lead__c');

    // A later change to the patient updates the Contact and leaves the link as it is.
    h.cliniko.controls.updatePatient(patientId, { first_name: 'Leigh' });
    await h.service.runner.runCycle('incremental');
    const after = await admin.query<{ FirstName: string; Matched_Lead__c: string | null }>(
      `SELECT FirstName, Matched_Lead__c FROM Contact WHERE Cliniko_Patient_Id__c = '${patientId}'`,
    );
    expect(after.records.map((c) => [c.FirstName, String(c.Matched_Lead__c).slice(0, 15)])).toEqual([
      ['Leigh', lead.slice(0, 15)],
    ]);
  });

  it("holds two Leads with the patient's email for review and links the one the admin chooses", async () => {
    const a = createByHand('Lead', { LastName: 'Dual', Company: 'Self', Email: 'dual@match.example' });
    const b = createByHand('Lead', { LastName: 'Dual', Company: 'Self', Email: 'dual@match.example' });
    const patientId = newPatient('Dee', 'Other', 'dual@match.example');
    await h.service.runner.runCycle('incremental');
    expect(await contactsWithEmail('dual@match.example')).toHaveLength(0);
    const [hold] = await h.service.store.listContactHolds({ patientIds: [patientId], open: true });
    expect(hold).toMatchObject({ kind: 'review', object: 'Lead', candidates: [a, b].sort() });

    const outcome = await resolveHold(
      h.service.store,
      patientId,
      { link: b },
      { actor: 'test:admin', now: now(), runId: 'resolve-lead' },
    );
    expect(outcome.ok).toBe(true);
    await h.service.worker.drain();

    const admin = await adminConnection(h);
    const leads = await admin.query<{ Id: string; Cliniko_Patient_Id__c: string | null }>(
      `SELECT Id, Cliniko_Patient_Id__c FROM Lead WHERE Email = 'dual@match.example'`,
    );
    const marked = (id: string) => leads.records.find((l) => l.Id.slice(0, 15) === id.slice(0, 15));
    expect([marked(a)?.Cliniko_Patient_Id__c ?? null, marked(b)?.Cliniko_Patient_Id__c]).toEqual([
      null,
      patientId,
    ]);
    const contact = await admin.query<{ Matched_Lead__c: string | null }>(
      `SELECT Matched_Lead__c FROM Contact WHERE Cliniko_Patient_Id__c = '${patientId}'`,
    );
    expect(contact.records.map((c) => String(c.Matched_Lead__c).slice(0, 15))).toEqual([b.slice(0, 15)]);
  });

  it("holds an ambiguous patient for review, then writes under the admin's choice", async () => {
    const a = createByHand('Contact', { FirstName: 'Sam', LastName: 'Twin', Email: 'twin@match.example' });
    const b = createByHand('Contact', { FirstName: 'Sam', LastName: 'Twin', Email: 'twin@match.example' });
    const patientId = newPatient('Sam', 'Twin', 'twin@match.example');
    const startsAt = new Date(now() + 3 * 86_400_000).toISOString();
    const appointment = h.cliniko.controls.book({ patient_id: patientId, starts_at: startsAt }) as {
      id: string;
    };

    await h.service.runner.runCycle('incremental');

    expect(await contactsWithEmail('twin@match.example')).toHaveLength(2);
    const [hold] = await h.service.store.listContactHolds({ patientIds: [patientId], open: true });
    expect(hold).toMatchObject({ kind: 'review', object: 'Contact', candidates: [a, b].sort() });
    expect(JSON.stringify(hold)).not.toContain('twin@match.example');
    const blocked = await h.service.store.listBlocked();
    expect(blocked.map((x) => x.externalId)).toEqual(expect.arrayContaining([patientId, appointment.id]));
    expect(await auditOps(patientId)).toContain('match-review');

    // A second cycle does not ask again or create anything.
    await h.service.runner.runCycle('incremental');
    expect(await contactsWithEmail('twin@match.example')).toHaveLength(2);

    const outcome = await resolveHold(
      h.service.store,
      patientId,
      { link: b },
      { actor: 'test:admin', now: now(), runId: 'resolve-test' },
    );
    expect(outcome.ok).toBe(true);
    await h.service.worker.drain();

    const after = await contactsWithEmail('twin@match.example');
    expect(after).toHaveLength(2);
    expect(after.find((c) => c.Cliniko_Patient_Id__c === patientId)?.Id.slice(0, 15)).toBe(b.slice(0, 15));
    const booked = activeRecords(h.salesforce, 'Cliniko_Appointment__c').find(
      (r) => r.Cliniko_Appointment_Id__c === appointment.id,
    );
    expect(String(booked?.Contact__c).slice(0, 15)).toBe(b.slice(0, 15));
    expect(await auditOps(patientId)).toEqual(expect.arrayContaining(['match-resolve', 'contact-link']));
  });

  it('refuses a resolution that is not one of the candidates', async () => {
    const c = createByHand('Contact', { LastName: 'Pair', Email: 'pair@match.example' });
    createByHand('Contact', { LastName: 'Pair', Email: 'pair@match.example' });
    const patientId = newPatient('Pat', 'Other', 'pair@match.example');
    await h.service.runner.runCycle('incremental');
    const outcome = await resolveHold(
      h.service.store,
      patientId,
      { link: '003000000000000AAA' },
      { actor: 't', now: now(), runId: 'r' },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? '' : outcome.reason).toContain('not one of the candidates');
    expect(
      (await resolveHold(h.service.store, patientId, 'create', { actor: 't', now: now(), runId: 'r' })).ok,
    ).toBe(true);
    await h.service.worker.drain();
    const all = await contactsWithEmail('pair@match.example');
    expect(all).toHaveLength(3);
    expect(all.filter((x) => x.Cliniko_Patient_Id__c === patientId).map((x) => x.Id)).not.toContain(c);
  });
});

describe('Contacts deleted in Salesforce', () => {
  it('are reported and not re-created by reconciliation or cycles, and re-created on restore', async () => {
    const patientId = recordId('patient', h.cliniko.practice.patients[2]!.idx);
    const contactOf = () =>
      activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
    const original = contactOf();
    expect(original).toBeDefined();
    expect(h.salesforce.org.deleteBatch(adminId(), [String(original!.Id)], false)[0]?.success).toBe(true);

    const report = await reconciler.reconcile();
    expect(contactOf()).toBeUndefined();
    // Held: this patient, and the patient the dry-run test left in match review.
    expect(report.objects.Contact).toMatchObject({ deletedInSalesforce: 1, heldContacts: 2 });
    expect(await h.service.store.listContactHolds({ open: true, patientIds: [patientId] })).toEqual([
      expect.objectContaining({ kind: 'deleted', candidates: [String(original!.Id)] }),
    ]);
    expect(await auditOps(patientId)).toContain('contact-deleted');

    // An ordinary cycle with a change to the patient does not re-create it either.
    h.cliniko.controls.updatePatient(patientId, { last_name: 'Changed' });
    await h.service.runner.runCycle('incremental');
    expect(contactOf()).toBeUndefined();
    // A second reconciliation reports it again without a second audit entry.
    const again = await reconciler.reconcile();
    expect(again.objects.Contact).toMatchObject({ deletedInSalesforce: 0, heldContacts: 2 });
    expect((await auditOps(patientId)).filter((o) => o === 'contact-deleted')).toHaveLength(1);

    // Restore (the control: the same reconciliation re-creates it once the hold is lifted).
    expect(
      (await resolveHold(h.service.store, patientId, 'restore', { actor: 't', now: now(), runId: 'r' })).ok,
    ).toBe(true);
    await reconciler.reconcile();
    const restored = contactOf();
    expect(restored).toBeDefined();
    expect(restored!.Id).not.toBe(original!.Id);
    expect(restored!.LastName).toBe('Changed');
    expect(await auditOps(patientId)).toContain('contact-restore');
  });

  it('an ordinary cycle alone notices the deletion before writing', async () => {
    const patientId = recordId('patient', h.cliniko.practice.patients[4]!.idx);
    const contactOf = () =>
      activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
    const original = contactOf();
    h.salesforce.org.deleteBatch(adminId(), [String(original!.Id)], false);
    h.cliniko.controls.updatePatient(patientId, { first_name: 'Renamed' });

    await h.service.runner.runCycle('incremental');

    expect(contactOf()).toBeUndefined();
    expect(await h.service.store.listContactHolds({ open: true, patientIds: [patientId] })).toEqual([
      expect.objectContaining({ kind: 'deleted' }),
    ]);
  });
});

describe('SYNC_LEAD_MATCH=ignore', () => {
  let ignoring: SyncHarness;

  beforeAll(async () => {
    ignoring = await startSyncHarness({
      cliniko: { patients: 2, seed: 23 },
      salesforce: { controls: true },
      env: { SYNC_LEAD_MATCH: 'ignore' },
    });
    expect((await ignoring.service.runner.runCycle('backfill')).status).toBe('succeeded');
  });

  afterAll(async () => {
    await ignoring?.close();
  });

  it('queries no Lead and creates a plain Contact beside the Lead', async () => {
    const [made] = ignoring.salesforce.org.saveBatch(
      ignoring.salesforce.org.adminUser.id,
      [
        {
          operation: 'insert',
          object: ignoring.salesforce.org.schema.objects.get('lead')!,
          values: { LastName: 'Ignored', Company: 'Self', Email: 'ignored@match.example' },
        },
      ],
      false,
    );
    expect(made?.success).toBe(true);
    const patient = ignoring.cliniko.controls.createPatient({
      first_name: 'Ina',
      last_name: 'Ignored',
      email: 'ignored@match.example',
    }) as { id: string };
    const since = await lastRequestSeq(ignoring);

    expect((await ignoring.service.runner.runCycle('incremental')).status).toBe('succeeded');

    expect(await leadQueriesSince(ignoring, since)).toBe(0);
    const admin = await adminConnection(ignoring);
    const contacts = await admin.query<{ Matched_Lead__c: string | null }>(
      `SELECT Matched_Lead__c FROM Contact WHERE Cliniko_Patient_Id__c = '${String(patient.id)}'`,
    );
    expect(contacts.records.map((c) => c.Matched_Lead__c ?? null)).toEqual([null]);
    const leads = await admin.query<{ Cliniko_Patient_Id__c: string | null }>(
      `SELECT Cliniko_Patient_Id__c FROM Lead WHERE Email = 'ignored@match.example'`,
    );
    expect(leads.records.map((l) => l.Cliniko_Patient_Id__c ?? null)).toEqual([null]);
    const ops = (await ignoring.service.store.listAudit({ externalId: String(patient.id) })).map(
      (r) => (JSON.parse(r.entry) as { operation: string }).operation,
    );
    expect(ops).toContain('create');
    expect(ops).not.toContain('lead-link');
  });
});
