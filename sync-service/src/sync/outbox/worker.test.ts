import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SyncError } from '../../errors.js';
import { verifyAuditChain, type AuditEntry } from '../../governance/audit.js';
import { createLogger } from '../../logger.js';
import type { UpsertOptions } from '../../salesforce/writer.js';
import type { ContactMatcher } from '../match/matcher.js';
import type { OutboxInput, SqliteStore } from '../../store/index.js';
import { accept, fakeWriter, manualClock, memoryStore, rejectWith, type Answer } from '../test-fakes.js';
import { createOutboxWorker, type OutboxWorkerOptions } from './worker.js';

/**
 * The outbox worker over a fake Salesforce writer and a real SQLite store in memory: what it completes,
 * retries and dead-letters, how it merges a record's slots into one write, and where it stops.
 */

const T0 = Date.parse('2026-11-22T01:00:00.000Z');
const logger = createLogger({ level: 'silent' });

let store: SqliteStore;
beforeEach(async () => {
  store = await memoryStore();
});
afterEach(async () => {
  await store.close();
});

/** An item of another object than Contact: a second group in a claim. */
function carePlan(caseId: string): OutboxInput {
  return {
    object: 'Care_Plan__c',
    externalId: caseId,
    operation: 'upsert',
    payload: JSON.stringify({ Cliniko_Case_Id__c: caseId }),
    payloadHash: `hash-case-${caseId}`,
    runId: 'run-test',
  };
}

function contact(externalId: string, fields: Record<string, unknown> = {}): OutboxInput {
  const id = externalId.split('#')[0]!;
  const payload = { Cliniko_Patient_Id__c: id, ...fields };
  return {
    object: 'Contact',
    externalId,
    operation: 'upsert',
    payload: JSON.stringify(payload),
    payloadHash: `hash-${externalId}-${JSON.stringify(fields)}`,
    runId: 'run-test',
  };
}

async function enqueue(...items: OutboxInput[]): Promise<void> {
  await store.commitBatch({ stream: 'test', outbox: items, now: T0 });
}

function setup(answer: Answer = accept, options: OutboxWorkerOptions = {}, matcher?: ContactMatcher) {
  const clock = manualClock(T0);
  const sf = fakeWriter(answer);
  const worker = createOutboxWorker(
    {
      store,
      writer: sf.writer,
      logger,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
      ...(matcher ? { matcher } : {}),
    },
    { retryDelaysMs: [1_000, 2_000], jitterMs: 0, maxWaitMs: 60_000, ...options },
  );
  return { worker, sf, clock };
}

async function auditEntries(): Promise<AuditEntry[]> {
  return (await store.listAudit()).map((row) => JSON.parse(row.entry) as AuditEntry);
}

describe('accepted writes', () => {
  it('leave the outbox with the record state and one chained audit entry each', async () => {
    await enqueue(contact('1', { LastName: 'A' }), contact('2', { LastName: 'B' }));
    const { worker, sf } = setup();
    const result = await worker.drain();
    expect(result).toMatchObject({ written: 2, created: 2, retried: 0, deadLettered: 0, pending: 0 });
    expect(result.writtenByObject).toEqual({ Contact: 2 });
    expect(sf.calls).toHaveLength(1);
    const states = await store.getRecordStates('Contact', ['1', '2']);
    expect(states.get('1')?.payloadHash).toBe('hash-1-{"LastName":"A"}');
    const entries = await auditEntries();
    expect(entries.map((e) => [e.externalId, e.operation, e.patientId, e.changedFields])).toEqual([
      ['1', 'create', '1', ['Cliniko_Patient_Id__c', 'LastName']],
      ['2', 'create', '2', ['Cliniko_Patient_Id__c', 'LastName']],
    ]);
    expect(verifyAuditChain(entries).ok).toBe(true);
  });
});

