/**
 * A backfill asks Cliniko for its next page as soon as a page arrives (its keyset is the page's greatest
 * id) and lets that request out onto the wire before the page's rows are handled (issue #16;
 * sync-service/src/cliniko/stream.ts, `letRequestsOut`), so Cliniko serves it while the service
 * validates, projects and commits this one. undici writes a request on an idle keep-alive socket from a
 * setImmediate, and a page's rows are handled without a turn of the event loop, so a request only asked
 * for stayed off the wire until the page was handled. The oracle is undici's own diagnostics channel,
 * published as a request's bytes are written, read when each page has been handled (the runner's
 * progress report); the control runs the same backfill without the turn.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as Loop from '../../sync-service/src/loop.js';

const LOOP = '../../sync-service/src/loop.js';

/** Patients list requests written so far, seen as each page of the patients stream has been handled. */
async function sentAtEachPage(): Promise<{ atPage: number[]; sent: number }> {
  const { startSyncHarness } = await import('../support/harness.js');
  let sent = 0;
  const atPage: number[] = [];
  const harness = await startSyncHarness({
    cliniko: { patients: 250, seed: 3 },
    service: {
      onProgress: (progress) => {
        if (progress.stream === 'patients') atPage.push(sent);
      },
    },
  });
  const onSend = (message: unknown): void => {
    const { request } = message as { request: { path: string } };
    if (request.path.includes('/patients?')) sent += 1;
  };
  subscribe('undici:client:sendHeaders', onSend);
  try {
    const summary = await harness.service.runner.runCycle('backfill');
    expect(summary.status).toBe('succeeded');
    return { atPage, sent };
  } finally {
    unsubscribe('undici:client:sendHeaders', onSend);
    await harness.close();
  }
}

afterEach(() => {
  vi.doUnmock(LOOP);
  vi.resetModules();
});

describe('the next page’s request while a page is handled', () => {
  it('is on the wire once each full page has been handled (control: without the turn it is not)', async () => {
    // 250 patients: pages of 100, 100 and 50; the third page is not full, so no fourth is asked for.
    const turned = await sentAtEachPage();
    expect(turned.sent).toBe(3);
    expect(turned.atPage).toEqual([2, 3, 3]);

    vi.doMock(LOOP, async (importOriginal) => ({
      ...(await importOriginal<typeof Loop>()),
      letRequestsOut: () => Promise.resolve(),
    }));
    vi.resetModules();
    const control = await sentAtEachPage();
    expect(control.sent).toBe(3);
    // The first page is handled as soon as it arrives, before the loop turns: its next page's request is
    // not out. (A later page may arrive while the one before it commits, when the loop turns anyway.)
    expect(control.atPage[0]).toBe(1);
  }, 60_000);
});
