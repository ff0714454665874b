import type { ClinikoClient } from '../../cliniko/index.js';
import type { DataMap } from '../../governance/data-map.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/index.js';

export const REVERSE_STREAM = 'salesforce:Contact';
/** The forward runner's watermark stream for patients (its stream name is the Cliniko resource). */
export const FORWARD_PATIENT_STREAM = 'patients';
export const DEFAULT_OVERLAP_SECONDS = 5;
/** Cliniko consent fields whose Contact targets may carry an opt-out back (see consentOptOutPatch). */
export const CONSENT_SOURCES: ReadonlySet<string> = new Set([
  'accepted_email_marketing',
  'accepted_sms_marketing',
]);
export const INACTIVE_FIELDS = ['archived_at', 'deleted_at', 'merged_at'] as const;
/**
 * Failures that belong to one record and that no retry cures. Anything else (an outage, a rejected API
 * key, a bug) holds the watermark so the record is retried once the cause is gone.
 */
export const RECORD_FAILURES: ReadonlySet<string> = new Set([
  'CLINIKO_NOT_FOUND',
  'CLINIKO_INVALID_RECORD',
  'CLINIKO_BAD_REQUEST',
  'CLINIKO_VALIDATION_FAILED',
]);

export interface QueryPage {
  readonly records: readonly Record<string, unknown>[];
  readonly done: boolean;
  readonly nextRecordsUrl?: string | undefined;
}

/** The slice of a jsforce Connection the poller uses (a fake in unit tests). */
export interface SoqlConnection {
  query(soql: string): PromiseLike<QueryPage>;
  queryMore(locator: string): PromiseLike<QueryPage>;
}

export interface ReverseDeps {
  readonly store: Store;
  readonly cliniko: Pick<ClinikoClient, 'getPatient' | 'patchPatient'>;
  readonly connection: SoqlConnection;
  readonly dataMap: DataMap;
  /** Changes made by this user are the sync's own and are never read back. */
  readonly integrationUserId: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Each poll re-reads this many seconds before the watermark (Salesforce commits are not ordered). */
  readonly overlapSeconds?: number;
}

export interface ReverseResult {
  readonly runId: string;
  /** Contacts the query returned (after de-duplication). */
  readonly read: number;
  /** Patients PATCHed in Cliniko. */
  readonly writtenBack: number;
  /** Contacts whose `both` fields already match Cliniko (echoes, non-`both` edits, opt-ins). */
  readonly unchanged: number;
  /** Patients changed in Cliniko after the Salesforce edit: Cliniko wins, nothing written. */
  readonly clinikoNewer: number;
  /**
   * Patients changed in Cliniko that the forward sync has not read yet: the Contact may still hold
   * older values, so the record waits (the watermark stays before it) until a forward cycle has run.
   */
  readonly deferred: number;
  /** Archived, merged or deleted patients: never written. */
  readonly inactive: number;
  /** Records or fields quarantined (Cliniko 422, a value no inverse transform can write). */
  readonly quarantined: number;
  /** Records that failed for a passing reason (network, Cliniko 5xx); retried next poll. */
  readonly failed: number;
  /** Opt-outs carried back, by channel. */
  readonly consentOptOuts: { readonly email: number; readonly sms: number };
  /** The watermark after the poll (a Salesforce LastModifiedDate, ISO), if any. */
  readonly watermark: string | null;
}

export type Outcome =
  | { kind: 'written'; optOuts: readonly ('email' | 'sms')[] }
  | { kind: 'unchanged' | 'cliniko-newer' | 'inactive' }
  | { kind: 'quarantined' }
  | { kind: 'failed' | 'deferred' };

export interface ReversePoller {
  poll(): Promise<ReverseResult>;
}

export type Contact = Record<string, unknown>;

/** What every step of the poller shares, built once by createReversePoller. */
export interface PollerContext {
  readonly deps: ReverseDeps;
  readonly log: Logger;
  /** Contact fields read: `both` (written back) and consent (opt-outs only). */
  readonly fields: { readonly both: readonly string[]; readonly consent: readonly string[] };
  /** The Contact columns every query selects. */
  readonly selectList: readonly string[];
  /** Contacts handled by this process at their LastModifiedDate: the overlap re-reads them. */
  readonly seen: Map<string, number>;
  readonly overlapMs: number;
}

export function timeOf(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}