describe('classified failures', () => {
  it('retries a retryable rejection after each delay, then dead-letters it when the delays run out', async () => {
    await enqueue(contact('1'));
    const { worker, sf } = setup(rejectWith('UNABLE_TO_LOCK_ROW', 'transient'));
    const result = await worker.drain();
    // Two delays configured: attempts 1 and 2 are retried, attempt 3 is dead-lettered.
    expect(sf.calls).toHaveLength(3);
    expect(result).toMatchObject({ written: 0, retried: 2, deadLettered: 1, pending: 0 });
    const [dead] = await store.listDeadLetters();
    expect(dead).toMatchObject({
      externalId: '1',
      errorCode: 'SALESFORCE_RECORD_LOCKED',
      upstreamCode: 'UNABLE_TO_LOCK_ROW',
      attempts: 3,
    });
  });

  it('writes a retryable rejection once the org accepts it again (control: retries are not dead ends)', async () => {
    await enqueue(contact('1'));
    const { worker, sf } = setup((call) =>
      sf.calls.length === 1 ? rejectWith('UNABLE_TO_LOCK_ROW', 'transient')(call) : accept(call),
    );
    const result = await worker.drain();
    expect(result).toMatchObject({ written: 1, retried: 1, deadLettered: 0, pending: 0 });
  });

  it('dead-letters a permanent rejection at once, naming the object, the record and the field', async () => {
    await enqueue(contact('1'));
    const { worker, sf } = setup(rejectWith('FIELD_CUSTOM_VALIDATION_EXCEPTION', 'permanent', ['Email']));
    const result = await worker.drain();
    expect(sf.calls).toHaveLength(1);
    expect(result).toMatchObject({ retried: 0, deadLettered: 1, deadLetteredByObject: { Contact: 1 } });
    const [dead] = await store.listDeadLetters();
    expect(dead).toMatchObject({ errorCode: 'SALESFORCE_RECORD_REJECTED', attempts: 1 });
    expect(dead?.errorMessage).toMatch(/^Contact 1 \(Email\): FIELD_CUSTOM_VALIDATION_EXCEPTION/);
  });

  it('fails every item of a call that failed as a whole, by the call’s retryability', async () => {
    await enqueue(contact('1'), contact('2'));
    const unavailable = setup(
      () => {
        throw new SyncError('SALESFORCE_UNAVAILABLE', 'HTTP 503');
      },
      { maxWaitMs: 0 },
    );
    expect(await unavailable.worker.drain()).toMatchObject({ retried: 2, deadLettered: 0, pending: 2 });

    // Control: an unexpected error is not retryable, so the same items are dead-lettered.
    const bug = setup(
      () => {
        throw new TypeError('boom');
      },
      { maxWaitMs: 0 },
    );
    bug.clock.advance(10_000);
    expect(await bug.worker.drain()).toMatchObject({ retried: 0, deadLettered: 2, pending: 0 });
    expect((await store.listDeadLetters()).map((d) => [d.externalId, d.errorCode])).toEqual(
      expect.arrayContaining([
        ['1', 'INTERNAL'],
        ['2', 'INTERNAL'],
      ]),
    );
  });
});

