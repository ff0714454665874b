import type { ClinikoClient } from '../../cliniko/index.js';
import type { DataMap } from '../../governance/data-map.js';
import type { RunCounter } from '../../governance/sync-run.js';
import type { JourneyConfig } from '../../journey/index.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/index.js';
import type { DrainResult, OutboxWorker } from '../outbox/worker.js';
import type { createPayloadRules } from '../payloads.js';
import type { ReferenceCache, References } from './references.js';

/**
 * What one sync cycle depends on (the adapters at its edges are injected: a Cliniko stream source, a
 * store, an outbox worker that writes to Salesforce) and the types the cycle's steps share.
 */
export interface SyncRunnerDeps {
  readonly store: Store;
  readonly cliniko: ClinikoClient;
  readonly worker: OutboxWorker;
  readonly dataMap: DataMap;
  readonly dataMapHash: string;
  readonly journeyConfig: JourneyConfig;
  readonly clinicTimezone: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly overlapSeconds?: number;
  /** How long reference lists are cached between cycles (default 10 minutes; references.ts). */
  readonly referenceMaxAgeMs?: number;
  /** Salesforce API calls made so far (for the run summary). */
  readonly salesforceCalls?: () => number;
  /** Called after every page read, for progress displays (counts only). */
  readonly onProgress?: (progress: {
    stream: string;
    pages: number;
    records: number;
    totalEntries?: number;
  }) => void;
}

export type CycleMode = 'incremental' | 'backfill';

export interface RunSummary {
  readonly runId: string;
  readonly mode: CycleMode | 'journey-daily' | 'reminders';
  /** `skipped`: another instance sharing the PostgreSQL store was running a cycle. */
  readonly status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly counts: Record<
    string,
    { read: number; written: number; skipped: number; quarantined: number; deadLettered: number }
  >;
  readonly drain: DrainResult | null;
  readonly clinikoRequests: number;
  readonly salesforceCalls: number;
  /** Wall-clock duration (the run's timestamps follow the injected clock, which tests may freeze). */
  readonly durationMs: number;
  readonly error: string | null;
}

/** The runner's dependencies plus what it derives from them once. */
export interface CycleContext {
  readonly deps: SyncRunnerDeps;
  readonly log: Logger;
  readonly rules: ReturnType<typeof createPayloadRules>;
  readonly overlapSeconds: number;
  /** Reference lists cached across cycles (re-read when stale or when a record links an unknown id). */
  readonly references: ReferenceCache;
  /**
   * Whether this process has looked at the reminder index's fingerprint before a cycle
   * (reminders.ts `markEmptyIndexCurrent`): once is enough, the answer cannot turn.
   */
  readonly reminderIndex: { checked: boolean };
}

/** Merged patients known to this run: the cache of survivors looked up, and merges read this run. */
export interface Merges {
  readonly survivors: Map<string, string | null>;
  readonly discovered: Map<string, string>;
}

/** One run's shared state, handed from step to step. */
export interface CycleRun {
  readonly runId: string;
  readonly counter: RunCounter;
  /** Replaced when a record links a reference record the cached lists lack. */
  refs: References;
  /** The cycle lease on PostgreSQL (renewed with every page read); undefined on SQLite. */
  readonly lease: string | undefined;
  readonly merges: Merges;
}

/**
 * Several instances may share one PostgreSQL store. One cycle runs at a time across them, under this
 * lease (renewed with every page read), so no stream is polled twice at once and no change is enqueued
 * twice; the outbox is drained by whichever instance holds it, and its items are leased one by one
 * besides. A crashed holder's lease expires after LEASE_MS. SQLite serves one instance and needs none.
 */
export { CYCLE_LEASE, LEASE_MS } from '../common/run-record.js';

/** Streams whose records become Salesforce records, in the order they are read. */
export const DATA_STREAMS = [
  { key: 'patients', resource: 'patients' },
  { key: 'patientCases', resource: 'patient_cases' },
  { key: 'individualAppointments', resource: 'individual_appointments' },
  { key: 'invoices', resource: 'invoices' },
] as const;

export type DataStream = (typeof DATA_STREAMS)[number];
