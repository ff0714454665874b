import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import type { RunRecord } from '../store/index.js';
import type { CycleMode, RunSummary } from '../sync/cycle/runner.js';
import { nextLocalTime, parseLocalTime } from './local-time.js';
import { createPollPace } from './poll-pace.js';
import { createScheduler, type JobOutcome, type SchedulerTimers } from './scheduler.js';

/** A fake clock with timers that fire only when the test advances time. */
function fakeTime(start: number) {
  let t = start;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: SchedulerTimers = {
    setTimeout(fn, ms) {
      seq += 1;
      pending.set(seq, { at: t + ms, fn });
      return seq;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  return {
    now: () => t,
    timers,
    pendingCount: () => pending.size,
    /** Moves time forward, firing due timers in order, letting promises settle between them. */
    async advance(ms: number) {
      const end = t + ms;
      for (;;) {
        await flush();
        const next = [...pending.entries()].sort((a, b) => a[1].at - b[1].at)[0];
        if (!next || next[1].at > end) break;
        pending.delete(next[0]);
        t = Math.max(t, next[1].at);
        next[1].fn();
      }
      t = end;
      await flush();
    },
  };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function summary(runId: string, mode: RunSummary['mode']): RunSummary {
  return {
    runId,
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
  };
}

/** A runner whose runs finish when the test says so, recording runs like the real store. */
function fakeRunner(clock: { now: () => number }) {
  const calls: string[] = [];
  const runs: RunRecord[] = [];
  let gate: ReturnType<typeof deferred<void>> | undefined;
  const run = async (mode: RunSummary['mode']): Promise<RunSummary> => {
    calls.push(mode);
    const id = `run-${calls.length}`;
    runs.unshift({
      id,
      mode,
      status: 'running',
      startedAt: clock.now(),
      finishedAt: null,
      counts: '{}',
      dataMapHash: 'h',
      error: null,
    });
    if (gate) await gate.promise;
    runs[runs.findIndex((r) => r.id === id)] = { ...runs.find((r) => r.id === id)!, status: 'succeeded' };
    return summary(id, mode);
  };
  return {
    calls,
    hold: () => (gate = deferred<void>()),
    release: () => {
      gate?.resolve();
      gate = undefined;
    },
    runner: {
      runCycle: (mode: CycleMode) => run(mode),
      runJourneyDaily: () => run('journey-daily'),
    },
    /** The same runner with the reminder job (the runner above has none, so none is scheduled). */
    withReminders: {
      runCycle: (mode: CycleMode) => run(mode),
      runJourneyDaily: () => run('journey-daily'),
      runReminders: () => run('reminders'),
    },
    store: {
      leases: new Map<string, { owner: string; until: number }>(),
      acquireLease(name: string, owner: string, ttl: number, now: number) {
        const held = this.leases.get(name);
        if (held && held.owner !== owner && held.until > now) return Promise.resolve(false);
        this.leases.set(name, { owner, until: now + ttl });
        return Promise.resolve(true);
      },
      releaseLease(name: string, owner: string) {
        if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
        return Promise.resolve();
      },
      listRuns: () => Promise.resolve([...runs]),
    },
  };
}

const logger = createLogger({ level: 'silent' });
// 2026-11-22 00:00 UTC is 11:00 in Sydney (AEDT, +11).
const T0 = Date.parse('2026-11-22T00:00:00.000Z');

describe('local times in the clinic zone', () => {
  it('finds the next wall-clock time, today or tomorrow', () => {
    expect(new Date(nextLocalTime(T0, '12:30', 'Australia/Sydney')).toISOString()).toBe(
      '2026-11-22T01:30:00.000Z',
    );
    expect(new Date(nextLocalTime(T0, '06:00', 'Australia/Sydney')).toISOString()).toBe(
      '2026-11-22T19:00:00.000Z',
    );
    // Exactly now does not count: the next one is tomorrow.
    expect(new Date(nextLocalTime(T0, '11:00', 'Australia/Sydney')).toISOString()).toBe(
      '2026-11-23T00:00:00.000Z',
    );
  });
  it('rejects malformed times', () => {
    expect(() => parseLocalTime('6:00')).toThrow(/HH:MM/);
    expect(() => parseLocalTime('24:00')).toThrow(/HH:MM/);
  });
});

describe('scheduler', () => {
  it('plans the next poll at the adaptive pace: budget-paced, after writes as while idle', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    let written = 0;
    const runner = {
      ...fake.runner,
      runCycle: async (mode: CycleMode) => ({
        ...(await fake.runner.runCycle(mode)),
        clinikoRequests: 4,
        counts: { patients: { read: written, written, skipped: 0, quarantined: 0, deadLettered: 0 } },
      }),
    };
    const pace = createPollPace({ minMs: 10_000, maxMs: 60_000, requestsPerMinute: 180, idleShare: 0.1 });
    const scheduler = createScheduler(
      { runner, store: fake.store, logger, now: clock.now, timers: clock.timers, yieldTick: flush },
      {
        pollIntervalSeconds: 60,
        clinicTimezone: 'Australia/Sydney',
        journeyDailyAt: null,
        useLease: false,
        pace,
      },
    );
    scheduler.start();
    await clock.advance(0);
    // Idle: 4 requests a cycle within 10 % of 180 a minute (the control above, without a pace: 60 s).
    expect(scheduler.nextRun()).toBe(T0 + 13_334);
    written = 2;
    await clock.advance(13_334);
    expect(fake.calls).toHaveLength(2);
    // Busy: the same pace; polling faster would spend budget that the freshness wanted does not need.
    expect(scheduler.nextRun()).toBe(T0 + 2 * 13_334);
    await scheduler.stop();
  });

  it('without a poll at start, plans the first one the longest wait away, not at the pace', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const pace = createPollPace({ minMs: 10_000, maxMs: 60_000, requestsPerMinute: 180, idleShare: 0.1 });
    const options = {
      pollIntervalSeconds: 60,
      clinicTimezone: 'Australia/Sydney',
      journeyDailyAt: null,
      useLease: false,
      pace,
    };
    const deps = {
      runner: fake.runner,
      store: fake.store,
      logger,
      now: clock.now,
      timers: clock.timers,
      yieldTick: flush,
    };
    const scheduler = createScheduler(deps, { ...options, runAtStart: false });
    scheduler.start();
    await clock.advance(0);
    expect(scheduler.nextRun()).toBe(T0 + 60_000);
    await clock.advance(59_999);
    expect(fake.calls).toHaveLength(0);
    await scheduler.stop();
    // Control: with a poll at start, the first one runs at once.
    const eager = createScheduler(deps, options);
    eager.start();
    await clock.advance(0);
    expect(fake.calls).toHaveLength(1);
    await eager.stop();
  });

  it('polls at start and then every interval, one run at a time', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const outcomes: JobOutcome[] = [];
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      {
        pollIntervalSeconds: 60,
        clinicTimezone: 'Australia/Sydney',
        journeyDailyAt: null,
        useLease: false,
        onJobFinished: (o) => outcomes.push(o),
      },
    );
    expect(scheduler.nextRun()).toBeNull();
    scheduler.start();
    await clock.advance(0);
    expect(fake.calls).toEqual(['incremental']);
    expect(scheduler.nextRun()).toBe(T0 + 60_000);
    await clock.advance(59_000);
    expect(fake.calls).toHaveLength(1);
    await clock.advance(1_000);
    expect(fake.calls).toEqual(['incremental', 'incremental']);

    // A slow run: the poll that falls due meanwhile is dropped, the next is planned after it ends.
    fake.hold();
    await clock.advance(60_000);
    expect(fake.calls).toHaveLength(3);
    expect(scheduler.running()).toBe('incremental');
    await clock.advance(150_000);
    expect(fake.calls).toHaveLength(3);
    // While it runs, /health sees the earliest time the next poll can be planned.
    expect(scheduler.nextRun()).toBe(T0 + 120_000 + 60_000);
    fake.release();
    // It ran long past its interval, so the next poll runs at once, then one interval later.
    await clock.advance(0);
    expect(fake.calls).toHaveLength(4);
    expect(scheduler.running()).toBeUndefined();
    expect(scheduler.nextRun()).toBe(clock.now() + 60_000);
    expect(outcomes.map((o) => o.kind)).toEqual(['incremental', 'incremental', 'incremental', 'incremental']);
    await scheduler.stop();
    expect(scheduler.nextRun()).toBeNull();
    expect(clock.pendingCount()).toBe(0);
  });

  it('runs the reminder job on its own cadence, queued behind a running cycle, under the lease', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    let paused = false;
    const outcomes: JobOutcome[] = [];
    const scheduler = createScheduler(
      {
        runner: fake.withReminders,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
        isPaused: () => paused,
      },
      {
        pollIntervalSeconds: 90,
        remindersIntervalSeconds: 60,
        clinicTimezone: 'UTC',
        journeyDailyAt: null,
        useLease: true,
        owner: 'a',
        onJobFinished: (o) => outcomes.push(o),
      },
    );
    expect(scheduler.nextReminders()).toBeNull();
    scheduler.start();
    expect(scheduler.nextReminders()).toBe(T0 + 60_000);
    await clock.advance(0);
    expect(fake.calls).toEqual(['incremental']);
    // Held, to see it run under the scheduler lease like every job.
    fake.hold();
    await clock.advance(60_000);
    expect(fake.calls).toEqual(['incremental', 'reminders']);
    expect(fake.store.leases.get('scheduler:poll')?.owner).toBe('a');
    fake.release();
    await clock.advance(0);
    expect(fake.store.leases.has('scheduler:poll')).toBe(false);
    // A long cycle from 90 s: the reminder jobs due at 120 s and 180 s wait behind it, and run once.
    fake.hold();
    await clock.advance(30_000);
    expect(scheduler.running()).toBe('incremental');
    await clock.advance(100_000);
    expect(fake.calls).toEqual(['incremental', 'reminders', 'incremental']);
    fake.release();
    await clock.advance(0);
    // The queued reminder job first, then the poll that fell due meanwhile (the cycle ran past it).
    expect(fake.calls).toEqual(['incremental', 'reminders', 'incremental', 'reminders', 'incremental']);
    // The cadence holds: the next one at 240 s, not one interval after the late run.
    expect(scheduler.nextReminders()).toBe(T0 + 240_000);
    // Paused: skipped, still planned.
    paused = true;
    await clock.advance(T0 + 240_000 - clock.now());
    expect(fake.calls.filter((c) => c === 'reminders')).toHaveLength(2);
    expect(scheduler.nextReminders()).toBe(T0 + 300_000);
    paused = false;
    await clock.advance(60_000);
    expect(fake.calls.filter((c) => c === 'reminders')).toHaveLength(3);
    expect(outcomes.filter((o) => o.kind === 'reminders').every((o) => o.error === undefined)).toBe(true);
    await scheduler.stop();
    expect(scheduler.nextReminders()).toBeNull();
    expect(clock.pendingCount()).toBe(0);
  });

  it('schedules no reminder job when disabled or when the runner has none', () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const deps = { store: fake.store, logger, now: clock.now, timers: clock.timers, yieldTick: flush };
    const options = { pollIntervalSeconds: 60, clinicTimezone: 'UTC', journeyDailyAt: null, useLease: false };
    const off = createScheduler(
      { ...deps, runner: fake.withReminders },
      { ...options, remindersIntervalSeconds: null },
    );
    const none = createScheduler({ ...deps, runner: fake.runner }, options);
    const on = createScheduler({ ...deps, runner: fake.withReminders }, options);
    for (const scheduler of [off, none, on]) scheduler.start();
    expect(off.nextReminders()).toBeNull();
    expect(none.nextReminders()).toBeNull();
    // Control: the same runner with the default cadence gets one every minute.
    expect(on.nextReminders()).toBe(T0 + 60_000);
    expect(() =>
      createScheduler({ ...deps, runner: fake.withReminders }, { ...options, remindersIntervalSeconds: 0 }),
    ).toThrow(/remindersIntervalSeconds/);
    for (const scheduler of [off, none, on]) void scheduler.stop();
  });

  it('refuses a manual run while one runs, and returns the id of the run it starts', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      {
        pollIntervalSeconds: 60,
        clinicTimezone: 'UTC',
        journeyDailyAt: null,
        useLease: false,
        runAtStart: false,
      },
    );
    scheduler.start();
    fake.hold();
    const first = await scheduler.trigger('backfill');
    expect(first).toMatchObject({ accepted: true, runId: 'run-1' });
    expect(fake.calls).toEqual(['backfill']);
    expect(await scheduler.trigger('incremental')).toEqual({ accepted: false, reason: 'running' });
    // The scheduled poll falls due during the manual run: dropped, not run twice.
    await clock.advance(60_000);
    expect(fake.calls).toEqual(['backfill']);
    fake.release();
    if (first.accepted) expect((await first.done).summary?.runId).toBe('run-1');
    const second = await scheduler.trigger('incremental');
    expect(second).toMatchObject({ accepted: true, runId: 'run-2' });
    await scheduler.stop();
    expect(await scheduler.trigger('incremental')).toEqual({ accepted: false, reason: 'stopped' });
  });

  it('runs the daily journey pass at the local time, queued behind a running cycle', async () => {
    // 05:59:30 in Sydney.
    const start = Date.parse('2026-11-21T18:59:30.000Z');
    const clock = fakeTime(start);
    const fake = fakeRunner(clock);
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      {
        pollIntervalSeconds: 60,
        clinicTimezone: 'Australia/Sydney',
        journeyDailyAt: '06:00',
        useLease: false,
      },
    );
    expect(scheduler.nextJourneyPass()).toBeNull();
    scheduler.start();
    expect(new Date(scheduler.nextJourneyPass()!).toISOString()).toBe('2026-11-21T19:00:00.000Z');
    fake.hold();
    await clock.advance(0);
    await clock.advance(40_000);
    expect(fake.calls).toEqual(['incremental']);
    fake.release();
    await clock.advance(0);
    expect(fake.calls).toEqual(['incremental', 'journey-daily']);
    // The next pass is tomorrow at 06:00 local.
    expect(new Date(scheduler.nextJourneyPass()!).toISOString()).toBe('2026-11-22T19:00:00.000Z');
    await scheduler.stop();
  });

  it('calls the nightly reconciliation hook at its local time', async () => {
    const clock = fakeTime(Date.parse('2026-11-22T02:29:00.000Z'));
    const fake = fakeRunner(clock);
    let reconciled = 0;
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      {
        pollIntervalSeconds: 3600,
        clinicTimezone: 'UTC',
        journeyDailyAt: null,
        useLease: false,
        runAtStart: false,
        reconcileAt: '02:30',
        reconcile: () => {
          reconciled += 1;
          return Promise.resolve();
        },
      },
    );
    scheduler.start();
    await clock.advance(59_000);
    expect(reconciled).toBe(0);
    await clock.advance(1_000);
    expect(reconciled).toBe(1);
    expect(new Date(scheduler.nextReconcile()!).toISOString()).toBe('2026-11-23T02:30:00.000Z');
    await scheduler.stop();
  });

  it('never lets two instances sharing a lease poll at once', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const options = {
      pollIntervalSeconds: 60,
      clinicTimezone: 'UTC',
      journeyDailyAt: null,
      useLease: true,
    } as const;
    const deps = {
      runner: fake.runner,
      store: fake.store,
      logger,
      now: clock.now,
      timers: clock.timers,
      yieldTick: flush,
    };
    const a = createScheduler(deps, { ...options, owner: 'a' });
    const b = createScheduler(deps, { ...options, owner: 'b' });
    fake.hold();
    a.start();
    await clock.advance(0);
    b.start();
    await clock.advance(0);
    expect(fake.calls).toEqual(['incremental']);
    expect(fake.store.leases.get('scheduler:poll')?.owner).toBe('a');
    expect(await b.trigger('incremental')).toEqual({ accepted: false, reason: 'leased-elsewhere' });
    fake.release();
    await clock.advance(0);
    expect(fake.store.leases.has('scheduler:poll')).toBe(false);
    // Both are due at the same instant: the one that takes the lease runs, the other skips.
    fake.hold();
    await clock.advance(60_000);
    expect(fake.calls).toHaveLength(2);
    fake.release();
    await clock.advance(0);
    await a.stop();
    await b.stop();
  });

  it('renews the lease while a long job runs and releases it at the end', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      { pollIntervalSeconds: 60, clinicTimezone: 'UTC', journeyDailyAt: null, useLease: true, owner: 'a' },
    );
    fake.hold();
    scheduler.start();
    await clock.advance(0);
    // TTL is LEASE_MS (30 s) whatever the poll interval, renewed every 10 s: a dead holder's lapses fast.
    expect(fake.store.leases.get('scheduler:poll')).toEqual({ owner: 'a', until: T0 + 30_000 });
    await clock.advance(400_000);
    expect(fake.store.leases.get('scheduler:poll')).toEqual({ owner: 'a', until: T0 + 400_000 + 30_000 });
    fake.release();
    await clock.advance(0);
    expect(fake.store.leases.has('scheduler:poll')).toBe(false);
    await scheduler.stop();
    expect(clock.pendingCount()).toBe(0);
  });

  it('runs nothing when stopped while the lease was being taken', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const granted = deferred<boolean>();
    const released: string[] = [];
    const store = {
      acquireLease: () => granted.promise,
      releaseLease: (_name: string, owner: string) => {
        released.push(owner);
        return Promise.resolve();
      },
      listRuns: fake.store.listRuns,
    };
    const scheduler = createScheduler(
      { runner: fake.runner, store, logger, now: clock.now, timers: clock.timers, yieldTick: flush },
      { pollIntervalSeconds: 60, clinicTimezone: 'UTC', journeyDailyAt: null, useLease: true, owner: 'a' },
    );
    scheduler.start();
    await clock.advance(0);
    const stopping = scheduler.stop();
    granted.resolve(true);
    await stopping;
    expect(fake.calls).toEqual([]);
    expect(released).toEqual(['a']);
    expect(clock.pendingCount()).toBe(0);
  });

  it('a manual run before start plans no polls', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      { pollIntervalSeconds: 60, clinicTimezone: 'UTC', useLease: false },
    );
    const result = await scheduler.trigger('incremental');
    if (result.accepted) await result.done;
    expect(fake.calls).toEqual(['incremental']);
    expect(clock.pendingCount()).toBe(0);
    expect(scheduler.nextRun()).toBeNull();
  });

  it('stop waits for the run in progress', async () => {
    const clock = fakeTime(T0);
    const fake = fakeRunner(clock);
    const scheduler = createScheduler(
      {
        runner: fake.runner,
        store: fake.store,
        logger,
        now: clock.now,
        timers: clock.timers,
        yieldTick: flush,
      },
      { pollIntervalSeconds: 60, clinicTimezone: 'UTC', journeyDailyAt: null, useLease: false },
    );
    fake.hold();
    scheduler.start();
    await clock.advance(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    fake.release();
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.pendingCount()).toBe(0);
  });
});