describe('slots', () => {
  it('writes a record and its due slots as one merged payload, each slot completed with its own hash and audit entry', async () => {
    await enqueue(contact('7', { LastName: 'Base' }), contact('7#journey', { Journey_Stage__c: 'Active' }));
    const { worker, sf } = setup();
    expect((await worker.drain()).written).toBe(2);
    expect(sf.calls).toHaveLength(1);
    expect(sf.calls[0]?.records).toEqual([
      { Cliniko_Patient_Id__c: '7', LastName: 'Base', Journey_Stage__c: 'Active' },
    ]);
    const states = await store.getRecordStates('Contact', ['7', '7#journey']);
    expect(states.get('7')?.payloadHash).toBe('hash-7-{"LastName":"Base"}');
    expect(states.get('7#journey')?.payloadHash).toBe('hash-7#journey-{"Journey_Stage__c":"Active"}');
    const entries = await auditEntries();
    expect(entries.map((e) => [e.externalId, e.changedFields])).toEqual([
      ['7', ['Cliniko_Patient_Id__c', 'LastName']],
      ['7#journey', ['Cliniko_Patient_Id__c', 'Journey_Stage__c']],
    ]);
  });

  it('claims the other slots of a record it claimed, however far apart they were queued', async () => {
    // A backfill queues the Contact while reading and its journey slot at the end: with a claim of one
    // item, the slot is not in the claim but is fetched with it. Control: another record's item is not.
    await enqueue(contact('7', { LastName: 'Base' }), contact('8', { LastName: 'Other' }));
    await enqueue(contact('7#journey', { Journey_Stage__c: 'Active' }));
    const { worker, sf } = setup(accept, { claimLimit: 1 });
    expect((await worker.drain()).written).toBe(3);
    expect(sf.calls.map((c) => c.records.map((r) => Object.keys(r).length))).toEqual([[3], [2]]);
  });

  it('keeps a claim whose slots doubled it within the limit: whole records, the rest released and written next', async () => {
    // A backfill's Contacts, each with its journey slot queued at the end: a claim of four Contacts
    // brings four slots. It keeps two records (four items, the limit), releases the others at once, and
    // the next claim asks for half as many. Control: with room for all eight, one write of four.
    const ids = ['1', '2', '3', '4'];
    const queue = async () => {
      await enqueue(...ids.map((id) => contact(id, { LastName: `L${id}` })));
      await enqueue(...ids.map((id) => contact(`${id}#journey`, { Journey_Stage__c: 'Active' })));
    };
    await queue();
    const claims: number[] = [];
    const claim = store.claimOutbox.bind(store);
    vi.spyOn(store, 'claimOutbox').mockImplementation(async (options) => {
      const items = await claim(options);
      if (options.externalIds === undefined) claims.push(options.limit);
      return items;
    });
    const { worker, sf } = setup(accept, { claimLimit: 4 });
    const drained = await worker.drain();
    expect([drained.written, drained.pending]).toEqual([8, 0]);
    expect(sf.calls.map((c) => c.records.map((r) => r.Cliniko_Patient_Id__c))).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(sf.calls.flatMap((c) => c.records).every((r) => r.Journey_Stage__c === 'Active')).toBe(true);
    expect(claims.slice(0, 2)).toEqual([4, 2]);

    const control = setup(accept, { claimLimit: 8 });
    await queue();
    expect((await control.worker.drain()).written).toBe(8);
    expect(control.sf.calls.map((c) => c.records.length)).toEqual([4]);
  });

  it('a slot alone (its base unchanged) is written alone, and a rejected merged write fails every slot in it', async () => {
    await enqueue(contact('7#journey', { Journey_Stage__c: 'Active' }));
    const alone = setup();
    expect((await alone.worker.drain()).written).toBe(1);
    expect(alone.sf.calls[0]?.records).toEqual([{ Cliniko_Patient_Id__c: '7', Journey_Stage__c: 'Active' }]);

    await enqueue(contact('9', { LastName: 'X' }), contact('9#journey', { Journey_Stage__c: 'Active' }));
    const rejected = setup(rejectWith('INVALID_FIELD', 'permanent', ['LastName']), { maxWaitMs: 0 });
    // Classified per item: the base is dead-lettered, and its slot then waits for it (issue #15).
    expect(await rejected.worker.drain()).toMatchObject({ written: 0, deadLettered: 1, blocked: 1 });
    expect(rejected.sf.calls).toHaveLength(1);
    expect((await store.listDeadLetters()).map((d) => d.externalId)).toEqual(['9']);
  });

  it('lets a slot written before its base wait for it; a base missing a required field is dead-lettered (control)', async () => {
    await enqueue(
      contact('7#journey', { Journey_Stage__c: 'Active' }),
      contact('8', { Email: 'x@example.com' }),
    );
    const { worker } = setup(rejectWith('REQUIRED_FIELD_MISSING', 'permanent', ['LastName']), {
      maxWaitMs: 0,
    });
    expect(await worker.drain()).toMatchObject({ retried: 1, deadLettered: 1, pending: 1 });
    expect((await store.listDeadLetters()).map((d) => d.externalId)).toEqual(['8']);
  });
});

