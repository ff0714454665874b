import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClinikoValidationError } from '../../cliniko/index.js';
import { SyncError } from '../../errors.js';
import { loadDataMap } from '../../governance/data-map.js';
import { verifyAuditChain } from '../../governance/audit.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { createLogger } from '../../logger.js';
import type { SqliteStore } from '../../store/index.js';
import { memoryStore } from '../test-fakes.js';
import { createReversePoller, reverseFields, REVERSE_STREAM, type QueryPage } from './index.js';

const INTEGRATION = '005000000000001AAA';
const MARKETER = '005000000000002AAA';
const map = loadDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);

interface Patient extends Record<string, unknown> {
  id: string;
}

function patient(id: string, over: Partial<Patient> = {}): Patient {
  return {
    id,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@example.com',
    patient_phone_numbers: [{ number: '+61412000001', phone_type: 'Mobile' }],
    address_1: '1 Main St',
    address_2: null,
    address_3: null,
    accepted_email_marketing: true,
    archived_at: null,
    merged_at: null,
    deleted_at: null,
    ...over,
  };
}

/** The Contact as the forward sync left it for that patient, then edited by `by` at `at`. */
function contact(p: Patient, changes: Record<string, unknown>, at: string, by = MARKETER) {
  return {
    Id: `003${p.id.padStart(15, '0')}`,
    Cliniko_Patient_Id__c: p.id,
    LastModifiedById: by,
    LastModifiedDate: at,
    FirstName: p.first_name,
    Email: p.email,
    MobilePhone: '+61412000001',
    HomePhone: null,
    MailingStreet: '1 Main St',
    Email_Marketing_Consent__c: p.accepted_email_marketing === true,
    HasOptedOutOfEmail: p.accepted_email_marketing !== true,
    ...changes,
  };
}

/** A Salesforce that answers the poller's two queries from lists, paging `pageSize` at a time. */
function fakeSalesforce(pageSize = 100) {
  const contacts: Record<string, unknown>[] = [];
  const history: Array<{ ContactId: string; Field: string; CreatedById: string; CreatedDate: string }> = [];
  const queries: string[] = [];
  const pages = new Map<string, Record<string, unknown>[]>();
  const pageOf = (rows: Record<string, unknown>[]): QueryPage => {
    const first = rows.slice(0, pageSize);
    const rest = rows.slice(pageSize);
    if (rest.length === 0) return { records: first, done: true };
    const locator = `locator-${pages.size}`;
    pages.set(locator, rest);
    return { records: first, done: false, nextRecordsUrl: locator };
  };
  return {
    contacts,
    history,
    queries,
    connection: {
      query(soql: string): Promise<QueryPage> {
        queries.push(soql);
        const since = /(?:LastModifiedDate|CreatedDate) >= (\S+)/.exec(soql)?.[1];
        const after = (at: string) => since === undefined || Date.parse(at) >= Date.parse(since);
        if (soql.includes('FROM ContactHistory')) {
          const rows = history.filter(
            (h) =>
              (!soql.includes('ContactId IN') || soql.includes(`'${h.ContactId}'`)) &&
              soql.includes(`'${h.Field}'`) &&
              h.CreatedById !== INTEGRATION &&
              after(h.CreatedDate),
          );
          return Promise.resolve({ records: rows, done: true });
        }
        const rows = soql.includes('WHERE Id IN')
          ? contacts.filter((c) => soql.includes(`'${String(c.Id)}'`))
          : contacts
              .filter((c) => c.LastModifiedById !== INTEGRATION && after(c.LastModifiedDate as string))
              .sort(
                (a, b) => Date.parse(a.LastModifiedDate as string) - Date.parse(b.LastModifiedDate as string),
              );
        return Promise.resolve(pageOf(rows));
      },
      queryMore(locator: string): Promise<QueryPage> {
        const rest = pages.get(locator) ?? [];
        pages.delete(locator);
        return Promise.resolve(pageOf(rest));
      },
    },
  };
}

