import { randomUUID } from 'node:crypto';
import { addDays, localDate, startOfLocalDay } from '../journey/time.js';
import type { Logger } from '../logger.js';
import type { RunRecord, Store } from '../store/index.js';
import type { CycleMode, RunSummary } from './runner.js';

/**
 * The scheduler of the long-running service: an incremental cycle every poll interval, a daily journey
 * pass and a nightly reconciliation at local times in the clinic's zone, and manual runs from the admin
 * API. Exactly one job runs at a time in a process; on PostgreSQL a store lease also keeps two instances
 * from polling at once. Clock and timers are injected so tests drive it without waiting.
 */
export interface SchedulerRunner {
  runCycle(mode: CycleMode): Promise<RunSummary>;
  runJourneyDaily(): Promise<RunSummary>;
}

export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type JobKind = 'incremental' | 'backfill' | 'journey-daily' | 'reconcile';

export interface JobOutcome {
  readonly kind: JobKind;
  readonly trigger: 'schedule' | 'manual';
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The runner's summary (cycles and the journey pass); undefined for reconciliation or on a throw. */
  readonly summary?: RunSummary;
  readonly error?: string;
}

export interface SchedulerDeps {
  readonly runner: SchedulerRunner;
  readonly store: Pick<Store, 'acquireLease' | 'releaseLease' | 'listRuns'>;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly timers?: SchedulerTimers;
  /** Yields to the event loop while waiting for a manual run's id; injected for tests. */
  readonly yieldTick?: () => Promise<void>;
  /** Console hook: while true, timed jobs are skipped (manual runs still start). runtime/control.ts. */
  readonly isPaused?: () => boolean;
}

export interface SchedulerOptions {
  readonly pollIntervalSeconds: number;
  readonly clinicTimezone: string;
  /** Local time (HH:MM, clinic zone) of the daily journey pass; null disables it. Default 06:00. */
  readonly journeyDailyAt?: string | null;
  /** Local time (HH:MM) of the nightly reconciliation; used only when `reconcile` is given. Default 02:30. */
  readonly reconcileAt?: string;
  readonly reconcile?: () => Promise<unknown>;
  /** Take the `scheduler:poll` store lease before each job (PostgreSQL, several instances). */
  readonly useLease: boolean;
  /** This process's lease owner name. Default: a random id. */
  readonly owner?: string;
  /** Run the first cycle at start (default) or only after one interval. */
  readonly runAtStart?: boolean;
  /** Called after every job, and after every attempt skipped for the lease (metrics). */
  readonly onJobFinished?: (outcome: JobOutcome) => void;
}

export type TriggerResult =
  | { readonly accepted: true; readonly runId: string | null; readonly done: Promise<JobOutcome> }
  | { readonly accepted: false; readonly reason: 'running' | 'leased-elsewhere' | 'stopped' };

export const SCHEDULER_LEASE = 'scheduler:poll';

/** Parses `HH:MM` (24 h). */
export function parseLocalTime(value: string): { hour: number; minute: number } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (!match) throw new Error(`local time must be HH:MM (24 h), got "${value}"`);
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/**
 * The next instant strictly after `now` at which the clinic's wall clock shows `at`. Measured as an
 * offset from local midnight, so on a daylight-saving change day the job runs an hour early or late
 * rather than twice or never.
 */
export function nextLocalTime(now: number, at: string, zone: string): number {
  const { hour, minute } = parseLocalTime(at);
  const offset = (hour * 60 + minute) * 60_000;
  const today = localDate(now, zone);
  for (const date of [today, addDays(today, 1), addDays(today, 2)]) {
    const candidate = startOfLocalDay(date, zone) + offset;
    if (candidate > now) return candidate;
  }
  /* c8 ignore next */
  throw new Error('no next local time within two days');
}

const realTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function createScheduler(deps: SchedulerDeps, options: SchedulerOptions) {
  const log = deps.logger.child({ module: 'scheduler' });
  const now = deps.now ?? Date.now;
  const timers = deps.timers ?? realTimers;
  const yieldTick = deps.yieldTick ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const owner = options.owner ?? `scheduler-${randomUUID()}`;
  const intervalMs = options.pollIntervalSeconds * 1000;
  const journeyAt = options.journeyDailyAt === undefined ? '06:00' : options.journeyDailyAt;
  const reconcileAt = options.reconcileAt ?? '02:30';
  if (journeyAt !== null) parseLocalTime(journeyAt);
  if (options.reconcile) parseLocalTime(reconcileAt);
  // The lease must outlive a renewal period comfortably; it is renewed while a job runs.
  const leaseTtlMs = Math.max(30_000, intervalMs * 2);

  let started = false;
  let stopped = false;
  let current: { kind: JobKind; startedAt: number; promise: Promise<JobOutcome> } | undefined;
  /** Timed jobs that fell due while another job ran; they run next, in order. */
  const queued: JobKind[] = [];
  const due: Record<'poll' | 'journey' | 'reconcile', { at: number; handle: unknown } | undefined> = {
    poll: undefined,
    journey: undefined,
    reconcile: undefined,
  };

  function schedule(slot: keyof typeof due, at: number, fire: () => void): void {
    const existing = due[slot];
    if (existing) timers.clearTimeout(existing.handle);
    if (stopped) {
      due[slot] = undefined;
      return;
    }
    const handle = timers.setTimeout(
      () => {
        due[slot] = undefined;
        fire();
      },
      Math.max(0, at - now()),
    );
    due[slot] = { at, handle };
  }

  function schedulePoll(at: number): void {
    schedule('poll', at, () => {
      // A poll that falls due during another job is not queued: the next one is planned when it ends.
      if (current) return;
      if (deps.isPaused?.()) return schedulePoll(now() + intervalMs); // console hook: paused
      void startJob('incremental', 'schedule');
    });
  }

  function scheduleJourney(): void {
    if (journeyAt === null) return;
    schedule('journey', nextLocalTime(now(), journeyAt, options.clinicTimezone), () => {
      scheduleJourney();
      enqueue('journey-daily');
    });
  }

  function scheduleReconcile(): void {
    if (!options.reconcile) return;
    schedule('reconcile', nextLocalTime(now(), reconcileAt, options.clinicTimezone), () => {
      scheduleReconcile();
      enqueue('reconcile');
    });
  }

  function enqueue(kind: JobKind): void {
    if (deps.isPaused?.()) return; // console hook: a paused service skips its timed jobs
    if (current) {
      if (!queued.includes(kind)) queued.push(kind);
      return;
    }
    void startJob(kind, 'schedule');
  }

  async function execute(kind: JobKind): Promise<RunSummary | undefined> {
    switch (kind) {
      case 'incremental':
      case 'backfill':
        return deps.runner.runCycle(kind);
      case 'journey-daily':
        return deps.runner.runJourneyDaily();
      case 'reconcile':
        await options.reconcile?.();
        return undefined;
    }
  }

  function notify(outcome: JobOutcome): void {
    try {
      options.onJobFinished?.(outcome);
    } catch (err) {
      log.warn({ err }, 'job listener failed');
    }
  }

  /**
   * Runs one job if no other runs here and (with leases) no other instance holds the lease. Returns
   * undefined when it did not start. Synchronously marks the job current, so a second caller in the same
   * tick sees it.
   */
  function startJob(
    kind: JobKind,
    trigger: JobOutcome['trigger'],
  ): Promise<{ outcome: Promise<JobOutcome> } | undefined> {
    if (current || stopped) return Promise.resolve(undefined);
    let leaseRenewal: unknown;
    let resolveOutcome!: (o: JobOutcome) => void;
    const outcome = new Promise<JobOutcome>((resolve) => (resolveOutcome = resolve));
    const startedAt = now();
    current = { kind, startedAt, promise: outcome };

    const finish = (result: Omit<JobOutcome, 'kind' | 'trigger' | 'startedAt' | 'finishedAt'>): void => {
      const done: JobOutcome = { kind, trigger, startedAt, finishedAt: now(), ...result };
      notify(done);
      current = undefined;
      resolveOutcome(done);
      afterJob(kind, startedAt, false);
    };

    const acquire = async (): Promise<boolean> => {
      if (!options.useLease) return true;
      return deps.store.acquireLease(SCHEDULER_LEASE, owner, leaseTtlMs, now());
    };

    return acquire().then(
      async (held) => {
        if (held && stopped) {
          // stop() came while the lease was being taken: give it back and do nothing.
          if (options.useLease) {
            await deps.store.releaseLease(SCHEDULER_LEASE, owner).catch(() => undefined);
          }
          current = undefined;
          resolveOutcome({ kind, trigger, startedAt, finishedAt: now(), error: 'stopped' });
          return undefined;
        }
        if (!held) {
          log.debug({ kind }, 'another instance holds the scheduler lease; skipping');
          current = undefined;
          const skipped: JobOutcome = {
            kind,
            trigger,
            startedAt,
            finishedAt: now(),
            error: 'leased-elsewhere',
          };
          notify(skipped);
          resolveOutcome(skipped);
          afterJob(kind, startedAt, true);
          return undefined;
        }
        if (options.useLease) {
          const renew = (): void => {
            leaseRenewal = timers.setTimeout(() => {
              deps.store
                .acquireLease(SCHEDULER_LEASE, owner, leaseTtlMs, now())
                .then((still) => {
                  if (!still) log.warn({ kind }, 'lost the scheduler lease during a job');
                })
                .catch((err: unknown) => log.warn({ err }, 'could not renew the scheduler lease'));
              renew();
            }, leaseTtlMs / 3);
          };
          renew();
        }
        log.info({ kind, trigger }, 'job started');
        execute(kind)
          .then(
            (summary) => ({ ...(summary ? { summary } : {}) }),
            (err: unknown) => {
              log.error({ err, kind }, 'job failed');
              return { error: err instanceof Error ? err.message : String(err) };
            },
          )
          .then(async (result) => {
            if (leaseRenewal !== undefined) timers.clearTimeout(leaseRenewal);
            if (options.useLease) {
              await deps.store
                .releaseLease(SCHEDULER_LEASE, owner)
                .catch((err: unknown) => log.warn({ err }, 'could not release the scheduler lease'));
            }
            finish(result);
          })
          .catch((err: unknown) => log.error({ err }, 'scheduler bookkeeping failed'));
        return { outcome };
      },
      (err: unknown) => {
        log.warn({ err, kind }, 'could not take the scheduler lease; skipping');
        current = undefined;
        const failed: JobOutcome = {
          kind,
          trigger,
          startedAt,
          finishedAt: now(),
          error: 'lease unavailable',
        };
        notify(failed);
        resolveOutcome(failed);
        afterJob(kind, startedAt, true);
        return undefined;
      },
    );
  }

  /**
   * After any job: run what was queued, then plan the next poll. A cycle (or a skipped attempt) plans
   * it one interval after it began; any other job leaves a planned poll alone, or polls at once if the
   * poll fell due (and was dropped) while it ran.
   */
  function afterJob(kind: JobKind, startedAt: number, skipped: boolean): void {
    if (stopped) return;
    // A manual run before start() (a one-off caller) plans nothing.
    if (!started) return;
    if (skipped || kind === 'incremental' || kind === 'backfill') {
      schedulePoll(Math.max(now(), startedAt + intervalMs));
    } else if (!due.poll) {
      schedulePoll(now());
    }
    const next = queued.shift();
    if (next) void startJob(next, 'schedule');
  }

  /** Finds the id of the run a manual job just started (the runner names its runs). */
  async function discoverRunId(
    mode: CycleMode,
    before: ReadonlySet<string>,
    outcome: Promise<JobOutcome>,
  ): Promise<string | null> {
    let settled: JobOutcome | undefined;
    void outcome.then((o) => (settled = o));
    for (let attempt = 0; attempt < 500; attempt += 1) {
      if (settled) return settled.summary?.runId ?? null;
      const runs: RunRecord[] = await deps.store.listRuns({ limit: 10 });
      const found = runs.find((r) => r.status === 'running' && r.mode === mode && !before.has(r.id));
      if (found) return found.id;
      await yieldTick();
    }
    return null;
  }

  return {
    owner,
    /** Starts the timers. The first poll runs at once unless `runAtStart` is false. */
    start(): void {
      if (started) return;
      started = true;
      schedulePoll(options.runAtStart === false ? now() + intervalMs : now());
      scheduleJourney();
      scheduleReconcile();
    },

    /**
     * A manual run (POST /sync/run). Refused while a job runs here or another instance holds the lease;
     * otherwise resolves once the run is recorded, with its id.
     */
    async trigger(mode: CycleMode = 'incremental'): Promise<TriggerResult> {
      if (stopped) return { accepted: false, reason: 'stopped' };
      if (current) return { accepted: false, reason: 'running' };
      const before = new Set(
        (await deps.store.listRuns({ limit: 10 })).filter((r) => r.status === 'running').map((r) => r.id),
      );
      // The await above yielded; another job may have begun meanwhile.
      if (current) return { accepted: false, reason: 'running' };
      const startedJob = await startJob(mode, 'manual');
      if (!startedJob) return { accepted: false, reason: current ? 'running' : 'leased-elsewhere' };
      const runId = await discoverRunId(mode, before, startedJob.outcome);
      return { accepted: true, runId, done: startedJob.outcome };
    },

    /** The job in progress, if any. */
    running(): JobKind | undefined {
      return current?.kind;
    },

    /**
     * When the next poll is planned; while a job runs, one interval after it began (when it will be
     * planned at the earliest). Null before start and after stop.
     */
    nextRun(): number | null {
      if (stopped || !started) return null;
      return due.poll?.at ?? (current ? current.startedAt + intervalMs : null);
    },

    nextJourneyPass(): number | null {
      return due.journey?.at ?? null;
    },

    nextReconcile(): number | null {
      return due.reconcile?.at ?? null;
    },

    /** Stops planning new jobs and waits for the one in progress. */
    async stop(): Promise<void> {
      stopped = true;
      for (const slot of Object.keys(due) as Array<keyof typeof due>) {
        const entry = due[slot];
        if (entry) timers.clearTimeout(entry.handle);
        due[slot] = undefined;
      }
      queued.length = 0;
      if (current) await current.promise;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