describe('limits', () => {
  it('stops before writing once the API allowance share is used (control: below it, it writes)', async () => {
    await enqueue(contact('1'));
    const spent = setup();
    spent.sf.state.usage = { used: 95, max: 100 };
    expect(await spent.worker.drain()).toMatchObject({ paused: 'api-limit', written: 0, pending: 1 });
    expect(spent.sf.calls).toHaveLength(0);

    const fresh = setup();
    fresh.sf.state.usage = { used: 10, max: 100 };
    expect(await fresh.worker.drain()).toMatchObject({ paused: null, written: 1, pending: 0 });
  });
});

describe('dependants of an unwritten parent (issue #15)', () => {
  function appointment(id: string, patient: string): OutboxInput {
    const payload = { Cliniko_Appointment_Id__c: id, Contact__r: { Cliniko_Patient_Id__c: patient } };
    return {
      object: 'Cliniko_Appointment__c',
      externalId: id,
      operation: 'upsert',
      payload: JSON.stringify(payload),
      payloadHash: `hash-${id}`,
      runId: 'run-test',
      priority: 70,
    };
  }
  const missingParent: Answer = (call) =>
    call.object === 'Contact' ? accept(call) : rejectWith('INVALID_FIELD', 'transient')(call);

  it('wait blocked by a quarantined patient instead of spending retries, and go when it is written', async () => {
    await store.commitBatch({
      stream: 'patients',
      quarantine: [
        {
          resource: 'patients',
          recordId: '50',
          field: 'Contact.Birthdate',
          reason: 'out of range',
          payload: '{}',
          runId: 'r',
        },
      ],
      now: T0,
    });
    await enqueue(appointment('a-50', '50'), appointment('a-51', '51'));
    const { worker, sf } = setup(missingParent);
    const result = await worker.drain();
    // a-50 is parked at its first failure; a-51 (patient 51 is not quarantined: the control) is retried
    // through both delays and dead-lettered as before.
    expect(result).toMatchObject({ blocked: 1, deadLettered: 1, pending: 0 });
    expect(await store.listBlocked()).toEqual([
      { object: 'Cliniko_Appointment__c', externalId: 'a-50', blockedBy: 'Contact:50' },
    ]);
    expect((await store.listDeadLetters()).map((d) => d.externalId)).toEqual(['a-51']);
    const callsFor50 = sf.calls.filter((c) => c.records.some((r) => r.Cliniko_Appointment_Id__c === 'a-50'));
    expect(callsFor50).toHaveLength(1);

    // The patient is fixed and its Contact written: the appointment is due again and written.
    await store.releaseQuarantine('patients', ['50']);
    await enqueue(contact('50'));
    sf.state.answer = accept;
    const after = await worker.drain();
    expect(after).toMatchObject({ blocked: 0, pending: 0 });
    expect(after.writtenByObject).toEqual({ Contact: 1, Cliniko_Appointment__c: 1 });
    expect(await store.listBlocked()).toEqual([]);
  });

  it('wait blocked by a dead-lettered patient Contact (journey slot too)', async () => {
    await enqueue(contact('60'));
    const { worker, sf } = setup(rejectWith('INVALID_EMAIL_ADDRESS', 'permanent'));
    await worker.drain();
    expect((await store.listDeadLetters()).map((d) => d.externalId)).toEqual(['60']);
    await enqueue(appointment('a-60', '60'), contact('60#journey', { Journey_Stage__c: 'New' }));
    sf.state.answer = rejectWith('REQUIRED_FIELD_MISSING', 'permanent');
    const result = await worker.drain();
    expect(result).toMatchObject({ blocked: 2, deadLettered: 0 });
    expect((await store.listBlocked()).map((b) => [b.externalId, b.blockedBy])).toEqual([
      ['a-60', 'Contact:60'],
      ['60#journey', 'Contact:60'],
    ]);
  });
});

