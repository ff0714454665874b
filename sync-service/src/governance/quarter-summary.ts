import type { AuditEntry, AuditOperation } from './audit.js';

/**
 * What moved this quarter, for the quarterly governance review (issue #17, item 5): records created and
 * updated per Salesforce object and per source (the poll cycle, the nightly reconciliation, a dead-letter
 * replay, the daily journey pass), write-backs to Cliniko, sign-offs, dead letters and quarantines. Pure:
 * the nightly reconciliation reads the audit log, dead letters and quarantine from the store and passes
 * them in with the time; the result becomes the quarter's `Quarter_Summary__c` (upserted on
 * `Quarter__c`). Counts only: no id, name or value of any record.
 *
 * Quarters are calendar quarters in **UTC** (2026-Q2 = 1 April 00:00 UTC to 1 July 00:00 UTC), the same
 * clock the audit log's timestamps use; a clinic east of UTC sees its first hours of a quarter counted in
 * the one before.
 */

export const QUARTER_OBJECT = 'Quarter_Summary__c';
export const QUARTER_KEY_FIELD = 'Quarter__c';

export interface Quarter {
  /** `2026-Q2`. */
  readonly quarter: string;
  /** Inclusive start, epoch ms (UTC). */
  readonly startMs: number;
  /** Exclusive end, epoch ms (UTC). */
  readonly endMs: number;
}

/** The UTC calendar quarter holding `at`. */
export function quarterOf(at: Date): Quarter {
  const year = at.getUTCFullYear();
  const q = Math.floor(at.getUTCMonth() / 3);
  return {
    quarter: `${year}-Q${q + 1}`,
    startMs: Date.UTC(year, q * 3, 1),
    endMs: Date.UTC(year, q * 3 + 3, 1),
  };
}

/**
 * Where a write came from, read from its run id (sync/common/run-record.ts `newRunId` and the writers
 * that name their runs): `run-` a poll cycle (incremental or backfill), `reconcile-` the nightly
 * reconciliation, `replay-` a dead letter replayed by an operator, `journey-` the daily journey pass,
 * `writeback-` the reverse poller. Anything else is `other`, counted rather than dropped.
 */
export type WriteSource = 'sync' | 'reconciliation' | 'replay' | 'journey' | 'write-back' | 'other';

const SOURCE_PREFIXES: ReadonlyArray<readonly [string, WriteSource]> = [
  ['run-', 'sync'],
  ['reconcile-', 'reconciliation'],
  ['replay-', 'replay'],
  ['journey-', 'journey'],
  ['writeback-', 'write-back'],
];

export function sourceOfRun(runId: string): WriteSource {
  return SOURCE_PREFIXES.find(([prefix]) => runId.startsWith(prefix))?.[1] ?? 'other';
}

/** The sign-off operations: the data map, the journey config, the approver registry. */
const SIGN_OFFS: ReadonlySet<AuditOperation> = new Set(['data-map-sign', 'journey-sign', 'approvers-change']);

export interface ObjectCounts {
  readonly object: string;
  readonly source: WriteSource;
  readonly created: number;
  readonly updated: number;
}

export interface QuarterSummary extends Quarter {
  /** Per object and source, sorted by object then source; only pairs with a create or an update. */
  readonly counts: readonly ObjectCounts[];
  readonly writeBacks: number;
  readonly signOffs: number;
  readonly deadLetters: number;
  readonly quarantines: number;
  /** False when the store listed fewer quarantine rows than it holds: `quarantines` is then a floor. */
  readonly quarantinesComplete: boolean;
  readonly auditEntries: number;
}

export interface QuarterInputs {
  /** The audit log (any order; entries outside the quarter are ignored). */
  readonly entries: readonly Pick<
    AuditEntry,
    'timestamp' | 'operation' | 'object' | 'runId' | 'externalId'
  >[];
  /** Dead letters, replayed ones included: counted by when the record first failed. */
  readonly deadLetters: readonly { readonly firstFailedAt: number }[];
  /** Quarantine rows still held (a released record leaves the table): counted by when first seen. */
  readonly quarantines: readonly { readonly firstSeen: string }[];
  readonly quarantinesComplete: boolean;
}

export function summariseQuarter(inputs: QuarterInputs, quarter: Quarter): QuarterSummary {
  const tally = createQuarterTally(quarter);
  for (const e of inputs.entries) tally.push(e);
  return tally.finish(inputs);
}

type TalliedEntry = QuarterInputs['entries'][number];

/**
 * The same count one audit entry at a time (issue #16: the nightly pass walks the log, never holding
 * it). One Salesforce write of a record can carry several outbox slots (`123`, `123#journey`), each with
 * its own audit entry at the same instant: it is one record created or updated, counted once. Such
 * entries share their timestamp, so only the writes seen at the current timestamp are remembered.
 */
export function createQuarterTally(quarter: Quarter) {
  const inQuarter = (ms: number) => ms >= quarter.startMs && ms < quarter.endMs;
  const byKey = new Map<string, { object: string; source: WriteSource; created: number; updated: number }>();
  let writeBacks = 0;
  let signOffs = 0;
  let auditEntries = 0;
  let instant: string | undefined;
  const writes = new Set<string>();
  function push(e: TalliedEntry): void {
    if (!inQuarter(Date.parse(e.timestamp))) return;
    auditEntries += 1;
    if (e.operation === 'write-back') writeBacks += 1;
    if (SIGN_OFFS.has(e.operation)) signOffs += 1;
    if (e.operation !== 'create' && e.operation !== 'update') return;
    if (e.timestamp !== instant) {
      instant = e.timestamp;
      writes.clear();
    }
    const write = [e.runId, e.object, e.externalId.split('#')[0], e.operation].join('\u0000');
    if (writes.has(write)) return;
    writes.add(write);
    const source = sourceOfRun(e.runId);
    const key = `${e.object}\u0000${source}`;
    const row = byKey.get(key) ?? { object: e.object, source, created: 0, updated: 0 };
    if (e.operation === 'create') row.created += 1;
    else row.updated += 1;
    byKey.set(key, row);
  }
  function finish(rest: Omit<QuarterInputs, 'entries'>): QuarterSummary {
    const counts = [...byKey.values()].sort(
      (a, b) => a.object.localeCompare(b.object, 'en') || a.source.localeCompare(b.source, 'en'),
    );
    return {
      ...quarter,
      counts,
      writeBacks,
      signOffs,
      deadLetters: rest.deadLetters.filter((d) => inQuarter(d.firstFailedAt)).length,
      quarantines: rest.quarantines.filter((q) => inQuarter(Date.parse(q.firstSeen))).length,
      quarantinesComplete: rest.quarantinesComplete,
      auditEntries,
    };
  }
  return { push, finish };
}

/** The Quarter_Summary__c fields of a summary (upserted on Quarter__c). */
export function quarterSummaryRecord(summary: QuarterSummary, computedAt: Date): Record<string, unknown> {
  return {
    [QUARTER_KEY_FIELD]: summary.quarter,
    Computed_At__c: computedAt.toISOString(),
    Counts__c: JSON.stringify(summary.counts),
    Write_Backs__c: summary.writeBacks,
    Sign_Offs__c: summary.signOffs,
    Dead_Letters__c: summary.deadLetters,
    Quarantines__c: summary.quarantines,
    Audit_Entries__c: summary.auditEntries,
  };
}
