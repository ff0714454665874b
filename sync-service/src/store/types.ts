/**
 * The store: everything the sync keeps between runs. One interface, two adapters (node:sqlite for one
 * instance, PostgreSQL when several instances share work), one conformance suite
 * (test/integration/store-conformance.test.ts) run against both.
 *
 * Contracts:
 * - Times are epoch milliseconds (numbers). Watermark cursors are Cliniko's own ISO strings.
 * - Payloads (outbox, dead letters, quarantine) pass through the PayloadCipher on the way in and out,
 *   so nothing PHI-bearing is written in clear.
 * - `commitBatch` is the unit of durability: outbox items, quarantine items, journey state and the
 *   stream's watermark are written in ONE transaction, so a watermark never moves past work that is
 *   not durable.
 * - The outbox holds at most one pending item per (object, externalId): a newer payload replaces an
 *   older one. A worker completes an item only if the payload it wrote is still the current one, so a
 *   change that arrived while a write was in flight is written next, never lost.
 */

import type { ContactHold, ContactHoldInput, HoldBlock, HoldResolution } from './contact-holds.js';
export type {
  ContactHold,
  ContactHoldInput,
  ContactHoldKind,
  HoldBlock,
  HoldResolution,
} from './contact-holds.js';

/** Builds the audit rows a transaction appends, given the chain's head read inside it. */
export type AuditBuilder = (previous: AuditHead | null) => AuditRow[];

export interface PayloadCipher {
  encrypt(plaintext: string): Uint8Array;
  decrypt(ciphertext: Uint8Array): string;
}

export type WriteOperation = 'upsert' | 'publish' | 'patch-cliniko';

export interface OutboxInput {
  /** Target object, e.g. `Contact` or `Patient_Journey_Event__e`, or `cliniko:patients` for write-back. */
  readonly object: string;
  /** The external id value the write is keyed on. */
  readonly externalId: string;
  readonly operation: WriteOperation;
  /** JSON payload (encrypted at rest). */
  readonly payload: string;
  /** sha256 of the payload, for change detection and for the audit log. */
  readonly payloadHash: string;
  readonly runId: string;
  /** Writes with a lower priority number go first (parents before children is not required, but helps). */
  readonly priority?: number;
  /**
   * `Object:externalId` of an unwritten parent (a quarantined or dead-lettered patient's Contact): the
   * item waits, unclaimed, until that parent is written (issue #15).
   */
  readonly blockedBy?: string | null;
}

export interface OutboxItem extends OutboxInput {
  readonly id: string;
  readonly attempts: number;
  /** Attempts spent on this record before the current payload (replaced payloads, a replayed dead letter). */
  readonly priorAttempts: number;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly lastErrorCode: string | null;
  /** Set while a platform event's publish is under way; still set at a claim = interrupted by a crash. */
  readonly publishStartedAt: number | null;
}

export interface QuarantineInput {
  readonly resource: string;
  readonly recordId: string;
  readonly field: string;
  readonly reason: string;
  /** The raw record (encrypted at rest) so an operator can inspect and replay it. */
  readonly payload: string;
  readonly runId: string;
}
/** A stored quarantine row with its payload (decrypted): for tools that inspect or replay a record. */
export interface QuarantineRecord extends QuarantineInput {
  readonly id: string;
  readonly createdAt: number;
}

/**
 * One quarantined record as operators see it (admin API `GET /quarantine`): what, where and why,
 * never a value. `id` is the record's id in its system (the Cliniko id for Cliniko resources).
 */
export interface QuarantineItem {
  readonly resource: string;
  readonly id: string;
  readonly field: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly firstSeen: string;
  /** ISO 8601: the last read that found the record still invalid. */
  readonly lastSeen: string;
}

export interface DeadLetter {
  readonly id: string;
  readonly object: string;
  readonly externalId: string;
  readonly operation: WriteOperation;
  readonly payload: string;
  readonly payloadHash: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly upstreamCode: string | null;
  /** Attempts of the last failure's payload. */
  readonly attempts: number;
  /** Every attempt on this record since it first failed, across re-queues and replays (the history). */
  readonly totalAttempts: number;
  /** How many times the record was dead-lettered while this letter was open. */
  readonly occurrences: number;
  readonly firstFailedAt: number;
  readonly runId: string;
  /** The last failure. */
  readonly createdAt: number;
  readonly replayedAt: number | null;
  /** What the replay did: `requeued`, or `dropped: <reason>` (a newer write exists). */
  readonly replayOutcome: string | null;
}

