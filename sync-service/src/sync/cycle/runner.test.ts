import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadDataMap } from '../../governance/data-map.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { DEFAULT_JOURNEY_CONFIG } from '../../journey/index.js';
import { createLogger } from '../../logger.js';
import type { BatchCommit, SqliteStore } from '../../store/index.js';
import { createOutboxWorker } from '../outbox/worker.js';
import {
  ev,
  fakeCliniko,
  fakeWriter,
  manualClock,
  memoryStore,
  rejectWith,
  accept,
  type ScriptedRead,
} from '../test-fakes.js';
import { createSyncRunner, STREAMS_AT_ONCE } from './runner.js';

/**
 * The poll cycle over fakes at its edges: a scripted Cliniko stream source and a recording Salesforce
 * writer, with the real outbox worker and a real SQLite store in memory.
 */

const T0 = Date.parse('2026-11-22T01:00:00.000Z');
const W0 = '2026-11-22T00:00:00Z';
const logger = createLogger({ level: 'silent' });
const dataMap = loadDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);

function patient(id: string, updatedAt: string, over: Record<string, unknown> = {}) {
  return {
    id,
    updated_at: updatedAt,
    first_name: 'Ann',
    last_name: `Lee${id}`,
    email: `p${id}@example.com`,
    accepted_email_marketing: true,
    patient_phone_numbers: [],
    archived_at: null,
    merged_at: null,
    deleted_at: null,
    merged_with_patient: null,
    ...over,
  };
}

let store: SqliteStore;
/** Every commit the cycle made for the patients stream, in order. */
let commits: BatchCommit[];

beforeEach(async () => {
  store = await memoryStore();
  commits = [];
  const commit = store.commitBatch.bind(store);
  store.commitBatch = (batch) => {
    if (batch.stream === 'patients') commits.push(batch);
    return commit(batch);
  };
});
afterEach(async () => {
  await store.close();
});

function setup(
  patients: (since: string | undefined) => ScriptedRead,
  writerAnswer = accept,
  others: Omit<Parameters<typeof fakeCliniko>[0], 'patients'> = {},
) {
  const clock = manualClock(T0);
  const cliniko = fakeCliniko({ patients: (o) => patients(o.since), ...others });
  const sf = fakeWriter(writerAnswer);
  const worker = createOutboxWorker(
    { store, writer: sf.writer, logger, now: clock.now, sleep: clock.sleep },
    { retryDelaysMs: [1_000], jitterMs: 0, maxWaitMs: 0 },
  );
  const runner = createSyncRunner({
    store,
    cliniko: cliniko.client,
    worker,
    dataMap,
    dataMapHash: 'test-map',
    journeyConfig: DEFAULT_JOURNEY_CONFIG,
    clinicTimezone: 'Australia/Sydney',
    logger,
    now: clock.now,
  });
  /** External ids of the base Contact records Salesforce received (slots and run records aside). */
  const contactsWritten = () =>
    sf.calls
      .filter((c) => c.object === 'Contact')
      .flatMap((c) => c.records.map((r) => r.Cliniko_Patient_Id__c as string))
      .filter((_, i, all) => all.indexOf(_) === i);
  const contactPayloads = (id: string) =>
    sf.calls
      .filter((c) => c.object === 'Contact')
      .flatMap((c) => c.records)
      .filter((r) => r.Cliniko_Patient_Id__c === id && 'Email' in r);
  return { runner, cliniko, sf, clock, contactsWritten, contactPayloads };
}

const watermark = async () => (await store.getWatermark('patients'))?.cursor;