describe('platform events across crashes (issue #15)', () => {
  function event(key: string): OutboxInput {
    return {
      object: 'Patient_Journey_Event__e',
      externalId: key,
      operation: 'publish',
      payload: JSON.stringify({ Transition_Key__c: key, Cliniko_Patient_Id__c: '70' }),
      payloadHash: `hash-${key}`,
      runId: 'run-test',
    };
  }
  const published = (sf: ReturnType<typeof setup>['sf']) =>
    sf.calls
      .filter((c) => c.operation === 'publish')
      .flatMap((c) => c.records.map((r) => r.Transition_Key__c));

  it('a crash after the publish and before the store records it never publishes the event twice', async () => {
    await enqueue(event('70:T1:2026-11-01'));
    const { worker, sf, clock } = setup(accept, { leaseMs: 1_000 });
    // The process "dies" between the bus accepting the event and the commit.
    const crash = vi.spyOn(store, 'completeWrites').mockRejectedValueOnce(new Error('killed'));
    await expect(worker.drain()).rejects.toThrow('killed');
    crash.mockRestore();
    expect(published(sf)).toEqual(['70:T1:2026-11-01']);

    clock.advance(2_000); // the dead worker's lease runs out
    const restarted = setup(accept, { leaseMs: 1_000 });
    restarted.clock.advance(2_000);
    const result = await restarted.worker.drain();
    expect(published(restarted.sf)).toEqual([]);
    expect(result).toMatchObject({ deadLettered: 1, pending: 0 });
    const [letter] = await store.listDeadLetters();
    expect(letter).toMatchObject({ externalId: '70:T1:2026-11-01', errorCode: 'EVENT_PUBLISH_IN_DOUBT' });
  });

  it('control: a publish that failed for certain is retried and published', async () => {
    await enqueue(event('70:T2:2026-11-02'));
    let first = true;
    const { worker, sf } = setup((call) => {
      if (!first) return accept(call);
      first = false;
      return rejectWith('UNKNOWN_EXCEPTION', 'transient')(call);
    });
    const result = await worker.drain();
    expect(result).toMatchObject({ written: 1, retried: 1, deadLettered: 0 });
    expect(published(sf)).toEqual(['70:T2:2026-11-02', '70:T2:2026-11-02']);
  });

  it('an event whose key was already published and recorded is completed without publishing', async () => {
    await enqueue(event('70:T3:2026-11-03'));
    const { worker, sf } = setup();
    expect((await worker.drain()).written).toBe(1);
    // The same event queued again (a replay, a journey state rebuilt): the ledger stops it.
    await enqueue(event('70:T3:2026-11-03'), event('70:T4:2026-11-04'));
    const again = await worker.drain();
    expect(again).toMatchObject({ written: 1, pending: 0 });
    expect(published(sf)).toEqual(['70:T3:2026-11-03', '70:T4:2026-11-04']);
  });
});

describe('leases', () => {
  it('does not write items another owner took over while it was writing (control: untouched, both groups are written)', async () => {
    await enqueue(contact('1'), carePlan('1'));
    const control = setup();
    expect((await control.worker.drain()).written).toBe(2);
    expect(control.sf.calls).toHaveLength(2);

    await enqueue(contact('2', { LastName: 'B' }), carePlan('2'));
    let taken = 0;
    const { worker, sf } = setup((call) => {
      if (taken === 0) {
        // This worker froze past its lease: another instance claims what it still held.
        void store.releaseLeases({ owner: worker.owner });
        void store.claimOutbox({ owner: 'other/1', limit: 10, leaseMs: 600_000, now: T0 }).then((items) => {
          taken = items.length;
        });
      }
      return accept(call);
    });
    const result = await worker.drain();
    // Both were taken: the one already on the wire (completed here: at-least-once) and the one not yet sent.
    expect(taken).toBe(2);
    expect(sf.calls).toHaveLength(1);
    expect(result.written).toBe(1);
    expect((await store.outboxStats(T0)).pending).toBe(1);
  });

  it('stops after the group in flight once stopped, and writes nothing more', async () => {
    await enqueue(contact('1'), carePlan('1'));
    const { worker, sf } = setup((call) => {
      worker.stop();
      return accept(call);
    });
    const result = await worker.drain();
    expect(sf.calls).toHaveLength(1);
    expect(result).toMatchObject({ written: 1, pending: 1 });
    expect((await worker.drain()).written).toBe(0);
    expect(sf.calls).toHaveLength(1);
  });

  it('asks for the next claim while one is written, and lets it go when the drain ends first (control: a lease kept blocks)', async () => {
    await enqueue(carePlan('1'), carePlan('2'), carePlan('3'), carePlan('4'));
    const claims = vi.spyOn(store, 'claimOutbox');
    const mainClaims = () =>
      claims.mock.calls.filter(([options]) => options.externalIds === undefined).length;
    const { worker, sf } = setup(accept, { claimLimit: 1 });
    // Salesforce holds every call until the test lets it answer.
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    const upsert = sf.writer.upsert.bind(sf.writer);
    sf.writer.upsert = async (...args) => {
      await held;
      return upsert(...args);
    };
    const drained = worker.drain();
    // '1', '2' and '3' have their calls out together (one object, no record in common), and '4' is
    // claimed ahead while they are: four claims before any answer.
    await vi.waitFor(() => expect(mainClaims()).toBe(4));
    worker.stop();
    answer();
    expect(await drained).toMatchObject({ written: 3 });
    // '4', asked for ahead and never reached, was let go: another instance takes it at once.
    const other = await store.claimOutbox({ owner: 'other', limit: 10, leaseMs: 30_000, now: T0 });
    expect(other.map((i) => i.externalId)).toEqual(['4']);
    // Control: a lease kept ('4', now the other instance's) is not claimable by anyone else.
    expect(await store.claimOutbox({ owner: 'third', limit: 10, leaseMs: 30_000, now: T0 })).toEqual([]);
  });
});

