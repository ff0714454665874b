import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { RunRecord, Store } from '../store/index.js';
import type { CycleMode, RunSummary } from '../sync/cycle/runner.js';
import { nextLocalTime, parseLocalTime } from './local-time.js';
import type { PollPace } from './poll-pace.js';
import { LEASE_MS } from '../sync/common/run-record.js';

/**
 * The scheduler of the long-running service: an incremental cycle every poll interval, the reminder
 * job (upcoming-appointment events from stored facts) on its own cadence, a daily journey pass and a
 * nightly reconciliation at local times in the clinic's zone, and manual runs from the admin API. Exactly one job runs at a time in a process; on PostgreSQL a store lease also keeps two instances
 * from polling at once. Clock and timers are injected so tests drive it without waiting.
 */
export interface SchedulerRunner {
  runCycle(mode: CycleMode): Promise<RunSummary>;
  runJourneyDaily(): Promise<RunSummary>;
  /** The reminder job (sync/cycle/reminders.ts); without it, none is scheduled. */
  runReminders?(): Promise<RunSummary>;
}

export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type JobKind = 'incremental' | 'backfill' | 'journey-daily' | 'reconcile' | 'reminders';

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
  /** While true, timed jobs are skipped (manual runs still start): the operator's pause (control.ts). */
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
  /**
   * Seconds between reminder jobs (runner.runReminders), counted from each job's planned time; null
   * disables them. Default 60: an upcoming event goes out within a minute of its moment (plus the
   * length of a cycle that is running then, since jobs run one at a time).
   */
  readonly remindersIntervalSeconds?: number | null;
  /** Take the `scheduler:poll` store lease before each job (PostgreSQL, several instances). */
  readonly useLease: boolean;
  /** This process's lease owner name. Default: a random id. */
  readonly owner?: string;
  /** Run the first cycle at start (default) or only after one interval. */
  readonly runAtStart?: boolean;
  /**
   * The adaptive poll (poll-pace.ts): the interval after each incremental cycle follows its cost and
   * activity. Without it, every interval is `pollIntervalSeconds`.
   */
  readonly pace?: PollPace;
  /** Called after every job, and after every attempt skipped for the lease (metrics). */
  readonly onJobFinished?: (outcome: JobOutcome) => void;
}

export type TriggerResult =
  | { readonly accepted: true; readonly runId: string | null; readonly done: Promise<JobOutcome> }
  | { readonly accepted: false; readonly reason: 'running' | 'leased-elsewhere' | 'stopped' };

export const SCHEDULER_LEASE = 'scheduler:poll';

const realTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

type Slot = 'poll' | 'journey' | 'reconcile' | 'reminders';
type JobResult = Omit<JobOutcome, 'kind' | 'trigger' | 'startedAt' | 'finishedAt'>;

/** Everything the scheduler knows: settings resolved once, and the mutable state of its timers and job. */
interface SchedulerState {
  readonly deps: SchedulerDeps;
  readonly options: SchedulerOptions;
  readonly log: Logger;
  readonly now: () => number;
  readonly timers: SchedulerTimers;
  readonly yieldTick: () => Promise<void>;
  readonly owner: string;
  /** The poll interval; adapted after each incremental cycle when a pace is given. */
  intervalMs: number;
  readonly journeyAt: string | null;
  readonly reconcileAt: string;
  /** Null when no reminder job is scheduled. */
  readonly remindersMs: number | null;
  /** The lease must outlive a renewal period comfortably; it is renewed while a job runs. */
  readonly leaseTtlMs: number;
  started: boolean;
  stopped: boolean;
  current: { kind: JobKind; startedAt: number; promise: Promise<JobOutcome> } | undefined;
  /** Timed jobs that fell due while another job ran; they run next, in order. */
  readonly queued: JobKind[];
  readonly due: Record<Slot, { at: number; handle: unknown } | undefined>;
}

/** One job from the moment it is marked current until its outcome is resolved. */
interface Job {
  readonly s: SchedulerState;
  readonly kind: JobKind;
  readonly trigger: JobOutcome['trigger'];
  readonly startedAt: number;
  readonly resolve: (outcome: JobOutcome) => void;
  leaseRenewal: unknown;
}