/** Outbox items waiting for an unwritten parent. */
export interface BlockedItem {
  readonly object: string;
  readonly externalId: string;
  /** `Object:externalId` of the parent, e.g. `Contact:123`. */
  readonly blockedBy: string;
}

export interface RecordState {
  readonly object: string;
  readonly externalId: string;
  readonly salesforceId: string | null;
  readonly payloadHash: string;
  readonly updatedAt: number;
}

export interface Watermark {
  readonly stream: string;
  /**
   * The Cliniko `updated_at` (ISO) up to which everything visible when it was read is durable: the
   * next incremental read starts here. Also the stream's lag (GET /status, metrics).
   */
  readonly cursor: string;
  /**
   * The Cliniko `updated_at` (ISO) up to which everything is durable, records committed late included
   * (cliniko/README.md, "Watermarks"); never after `cursor`. Null for streams without one (the
   * write-back) and for rows written before migration 8.
   */
  readonly settled: string | null;
  readonly updatedAt: number;
}

/** A journey pass's chunk (`readJourneyChunk`): its patients in id order, their facts and states. */
export interface JourneyChunk {
  readonly patientIds: string[];
  readonly facts: FactInput[];
  /** The journey states of these patients that exist, in no particular order. */
  readonly states: JourneyStateRow[];
}

export interface JourneyStateRow {
  readonly patientId: string;
  /** JSON of the journey engine's state (no PHI: stages, dates, fired occurrences). */
  readonly state: string;
  readonly updatedAt: number;
}

/** Non-clinical facts about one Cliniko record, for the journey engine (JSON, encrypted at rest). */
export interface FactInput {
  readonly resource: string;
  readonly id: string;
  readonly patientId: string;
  readonly data: string;
}

export interface BatchCommit {
  readonly stream: string;
  /** New watermark (its cursor); omit to leave it unchanged. */
  readonly watermark?: string;
  /** The watermark's new settled point, set with `watermark` only; omit to leave it unchanged. */
  readonly settled?: string;
  readonly outbox?: readonly OutboxInput[];
  readonly quarantine?: readonly QuarantineInput[];
  readonly journeyStates?: readonly { patientId: string; state: string }[];
  /** Patients whose journey must be derived again (queued once; see `listJourneyDue`). */
  readonly journeyDue?: readonly string[];
  /** Patients whose journey this batch commits: they leave the queue. */
  readonly journeyDone?: readonly string[];
  readonly facts?: readonly FactInput[];
  /**
   * Appointment event keys announced by the outbox items of this batch (issue #19): recorded in the
   * same transaction, so an event is queued exactly when its key becomes announced.
   */
  readonly announced?: readonly string[];
  /** Named instants to set if not set yet (a set signpost never moves). */
  readonly signposts?: readonly { name: string; at: number }[];
  /**
   * The reminder index (issue #19): for each appointment listed, the moments (epoch ms) at which it may
   * owe an upcoming event, replacing those indexed for it before (an empty list forgets it). Written
   * with the appointment's facts, so the index never disagrees with them after a commit.
   */
  readonly reminders?: readonly { appointmentId: string; dueAt: readonly number[] }[];
  /**
   * The start of a rebuild of the reminder index: every indexed moment, and the fingerprint, are
   * forgotten before `reminders` are written.
   */
  readonly remindersCleared?: boolean;
  /**
   * The end of a rebuild of the reminder index: this fingerprint (of the offsets the moments were
   * computed with) is recorded. Until then the index counts as never built, so a rebuild cut short
   * starts again.
   */
  readonly remindersRebuilt?: string;
  readonly now: number;
}

export interface CompletedWrite {
  readonly outboxId: string;
  readonly object: string;
  readonly externalId: string;
  /** The hash of the payload the worker wrote; the item is removed only if it is still current. */
  readonly payloadHash: string;
  readonly salesforceId: string | null;
}

