import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { adminRoutes } from '../../sync-service/src/http/admin.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #15, item 1, over both emulators: a replay never writes older data over newer.
 *
 * The scenario: a Contact is locked until its email change dead-letters; the email changes
 * again in Cliniko and syncs; `POST /dlq/{id}/replay` then must leave Salesforce with the newer email
 * (before the fix it re-inserted the stored, older payload). The control replays a letter that nothing
 * superseded and shows the replay does write. Re-reading a failing record keeps one dead letter with
 * its attempt history instead of adding one per cycle.
 */
const OPERATOR = 'operator-token-replay-e2e-0123456789';
let h: SyncHarness;
let admin: FastifyInstance;

function lockContact(patientId: string): () => void {
  const fault = { object: 'Contact', field: 'Cliniko_Patient_Id__c', value: patientId, times: 1_000 };
  h.salesforce.org.lockFaults.push(fault);
  return () => {
    h.salesforce.org.lockFaults.splice(h.salesforce.org.lockFaults.indexOf(fault), 1);
  };
}

const emailOf = (patientId: string): unknown =>
  activeRecords(h.salesforce, 'Contact').find((r) => r.Cliniko_Patient_Id__c === patientId)?.Email;

async function replay(id: string) {
  const response = await admin.inject({
    method: 'POST',
    url: `/dlq/${id}/replay`,
    headers: { authorization: `Bearer ${OPERATOR}` },
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 8, seed: 15 }, salesforce: { controls: true } });
  admin = Fastify();
  await admin.register(adminRoutes, {
    tokens: [{ role: 'operator', sha256: createHash('sha256').update(OPERATOR).digest() }],
    store: h.service.store,
    trigger: () => Promise.reject(new Error('not used')),
    journeyConfig: h.service.journeyConfig,
    now: () => Date.parse(h.cliniko.controls.now()),
  });
  const first = await h.service.runner.runCycle('backfill');
  expect(first.status).toBe('succeeded');
});

afterAll(async () => {
  await admin?.close();
  await h?.close();
});

describe('replaying a dead letter (issue #15)', () => {
  it('keeps the newer email when an older change that dead-lettered is replayed', async () => {
    const patientId = recordId('patient', 2);
    const unlock = lockContact(patientId);
    h.cliniko.controls.updatePatient(patientId, { email: 'older.change@example.com' });
    const failed = await h.service.runner.runCycle('incremental');
    expect(failed.drain?.deadLettered).toBe(1);
    // Re-reading the still-failing record folds into the same letter, with its attempts kept.
    const again = await h.service.runner.runCycle('backfill');
    expect(again.drain?.deadLettered).toBe(1);
    const letters = (await h.service.store.listDeadLetters()).filter((d) => d.externalId === patientId);
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter).toMatchObject({ object: 'Contact', occurrences: 2, upstreamCode: 'UNABLE_TO_LOCK_ROW' });
    expect(letter.totalAttempts).toBe(2 * letter.attempts);

    unlock();
    h.cliniko.controls.updatePatient(patientId, { email: 'newer.change@example.com' });
    const synced = await h.service.runner.runCycle('incremental');
    expect(synced.drain?.deadLettered).toBe(0);
    expect(emailOf(patientId)).toBe('newer.change@example.com');

    const answer = await replay(letter.id);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: letter.id, replayed: false });
    expect(String(answer.body.dropped)).toMatch(/^dropped: a newer write of this record succeeded at /);
    const drain = await h.service.worker.drain();
    expect(drain.written).toBe(0);
    await h.service.runner.runCycle('incremental');
    expect(emailOf(patientId)).toBe('newer.change@example.com');
    expect((await replay(letter.id)).status).toBe(409);
  });

  it('control: a letter nothing superseded is requeued and written by the replay', async () => {
    const patientId = recordId('patient', 3);
    const unlock = lockContact(patientId);
    h.cliniko.controls.updatePatient(patientId, { email: 'only.change@example.com' });
    await h.service.runner.runCycle('incremental');
    const letter = (await h.service.store.listDeadLetters()).find((d) => d.externalId === patientId);
    expect(letter).toBeDefined();
    expect(emailOf(patientId)).not.toBe('only.change@example.com');
    unlock();

    const answer = await replay(letter!.id);
    expect(answer).toEqual({ status: 202, body: { id: letter!.id, replayed: true } });
    const drain = await h.service.worker.drain();
    expect(drain.written).toBe(1);
    expect(emailOf(patientId)).toBe('only.change@example.com');
    expect((await h.service.store.getDeadLetter(letter!.id))?.replayOutcome).toBe('requeued');
  });
});
