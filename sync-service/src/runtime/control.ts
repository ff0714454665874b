import { appendEntry } from '../sync/common/audit-log.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/index.js';

/**
 * Pause and resume of automatic sync (scheduled polls, the daily journey pass and the nightly
 * reconciliation); manual runs stay possible. The audit log is the record and the source of truth:
 * every pause and resume is an audit entry (`sync-pause` / `sync-resume` on object `scheduler`), and
 * the state is the latest of them, so it survives restarts and every instance sharing a PostgreSQL
 * store converges on it (each re-reads it every `refreshMs`).
 *
 * The scheduler consults `isPaused()` synchronously, so the state is cached here and refreshed in
 * the background.
 */
export const CONTROL_OBJECT = 'scheduler';
export const CONTROL_KEY = 'automatic-sync';

export interface PauseState {
  readonly paused: boolean;
  /** ISO time of the last pause or resume, null if never. */
  readonly since: string | null;
  /** Who paused or resumed (e.g. `console:operator:1a2b3c4d5e6f`). */
  readonly by: string | null;
}

export interface SyncControlDeps {
  readonly store: Pick<Store, 'listAudit' | 'completeWrites'>;
  readonly logger: Logger;
  readonly now: () => number;
  /** How often the cached state is re-read from the audit log. Default 30 s; 0 disables. */
  readonly refreshMs?: number;
}

interface ControlEntry {
  readonly operation: string;
  readonly timestamp: string;
  readonly actor: string;
}

export function createSyncControl(deps: SyncControlDeps) {
  const log = deps.logger.child({ module: 'control' });
  let state: PauseState = { paused: false, since: null, by: null };
  let timer: NodeJS.Timeout | undefined;

  async function load(): Promise<PauseState> {
    let last: ControlEntry | undefined;
    let afterSeq = 0;
    for (;;) {
      const rows = await deps.store.listAudit({ externalId: CONTROL_KEY, afterSeq, limit: 1000 });
      for (const row of rows) {
        if (row.object !== CONTROL_OBJECT) continue;
        const entry = JSON.parse(row.entry) as ControlEntry;
        if (entry.operation === 'sync-pause' || entry.operation === 'sync-resume') last = entry;
      }
      const tail = rows[rows.length - 1];
      if (rows.length < 1000 || tail === undefined) break;
      afterSeq = tail.seq;
    }
    state = last
      ? { paused: last.operation === 'sync-pause', since: last.timestamp, by: last.actor }
      : { paused: false, since: null, by: null };
    return state;
  }

  async function record(paused: boolean, actor: string): Promise<PauseState> {
    const timestamp = new Date(deps.now()).toISOString();
    const build = appendEntry(
      {
        timestamp,
        actor,
        sourceSystem: 'sync-service',
        object: CONTROL_OBJECT,
        externalId: CONTROL_KEY,
        operation: paused ? 'sync-pause' : 'sync-resume',
        changedFields: [],
        payload: { paused },
        runId: '-',
      },
      deps.now(),
    );
    await deps.store.completeWrites([], build, deps.now());
    state = { paused, since: timestamp, by: actor };
    log.info({ paused, actor }, paused ? 'automatic sync paused' : 'automatic sync resumed');
    return state;
  }

  return {
    /** Reads the state from the audit log and starts the background refresh. */
    async start(): Promise<PauseState> {
      await load();
      const every = deps.refreshMs ?? 30_000;
      if (every > 0 && timer === undefined) {
        timer = setInterval(() => {
          load().catch((err: unknown) => log.warn({ err }, 'could not refresh the pause state'));
        }, every);
        timer.unref();
      }
      return state;
    },
    stop(): void {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
    load,
    isPaused: (): boolean => state.paused,
    state: (): PauseState => state,
    /** Pauses automatic sync (idempotent: pausing twice records nothing new). */
    async pause(actor: string): Promise<PauseState> {
      await load();
      return state.paused ? state : record(true, actor);
    },
    async resume(actor: string): Promise<PauseState> {
      await load();
      return state.paused ? record(false, actor) : state;
    },
  };
}

export type SyncControl = ReturnType<typeof createSyncControl>;