describe('bookmark discipline', () => {
  it('moves the watermark in the same commit as the page it covers, never past Cliniko’s clock', async () => {
    // Arrange: the record was updated "after" Cliniko's clock said the read began (clock skew).
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    commits.length = 0;
    const { runner } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:20:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:20:00Z', serverDate: '2026-11-22T00:10:00Z' }),
      ev.end('patients', true, '2026-11-22T00:10:00Z'),
    ]);
    // Act
    const summary = await runner.runCycle('incremental');
    // Assert: the page's commit carries its item and a watermark capped at the signpost.
    expect(summary.status).toBe('succeeded');
    expect(commits[0]?.outbox?.map((o) => o.externalId)).toEqual(['1']);
    expect(commits[0]?.watermark).toBe('2026-11-22T00:10:00Z');
    expect(await watermark()).toBe('2026-11-22T00:10:00Z');
  });

  it('advances page by page on an incremental read, each watermark with its own page (control: no cap)', async () => {
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    commits.length = 0;
    const { runner, cliniko } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:10:00Z' }),
      ev.record('patients', patient('2', '2026-11-22T00:02:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:02:00Z' }),
      ev.end('patients', true, '2026-11-22T00:10:00Z'),
    ]);
    await runner.runCycle('incremental');
    // A watermark without a settled point (written before migration 8) settled its cursor minus the
    // overlap; an hour later that window has long settled, so this read rechecks it (bookmarks.ts).
    expect(cliniko.reads.find((r) => r.stream === 'patients')?.options).toEqual({
      since: '2026-11-21T23:58:00Z',
      overlapSeconds: 0,
    });
    expect(commits.map((c) => [c.watermark, c.outbox?.map((o) => o.externalId)])).toEqual([
      ['2026-11-22T00:01:00Z', ['1']],
      ['2026-11-22T00:02:00Z', ['2']],
      ['2026-11-22T00:10:00Z', []],
    ]);
    expect(await watermark()).toBe('2026-11-22T00:10:00Z');
  });

  it('keeps only the durable page when the read fails after it: the watermark stays with that page', async () => {
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    const { runner, contactsWritten } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:10:00Z' }),
      ev.record('patients', patient('2', '2026-11-22T00:02:00Z')),
      new Error('connection reset'),
    ]);
    const summary = await runner.runCycle('incremental');
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe('connection reset');
    expect(await watermark()).toBe('2026-11-22T00:01:00Z');
    // Patient 1 was durable with its watermark (and is written by the run record's drain); 2 never was.
    expect(contactsWritten()).toEqual(['1']);
  });

  it('lets the event loop through between pages of queued journeys (the SQLite store answers synchronously)', async () => {
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    const queued = Array.from({ length: 450 }, (_, i) => String(i + 1));
    await store.commitBatch({ stream: 'patients', journeyDue: queued, now: 1 });
    let pages = 0;
    const read = store.readJourneyChunk.bind(store);
    vi.spyOn(store, 'readJourneyChunk').mockImplementation((source, after, limit) => {
      pages += 1;
      return read(source, after, limit);
    });
    const { runner } = setup(() => [ev.end('patients', true, '2026-11-22T00:11:00Z')]);
    let ranAfter: number | undefined;
    setImmediate(() => (ranAfter = pages));
    await runner.runCycle('incremental');
    expect(await store.listJourneyDue(null, 10)).toEqual([]);
    expect(pages).toBeGreaterThanOrEqual(3);
    // The loop turns once the first page is derived and committed, the second asked for ahead. Fails if
    // the pages run back to back: the callback would run after the last one (4), or before any.
    expect(ranAfter).toBe(2);
  });

  it('derives the journey of a patient whose page was durable when the run failed, in the next cycle (control: dequeued)', async () => {
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    let cycle = 0;
    const { runner } = setup(() =>
      cycle++ === 0
        ? [
            ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
            ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:10:00Z' }),
            ev.record('patients', patient('2', '2026-11-22T00:02:00Z')),
            new Error('connection reset'),
          ]
        : [ev.end('patients', true, '2026-11-22T00:11:00Z')],
    );
    expect((await runner.runCycle('incremental')).status).toBe('failed');
    // The watermark moved past patient 1 with its page; its journey was never derived...
    expect(await store.getJourneyState('1')).toBeUndefined();
    expect(await store.listJourneyDue(null, 10)).toEqual(['1']);
    // ...and the next cycle, which reads nothing new, derives it from the queue.
    expect((await runner.runCycle('incremental')).status).toBe('succeeded');
    expect(await store.getJourneyState('1')).toBeDefined();
    expect(await store.listJourneyDue(null, 10)).toEqual([]);
    // Control: a patient taken off the queue is not derived by a cycle that does not read it.
    await store.commitBatch({ stream: 'patients', journeyDue: ['9'], now: 1 });
    await store.commitBatch({ stream: 'journey', journeyDone: ['9'], now: 2 });
    await runner.runCycle('incremental');
    expect(await store.getJourneyState('9')).toBeUndefined();
  });

  it('ends the journey pass at a failed commit: the chunks before it durable, the rest still queued (control: none fails)', async () => {
    // Three chunks of queued patients (200, 200, 50). Each chunk is committed once the next one is
    // derived (journeys.ts); the second commit fails in the first run.
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    const commit = store.commitBatch.bind(store);
    for (const [failing, first] of [
      [false, 2000],
      [true, 3000],
    ] as const) {
      const queued = Array.from({ length: 450 }, (_, i) => String(first + i));
      await store.commitBatch({ stream: 'patients', journeyDue: queued, now: 1 });
      let journeyCommits = 0;
      store.commitBatch = (batch) =>
        batch.stream === 'journey' && ++journeyCommits === 2 && failing
          ? Promise.reject(new Error('disk full'))
          : commit(batch);
      const { runner } = setup(() => [ev.end('patients', true, '2026-11-22T00:11:00Z')]);
      const summary = await runner.runCycle('incremental');
      store.commitBatch = commit;
      const derived = await Promise.all(
        queued.map(async (id) => (await store.getJourneyState(id)) !== undefined),
      );
      const left = await store.listJourneyDue(null, 1_000);
      if (failing) {
        expect(summary.status).toBe('failed');
        expect(derived).toEqual(queued.map((_, i) => i < 200));
        expect(left).toEqual(queued.slice(200));
      } else {
        expect(summary.status).toBe('succeeded');
        expect(derived.every(Boolean)).toBe(true);
        expect(left).toEqual([]);
      }
    }
  });

  it('leaves the watermark alone when the commit itself fails (nothing durable, nothing moved)', async () => {
    await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
    const commit = store.commitBatch.bind(store);
    store.commitBatch = (batch) =>
      batch.stream === 'patients' && batch.outbox?.length
        ? Promise.reject(new Error('disk full'))
        : commit(batch);
    const { runner, contactsWritten } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:10:00Z' }),
      ev.end('patients', true, '2026-11-22T00:10:00Z'),
    ]);
    expect((await runner.runCycle('incremental')).status).toBe('failed');
    expect(await watermark()).toBe(W0);
    expect(contactsWritten()).toEqual([]);
  });

  it('gives the watermark back when the list never held still (control: a complete read keeps it)', async () => {
    for (const complete of [false, true]) {
      await store.commitBatch({ stream: 'patients', watermark: W0, now: 0 });
      commits.length = 0;
      const { runner, contactsWritten } = setup(() => [
        ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
        ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:10:00Z' }),
        ev.end('patients', complete, '2026-11-22T00:10:00Z'),
      ]);
      await runner.runCycle('incremental');
      // The page's items stay durable either way; only the bookmark differs.
      expect(contactsWritten()).toEqual(['1']);
      expect(commits[0]?.watermark).toBe('2026-11-22T00:01:00Z');
      expect(await watermark()).toBe(complete ? '2026-11-22T00:10:00Z' : W0);
      await store.forgetRecordStates('Contact', ['1']);
    }
  });
});