export interface AuditRow {
  readonly hash: string;
  readonly prevHash: string | null;
  readonly object: string;
  readonly externalId: string;
  readonly createdAt: number;
  /** JSON of the audit entry (never field values). */
  readonly entry: string;
}
/** The newest audit row, handed to the builder of the next rows so they chain onto it. */
export interface AuditHead {
  readonly hash: string;
  /** JSON of that entry (it carries the entry's own sequence number). */
  readonly entry: string;
}

export interface StoredAuditRow extends AuditRow {
  readonly seq: number;
}

export type RunMode =
  'incremental' | 'backfill' | 'reconcile' | 'replay' | 'dry-run' | 'journey-daily' | 'reminders';
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed';
export interface RunRecord {
  readonly id: string;
  readonly mode: RunMode;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  /** JSON counts by object and outcome. */
  readonly counts: string;
  readonly dataMapHash: string;
  readonly error: string | null;
}

export interface OutboxStats {
  readonly pending: number;
  /** Items that failed at least once and wait for a retry. */
  readonly retrying: number;
  /** Items waiting for an unwritten parent (not counted in `pending`: no drain waits for them). */
  readonly blocked: number;
  readonly deadLettered: number;
  readonly quarantined: number;
  /** Creation time of the oldest pending item (lag), or null. */
  readonly oldestPendingAt: number | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;

  getWatermark(stream: string): Promise<Watermark | undefined>;
  listWatermarks(): Promise<Watermark[]>;
  /** Outbox, quarantine, journey state and watermark, atomically. */
  commitBatch(batch: BatchCommit): Promise<void>;

  getRecordStates(object: string, externalIds: readonly string[]): Promise<Map<string, RecordState>>;
  /**
   * The payload hash of the item waiting in the outbox for each of these records (by external id), if
   * any: change detection must not skip a payload equal to the last one written while a different one
   * is still queued (it would be written after, and leave Salesforce with the older value).
   */
  pendingPayloadHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>>;
  listRecordStates(object: string): Promise<RecordState[]>;
  /** Forget a record's last written hash so the next cycle writes it again (drift repair). */
  forgetRecordStates(object: string, externalIds: readonly string[]): Promise<void>;

  /**
   * Leases up to `limit` due items to `owner` for `leaseMs`. Two owners never hold the same item:
   * PostgreSQL uses FOR UPDATE SKIP LOCKED; SQLite serialises writers.
   */
  claimOutbox(options: {
    owner: string;
    limit: number;
    leaseMs: number;
    now: number;
    objects?: readonly string[];
    /** Only these keys (slots included); the worker claims the other slots of records it claimed. */
    externalIds?: readonly string[];
  }): Promise<OutboxItem[]>;
  /**
   * Successful writes: remove the items (if unchanged), record state and append audit rows, atomically.
   * A batch that another owner already completed (every item gone, every record's state holding that
   * payload: a lease holder frozen mid-write, taken over, then resumed) changes nothing and is not
   * audited twice.
   */
  completeWrites(
    writes: readonly CompletedWrite[],
    audit: (previous: AuditHead | null) => AuditRow[],
    now: number,
  ): Promise<void>;
  /** A retryable failure: release the lease and schedule the next attempt. */
  retryLater(
    outboxId: string,
    update: { attempts: number; nextAttemptAt: number; errorCode: string; payloadHash?: string },
  ): Promise<void>;
  /**
   * A permanent failure (or retries exhausted): move the item to the dead-letter queue.
   * With `payloadHash` (the payload that failed), both this and `retryLater` only act if that payload is
   * still the current one; if a newer payload replaced it in flight, the item is just released so the
   * newer payload is written next with its own attempts (the failure belonged to the old payload).
   * Returns whether the item was dead-lettered.
   */
  deadLetter(
    outboxId: string,
    error: {
      code: string;
      message: string;
      upstreamCode: string | null;
      attempts: number;
      payloadHash?: string;
    },
    now: number,
  ): Promise<boolean>;

  /**
   * The payload hash of the open dead letter of each of these records (by external id): change
   * detection writes the current payload again rather than skip it while an older failed one is open.
   */
  openDeadLetterHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Parks an item until `parentKey` (`Contact:123`) is written, if `payloadHash` is still its payload.
   * `completeWrites` releases every item blocked by a record it writes.
   */
  blockOutbox(outboxId: string, parentKey: string, payloadHash: string): Promise<void>;
  /** Records, durably and before the call, that these items' platform events are being published. */
  markPublishing(outboxIds: readonly string[], now: number): Promise<void>;
  /**
   * Of these patients, those Salesforce has no Contact for that are quarantined or dead-lettered, and
   * those whose Contact is held (`contact_holds`: in match review, or deleted in Salesforce).
   */
  unwrittenFailedPatients(patientIds: readonly string[]): Promise<Set<string>>;

