import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import type { SqliteStore } from '../../store/index.js';
import { createOutboxWorker } from '../outbox/worker.js';
import { accept, fakeWriter, manualClock, memoryStore } from '../test-fakes.js';
import type { Candidate } from './decide.js';
import { createContactMatcher } from './matcher.js';
import type { MatchSalesforce } from './salesforce.js';

/**
 * The matcher inside the outbox worker, over a scripted Salesforce side: what is linked, held, created,
 * and what a failing link or query does to the items (retried, never dropped, never a duplicate).
 */
let store: SqliteStore;
const logger = createLogger({ level: 'silent' });

function fakeSalesforce(contacts: Candidate[], leads: Candidate[] = []) {
  const calls = {
    queries: 0,
    leadQueries: 0,
    links: [] as Array<{ id: string; patientId: string }>,
    leadLinks: [] as Array<{ id: string; patientId: string }>,
  };
  const state = {
    linkError: null as SyncError | null,
    leadLinkError: null as SyncError | null,
    queryError: null as Error | null,
    byId: [] as Array<{ id: string; deleted: boolean; externalId: string | null }>,
  };
  const sf: MatchSalesforce = {
    candidatesByEmail: (emails, options) => {
      calls.queries += 1;
      if (state.queryError) return Promise.reject(state.queryError);
      const withEmail = (list: Candidate[]) => list.filter((c) => emails.includes(c.email ?? ''));
      if (options?.leads === false) return Promise.resolve({ contacts: withEmail(contacts), leads: [] });
      calls.leadQueries += 1;
      return Promise.resolve({ contacts: withEmail(contacts), leads: withEmail(leads) });
    },
    contactsById: () => Promise.resolve(state.byId),
    linkContacts: (links) => {
      calls.links.push(...links);
      return Promise.resolve(links.map(() => state.linkError));
    },
    linkLeads: (links) => {
      calls.leadLinks.push(...links);
      return Promise.resolve(links.map(() => state.leadLinkError));
    },
  };
  return { sf, calls, state };
}

const contact = (id: string, email: string): Candidate => ({
  id,
  email,
  firstName: null,
  lastName: 'X',
  phones: [],
  externalId: null,
});

async function queue(patientId: string, email: string): Promise<void> {
  const payload = JSON.stringify({ Cliniko_Patient_Id__c: patientId, LastName: 'X', Email: email });
  await store.commitBatch({
    stream: 'patients',
    outbox: [
      {
        object: 'Contact',
        externalId: patientId,
        operation: 'upsert',
        payload,
        payloadHash: `h${patientId}`,
        runId: 'r',
        priority: 10,
      },
    ],
    now: 1_000,
  });
}

function worker(sf: MatchSalesforce, leads: 'link' | 'ignore' = 'link') {
  const clock = manualClock(1_000);
  const out = fakeWriter(accept);
  const w = createOutboxWorker(
    {
      store,
      writer: out.writer,
      logger,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
      matcher: createContactMatcher({ salesforce: sf, store, logger, now: clock.now, leads }),
    },
    { retryDelaysMs: [1_000], jitterMs: 0, maxWaitMs: 0 },
  );
  return { w, writes: out.calls };
}

beforeEach(async () => {
  store = await memoryStore();
});
afterEach(async () => {
  await store.close();
});