describe('two bookmarks (issue #16): the overlap is re-read once, not by every cycle', () => {
  const bookmarks = async () => {
    const w = await store.getWatermark('patients');
    return w && { cursor: w.cursor, settled: w.settled };
  };
  const idleRead = (signpost: string) => () => [
    ev.page('patients', { serverDate: signpost }),
    ev.end('patients', true, signpost),
  ];

  it('reads from the cursor without overlap while the window is unsettled, then rechecks it once', async () => {
    // Settled 30 s before the cursor, committed just now: the window settles in 3.5 minutes.
    await store.commitBatch({
      stream: 'patients',
      watermark: '2026-11-22T00:59:00Z',
      settled: '2026-11-22T00:58:30Z',
      now: T0,
    });
    const first = setup(idleRead('2026-11-22T01:00:00Z'));
    await first.runner.runCycle('incremental');
    expect(first.cliniko.reads.find((r) => r.stream === 'patients')?.options).toEqual({
      since: '2026-11-22T00:59:00Z',
      overlapSeconds: 0,
    });
    // The cursor follows Cliniko's clock; the settled point waits.
    expect(await bookmarks()).toEqual({ cursor: '2026-11-22T01:00:00Z', settled: '2026-11-22T00:58:30Z' });

    // Control: 2δ past the settled point, the read starts there and settles up to its signpost minus δ.
    const later = setup(idleRead('2026-11-22T01:02:30Z'));
    later.clock.advance(150_000);
    await later.runner.runCycle('incremental');
    expect(later.cliniko.reads.find((r) => r.stream === 'patients')?.options).toEqual({
      since: '2026-11-22T00:58:30Z',
      overlapSeconds: 0,
    });
    expect(await bookmarks()).toEqual({ cursor: '2026-11-22T01:02:30Z', settled: '2026-11-22T01:00:30Z' });
  });

  it('a backfill settles up to δ before its signpost, and an incomplete recheck gives both bookmarks back', async () => {
    const backfill = setup(idleRead('2026-11-22T01:00:00Z'));
    await backfill.runner.runCycle('backfill');
    expect(await bookmarks()).toEqual({ cursor: '2026-11-22T01:00:00Z', settled: '2026-11-22T00:58:00Z' });
    const moving = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:59:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:59:00Z', serverDate: '2026-11-22T01:05:00Z' }),
      ev.end('patients', false, '2026-11-22T01:05:00Z'),
    ]);
    moving.clock.advance(300_000);
    await moving.runner.runCycle('incremental');
    expect(moving.cliniko.reads.find((r) => r.stream === 'patients')?.options.since).toBe(
      '2026-11-22T00:58:00Z',
    );
    expect(commits.at(-2)?.settled).toBe('2026-11-22T00:59:00Z');
    expect(await bookmarks()).toEqual({ cursor: '2026-11-22T01:00:00Z', settled: '2026-11-22T00:58:00Z' });
  });
});