  /**
   * Opens a hold on a patient's Contact (issue #19) and, with `block`, parks that outbox item blocked by
   * `ContactHold:<patientId>` (if `payloadHash` is still its payload), in one transaction. `audit` is
   * appended only when the hold is new (not already open with the same kind). Returns whether it was new.
   */
  holdContact(
    hold: ContactHoldInput,
    block: HoldBlock | null,
    audit: AuditBuilder,
    now: number,
  ): Promise<boolean>;
  /** Holds, oldest first: of these patients, only open ones, up to `limit` (default 1000). */
  listContactHolds(options?: {
    patientIds?: readonly string[];
    open?: boolean;
    limit?: number;
  }): Promise<ContactHold[]>;
  /**
   * Closes a patient's open hold with `resolution` (`link:<id>`, `create`, `restore`), releases the items
   * it blocked and appends the audit rows, atomically; with `forget`, also forgets the record states of
   * those Contact keys (a restore writes the Contact again). Returns the hold as it was, or undefined
   * when none was open.
   */
  resolveContactHold(
    patientId: string,
    resolution: HoldResolution,
    audit: AuditBuilder,
    now: number,
  ): Promise<ContactHold | undefined>;
  listBlocked(options?: { limit?: number }): Promise<BlockedItem[]>;

  listDeadLetters(options?: { limit?: number; includeReplayed?: boolean }): Promise<DeadLetter[]>;
  getDeadLetter(id: string): Promise<DeadLetter | undefined>;
  /**
   * Replays an open dead letter without ever writing older data over newer (issue #15): when the record
   * was written after the letter's last failure, or a newer payload is queued for it, the letter is
   * closed as `dropped: <reason>`; otherwise its payload (the newest the service derived for that
   * record: a later failure replaces it) goes back in the outbox with its attempts as history, and the
   * letter is closed as `requeued`. Returns false if it does not exist or is not open; the outcome is
   * the letter's `replayOutcome`.
   */
  replayDeadLetter(id: string, now: number, runId: string): Promise<boolean>;

  /** Quarantined rows with their payloads, oldest first (default limit 1000). */
  listQuarantinePayloads(options?: { limit?: number }): Promise<QuarantineRecord[]>;
  /** The operator's listing: newest last-seen first, limit 1..1000 (default 100), and the total. No values. */
  listQuarantine(options?: { limit?: number }): Promise<{ items: QuarantineItem[]; total: number }>;
  /**
   * Forgets the quarantine rows of these records (they have read and projected cleanly since): a
   * quarantined record is retried by the next read that sees it changed. Returns the rows deleted.
   */
  releaseQuarantine(resource: string, recordIds: readonly string[]): Promise<number>;

  /** Every fact of these patients, all resources. */
  listFacts(patientIds: readonly string[]): Promise<FactInput[]>;
  /**
   * Patients with at least one fact (for the daily journey pass), in id order, after `after`, at most
   * `limit`: keyset pages, so the pass never holds every patient at once.
   */
  listFactPatientIds(after: string | null, limit: number): Promise<string[]>;
  /** Patients queued by `journeyDue`, in id order, after `after`, at most `limit` (keyset pages). */
  listJourneyDue(after: string | null, limit: number): Promise<string[]>;
  /**
   * A journey pass's next chunk in one call: the patients `listJourneyDue` ('queued') or
   * `listFactPatientIds` ('all') lists after `after`, every fact of theirs and their journey states
   * (issue #16: asked for as separate calls, the facts waited until the service's thread had read the
   * list, and it read it only once it had evaluated the chunk before; the store's thread sat idle meanwhile).
   */
  readJourneyChunk(source: 'queued' | 'all', after: string | null, limit: number): Promise<JourneyChunk>;
  /** The facts of these records of one resource (by record id), whichever patient they belong to. */
  getFacts(resource: string, ids: readonly string[]): Promise<FactInput[]>;
  /**
   * The facts of one resource in record id order, after `after`, at most `limit`: keyset pages (the
   * reminder index is rebuilt from every appointment's facts a page at a time, never all at once).
   */
  listResourceFacts(resource: string, after: string | null, limit: number): Promise<FactInput[]>;

