import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #16, item 5, over HTTP against the emulators: the window before a stream's cursor (where
 * Cliniko may still commit records late) is re-read once, after it has settled, instead of by every
 * cycle (sync/cycle/bookmarks.ts, cliniko/README.md "Watermarks"). Requests are counted at the Cliniko
 * emulator; the service reads time from the emulator's clock, so moving it moves both.
 */
const OVERLAP_SECONDS = 120;
/** The list endpoints of the data streams (sync/cycle/context.ts DATA_STREAMS). */
const DATA_PATHS = ['/v1/patients', '/v1/patient_cases', '/v1/individual_appointments', '/v1/invoices'];

let h: SyncHarness;

/** The Cliniko requests of one incremental cycle, by path. */
async function cycleRequests(): Promise<Record<string, number>> {
  const from = h.cliniko.requestLog().at(-1)?.seq ?? 0;
  const summary = await h.service.runner.runCycle('incremental');
  expect(summary.status).toBe('succeeded');
  const byPath: Record<string, number> = {};
  for (const r of h.cliniko.requestLog().filter((e) => e.seq > from)) {
    const path = r.url.split('?')[0] ?? '';
    byPath[path] = (byPath[path] ?? 0) + 1;
  }
  return byPath;
}
const total = (byPath: Record<string, number>): number => Object.values(byPath).reduce((a, b) => a + b, 0);
const onePerStream = Object.fromEntries(DATA_PATHS.map((p) => [p, 1]));
const contactEmail = (patientId: string): unknown =>
  activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId)?.Email;

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 150, seed: 11 } });
  // Every patient stamped just before the backfill: more than a page of them in the window it leaves
  // unsettled, as the benchmark's generated practice has.
  h.cliniko.controls.touch(
    'patients',
    h.cliniko.practice.patients.map((p) => recordId('patient', p.idx)),
  );
  // A second later: a read re-reads the second its cursor is in (records may still be stamped in it).
  h.cliniko.controls.setClock({ advanceSeconds: 1 });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
});

afterAll(async () => {
  await h?.close();
});

describe('the overlap window after a backfill', () => {
  it('costs an idle cycle right after the backfill one request per data stream', async () => {
    expect(await cycleRequests()).toEqual(onePerStream);
    expect(await cycleRequests()).toEqual(onePerStream);
  });

  it('is re-read once after it has settled, and the cycles after that are idle again (control)', async () => {
    // Control: once Cliniko's clock is 2δ past the settled point, the cycle re-reads the window before
    // the backfill (its 150 patients: two pages), which an every-cycle overlap would pay every time.
    h.cliniko.controls.setClock({ advanceSeconds: 2 * OVERLAP_SECONDS + 1 });
    const recheck = await cycleRequests();
    expect(recheck['/v1/patients']).toBe(2);
    expect(total(recheck)).toBeGreaterThan(DATA_PATHS.length);
    expect(await cycleRequests()).toEqual(onePerStream);
  });
});

describe('a record Cliniko commits late', () => {
  it('is not seen by the ordinary reads after it (control) and reaches Salesforce by the recheck', async () => {
    const patient = h.cliniko.practice.patients.find((p) => p.archivedAt === null && p.f.email)!;
    const patientId = recordId('patient', patient.idx);
    // Stamped now, visible only later: a read in between passes its updated_at without seeing it.
    h.cliniko.controls.hold('patients', [patientId]);
    h.cliniko.controls.updatePatient(patientId, { email: 'committed.late@example.com' });
    h.cliniko.controls.setClock({ advanceSeconds: 1 });
    expect(await cycleRequests()).toEqual(onePerStream);
    h.cliniko.controls.setClock({ advanceSeconds: 20 });
    expect(h.cliniko.controls.release()).toBe(1);

    // Control: the ordinary read starts at the cursor, past the record's stamp: without the recheck
    // the change would be lost.
    await cycleRequests();
    expect(contactEmail(patientId)).not.toBe('committed.late@example.com');

    // The window holding its stamp settles 2δ after the settled point: the recheck reads it.
    h.cliniko.controls.setClock({ advanceSeconds: 2 * OVERLAP_SECONDS });
    await cycleRequests();
    expect(contactEmail(patientId)).toBe('committed.late@example.com');
  });
});

describe('a backfill that outlasts the overlap', () => {
  it('rechecks the window before it itself, so the idle cycle after it costs one request per stream', async () => {
    let moved = false;
    const long = await startSyncHarness({
      cliniko: { patients: 250, seed: 11 },
      service: {
        // Cliniko's clock jumps 2δ during the backfill's first stream: a backfill of a large practice.
        // The jump comes as the first page is handled; the second is asked for as soon as the first
        // arrives, so the third is the first page served after it.
        onProgress: () => {
          if (moved) return;
          moved = true;
          long.cliniko.controls.setClock({ advanceSeconds: 2 * OVERLAP_SECONDS + 1 });
        },
      },
    });
    try {
      long.cliniko.controls.touch(
        'patients',
        long.cliniko.practice.patients.map((p) => recordId('patient', p.idx)),
      );
      long.cliniko.controls.setClock({ advanceSeconds: 1 });
      const patientReads = (): number =>
        long.cliniko.requestLog().filter((r) => r.url.startsWith('/v1/patients?')).length;
      expect((await long.service.runner.runCycle('backfill')).status).toBe('succeeded');
      // Three keyset pages by id, then the recheck of the 250 patients stamped before it: three more.
      expect(patientReads()).toBe(6);
      const from = long.cliniko.requestLog().at(-1)?.seq ?? 0;
      expect((await long.service.runner.runCycle('incremental')).status).toBe('succeeded');
      const after = long.cliniko.requestLog().filter((e) => e.seq > from);
      expect(after.map((r) => r.url.split('?')[0]).sort()).toEqual([...DATA_PATHS].sort());
    } finally {
      await long.close();
    }
  });
});