describe('change detection', () => {
  it('skips a payload equal to the one last written, and writes it once it changes (control)', async () => {
    let email = 'first@example.com';
    const { runner, contactPayloads } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z', { email })),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z' }),
      ev.end('patients', true),
    ]);
    await runner.runCycle('incremental');
    const again = await runner.runCycle('incremental');
    expect(contactPayloads('1')).toHaveLength(1);
    expect(again.counts.Contact?.skipped).toBeGreaterThanOrEqual(1);
    expect(again.counts.Contact?.written ?? 0).toBe(0);

    email = 'second@example.com';
    await runner.runCycle('incremental');
    expect(contactPayloads('1').map((r) => r.Email)).toEqual(['first@example.com', 'second@example.com']);
  });

  it('does not skip a reverted payload while a different one still waits for a retry', async () => {
    let email = 'first@example.com';
    const { runner, sf, clock, contactPayloads } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z', { email })),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z' }),
      ev.end('patients', true),
    ]);
    await runner.runCycle('incremental');
    // The change is refused with a row lock: it waits in the outbox for its retry.
    email = 'second@example.com';
    sf.state.answer = rejectWith('UNABLE_TO_LOCK_ROW', 'transient');
    expect((await runner.runCycle('incremental')).drain?.retried).toBeGreaterThanOrEqual(1);
    // Reverted in Cliniko before the retry: equal to what was last written, yet it must be queued,
    // or the waiting "second" payload would be written after it and win.
    email = 'first@example.com';
    sf.state.answer = accept;
    clock.advance(5_000);
    await runner.runCycle('incremental');
    expect(contactPayloads('1').at(-1)?.Email).toBe('first@example.com');
  });
});