function fakeCliniko(patients: Patient[]) {
  const byId = new Map(patients.map((p) => [p.id, p]));
  const patches: Array<{ id: string; patch: Record<string, unknown> }> = [];
  const reject = new Map<string, Error>();
  const gets: string[] = [];
  return {
    gets,
    patches,
    reject,
    byId,
    client: {
      getPatient(id: string) {
        gets.push(id);
        const p = byId.get(id);
        if (!p) return Promise.reject(new SyncError('CLINIKO_NOT_FOUND', `patient ${id} not found`));
        return Promise.resolve(structuredClone(p) as never);
      },
      patchPatient(id: string, patch: Record<string, unknown>) {
        const error = reject.get(id);
        if (error) return Promise.reject(error);
        patches.push({ id, patch });
        const next = { ...byId.get(id)!, ...patch, updated_at: new Date(Date.now() + 60_000).toISOString() };
        byId.set(id, next);
        return Promise.resolve(structuredClone(next) as never);
      },
    },
  };
}

let store: SqliteStore;
beforeEach(async () => {
  store = await memoryStore();
  // The forward sync has read every patient change up to here (see the deferred test).
  await store.commitBatch({ stream: 'patients', watermark: '2026-11-21T00:00:00Z', now: 0 });
});
afterEach(async () => {
  await store.close();
});

function poller(sf: ReturnType<typeof fakeSalesforce>, cliniko: ReturnType<typeof fakeCliniko>) {
  return createReversePoller({
    store,
    cliniko: cliniko.client,
    connection: sf.connection,
    dataMap: map,
    integrationUserId: INTEGRATION,
    logger: createLogger({ level: 'silent' }),
    now: () => Date.parse('2026-11-22T03:00:00Z'),
  });
}

async function auditEntries() {
  return (await store.listAudit()).map((r) => JSON.parse(r.entry) as Record<string, unknown>);
}