describe('pipelined completions (issue #16)', () => {
  /** Records the order of Salesforce calls and of completions starting and ending. */
  function traced() {
    const trace: string[] = [];
    const complete = store.completeWrites.bind(store);
    store.completeWrites = async (writes, audit, now) => {
      const object = writes[0]?.object ?? '?';
      trace.push(`complete-start ${object}`);
      // A completion that takes a while (a slow disk, a PostgreSQL round trip).
      await new Promise((resolve) => setTimeout(resolve, 20));
      await complete(writes, audit, now);
      trace.push(`complete-end ${object}`);
    };
    const sf = setup((call) => {
      trace.push(`call ${call.object}`);
      return accept(call);
    });
    return { trace, ...sf };
  }

  it('sends the next group while the previous one completes, completing in group order with an intact audit chain', async () => {
    await enqueue(contact('1'), contact('2'), carePlan('c1'), carePlan('c2'));
    const { worker, trace } = traced();
    const result = await worker.drain();
    expect(result.written).toBe(4);
    // The care plans' call went out before the Contacts' completion ended...
    expect(trace.indexOf('call Care_Plan__c')).toBeLessThan(trace.indexOf('complete-end Contact'));
    // ...and completions ran one at a time, in group order.
    expect(trace.filter((t) => t.startsWith('complete'))).toEqual([
      'complete-start Contact',
      'complete-end Contact',
      'complete-start Care_Plan__c',
      'complete-end Care_Plan__c',
    ]);
    expect(verifyAuditChain(await auditEntries()).ok).toBe(true);
    expect((await auditEntries()).map((e) => e.object)).toEqual([
      'Contact',
      'Contact',
      'Care_Plan__c',
      'Care_Plan__c',
    ]);
    expect((await store.outboxStats(T0)).pending).toBe(0);
  });

  it('a failed completion fails the drain and completes no later group: every item stays queued', async () => {
    await enqueue(contact('1'), carePlan('c1'));
    const { worker, trace } = traced();
    const complete = store.completeWrites.bind(store);
    store.completeWrites = (writes, audit, now) =>
      writes[0]?.object === 'Contact' ? Promise.reject(new Error('disk full')) : complete(writes, audit, now);
    await expect(worker.drain()).rejects.toThrow('disk full');
    expect((await store.outboxStats(T0)).pending).toBe(2);
    expect(await store.listAudit()).toEqual([]);
    // The care plan's call may already have gone out (idempotent upsert), but it never completed.
    expect(trace.filter((t) => t.startsWith('complete-end'))).toEqual([]);
  });
});