describe('quarantine', () => {
  it('quarantines what fails validation, by field, and still writes the valid records', async () => {
    const { runner, contactsWritten } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
      ev.record('patients', patient('2', '2026-11-22T00:01:00Z', { email: 'ann.at.example' })),
      ev.quarantine('patients', '3', 'patients.updated_at'),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z' }),
      ev.end('patients', true),
    ]);
    const summary = await runner.runCycle('incremental');
    expect(summary.counts.patients).toMatchObject({ read: 2, quarantined: 2 });
    expect((await store.outboxStats(T0)).quarantined).toBe(2);
    // Control: the valid record in the same page was written; the invalid one never reached Salesforce.
    expect(contactsWritten()).toEqual(['1']);
    expect(commits[0]?.quarantine?.map((q) => [q.recordId, q.field])).toEqual([
      ['2', 'Contact.Email'],
      ['3', 'patients.updated_at'],
    ]);
    // The reason names the rule that failed, never the value.
    expect(commits[0]?.quarantine?.[0]?.reason).not.toContain('ann.at.example');
  });
});

describe('slots', () => {
  it('queues the journey slot of a patient as its own outbox item, written with its base in one call', async () => {
    const { runner, sf } = setup(() => [
      ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z' }),
      ev.end('patients', true),
    ]);
    await runner.runCycle('incremental');
    const contactCalls = sf.calls.filter((c) => c.object === 'Contact');
    // Base payload and journey slot: one call, one record carrying both (issue #16: one write per
    // record), while each slot keeps its own state for change detection.
    expect(contactCalls).toHaveLength(1);
    expect(contactCalls.map((c) => c.records.map((r) => r.Cliniko_Patient_Id__c))).toEqual([['1']]);
    expect(contactCalls[0]?.records[0]).toHaveProperty('Email');
    expect(Object.keys(contactCalls[0]?.records[0] ?? {}).some((f) => f.startsWith('Journey_'))).toBe(true);
    const states = await store.getRecordStates('Contact', ['1', '1#journey']);
    expect(states.size).toBe(2);
    expect(states.get('1')?.payloadHash).not.toBe(states.get('1#journey')?.payloadHash);
  });
});