describe('the matcher in the outbox worker', () => {
  it('links one match, holds an ambiguous patient, creates the rest, in one query', async () => {
    const { sf, calls } = fakeSalesforce([
      contact('003A', 'a@x.example'),
      contact('003B', 'b@x.example'),
      contact('003C', 'b@x.example'),
    ]);
    await queue('1', 'a@x.example');
    await queue('2', 'b@x.example');
    await queue('3', 'c@x.example');
    const { w, writes } = worker(sf);

    const result = await w.drain();

    expect(calls.queries).toBe(1);
    expect(calls.links).toEqual([{ id: '003A', patientId: '1' }]);
    expect(writes.flatMap((c) => c.records.map((r) => r.Cliniko_Patient_Id__c)).sort()).toEqual(['1', '3']);
    expect(result.blocked).toBe(1);
    expect(await store.listBlocked()).toEqual([
      { object: 'Contact', externalId: '2', blockedBy: 'ContactHold:2' },
    ]);
  });

  it('a failed link is retried, never upserted (no duplicate); a failed query retries the group', async () => {
    const { sf, state } = fakeSalesforce([contact('003A', 'a@x.example')]);
    state.linkError = new SyncError(
      'SALESFORCE_UNAVAILABLE',
      'Contact 1: linking failed: UNABLE_TO_LOCK_ROW',
      { retryable: true },
    );
    await queue('1', 'a@x.example');
    const { w, writes } = worker(sf);

    const first = await w.drain();
    expect(first.retried).toBe(1);
    expect(writes).toHaveLength(0);

    state.linkError = null;
    state.queryError = new SyncError('SALESFORCE_UNAVAILABLE', 'Contact: the matching query failed (503)', {
      retryable: true,
    });
    await queue('2', 'b@x.example');
    const second = await w.drain();
    expect(writes).toHaveLength(0);
    expect(second.deadLettered).toBe(0);
    expect((await store.outboxStats(10_000)).pending).toBe(2);
  });

  it('holds a known Contact found deleted before updating it (control: a live one is updated)', async () => {
    const { sf, state } = fakeSalesforce([]);
    await store.completeWrites(
      [
        {
          outboxId: '0',
          object: 'Contact',
          externalId: '7',
          payloadHash: 'old',
          salesforceId: '003000000000007AAA',
        },
        {
          outboxId: '0',
          object: 'Contact',
          externalId: '8',
          payloadHash: 'old',
          salesforceId: '003000000000008AAA',
        },
      ],
      () => [],
      500,
    );
    state.byId = [
      { id: '003000000000007AAA', deleted: true, externalId: '7' },
      { id: '003000000000008AAA', deleted: false, externalId: '8' },
    ];
    await queue('7', 'seven@x.example');
    await queue('8', 'eight@x.example');
    const { w, writes } = worker(sf);

    await w.drain();

    expect(writes.flatMap((c) => c.records.map((r) => r.Cliniko_Patient_Id__c))).toEqual(['8']);
    expect(await store.listContactHolds({ open: true })).toEqual([
      expect.objectContaining({ patientId: '7', kind: 'deleted', candidates: ['003000000000007AAA'] }),
    ]);
  });

  it('links one Lead: marks it with the patient id, creates the Contact pointing at it, audits both', async () => {
    const { sf, calls } = fakeSalesforce([], [contact('00QA', 'l@x.example')]);
    await queue('1', 'l@x.example');
    const { w, writes } = worker(sf);

    await w.drain();

    expect(calls.leadLinks).toEqual([{ id: '00QA', patientId: '1' }]);
    expect(writes.flatMap((c) => c.records)).toEqual([
      expect.objectContaining({ Cliniko_Patient_Id__c: '1', Matched_Lead__c: '00QA' }),
    ]);
    // The stored state is the map's payload hash: the lookup does not make the next cycle rewrite it.
    expect((await store.getRecordStates('Contact', ['1'])).get('1')?.payloadHash).toBe('h1');
    const entries = (await store.listAudit({ externalId: '1' })).map(
      (r) => JSON.parse(r.entry) as { operation: string; object: string; changedFields: string[] },
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        operation: 'lead-link',
        object: 'Lead',
        changedFields: ['Cliniko_Patient_Id__c'],
      }),
    );
    expect(entries.find((e) => e.operation === 'create')?.changedFields).toContain('Matched_Lead__c');
  });

  it('a failed Lead link is retried and creates nothing', async () => {
    const { sf, state } = fakeSalesforce([], [contact('00QA', 'l@x.example')]);
    state.leadLinkError = new SyncError(
      'SALESFORCE_UNAVAILABLE',
      'Contact 1: linking failed: UNABLE_TO_LOCK_ROW',
      {
        retryable: true,
      },
    );
    await queue('1', 'l@x.example');
    const { w, writes } = worker(sf);

    expect((await w.drain()).retried).toBe(1);
    expect(writes).toHaveLength(0);
  });

  it('with leads ignored, asks for no Lead and creates a plain Contact (control: link mode links it)', async () => {
    const ignored = fakeSalesforce([], [contact('00QA', 'l@x.example')]);
    await queue('1', 'l@x.example');
    const plain = worker(ignored.sf, 'ignore');
    await plain.w.drain();
    expect(ignored.calls).toMatchObject({ queries: 1, leadQueries: 0, leadLinks: [] });
    const records = plain.writes.flatMap((c) => c.records);
    expect(records.map((r) => [r.Cliniko_Patient_Id__c, 'Matched_Lead__c' in r])).toEqual([['1', false]]);

    const linked = fakeSalesforce([], [contact('00QA', 'm@x.example')]);
    await queue('2', 'm@x.example');
    await worker(linked.sf, 'link').w.drain();
    expect(linked.calls).toMatchObject({ leadQueries: 1, leadLinks: [{ id: '00QA', patientId: '2' }] });
  });
});