describe('claims with their calls out together (issue #16)', () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * A drain with claims of two items whose writer call runs `timing` (real time) before the fake
   * writer answers, and a trace of the calls (`timing` adds its own lines) and of the completions.
   */
  function tracedDrain(
    timing: (trace: string[], label: string, options: UpsertOptions | undefined) => Promise<void>,
    matcher?: (trace: string[]) => ContactMatcher,
  ) {
    const trace: string[] = [];
    const sf = setup(accept, { claimLimit: 2 }, matcher?.(trace));
    const upsert = sf.sf.writer.upsert.bind(sf.sf.writer);
    sf.sf.writer.upsert = async (object, field, records, options) => {
      const keys = records.map((r) => String(field ? r[field] : '')).join(',');
      await timing(trace, `${object} ${keys}`, options);
      return upsert(object, field, records, options);
    };
    const complete = store.completeWrites.bind(store);
    store.completeWrites = async (writes, audit, now) => {
      trace.push(`complete ${writes.map((w) => w.externalId).join(',')}`);
      await complete(writes, audit, now);
    };
    return { ...sf, trace };
  }

  /** Calls that take 20 ms, tracing when each starts and is answered. */
  const slow = () =>
    tracedDrain(async (trace, label) => {
      trace.push(`call ${label}`);
      await pause(20);
      trace.push(`answered ${label}`);
    });

  /**
   * Calls in two parts, as a Bulk job's: the upload, after which `onSent` is told (the job is closed),
   * then the processing. Calls after the first upload slowly.
   */
  function uploading() {
    let calls = 0;
    return tracedDrain(async (trace, label, options) => {
      await pause(calls++ === 0 ? 1 : 30);
      options?.onSent?.();
      trace.push(`sent ${label}`);
      await pause(5);
    });
  }

  /** Five records (`c1`..`c5` by default) written in claims of two: completed in claim order, with an intact chain. */
  async function expectCompletedInClaimOrder(trace: string[], prefix = 'c'): Promise<void> {
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((n) => `${prefix}${n}`);
    expect(trace.filter((t) => t.startsWith('complete'))).toEqual([
      `complete ${a},${b}`,
      `complete ${c},${d}`,
      `complete ${e}`,
    ]);
    const entries = await auditEntries();
    expect(entries.map((entry) => entry.externalId)).toEqual([a, b, c, d, e]);
    expect(verifyAuditChain(entries).ok).toBe(true);
    expect((await store.outboxStats(T0)).pending).toBe(0);
  }

  it('two claims of one object overlap, and still complete in claim order with an intact chain', async () => {
    await enqueue(carePlan('c1'), carePlan('c2'), carePlan('c3'), carePlan('c4'), carePlan('c5'));
    const { worker, trace } = slow();
    expect((await worker.drain()).written).toBe(5);
    // The second claim's call went out before the first one's was answered...
    expect(trace.indexOf('call Care_Plan__c c3,c4')).toBeLessThan(
      trace.indexOf('answered Care_Plan__c c1,c2'),
    );
    // ...and completions ran in claim order.
    await expectCompletedInClaimOrder(trace);
  });

  it('three claims of one object have their calls out at once, and a fourth waits for the first to be answered', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `c${i + 1}`);
    await enqueue(...ids.map((id) => carePlan(id)));
    const { worker, trace } = slow();
    expect((await worker.drain()).written).toBe(7);
    // The third claim's call went out before the first one's was answered (with two out at most, it
    // waits for that answer)...
    expect(trace.indexOf('call Care_Plan__c c5,c6')).toBeLessThan(
      trace.indexOf('answered Care_Plan__c c1,c2'),
    );
    // ...and the fourth's only after it (without the bound, every claim is out at once).
    expect(trace.indexOf('call Care_Plan__c c7')).toBeGreaterThan(
      trace.indexOf('answered Care_Plan__c c1,c2'),
    );
    expect(trace.filter((t) => t.startsWith('complete'))).toEqual([
      'complete c1,c2',
      'complete c3,c4',
      'complete c5,c6',
      'complete c7',
    ]);
    const entries = await auditEntries();
    expect(entries.map((entry) => entry.externalId)).toEqual(ids);
    expect(verifyAuditChain(entries).ok).toBe(true);
  });

  it('completes a claim only once the overlapping claim after it is sent, so the org processes that one meanwhile', async () => {
    await enqueue(carePlan('c1'), carePlan('c2'), carePlan('c3'), carePlan('c4'), carePlan('c5'));
    const { worker, trace } = uploading();
    expect((await worker.drain()).written).toBe(5);
    // c1,c2 was answered while c3,c4 was still uploading; its completion waited for that upload.
    expect(trace.indexOf('complete c1,c2')).toBeGreaterThan(trace.indexOf('sent Care_Plan__c c3,c4'));
    await expectCompletedInClaimOrder(trace);
  });

  it('lets completions fall at most one claim behind the claims in flight when the store commits slowly', async () => {
    const ids = Array.from({ length: 14 }, (_, i) => `c${i + 1}`);
    await enqueue(...ids.map((id) => carePlan(id)));
    const { worker, sf } = setup(accept, { claimLimit: 2 });
    let written = 0;
    let completed = 0;
    let behind = 0;
    const complete = store.completeWrites.bind(store);
    store.completeWrites = async (writes, audit, now) => {
      // A store that commits more slowly than the org answers.
      await pause(15);
      await complete(writes, audit, now);
      completed += 1;
    };
    const call = sf.writer.upsert.bind(sf.writer);
    sf.writer.upsert = async (object, field, records, options) => {
      written += 1;
      behind = Math.max(behind, written - completed);
      return call(object, field, records, options);
    };
    expect((await worker.drain()).written).toBe(14);
    // The claim being written, the one before it (answered, completing) and one more; without the
    // bound every claim is written before the first few complete (7 of 7 claims: the control, by
    // removing the wait in drain, fails here).
    expect(behind).toBeLessThanOrEqual(3);
    expect(completed).toBe(7);
    const entries = await auditEntries();
    expect(entries.map((entry) => entry.externalId)).toEqual(ids);
    expect(verifyAuditChain(entries).ok).toBe(true);
  });

  it('control: a claim that waits for the one before it (another object) does not hold that completion', async () => {
    await enqueue(contact('1'), contact('2'), carePlan('c1'), carePlan('c2'));
    const { worker, trace } = uploading();
    expect((await worker.drain()).written).toBe(4);
    expect(trace.indexOf('complete 1,2')).toBeLessThan(trace.indexOf('sent Care_Plan__c c1,c2'));
  });

  it('two claims of Contacts overlap, and the second is screened only once the first one is out', async () => {
    await enqueue(contact('1'), contact('2'), contact('3'), contact('4'), contact('5'));
    // A screen that takes a while (its queries and link writes), and calls that are out at once, as a
    // closed Bulk job is, then answered later.
    const screening = (trace: string[]): ContactMatcher => ({
      async screen(items) {
        const keys = items.map((i) => i.externalId).join(',');
        trace.push(`screen ${keys}`);
        await pause(10);
        trace.push(`screened ${keys}`);
        return { write: [...items], held: 0, failed: [] };
      },
    });
    const { worker, trace } = tracedDrain(async (trace, label, options) => {
      trace.push(`call ${label}`);
      options?.onSent?.();
      await pause(20);
      trace.push(`answered ${label}`);
    }, screening);
    expect((await worker.drain()).written).toBe(5);
    // The second claim's call went out while the first one's was still processing...
    expect(trace.indexOf('call Contact 3,4')).toBeLessThan(trace.indexOf('answered Contact 1,2'));
    // ...but its screen began only once the first claim was screened and its call out.
    expect(trace.indexOf('screen 3,4')).toBeGreaterThan(trace.indexOf('call Contact 1,2'));
    expect(trace.indexOf('screen 5')).toBeGreaterThan(trace.indexOf('call Contact 3,4'));
    await expectCompletedInClaimOrder(trace, '');
  });

  it('a claim of children waits for the Contacts before it to be answered (the control: no overlap across objects)', async () => {
    await enqueue(contact('1'), contact('2'), carePlan('c1'), carePlan('c2'));
    const { worker, trace } = slow();
    expect((await worker.drain()).written).toBe(4);
    expect(trace.indexOf('call Care_Plan__c c1,c2')).toBeGreaterThan(trace.indexOf('answered Contact 1,2'));
  });
});