describe('dead letters and change detection (issue #15)', () => {
  it('writes a change since reverted while an older payload is dead-lettered, so its replay is dropped', async () => {
    let email = 'first@example.com';
    let at = '2026-11-22T00:01:00Z';
    const { runner, sf, contactPayloads } = setup(() => [
      ev.record('patients', patient('1', at, { email })),
      ev.page('patients', { maxUpdatedAt: at, serverDate: '2026-11-22T00:30:00Z' }),
      ev.end('patients', true, '2026-11-22T00:30:00Z'),
    ]);
    expect((await runner.runCycle('incremental')).status).toBe('succeeded');

    email = 'changed@example.com';
    at = '2026-11-22T00:02:00Z';
    sf.state.answer = rejectWith('INVALID_EMAIL_ADDRESS', 'permanent', ['Email']);
    await runner.runCycle('incremental');
    const [letter] = await store.listDeadLetters();
    expect(letter?.externalId).toBe('1');

    // Reverted in Cliniko: equal to the last written payload, yet written again because the open
    // letter holds a different one (without that, the replay below would restore the changed email).
    email = 'first@example.com';
    at = '2026-11-22T00:03:00Z';
    sf.state.answer = accept;
    await runner.runCycle('incremental');
    expect(contactPayloads('1').at(-1)?.Email).toBe('first@example.com');
    expect(contactPayloads('1')).toHaveLength(3);

    expect(await store.replayDeadLetter(letter!.id, T0, 'replay')).toBe(true);
    expect((await store.getDeadLetter(letter!.id))?.replayOutcome).toMatch(/^dropped: /);
    await runner.runCycle('incremental');
    expect(contactPayloads('1').at(-1)?.Email).toBe('first@example.com');
  });

  it('control: an unchanged record with no open dead letter is skipped', async () => {
    const { runner, contactPayloads } = setup(() => [
      ev.record('patients', patient('2', '2026-11-22T00:01:00Z')),
      ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: '2026-11-22T00:30:00Z' }),
      ev.end('patients', true, '2026-11-22T00:30:00Z'),
    ]);
    await runner.runCycle('incremental');
    await runner.runCycle('backfill');
    expect(contactPayloads('2')).toHaveLength(1);
  });
});

/** Resolves with 'met' once `signal` is given, or with 'timed out' after `ms` (a lone read never hangs). */
function meeting(ms: number) {
  let give!: () => void;
  const met = new Promise<'met'>((resolve) => (give = () => resolve('met')));
  const outcome = Promise.race([
    met,
    new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref()),
  ]);
  return { outcome, signal: () => give() };
}

/** The data streams read, in the order their reads began (the reference lists aside). */
const DATA_KEYS = new Set(['patients', 'patientCases', 'individualAppointments', 'invoices']);
const dataReads = (reads: ReadonlyArray<{ stream: string }>) =>
  reads.map((r) => r.stream).filter((stream) => DATA_KEYS.has(stream));

describe('streams read two at a time (issue #16)', () => {
  const SIGNPOST = '2026-11-22T00:10:00Z';

  it('reads the second stream while the first waits for its next page (a lone read would time out)', async () => {
    expect(STREAMS_AT_ONCE).toBe(2);
    const casesRead = meeting(2_000);
    const { runner, cliniko } = setup(
      () => [
        ev.record('patients', patient('1', '2026-11-22T00:01:00Z')),
        ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: SIGNPOST }),
        // The next page is "on its way" until patient_cases has been read.
        casesRead.outcome,
        ev.end('patients', true, SIGNPOST),
      ],
      accept,
      {
        patientCases: () => {
          casesRead.signal();
          return [ev.end('patient_cases', true, SIGNPOST)];
        },
      },
    );
    const summary = await runner.runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    expect(await casesRead.outcome).toBe('met');
    // Every stream was read, once, in the order they are listed.
    expect(dataReads(cliniko.reads)).toEqual([
      'patients',
      'patientCases',
      'individualAppointments',
      'invoices',
    ]);
    expect(await watermark()).toBe(SIGNPOST);
  });

  it('after a failure starts no other stream; the read under way ends and keeps its watermark', async () => {
    const { runner, cliniko } = setup(() => [new Error('connection reset')], accept, {
      // Still reading when patients fails.
      patientCases: () => [
        new Promise((resolve) => setTimeout(resolve, 50)),
        ev.end('patient_cases', true, SIGNPOST),
      ],
    });
    const summary = await runner.runCycle('incremental');
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe('connection reset');
    expect(dataReads(cliniko.reads)).toEqual(['patients', 'patientCases']);
    expect(await watermark()).toBeUndefined();
    expect((await store.getWatermark('patient_cases'))?.cursor).toBe(SIGNPOST);
    // The streams after them were never read: their first read comes with the next cycle.
    expect(await store.getWatermark('individual_appointments')).toBeUndefined();
  });
});
