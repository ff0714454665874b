/**
 * The backfill's read-ahead puts the next Cliniko page's request on the wire before the current page
 * commits (issue #16; sync/cycle/read-stream.ts, `letRequestsOut`). The SQLite store commits
 * synchronously and undici writes a request on an idle keep-alive socket from a setImmediate, so a
 * request only asked for stayed off the wire for the whole commit, and the service then waited for the
 * page. The oracle is undici's own diagnostics channel, published as a request's bytes are written;
 * the control runs the same backfill without the turn.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Loop from '../../sync-service/src/sync/common/loop.js';

const LOOP = '../../sync-service/src/sync/common/loop.js';

/** Patients list requests written so far, seen at each of the patients stream's page commits. */
async function sentAtEachCommit(): Promise<{ atCommit: number[]; sent: number }> {
  const { startSyncHarness } = await import('../support/harness.js');
  const harness = await startSyncHarness({ cliniko: { patients: 250, seed: 3 } });
  let sent = 0;
  const onSend = (message: unknown): void => {
    const { request } = message as { request: { path: string } };
    if (request.path.includes('/patients?')) sent += 1;
  };
  subscribe('undici:client:sendHeaders', onSend);
  const atCommit: number[] = [];
  const { store } = harness.service;
  const commit = store.commitBatch.bind(store);
  store.commitBatch = (batch) => {
    if (batch.stream === 'patients') atCommit.push(sent);
    return commit(batch);
  };
  try {
    const summary = await harness.service.runner.runCycle('backfill');
    expect(summary.status).toBe('succeeded');
    return { atCommit, sent };
  } finally {
    unsubscribe('undici:client:sendHeaders', onSend);
    await harness.close();
  }
}

afterEach(() => {
  vi.doUnmock(LOOP);
  vi.resetModules();
});

describe('the next page’s request during a page’s commit', () => {
  it('is on the wire when each full page commits (control: without the turn it is not)', async () => {
    // 250 patients: pages of 100, 100 and 50; the third page is not full, so no fourth is asked for.
    const turned = await sentAtEachCommit();
    expect(turned.sent).toBe(3);
    expect(turned.atCommit.slice(0, 2)).toEqual([2, 3]);

    vi.doMock(LOOP, async (importOriginal) => ({
      ...(await importOriginal<typeof Loop>()),
      letRequestsOut: () => Promise.resolve(),
    }));
    vi.resetModules();
    const control = await sentAtEachCommit();
    expect(control.sent).toBe(3);
    expect(control.atCommit.slice(0, 2)).toEqual([1, 2]);
  }, 60_000);
});
