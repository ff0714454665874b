import { canonicalJson } from './canonical.js';

/**
 * The `Sync_Run__c` record each run upserts (by `Run_Id__c`) at its start and end: counts by object and
 * outcome, and the hash of the data map it ran under (docs/data-model.md, "Governance objects").
 * Counts only; no record ids, no values.
 */

export const RUN_MODES = {
  incremental: 'Incremental',
  backfill: 'Backfill',
  reconcile: 'Reconcile',
  replay: 'Replay',
} as const;
export type RunMode = keyof typeof RUN_MODES;

/** What happened to one record: written (create/update), skipped (unchanged), quarantined, dead-lettered. */
export const RUN_OUTCOMES = ['read', 'written', 'skipped', 'quarantined', 'deadLettered'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export type ObjectCounts = Record<RunOutcome, number>;

/** Tally of outcomes by object (a Salesforce object, or a Cliniko resource for `read`/`quarantined`). */
export class RunCounter {
  private readonly counts = new Map<string, ObjectCounts>();

  add(object: string, outcome: RunOutcome, n = 1): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('a count is a whole number, at least 0');
    const entry = this.counts.get(object) ?? {
      read: 0,
      written: 0,
      skipped: 0,
      quarantined: 0,
      deadLettered: 0,
    };
    entry[outcome] += n;
    this.counts.set(object, entry);
  }

  byObject(): Record<string, ObjectCounts> {
    const out: Record<string, ObjectCounts> = {};
    for (const [object, counts] of [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      out[object] = { ...counts };
    }
    return out;
  }
}

export interface SyncRunInput {
  readonly runId: string;
  readonly mode: RunMode;
  readonly startedAt: string;
  /** Absent while the run is going. */
  readonly finishedAt?: string;
  /** The run stopped on an error (auth, the sign-off gate, an outage), whatever the counts say. */
  readonly failed?: boolean;
  readonly counts: Readonly<Record<string, Readonly<ObjectCounts>>>;
  readonly dataMapSha256: string;
}

/** Long Text Area(32768) on the object. */
const COUNTS_MAX = 32_768;

export function buildSyncRunPayload(input: SyncRunInput): Record<string, string | number | null> {
  if (input.runId.length === 0 || input.runId.length > 40)
    throw new RangeError('Run_Id__c is 1 to 40 characters');
  const total = (outcome: RunOutcome): number =>
    Object.values(input.counts).reduce((sum, c) => sum + c[outcome], 0);
  const troubled = total('quarantined') + total('deadLettered') > 0;
  const status =
    input.finishedAt === undefined
      ? 'Running'
      : input.failed === true
        ? 'Failed'
        : troubled
          ? 'Partial'
          : 'Succeeded';
  let countsJson = canonicalJson(input.counts);
  if (countsJson.length > COUNTS_MAX) {
    // Never happens with the handful of synced objects; keep the record writable if it ever does.
    countsJson = canonicalJson({ truncated: true, objects: Object.keys(input.counts).length });
  }
  return {
    Run_Id__c: input.runId,
    Mode__c: RUN_MODES[input.mode],
    Status__c: status,
    Started_At__c: new Date(input.startedAt).toISOString(),
    Finished_At__c: input.finishedAt === undefined ? null : new Date(input.finishedAt).toISOString(),
    Records_Read__c: total('read'),
    Records_Written__c: total('written'),
    Records_Skipped__c: total('skipped'),
    Records_Quarantined__c: total('quarantined'),
    Records_Dead_Lettered__c: total('deadLettered'),
    Counts_By_Object__c: countsJson,
    Data_Map_Hash__c: input.dataMapSha256,
  };
}
