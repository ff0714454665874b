import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain, type AuditEntry } from '../governance/audit.js';
import { createKeyring } from '../governance/encryption.js';
import { createLogger } from '../logger.js';
import { createStore, type Store } from '../store/index.js';
import { keyringCipher } from './cipher.js';
import { createScheduler } from './scheduler.js';
import { createSyncControl } from './control.js';

const logger = createLogger({ level: 'silent' });
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

async function sqliteStore(): Promise<Store> {
  const dir = mkdtempSync(path.join(tmpdir(), 'control-test-'));
  const store = createStore(
    { kind: 'sqlite', path: path.join(dir, 'sync.db') },
    keyringCipher(createKeyring(randomBytes(32))),
  );
  await store.migrate();
  cleanup.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

describe('pause and resume of automatic sync', () => {
  it('records each change in the audit chain, and a new process reads the state back from it', async () => {
    const store = await sqliteStore();
    let t = Date.parse('2026-12-01T10:00:00Z');
    const control = createSyncControl({ store, logger, now: () => t, refreshMs: 0 });
    expect(await control.start()).toEqual({ paused: false, since: null, by: null });
    await control.pause('console:operator:abc');
    // Pausing twice records nothing new.
    await control.pause('console:operator:abc');
    expect(control.isPaused()).toBe(true);

    const restarted = createSyncControl({ store, logger, now: () => t, refreshMs: 0 });
    expect(await restarted.start()).toEqual({
      paused: true,
      since: '2026-12-01T10:00:00.000Z',
      by: 'console:operator:abc',
    });
    t += 60_000;
    await restarted.resume('api:operator:def');
    expect(restarted.isPaused()).toBe(false);
    // The first process converges on the shared state at its next refresh.
    expect((await control.load()).paused).toBe(false);

    const rows = await store.listAudit({});
    const entries = rows.map((r) => JSON.parse(r.entry) as AuditEntry);
    expect(entries.map((e) => [e.operation, e.actor])).toEqual([
      ['sync-pause', 'console:operator:abc'],
      ['sync-resume', 'api:operator:def'],
    ]);
    expect(verifyAuditChain(entries)).toMatchObject({ ok: true, count: 2 });
  });

  it('a paused scheduler skips its timed polls; manual runs still start', async () => {
    let paused = true;
    const runs: string[] = [];
    let t = 0;
    const pending: Array<{ at: number; fn: () => void }> = [];
    const scheduler = createScheduler(
      {
        runner: {
          runCycle: (mode) => {
            runs.push(mode);
            return Promise.resolve({
              runId: `r${runs.length}`,
              mode,
              status: 'succeeded',
              startedAt: '',
              finishedAt: '',
              counts: {},
              drain: null,
              clinikoRequests: 0,
              salesforceCalls: 0,
              durationMs: 0,
              error: null,
            });
          },
          runJourneyDaily: () => Promise.reject(new Error('not in this test')),
        },
        store: {
          acquireLease: () => Promise.resolve(true),
          releaseLease: () => Promise.resolve(),
          listRuns: () => Promise.resolve([]),
        },
        logger,
        now: () => t,
        timers: {
          setTimeout: (fn, ms) => {
            const entry = { at: t + ms, fn };
            pending.push(entry);
            return entry;
          },
          clearTimeout: (h) => {
            const i = pending.indexOf(h as (typeof pending)[number]);
            if (i >= 0) pending.splice(i, 1);
          },
        },
        isPaused: () => paused,
        yieldTick: () => Promise.resolve(),
      },
      { pollIntervalSeconds: 60, clinicTimezone: 'UTC', useLease: false, journeyDailyAt: null },
    );
    const fire = async (): Promise<void> => {
      pending.sort((a, b) => a.at - b.at);
      const next = pending.shift()!;
      t = Math.max(t, next.at);
      next.fn();
      for (let i = 0; i < 20; i += 1) await Promise.resolve();
    };
    scheduler.start();
    await fire();
    await fire();
    expect(runs).toEqual([]);
    // Still planning: the next poll is one interval away.
    expect(scheduler.nextRun()).toBe(t + 60_000);
    const manual = await scheduler.trigger('incremental');
    expect(manual.accepted).toBe(true);
    expect(runs).toEqual(['incremental']);
    // Control: resumed, the timed poll runs.
    paused = false;
    while (runs.length < 2 && pending.length > 0) await fire();
    expect(runs).toEqual(['incremental', 'incremental']);
    await scheduler.stop();
  });
});