export function createScheduler(deps: SchedulerDeps, options: SchedulerOptions) {
  const intervalMs = options.pace?.intervalMs() ?? options.pollIntervalSeconds * 1000;
  const journeyAt = options.journeyDailyAt === undefined ? '06:00' : options.journeyDailyAt;
  const reconcileAt = options.reconcileAt ?? '02:30';
  if (journeyAt !== null) parseLocalTime(journeyAt);
  if (options.reconcile) parseLocalTime(reconcileAt);
  const s: SchedulerState = {
    deps,
    options,
    log: deps.logger.child({ module: 'scheduler' }),
    now: deps.now ?? Date.now,
    timers: deps.timers ?? realTimers,
    yieldTick: deps.yieldTick ?? (() => new Promise<void>((resolve) => setImmediate(resolve))),
    owner: options.owner ?? `scheduler-${randomUUID()}`,
    intervalMs,
    journeyAt,
    reconcileAt,
    remindersMs: remindersInterval(deps, options),
    // Short (LEASE_MS): renewed every third of it while a job runs, so a dead instance's lapses fast.
    leaseTtlMs: LEASE_MS,
    started: false,
    stopped: false,
    current: undefined,
    queued: [],
    due: { poll: undefined, journey: undefined, reconcile: undefined, reminders: undefined },
  };
  return {
    owner: s.owner,
    /** Starts the timers. The first poll runs at once unless `runAtStart` is false. */
    start: (): void => start(s),
    /**
     * A manual run (POST /sync/run). Refused while a job runs here or another instance holds the lease;
     * otherwise resolves once the run is recorded, with its id.
     */
    trigger: (mode: CycleMode = 'incremental'): Promise<TriggerResult> => trigger(s, mode),
    /** The job in progress, if any. */
    running: (): JobKind | undefined => s.current?.kind,
    /**
     * When the next poll is planned; while a job runs, one interval after it began (when it will be
     * planned at the earliest). Null before start and after stop.
     */
    nextRun(): number | null {
      if (s.stopped || !s.started) return null;
      return s.due.poll?.at ?? (s.current ? s.current.startedAt + s.intervalMs : null);
    },
    nextJourneyPass: (): number | null => s.due.journey?.at ?? null,
    nextReconcile: (): number | null => s.due.reconcile?.at ?? null,
    nextReminders: (): number | null => s.due.reminders?.at ?? null,
    /** Stops planning new jobs and waits for the one in progress. */
    stop: (): Promise<void> => stop(s),
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;

function start(s: SchedulerState): void {
  if (s.started) return;
  s.started = true;
  // Without a poll at start, the first one is the longest wait away (`SYNC_POLL_INTERVAL_SECONDS`), as
  // before the adaptive pace: the pace adapts after cycles, it does not bring the first one forward.
  schedulePoll(s, s.options.runAtStart === false ? s.now() + s.options.pollIntervalSeconds * 1000 : s.now());
  scheduleJourney(s);
  scheduleReconcile(s);
  if (s.remindersMs !== null) scheduleReminders(s, s.now() + s.remindersMs);
}

function remindersInterval(deps: SchedulerDeps, options: SchedulerOptions): number | null {
  const seconds = options.remindersIntervalSeconds === undefined ? 60 : options.remindersIntervalSeconds;
  if (seconds === null || !deps.runner.runReminders) return null;
  if (!(seconds > 0)) throw new RangeError('remindersIntervalSeconds must be positive');
  return seconds * 1000;
}

async function stop(s: SchedulerState): Promise<void> {
  s.stopped = true;
  for (const slot of Object.keys(s.due) as Slot[]) {
    const entry = s.due[slot];
    if (entry) s.timers.clearTimeout(entry.handle);
    s.due[slot] = undefined;
  }
  s.queued.length = 0;
  if (s.current) await s.current.promise;
}

async function trigger(s: SchedulerState, mode: CycleMode): Promise<TriggerResult> {
  if (s.stopped) return { accepted: false, reason: 'stopped' };
  if (s.current) return { accepted: false, reason: 'running' };
  const before = new Set(
    (await s.deps.store.listRuns({ limit: 10 })).filter((r) => r.status === 'running').map((r) => r.id),
  );
  // The await above yielded; another job may have begun meanwhile.
  if (s.current) return { accepted: false, reason: 'running' };
  const startedJob = await startJob(s, mode, 'manual');
  if (!startedJob) return { accepted: false, reason: s.current ? 'running' : 'leased-elsewhere' };
  const runId = await discoverRunId(s, mode, before, startedJob.outcome);
  return { accepted: true, runId, done: startedJob.outcome };
}

function schedule(s: SchedulerState, slot: Slot, at: number, fire: () => void): void {
  const existing = s.due[slot];
  if (existing) s.timers.clearTimeout(existing.handle);
  if (s.stopped) {
    s.due[slot] = undefined;
    return;
  }
  const handle = s.timers.setTimeout(
    () => {
      s.due[slot] = undefined;
      fire();
    },
    Math.max(0, at - s.now()),
  );
  s.due[slot] = { at, handle };
}

function schedulePoll(s: SchedulerState, at: number): void {
  schedule(s, 'poll', at, () => {
    // A poll that falls due during another job is not queued: the next one is planned when it ends.
    if (s.current) return;
    if (s.deps.isPaused?.()) return schedulePoll(s, s.now() + s.intervalMs);
    void startJob(s, 'incremental', 'schedule');
  });
}

function scheduleJourney(s: SchedulerState): void {
  const at = s.journeyAt;
  if (at === null) return;
  schedule(s, 'journey', nextLocalTime(s.now(), at, s.options.clinicTimezone), () => {
    scheduleJourney(s);
    enqueue(s, 'journey-daily');
  });
}

function scheduleReconcile(s: SchedulerState): void {
  if (!s.options.reconcile) return;
  schedule(s, 'reconcile', nextLocalTime(s.now(), s.reconcileAt, s.options.clinicTimezone), () => {
    scheduleReconcile(s);
    enqueue(s, 'reconcile');
  });
}

/**
 * The reminder job, every interval from its planned time. One that falls due while another job runs
 * is queued (once) and runs after it; a paused service skips it.
 */
function scheduleReminders(s: SchedulerState, at: number): void {
  const every = s.remindersMs;
  if (every === null) return;
  schedule(s, 'reminders', at, () => {
    scheduleReminders(s, Math.max(s.now(), at + every));
    enqueue(s, 'reminders');
  });
}

function enqueue(s: SchedulerState, kind: JobKind): void {
  // A paused service skips its timed jobs.
  if (s.deps.isPaused?.()) return;
  if (s.current) {
    if (!s.queued.includes(kind)) s.queued.push(kind);
    return;
  }
  void startJob(s, kind, 'schedule');
}

async function execute(s: SchedulerState, kind: JobKind): Promise<RunSummary | undefined> {
  switch (kind) {
    case 'incremental':
    case 'backfill':
      return s.deps.runner.runCycle(kind);
    case 'journey-daily':
      return s.deps.runner.runJourneyDaily();
    case 'reminders':
      return s.deps.runner.runReminders?.();
    case 'reconcile':
      await s.options.reconcile?.();
      return undefined;
  }
}

function notify(s: SchedulerState, outcome: JobOutcome): void {
  try {
    s.options.onJobFinished?.(outcome);
  } catch (err) {
    s.log.warn({ err }, 'job listener failed');
  }
}

/**
 * Runs one job if no other runs here and (with leases) no other instance holds the lease. Returns
 * undefined when it did not start. Synchronously marks the job current, so a second caller in the same
 * tick sees it.
 */
function startJob(
  s: SchedulerState,
  kind: JobKind,
  trigger: JobOutcome['trigger'],
): Promise<{ outcome: Promise<JobOutcome> } | undefined> {
  if (s.current || s.stopped) return Promise.resolve(undefined);
  let resolveOutcome!: (o: JobOutcome) => void;
  const outcome = new Promise<JobOutcome>((resolve) => (resolveOutcome = resolve));
  const job: Job = { s, kind, trigger, startedAt: s.now(), resolve: resolveOutcome, leaseRenewal: undefined };
  s.current = { kind, startedAt: job.startedAt, promise: outcome };
  const acquire = async (): Promise<boolean> =>
    !s.options.useLease || s.deps.store.acquireLease(SCHEDULER_LEASE, s.owner, s.leaseTtlMs, s.now());
  return acquire().then(
    async (held) => ((await leaseDecided(job, held)) ? { outcome } : undefined),
    (err: unknown) => {
      s.log.warn({ err, kind }, 'could not take the scheduler lease; skipping');
      endUnstarted(job, 'lease unavailable');
      return undefined;
    },
  );
}

/** Whether the job runs, now that the lease (if any) was asked for; starts it when it does. */
async function leaseDecided(job: Job, held: boolean): Promise<boolean> {
  const { s, kind, trigger, startedAt } = job;
  if (held && s.stopped) {
    // stop() came while the lease was being taken: give it back and do nothing.
    if (s.options.useLease) {
      await s.deps.store.releaseLease(SCHEDULER_LEASE, s.owner).catch(() => undefined);
    }
    s.current = undefined;
    job.resolve({ kind, trigger, startedAt, finishedAt: s.now(), error: 'stopped' });
    return false;
  }
  if (!held) {
    s.log.debug({ kind }, 'another instance holds the scheduler lease; skipping');
    endUnstarted(job, 'leased-elsewhere');
    return false;
  }
  if (s.options.useLease) renewLease(job);
  s.log.info({ kind, trigger }, 'job started');
  runJob(job);
  return true;
}

/** A job that never ran (lease held elsewhere or unavailable): reported, and the next poll planned. */
function endUnstarted(job: Job, error: string): void {
  const { s, kind, trigger, startedAt } = job;
  s.current = undefined;
  const outcome: JobOutcome = { kind, trigger, startedAt, finishedAt: s.now(), error };
  notify(s, outcome);
  job.resolve(outcome);
  afterJob(s, kind, startedAt, true);
}

function renewLease(job: Job): void {
  const { s, kind } = job;
  job.leaseRenewal = s.timers.setTimeout(() => {
    s.deps.store
      .acquireLease(SCHEDULER_LEASE, s.owner, s.leaseTtlMs, s.now())
      .then((still) => {
        if (!still) s.log.warn({ kind }, 'lost the scheduler lease during a job');
      })
      .catch((err: unknown) => s.log.warn({ err }, 'could not renew the scheduler lease'));
    renewLease(job);
  }, s.leaseTtlMs / 3);
}

/** Runs the job in the background; its end releases the lease, reports and plans what comes next. */
function runJob(job: Job): void {
  const { s, kind } = job;
  execute(s, kind)
    .then(
      (summary): JobResult => ({ ...(summary ? { summary } : {}) }),
      (err: unknown): JobResult => {
        s.log.error({ err, kind }, 'job failed');
        return { error: err instanceof Error ? err.message : String(err) };
      },
    )
    .then(async (result) => {
      if (job.leaseRenewal !== undefined) s.timers.clearTimeout(job.leaseRenewal);
      if (s.options.useLease) {
        await s.deps.store
          .releaseLease(SCHEDULER_LEASE, s.owner)
          .catch((err: unknown) => s.log.warn({ err }, 'could not release the scheduler lease'));
      }
      endJob(job, result);
    })
    .catch((err: unknown) => s.log.error({ err }, 'scheduler bookkeeping failed'));
}

function endJob(job: Job, result: JobResult): void {
  const { s, kind, trigger, startedAt } = job;
  const done: JobOutcome = { kind, trigger, startedAt, finishedAt: s.now(), ...result };
  notify(s, done);
  s.current = undefined;
  if (kind === 'incremental' && result.summary && s.options.pace)
    s.intervalMs = s.options.pace.afterCycle(result.summary);
  job.resolve(done);
  afterJob(s, kind, startedAt, false);
}

/**
 * After any job: run what was queued, then plan the next poll. A cycle (or a skipped attempt) plans
 * it one interval after it began; any other job leaves a planned poll alone, or polls at once if the
 * poll fell due (and was dropped) while it ran.
 */
function afterJob(s: SchedulerState, kind: JobKind, startedAt: number, skipped: boolean): void {
  if (s.stopped) return;
  // A manual run before start() (a one-off caller) plans nothing.
  if (!s.started) return;
  if (skipped || kind === 'incremental' || kind === 'backfill') {
    schedulePoll(s, Math.max(s.now(), startedAt + s.intervalMs));
  } else if (!s.due.poll) {
    schedulePoll(s, s.now());
  }
  const next = s.queued.shift();
  if (next) void startJob(s, next, 'schedule');
}

/** Finds the id of the run a manual job just started (the runner names its runs). */
async function discoverRunId(
  s: SchedulerState,
  mode: CycleMode,
  before: ReadonlySet<string>,
  outcome: Promise<JobOutcome>,
): Promise<string | null> {
  let settled: JobOutcome | undefined;
  void outcome.then((o) => (settled = o));
  for (let attempt = 0; attempt < 500; attempt += 1) {
    if (settled) return settled.summary?.runId ?? null;
    const runs: RunRecord[] = await s.deps.store.listRuns({ limit: 10 });
    const found = runs.find((r) => r.status === 'running' && r.mode === mode && !before.has(r.id));
    if (found) return found.id;
    await s.yieldTick();
  }
  return null;
}
