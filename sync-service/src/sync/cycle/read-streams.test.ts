import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDataMap } from '../../governance/data-map.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from '../../governance/test-fixtures.js';
import { DEFAULT_JOURNEY_CONFIG } from '../../journey/index.js';
import { createLogger } from '../../logger.js';
import type { SqliteStore } from '../../store/index.js';
import { createOutboxWorker } from '../outbox/worker.js';
import { accept, ev, fakeCliniko, fakeWriter, manualClock, memoryStore } from '../test-fakes.js';
import { createSyncRunner, STREAMS_AT_ONCE } from './runner.js';

/**
 * The streams of a cycle read two at a time (issue #16): a second stream's pages fill the wait for the
 * first's next page; a failure starts no further stream and lets the one under way end.
 */

const T0 = Date.parse('2026-11-22T01:00:00.000Z');
const SIGNPOST = '2026-11-22T00:10:00Z';
const logger = createLogger({ level: 'silent' });
const dataMap = loadDataMap(FIXTURE_MAP, FIXTURE_LOOKUPS);

let store: SqliteStore;
beforeEach(async () => {
  store = await memoryStore();
});
afterEach(async () => {
  await store.close();
});

function runnerOver(cliniko: ReturnType<typeof fakeCliniko>) {
  const clock = manualClock(T0);
  const worker = createOutboxWorker(
    { store, writer: fakeWriter(accept).writer, logger, now: clock.now, sleep: clock.sleep },
    { retryDelaysMs: [1_000], jitterMs: 0, maxWaitMs: 0 },
  );
  return createSyncRunner({
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
}

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
const DATA = new Set(['patients', 'patientCases', 'individualAppointments', 'invoices']);
const dataReads = (cliniko: ReturnType<typeof fakeCliniko>) =>
  cliniko.reads.map((r) => r.stream).filter((stream) => DATA.has(stream));

const patient = (id: string) => ({
  id,
  updated_at: '2026-11-22T00:01:00Z',
  first_name: 'Ann',
  last_name: `Lee${id}`,
  email: `p${id}@example.com`,
  accepted_email_marketing: true,
  patient_phone_numbers: [],
  archived_at: null,
  merged_at: null,
  deleted_at: null,
  merged_with_patient: null,
});

describe('streams read at once (issue #16)', () => {
  it('reads the second stream while the first waits for its next page (a lone read would time out)', async () => {
    expect(STREAMS_AT_ONCE).toBe(2);
    const casesRead = meeting(2_000);
    const cliniko = fakeCliniko({
      patients: () => [
        ev.record('patients', patient('1')),
        ev.page('patients', { maxUpdatedAt: '2026-11-22T00:01:00Z', serverDate: SIGNPOST }),
        // The next page is "on its way" until patient_cases has been read.
        casesRead.outcome,
        ev.end('patients', true, SIGNPOST),
      ],
      patientCases: () => {
        casesRead.signal();
        return [ev.end('patient_cases', true, SIGNPOST)];
      },
    });
    const summary = await runnerOver(cliniko).runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    expect(await casesRead.outcome).toBe('met');
    // Every stream was read, once, in the order they are listed.
    expect(dataReads(cliniko)).toEqual(['patients', 'patientCases', 'individualAppointments', 'invoices']);
    expect((await store.getWatermark('patients'))?.cursor).toBe(SIGNPOST);
  });

  it('after a failure starts no other stream; the read under way ends and keeps its watermark', async () => {
    const cliniko = fakeCliniko({
      patients: () => [new Error('connection reset')],
      // Still reading when patients fails.
      patientCases: () => [
        new Promise((resolve) => setTimeout(resolve, 50)),
        ev.end('patient_cases', true, SIGNPOST),
      ],
    });
    const summary = await runnerOver(cliniko).runCycle('incremental');
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe('connection reset');
    expect(dataReads(cliniko)).toEqual(['patients', 'patientCases']);
    expect(await store.getWatermark('patients')).toBeUndefined();
    expect((await store.getWatermark('patient_cases'))?.cursor).toBe(SIGNPOST);
    // The streams after them were never read: their first read comes with the next cycle.
    expect(await store.getWatermark('individual_appointments')).toBeUndefined();
  });
});