describe('reverse poller', () => {
  it('reads only `both` and consent fields of Contacts others changed, newest watermark first', async () => {
    expect(reverseFields(map)).toEqual({
      both: ['Email', 'FirstName', 'HomePhone', 'MailingStreet', 'MobilePhone'],
      consent: ['Email_Marketing_Consent__c', 'HasOptedOutOfEmail'],
    });
    const sf = fakeSalesforce();
    await poller(sf, fakeCliniko([])).poll();
    const soql = sf.queries[0]!;
    expect(soql).toContain(`LastModifiedById != '${INTEGRATION}'`);
    expect(soql).toContain('Cliniko_Patient_Id__c != null');
    expect(soql).not.toContain('LastName');
    expect(soql).not.toContain('Journey_Stage__c');
    expect(soql).toMatch(/ORDER BY LastModifiedDate, Id$/);
  });

  it('PATCHes changed `both` fields, audits names only, and moves the watermark', async () => {
    const p = patient('101');
    const sf = fakeSalesforce();
    sf.contacts.push(
      contact(
        p,
        { Email: 'ada.new@example.com', MobilePhone: '+61412999999' },
        '2026-11-22T02:00:00.000+0000',
      ),
    );
    const cliniko = fakeCliniko([p]);
    const result = await poller(sf, cliniko).poll();
    expect(result).toMatchObject({ read: 1, writtenBack: 1, unchanged: 0, quarantined: 0, failed: 0 });
    expect(cliniko.patches).toEqual([
      {
        id: '101',
        patch: {
          email: 'ada.new@example.com',
          patient_phone_numbers: [{ number: '+61412999999', phone_type: 'Mobile' }],
        },
      },
    ]);
    const [entry] = await auditEntries();
    expect(entry).toMatchObject({
      operation: 'write-back',
      sourceSystem: 'salesforce',
      actor: MARKETER,
      object: 'patients',
      externalId: '101',
      changedFields: ['email', 'patient_phone_numbers'],
    });
    expect(JSON.stringify(entry)).not.toContain('ada.new');
    expect(JSON.stringify(entry)).not.toContain('999999');
    expect(verifyAuditChain((await store.listAudit()).map((r) => JSON.parse(r.entry) as never)).ok).toBe(
      true,
    );
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T02:00:00.000Z');
  });

  it('writes nothing when the Contact already matches Cliniko or only a non-`both` field changed', async () => {
    const p = patient('102');
    const sf = fakeSalesforce();
    // An echo: values as the forward sync projected them (email lower-cased by the transform).
    sf.contacts.push(contact({ ...p, email: 'ada@example.com' }, {}, '2026-11-22T02:00:00Z'));
    const q = patient('103', { email: 'Mixed@Example.com' });
    sf.contacts.push(contact(q, { Email: 'mixed@example.com', LastName: 'Changed' }, '2026-11-22T02:00:01Z'));
    const cliniko = fakeCliniko([p, q]);
    const result = await poller(sf, cliniko).poll();
    expect(result).toMatchObject({ read: 2, writtenBack: 0, unchanged: 2 });
    expect(cliniko.patches).toEqual([]);
    expect(await store.listAudit()).toEqual([]);
  });

  it('leaves a patient alone when Cliniko changed after the Salesforce edit', async () => {
    const p = patient('104', { updated_at: '2026-11-22T02:30:00Z' });
    const sf = fakeSalesforce();
    sf.contacts.push(contact(p, { Email: 'older@example.com' }, '2026-11-22T02:00:00Z'));
    const cliniko = fakeCliniko([p]);
    const result = await poller(sf, cliniko).poll();
    expect(result).toMatchObject({ clinikoNewer: 1, writtenBack: 0 });
    expect(cliniko.patches).toEqual([]);
  });

  it('waits for the forward sync when Cliniko changed the patient before the edit but after the last read', async () => {
    // Cliniko changed the address at 01:00; the forward sync last read patients up to 2026-11-21;
    // the marketer fixed the email at 02:00 on a Contact that still shows the old address.
    const p = patient('131', { updated_at: '2026-11-22T01:00:00Z', address_1: '9 New Rd' });
    const sf = fakeSalesforce();
    sf.contacts.push(
      contact(p, { Email: 'fixed@example.com', MailingStreet: '1 Main St' }, '2026-11-22T02:00:00Z'),
    );
    const cliniko = fakeCliniko([p]);
    const reverse = poller(sf, cliniko);
    expect(await reverse.poll()).toMatchObject({ deferred: 1, writtenBack: 0 });
    expect(cliniko.patches).toEqual([]);
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T01:59:59.999Z');
    // The forward cycle reads the change and puts the new address on the Contact.
    await store.commitBatch({ stream: 'patients', watermark: '2026-11-22T01:00:00Z', now: 0 });
    sf.contacts[0] = { ...sf.contacts[0], MailingStreet: '9 New Rd' };
    expect(await reverse.poll()).toMatchObject({ deferred: 0, writtenBack: 1 });
    expect(cliniko.patches).toEqual([{ id: '131', patch: { email: 'fixed@example.com' } }]);
  });

  it('never writes to archived patients', async () => {
    const p = patient('105', { archived_at: '2026-10-01T00:00:00Z' });
    const sf = fakeSalesforce();
    sf.contacts.push(contact(p, { Email: 'x@example.com' }, '2026-11-22T02:00:00Z'));
    const cliniko = fakeCliniko([p]);
    expect(await poller(sf, cliniko).poll()).toMatchObject({ inactive: 1, writtenBack: 0 });
    expect(cliniko.patches).toEqual([]);
  });

  it('carries a recorded opt-out back, never an opt-in, and no unrecorded consent difference', async () => {
    const optedIn = patient('106', { accepted_email_marketing: true });
    const optedOut = patient('107', { accepted_email_marketing: false });
    const unrecorded = patient('108', { accepted_email_marketing: true });
    const sf = fakeSalesforce();
    const out = contact(optedIn, { HasOptedOutOfEmail: true }, '2026-11-22T02:00:00Z');
    const into = contact(
      optedOut,
      { HasOptedOutOfEmail: false, Email_Marketing_Consent__c: true },
      '2026-11-22T02:00:01Z',
    );
    // Differs from Cliniko but no person changed it (the forward sync has not caught up yet).
    const stale = contact(unrecorded, { HasOptedOutOfEmail: true }, '2026-11-22T02:00:02Z');
    sf.contacts.push(out, into, stale);
    sf.history.push(
      {
        ContactId: out.Id,
        Field: 'HasOptedOutOfEmail',
        CreatedById: MARKETER,
        CreatedDate: out.LastModifiedDate,
      },
      {
        ContactId: into.Id,
        Field: 'HasOptedOutOfEmail',
        CreatedById: MARKETER,
        CreatedDate: into.LastModifiedDate,
      },
      {
        ContactId: into.Id,
        Field: 'Email_Marketing_Consent__c',
        CreatedById: MARKETER,
        CreatedDate: into.LastModifiedDate,
      },
      {
        ContactId: stale.Id,
        Field: 'HasOptedOutOfEmail',
        CreatedById: INTEGRATION,
        CreatedDate: stale.LastModifiedDate,
      },
    );
    const cliniko = fakeCliniko([optedIn, optedOut, unrecorded]);
    const result = await poller(sf, cliniko).poll();
    expect(cliniko.patches).toEqual([{ id: '106', patch: { accepted_email_marketing: false } }]);
    expect(result).toMatchObject({ writtenBack: 1, unchanged: 2, consentOptOuts: { email: 1, sms: 0 } });
    expect((await auditEntries())[0]).toMatchObject({ changedFields: ['accepted_email_marketing'] });
  });

  it('quarantines a record Cliniko rejects (naming the fields) and carries on with the rest', async () => {
    const bad = patient('109');
    const good = patient('110');
    const sf = fakeSalesforce();
    sf.contacts.push(
      contact(bad, { Email: 'not-accepted@example.com' }, '2026-11-22T02:00:00Z'),
      contact(good, { Email: 'fine@example.com' }, '2026-11-22T02:00:01Z'),
    );
    const cliniko = fakeCliniko([bad, good]);
    cliniko.reject.set('109', new ClinikoValidationError('patients', '109', ['email']));
    const result = await poller(sf, cliniko).poll();
    expect(result).toMatchObject({ quarantined: 1, writtenBack: 1 });
    expect(cliniko.patches.map((x) => x.id)).toEqual(['110']);
    const [q] = await store.listQuarantinePayloads();
    expect(q).toMatchObject({ resource: 'salesforce:Contact', recordId: '109', field: 'email' });
    expect(q?.reason).toContain('email');
    expect(q?.reason).not.toContain('not-accepted');
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T02:00:01.000Z');
  });

  it('quarantines a Contact whose write-back can never succeed instead of blocking every later one', async () => {
    const gone = patient('150');
    const good = patient('151');
    const sf = fakeSalesforce();
    sf.contacts.push(
      contact(gone, { Email: 'gone@example.com' }, '2026-11-22T02:00:00Z'),
      contact(good, { Email: 'good@example.com' }, '2026-11-22T02:10:00Z'),
    );
    // Patient 150 no longer exists in Cliniko: a 404 is not a passing failure.
    const cliniko = fakeCliniko([good]);
    const result = await poller(sf, cliniko).poll();
    expect(result).toMatchObject({ quarantined: 1, failed: 0, writtenBack: 1 });
    const [q] = await store.listQuarantinePayloads();
    expect(q).toMatchObject({ resource: 'salesforce:Contact', recordId: '150' });
    expect(q?.reason).toContain('CLINIKO_NOT_FOUND');
    expect(q?.reason).not.toContain('gone@example.com');
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T02:10:00.000Z');
  });

  it('does not quarantine Contacts when Cliniko refuses the API key: it holds the watermark', async () => {
    const p = patient('152');
    const sf = fakeSalesforce();
    sf.contacts.push(contact(p, { Email: 'held@example.com' }, '2026-11-22T02:00:00Z'));
    const cliniko = fakeCliniko([p]);
    cliniko.reject.set('152', new SyncError('CLINIKO_AUTH_FAILED', 'Cliniko rejected the API key (401)'));
    expect(await poller(sf, cliniko).poll()).toMatchObject({ failed: 1, quarantined: 0 });
    expect(await store.listQuarantinePayloads()).toEqual([]);
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T01:59:59.999Z');
  });

  it('keeps the watermark before a record that failed for a passing reason, and retries it', async () => {
    const a = patient('111');
    const b = patient('112');
    const sf = fakeSalesforce();
    sf.contacts.push(
      contact(a, { Email: 'a2@example.com' }, '2026-11-22T02:00:00Z'),
      contact(b, { Email: 'b2@example.com' }, '2026-11-22T02:10:00Z'),
    );
    const cliniko = fakeCliniko([a, b]);
    cliniko.reject.set('111', new SyncError('CLINIKO_UNAVAILABLE', 'Cliniko answered 503'));
    const first = await poller(sf, cliniko).poll();
    expect(first).toMatchObject({ failed: 1, writtenBack: 1 });
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T01:59:59.999Z');
    cliniko.reject.clear();
    const second = await poller(sf, cliniko).poll();
    // b was written by the first poll; Cliniko is now newer than its edit, so it is not written again.
    expect(second).toMatchObject({ writtenBack: 1, failed: 0, clinikoNewer: 1 });
    expect(cliniko.patches.map((x) => x.id)).toEqual(['112', '111']);
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T02:10:00.000Z');
  });

  it('re-reads the overlap but does not handle a Contact twice, across pages too', async () => {
    const patients = Array.from({ length: 5 }, (_, i) => patient(String(120 + i)));
    const sf = fakeSalesforce(2);
    patients.forEach((p, i) =>
      sf.contacts.push(contact(p, { Email: `new${i}@example.com` }, `2026-11-22T02:00:0${i}Z`)),
    );
    const cliniko = fakeCliniko(patients);
    const reverse = poller(sf, cliniko);
    expect(await reverse.poll()).toMatchObject({ read: 5, writtenBack: 5 });
    cliniko.gets.length = 0;
    const again = await reverse.poll();
    expect(again).toMatchObject({ read: 0, writtenBack: 0 });
    expect(cliniko.gets).toEqual([]);
    expect(sf.queries.filter((q) => q.includes('FROM Contact WHERE Cliniko_Patient_Id__c')).at(-1)).toContain(
      'LastModifiedDate >= 2026-11-22T01:59:59Z',
    );
  });

  it("finds a person's edit the integration user wrote over later (through ContactHistory)", async () => {
    const p = patient('130');
    const sf = fakeSalesforce();
    // The marketer changed Email at 02:00; a journey update by the sync at 02:05 now owns LastModifiedBy.
    const edited = contact(p, { Email: 'kept@example.com' }, '2026-11-22T02:05:00Z', INTEGRATION);
    sf.contacts.push(edited);
    sf.history.push({
      ContactId: edited.Id,
      Field: 'Email',
      CreatedById: MARKETER,
      CreatedDate: '2026-11-22T02:00:00Z',
    });
    const cliniko = fakeCliniko([p]);
    const reverse = poller(sf, cliniko);
    expect(await reverse.poll()).toMatchObject({ read: 1, writtenBack: 1 });
    expect(cliniko.patches).toEqual([{ id: '130', patch: { email: 'kept@example.com' } }]);
    expect((await auditEntries())[0]).toMatchObject({ actor: MARKETER, changedFields: ['email'] });
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T02:00:00.000Z');
    // Seen once: the next poll's overlap returns the history row again but nothing is re-read.
    cliniko.gets.length = 0;
    expect(await reverse.poll()).toMatchObject({ read: 0 });
    expect(cliniko.gets).toEqual([]);
  });

  it('retries an overwritten edit that failed even when a later edit in the same poll succeeded', async () => {
    const hidden = patient('140');
    const later = patient('141');
    const sf = fakeSalesforce();
    // The marketer changed 140's Email at 02:00; the sync wrote over the Contact at 02:05.
    const overwritten = contact(hidden, { Email: 'hidden@example.com' }, '2026-11-22T02:05:00Z', INTEGRATION);
    sf.contacts.push(overwritten, contact(later, { Email: 'later@example.com' }, '2026-11-22T02:10:00Z'));
    sf.history.push({
      ContactId: overwritten.Id,
      Field: 'Email',
      CreatedById: MARKETER,
      CreatedDate: '2026-11-22T02:00:00Z',
    });
    const cliniko = fakeCliniko([hidden, later]);
    cliniko.reject.set('140', new SyncError('CLINIKO_UNAVAILABLE', 'Cliniko answered 503'));
    expect(await poller(sf, cliniko).poll()).toMatchObject({ writtenBack: 1, failed: 1 });
    // The watermark stays before the failed edit, although the 02:10 edit was handled.
    expect((await store.getWatermark(REVERSE_STREAM))?.cursor).toBe('2026-11-22T01:59:59.999Z');
    cliniko.reject.clear();
    expect(await poller(sf, cliniko).poll()).toMatchObject({ writtenBack: 1, failed: 0 });
    expect(cliniko.patches.map((x) => x.id)).toEqual(['141', '140']);
  });

  it('refuses an integration user id that is not a Salesforce id', () => {
    expect(() =>
      createReversePoller({
        store,
        cliniko: fakeCliniko([]).client,
        connection: fakeSalesforce().connection,
        dataMap: map,
        integrationUserId: "x' OR Id != '",
        logger: createLogger({ level: 'silent' }),
        now: Date.now,
      }),
    ).toThrow(/integration user id/);
  });
});