  /** Of these appointment event keys, those already announced (committed with `announced`). */
  announcedEvents(keys: readonly string[]): Promise<Set<string>>;
  /** A signpost's instant (epoch ms), if it was set. */
  getSignpost(name: string): Promise<number | undefined>;
  /**
   * The appointments with an indexed reminder moment at or before `nowMs`, earliest moment first, at
   * most `limit` (the reminder index, `reminders_due`; ids only, nothing decrypted).
   */
  dueReminders(nowMs: number, limit: number): Promise<string[]>;
  /** The fingerprint the reminder index was last rebuilt with; undefined before the first rebuild. */
  remindersFingerprint(): Promise<string | undefined>;

  /**
   * Reference lists as last saved under `name` (JSON, decrypted) and when they were read from Cliniko
   * (issue #16: a restarted service serves fresh ones instead of reading them again).
   */
  getReferenceLists(name: string): Promise<{ loadedAt: number; lists: string } | undefined>;
  /** Saves reference lists read at `loadedAt` (encrypted); lists read earlier than the saved ones never replace them. */
  saveReferenceLists(name: string, loadedAt: number, lists: string): Promise<void>;

  getJourneyState(patientId: string): Promise<JourneyStateRow | undefined>;
  /** The journey states of these patients that exist, in no particular order (one statement). */
  getJourneyStates(patientIds: readonly string[]): Promise<JourneyStateRow[]>;
  listJourneyStates(): Promise<JourneyStateRow[]>;

  startRun(run: { id: string; mode: RunMode; startedAt: number; dataMapHash: string }): Promise<void>;
  finishRun(run: {
    id: string;
    status: RunStatus;
    finishedAt: number;
    counts: string;
    error: string | null;
  }): Promise<void>;
  listRuns(options?: { limit?: number }): Promise<RunRecord[]>;

  lastAuditRow(): Promise<StoredAuditRow | undefined>;
  listAudit(options?: { externalId?: string; afterSeq?: number; limit?: number }): Promise<StoredAuditRow[]>;
  /** Delete audit rows created before `before`, appending the row `record(prevHash)` builds, atomically. */
  pruneAudit(
    before: number,
    record: (previous: AuditHead | null, pruned: number) => AuditRow,
  ): Promise<number>;

  /** A named lease (e.g. polling a stream); true if `owner` now holds it until now + ttlMs. */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
  /**
   * Heartbeat of a live process: extends every outbox item `owner` has claimed until `outboxUntil` and
   * every named lease it holds until `namedUntil` (the outbox and the named leases may run on different
   * clocks: the worker's and the wall clock). Returns how many of each it extended.
   */
  renewLeases(
    owner: string,
    until: { outboxUntil: number; namedUntil: number },
  ): Promise<{ outbox: number; named: number }>;
  /**
   * Returns the ids of these claimed items that `owner` still holds (an item another owner took over
   * after this one's lease lapsed, a frozen process, must not be written by both), each held until
   * `keepIfPast` at least: a lease that ends sooner is extended to `until`; one that runs past it is
   * left as it is (issue #16: rewriting every row of a claim, payload and all, to move its lease was
   * a tenth of the store's work in a drain, for leases the heartbeat had just renewed).
   * `keepIfPast` defaults to `until` (every lease moved to `until`, unless it runs past it already).
   */
  holdOutboxItems(
    owner: string,
    ids: readonly string[],
    until: number,
    keepIfPast?: number,
  ): Promise<Set<string>>;
  /**
   * Releases leases at once. `{ owner }`: exactly that owner's (a process closing). `{ ownerPrefix }`:
   * every owner starting with it, '' for all (a restarted instance reclaiming its dead predecessor's,
   * or any process on SQLite, where no other process can hold them). `{ owner, ids }`: only these
   * outbox items, if that owner still holds them (a claim trimmed to its limit; no named lease).
   * Returns how many of each.
   */
  releaseLeases(
    which: { owner: string; ids?: readonly string[] } | { ownerPrefix: string },
  ): Promise<{ outbox: number; named: number }>;

  outboxStats(now: number): Promise<OutboxStats>;
}
