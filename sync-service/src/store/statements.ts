import type { SqlDialect } from './dialect.js';
import { insertSignpost, reminderStatements } from './appointment-statements.js';
import {
  insertAnnouncedEvents,
  queueJourneys,
  upsertFacts,
  upsertJourneyStates,
  upsertOutboxItems,
  upsertQuarantineItems,
} from './set-statements.js';
import type { BatchCommit, RunMode, RunStatus } from './types.js';

/**
 * The store's SQL, written once for both adapters (issue #14: they used to repeat it). Each function
 * returns a statement and its parameters; the dialect supplies the few spellings that differ
 * (dialect.ts). The adapters own only connections and transactions. Placeholders are `$n`.
 */

export interface Query {
  readonly sql: string;
  readonly params: readonly unknown[];
}

const q = (sql: string, params: readonly unknown[] = []): Query => ({ sql, params });

// The appointment events' statements (issue #19) and the set statements of the hot paths (issue #16)
// live beside this module; the adapters see one `S`.
export * from './appointment-statements.js';
export * from './set-statements.js';

const RECORD_STATE_COLUMNS = 'object, external_id, salesforce_id, payload_hash, updated_at';

// ---- migrations and health

export const selectMigrations = (): Query => q('SELECT version FROM schema_migrations');
export const insertMigration = (version: number, name: string, at: number): Query =>
  q('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [version, name, at]);
export const ping = (): Query => q('SELECT 1 AS one');

// ---- watermarks

export const selectWatermark = (stream: string): Query =>
  q('SELECT stream, cursor, settled, updated_at FROM watermarks WHERE stream = $1', [stream]);
export const selectWatermarks = (): Query =>
  q('SELECT stream, cursor, settled, updated_at FROM watermarks ORDER BY stream');
/** A `settled` of null leaves the stored one as it is (streams without a settled point keep NULL). */
export const upsertWatermark = (stream: string, cursor: string, settled: string | null, now: number): Query =>
  q(
    `INSERT INTO watermarks (stream, cursor, settled, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (stream) DO UPDATE SET cursor = EXCLUDED.cursor,
       settled = COALESCE(EXCLUDED.settled, watermarks.settled), updated_at = EXCLUDED.updated_at`,
    [stream, cursor, settled, now],
  );

// ---- the batch a poll commits

// One statement per table over the whole batch: set-statements.ts (issue #16); `batchStatements` below.

// ---- record state

export const selectRecordStates = (d: SqlDialect, object: string, externalIds: readonly string[]): Query =>
  q(`SELECT ${RECORD_STATE_COLUMNS} FROM record_state WHERE object = $1 AND ${d.inList('external_id', 2)}`, [
    object,
    d.listParam(externalIds),
  ]);
export const selectPendingHashes = (d: SqlDialect, object: string, externalIds: readonly string[]): Query =>
  q(`SELECT external_id, payload_hash FROM outbox WHERE object = $1 AND ${d.inList('external_id', 2)}`, [
    object,
    d.listParam(externalIds),
  ]);
export const selectObjectRecordStates = (object: string): Query =>
  q(`SELECT ${RECORD_STATE_COLUMNS} FROM record_state WHERE object = $1 ORDER BY external_id`, [object]);
export const deleteRecordStates = (d: SqlDialect, object: string, externalIds: readonly string[]): Query =>
  q(`DELETE FROM record_state WHERE object = $1 AND ${d.inList('external_id', 2)}`, [
    object,
    d.listParam(externalIds),
  ]);

// ---- the outbox

export interface ClaimOptions {
  readonly owner: string;
  readonly limit: number;
  readonly leaseMs: number;
  readonly now: number;
  readonly objects?: readonly string[];
  /** Only these keys (`external_id`, slots included): the other slots of records already claimed. */
  readonly externalIds?: readonly string[];
}

/**
 * Leases the first due items in (priority, id) order; rows come back unordered (the adapter sorts). On
 * SQLite the claim walks outbox_claim in order and stops at its limit instead of sorting every due item
 * (migration 10), and a claim of named keys (the other slots of claimed records) goes through the unique
 * key. `noIndex` keeps the due and blocked terms off any index of theirs: SQLite (no statistics) took
 * `blocked_by`'s for selective and read the whole outbox through it when it held every item (11.6 ms at
 * 50,000 items against 0.05 ms through the unique key; issue #16). Since migration 13 that index holds
 * only blocked items and could not serve `IS NULL`; the hint keeps the plan from depending on it
 * (query-plans.test.ts pins both plans).
 */
export const claimOutbox = (d: SqlDialect, o: ClaimOptions): Query => {
  const params: unknown[] = [o.owner, o.now + o.leaseMs, o.now, o.limit];
  let filter = '';
  if (o.objects?.length) {
    params.push(d.listParam(o.objects));
    filter += ` AND ${d.inList('object', params.length)}`;
  }
  if (o.externalIds !== undefined) {
    params.push(d.listParam(o.externalIds));
    filter += ` AND ${d.inList('external_id', params.length)}`;
  }
  return q(
    `UPDATE outbox SET lease_owner = $1, lease_expires_at = $2
     WHERE id IN (
       SELECT id FROM outbox
       WHERE ${d.noIndex('next_attempt_at')} <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
         AND ${d.noIndex('blocked_by')} IS NULL${filter}
       ORDER BY priority, id LIMIT $4
       ${d.skipLocked})
     RETURNING *`,
    params,
  );
};
/** Releases the item only when a newer payload replaced `payloadHash` (changes 1 row then). */
export const releaseReplacedOutbox = (id: string, payloadHash: string): Query =>
  q('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND payload_hash <> $2', [
    Number(id),
    payloadHash,
  ]);
export const retryOutbox = (
  id: string,
  u: { attempts: number; nextAttemptAt: number; errorCode: string },
): Query =>
  q(
    'UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error_code = $3, lease_owner = NULL, lease_expires_at = NULL, publish_started_at = NULL WHERE id = $4',
    [u.attempts, u.nextAttemptAt, u.errorCode, Number(id)],
  );
export const deleteOutbox = (id: string): Query => q('DELETE FROM outbox WHERE id = $1', [Number(id)]);

/**
 * A platform event publish is about to start (issue #15, item 3): committed before the call, cleared by
 * its outcome (completion deletes the item, a failure retries or dead-letters it). An item claimed with
 * the mark still set was interrupted by a crash after the call may have reached the bus: in doubt.
 */
export const markPublishing = (d: SqlDialect, ids: readonly string[], now: number): Query =>
  q(`UPDATE outbox SET publish_started_at = $1 WHERE ${d.inIds('id', 2)}`, [now, d.idsParam(ids)]);

// ---- dependants waiting for a parent (issue #15)

/**
 * Parks the item until its parent is written: no retries are spent on a write that cannot succeed. Its
 * attempts so far move to prior_attempts (history), so the released item starts a fresh schedule.
 * Only while `payloadHash` is still the current payload (a newer one is written on its own terms).
 */
export const blockOutbox = (id: string, parentKey: string, payloadHash: string): Query =>
  q(
    `UPDATE outbox SET blocked_by = $2, prior_attempts = prior_attempts + attempts, attempts = 0,
       last_error_code = 'BLOCKED', lease_owner = NULL, lease_expires_at = NULL, publish_started_at = NULL
     WHERE id = $1 AND payload_hash = $3`,
    [Number(id), parentKey, payloadHash],
  );
/** The parent `Object:externalId` was written: its dependants are due now. */
export const releaseBlockedOutbox = (parentKey: string, now: number): Query =>
  q(
    'UPDATE outbox SET blocked_by = NULL, next_attempt_at = $2, last_error_code = NULL WHERE blocked_by = $1',
    [parentKey, now],
  );
export const countBlockedOutbox = (): Query =>
  q('SELECT COUNT(*) AS n FROM outbox WHERE blocked_by IS NOT NULL');
/** Through the partial index of blocked items, then sorted (in id order SQLite would walk every item). */
export const selectBlockedOutbox = (d: SqlDialect, limit: number): Query =>
  q(
    `SELECT object, external_id, blocked_by FROM outbox WHERE blocked_by IS NOT NULL ORDER BY ${d.noIndex('id')} LIMIT $1`,
    [limit],
  );
/** Of these patients, the ones Salesforce has no Contact for (never written). */
export const selectWrittenContacts = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(`SELECT external_id FROM record_state WHERE object = 'Contact' AND ${d.inList('external_id', 1)}`, [
    d.listParam(patientIds),
  ]);
export const selectQuarantinedPatients = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(`SELECT DISTINCT record_id FROM quarantine WHERE resource = 'patients' AND ${d.inList('record_id', 1)}`, [
    d.listParam(patientIds),
  ]);
export const selectDeadLetteredContacts = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(
    `SELECT external_id FROM dead_letters WHERE object = 'Contact' AND replayed_at IS NULL AND ${d.inList('external_id', 1)}`,
    [d.listParam(patientIds)],
  );

// ---- dead letters and quarantine

export interface DeadLetterError {
  readonly code: string;
  readonly message: string;
  readonly upstreamCode: string | null;
  readonly attempts: number;
}
/**
 * Into the dead-letter queue, one open dead letter per record and slot (issue #15): a record that fails
 * again while its dead letter is open updates that row with the newest payload and error, adding its
 * attempts to `total_attempts` and counting the occurrence; `first_failed_at` keeps the first failure.
 * `total_attempts` starts from the outbox item's `prior_attempts` (earlier payloads, a replayed letter).
 */
export const moveToDeadLetters = (id: string, e: DeadLetterError, now: number): Query =>
  q(
    `INSERT INTO dead_letters (object, external_id, operation, payload, payload_hash, error_code, error_message, upstream_code, attempts, total_attempts, occurrences, first_failed_at, run_id, created_at)
     SELECT object, external_id, operation, payload, payload_hash, $2, $3, $4, $5, prior_attempts + $5, 1, $6, run_id, $6 FROM outbox WHERE id = $1
     ON CONFLICT (object, external_id) WHERE replayed_at IS NULL DO UPDATE SET
       operation = EXCLUDED.operation, payload = EXCLUDED.payload, payload_hash = EXCLUDED.payload_hash,
       error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message,
       upstream_code = EXCLUDED.upstream_code, attempts = EXCLUDED.attempts,
       total_attempts = COALESCE(dead_letters.total_attempts, dead_letters.attempts) + EXCLUDED.total_attempts,
       occurrences = dead_letters.occurrences + 1, run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at,
       superseded_at = NULL`,
    [Number(id), e.code, e.message, e.upstreamCode, e.attempts, now],
  );
/** The payload hash of each open dead letter of these records (change detection, cycle/changes.ts). */
export const selectOpenDeadLetterHashes = (
  d: SqlDialect,
  object: string,
  externalIds: readonly string[],
): Query =>
  q(
    `SELECT external_id, payload_hash FROM dead_letters WHERE object = $1 AND replayed_at IS NULL AND ${d.inList('external_id', 2)}`,
    [object, d.listParam(externalIds)],
  );
export const selectDeadLetters = (includeReplayed: boolean, limit: number): Query =>
  q(`SELECT * FROM dead_letters ${includeReplayed ? '' : 'WHERE replayed_at IS NULL'} ORDER BY id LIMIT $1`, [
    limit,
  ]);
export const selectDeadLetter = (id: string): Query =>
  q('SELECT * FROM dead_letters WHERE id = $1', [Number(id)]);
export const lockOpenDeadLetter = (d: SqlDialect, id: string): Query =>
  q(
    `SELECT id, object, external_id, payload_hash, created_at, superseded_at FROM dead_letters WHERE id = $1 AND replayed_at IS NULL ${d.forUpdate}`,
    [Number(id)],
  );
/** What a replay must not write over: the record's last write, and whatever is queued for it. */
export const selectRecordState = (object: string, externalId: string): Query =>
  q(`SELECT ${RECORD_STATE_COLUMNS} FROM record_state WHERE object = $1 AND external_id = $2`, [
    object,
    externalId,
  ]);
export const selectQueuedFor = (object: string, externalId: string): Query =>
  q('SELECT id, payload_hash FROM outbox WHERE object = $1 AND external_id = $2', [object, externalId]);
/**
 * Back into the outbox, with the dead letter's attempts as history (prior_attempts), unless something
 * is already waiting there for the record (the adapter checks first; DO NOTHING guards the race).
 */
export const requeueDeadLetter = (id: string, runId: string, now: number): Query =>
  q(
    `INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, prior_attempts, next_attempt_at, created_at)
     SELECT object, external_id, operation, payload, payload_hash, $2, 100, 0, COALESCE(total_attempts, attempts), $3, $3 FROM dead_letters WHERE id = $1
     ON CONFLICT (object, external_id) DO NOTHING`,
    [Number(id), runId, now],
  );
/** Closes the dead letter with what the replay did: `requeued`, or `dropped: <reason>`. */
export const markReplayed = (id: string, now: number, outcome = 'requeued'): Query =>
  q('UPDATE dead_letters SET replayed_at = $1, replay_outcome = $3 WHERE id = $2', [
    now,
    Number(id),
    outcome,
  ]);
export const selectQuarantine = (limit: number): Query =>
  q('SELECT * FROM quarantine ORDER BY id LIMIT $1', [limit]);
/**
 * The operator's listing (quarantine.ts): newest last sighting first, the id breaking ties. `created_at`
 * is rewritten at every sighting (the last seen); `first_seen_at` (migration 3) is kept from the first.
 */
export const selectQuarantineItems = (limit: number): Query =>
  q(
    `SELECT resource, record_id, field, reason, COALESCE(first_seen_at, created_at) AS first_seen, created_at AS last_seen
     FROM quarantine ORDER BY created_at DESC, id DESC LIMIT $1`,
    [limit],
  );
export const countQuarantine = (): Query => q('SELECT COUNT(*) AS n FROM quarantine');
export const deleteQuarantine = (d: SqlDialect, resource: string, recordIds: readonly string[]): Query =>
  q(`DELETE FROM quarantine WHERE resource = $1 AND ${d.inList('record_id', 2)}`, [
    resource,
    d.listParam(recordIds),
  ]);

// ---- facts and journey state

export const selectFacts = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(
    `SELECT resource, id, patient_id, data FROM facts WHERE ${d.inList('patient_id', 1)} ORDER BY resource, id`,
    [d.listParam(patientIds)],
  );
export const selectFactsById = (d: SqlDialect, resource: string, ids: readonly string[]): Query =>
  q(
    `SELECT resource, id, patient_id, data FROM facts WHERE resource = $1 AND ${d.inList('id', 2)} ORDER BY id`,
    [resource, d.listParam(ids)],
  );
export const selectResourceFacts = (resource: string, after: string | null, limit: number): Query =>
  q('SELECT resource, id, patient_id, data FROM facts WHERE resource = $1 AND id > $2 ORDER BY id LIMIT $3', [
    resource,
    after ?? '',
    limit,
  ]);
export const selectFactPatientIds = (after: string | null, limit: number): Query =>
  q('SELECT DISTINCT patient_id FROM facts WHERE patient_id > $1 ORDER BY patient_id LIMIT $2', [
    after ?? '',
    limit,
  ]);
export const selectJourneyDue = (after: string | null, limit: number): Query =>
  q('SELECT patient_id FROM journey_due WHERE patient_id > $1 ORDER BY patient_id LIMIT $2', [
    after ?? '',
    limit,
  ]);
const dequeueJourneys = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(`DELETE FROM journey_due WHERE ${d.inList('patient_id', 1)}`, [d.listParam(patientIds)]);
export const selectJourneyState = (patientId: string): Query =>
  q('SELECT patient_id, state, updated_at FROM journey_state WHERE patient_id = $1', [patientId]);
export const selectJourneyStatesOf = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(`SELECT patient_id, state, updated_at FROM journey_state WHERE ${d.inList('patient_id', 1)}`, [
    d.listParam(patientIds),
  ]);
export const selectJourneyStates = (): Query =>
  q('SELECT patient_id, state, updated_at FROM journey_state ORDER BY patient_id');

// ---- runs

export const insertRun = (run: {
  id: string;
  mode: RunMode;
  startedAt: number;
  dataMapHash: string;
}): Query =>
  q("INSERT INTO runs (id, mode, status, started_at, data_map_hash) VALUES ($1, $2, 'running', $3, $4)", [
    run.id,
    run.mode,
    run.startedAt,
    run.dataMapHash,
  ]);
export const finishRun = (run: {
  id: string;
  status: RunStatus;
  finishedAt: number;
  counts: string;
  error: string | null;
}): Query =>
  q('UPDATE runs SET status = $1, finished_at = $2, counts = $3, error = $4 WHERE id = $5', [
    run.status,
    run.finishedAt,
    run.counts,
    run.error,
    run.id,
  ]);
export const selectRuns = (limit: number): Query =>
  q('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT $1', [limit]);

// ---- the audit chain

export const selectAuditHead = (): Query => q('SELECT hash, entry FROM audit_log ORDER BY seq DESC LIMIT 1');
export const selectLastAudit = (): Query => q('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
export const selectAudit = (o: { externalId?: string; afterSeq?: number; limit?: number }): Query => {
  const params: unknown[] = [o.afterSeq ?? 0];
  let where = 'seq > $1';
  if (o.externalId !== undefined) {
    params.push(o.externalId);
    where += ` AND external_id = $${params.length}`;
  }
  params.push(o.limit ?? 10_000);
  return q(`SELECT * FROM audit_log WHERE ${where} ORDER BY seq LIMIT $${params.length}`, params);
};
export const deleteAuditBefore = (before: number): Query =>
  q('DELETE FROM audit_log WHERE created_at < $1', [before]);

// ---- leases

/** Takes or renews the lease; returns the row (with `owner`) only when `owner` holds it afterwards. */
export const acquireLease = (name: string, owner: string, ttlMs: number, now: number): Query =>
  q(
    `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
     WHERE leases.owner = EXCLUDED.owner OR leases.expires_at <= $4
     RETURNING owner`,
    [name, owner, now + ttlMs, now],
  );
export const releaseLease = (name: string, owner: string): Query =>
  q('DELETE FROM leases WHERE name = $1 AND owner = $2', [name, owner]);

// ---- reference lists (issue #16)

/** The lists as last read; a set read earlier than the stored one never replaces it. */
export const upsertReferenceLists = (name: string, loadedAt: number, lists: Uint8Array): Query =>
  q(
    `INSERT INTO reference_lists (name, loaded_at, lists) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET loaded_at = EXCLUDED.loaded_at, lists = EXCLUDED.lists
     WHERE reference_lists.loaded_at <= EXCLUDED.loaded_at`,
    [name, loadedAt, lists],
  );
export const selectReferenceLists = (name: string): Query =>
  q('SELECT loaded_at, lists FROM reference_lists WHERE name = $1', [name]);

// Leases by owner. An owner is `<instance>/<incarnation>` (runtime/wiring.ts, leaseOwner): a process
// renews everything it holds while it lives, releases it when it closes, and a restarted instance
// reclaims what its dead predecessor held by the instance prefix.

/** Extends the named leases `owner` holds. */
export const renewNamedLeases = (owner: string, until: number): Query =>
  q('UPDATE leases SET expires_at = $2 WHERE owner = $1', [owner, until]);
/** Extends the lease of every outbox item `owner` holds. */
export const renewOutboxLeases = (owner: string, until: number): Query =>
  q('UPDATE outbox SET lease_expires_at = $2 WHERE lease_owner = $1', [owner, until]);
/**
 * Holding claimed items before their write (Store.holdOutboxItems), in order: those `owner` holds with
 * a lease that runs to `keepIfPast` or later (read, not written: such a lease cannot be taken over
 * meanwhile), then the others it holds, their leases extended to `until`. No id is in both answers.
 * By id (`noIndex`): through the lease-owner index each would read every item the owner holds.
 */
export const holdOutboxItems = (
  d: SqlDialect,
  owner: string,
  ids: readonly string[],
  lease: { until: number; keepIfPast: number },
): Query[] => [
  q(
    `SELECT id FROM outbox WHERE ${d.noIndex('lease_owner')} = $1 AND ${d.inIds('id', 2)} AND lease_expires_at >= $3`,
    [owner, d.idsParam(ids), lease.keepIfPast],
  ),
  q(
    `UPDATE outbox SET lease_expires_at = $2
     WHERE ${d.noIndex('lease_owner')} = $1 AND ${d.inIds('id', 3)}
       AND (lease_expires_at IS NULL OR lease_expires_at < $4)
     RETURNING id`,
    [owner, lease.until, d.idsParam(ids), lease.keepIfPast],
  ),
];
/** Releases every outbox item and named lease whose owner starts with `prefix` ('' matches every owner). */
export const releaseOutboxByOwnerPrefix = (prefix: string): Query =>
  q('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE substr(lease_owner, 1, $2) = $1', [
    prefix,
    prefix.length,
  ]);
export const releaseLeasesByOwnerPrefix = (prefix: string): Query =>
  q('DELETE FROM leases WHERE substr(owner, 1, $2) = $1', [prefix, prefix.length]);
/** Every outbox item and named lease held by exactly `owner`. */
export const releaseOutboxOfOwner = (owner: string): Query =>
  q('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1', [owner]);
/** These items, if `owner` still holds them (by id, as holdOutboxItems). */
export const releaseOutboxItemsOfOwner = (d: SqlDialect, owner: string, ids: readonly string[]): Query =>
  q(
    `UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL
     WHERE ${d.noIndex('lease_owner')} = $1 AND ${d.inIds('id', 2)}`,
    [owner, d.idsParam(ids)],
  );
export const releaseLeasesOfOwner = (owner: string): Query =>
  q('DELETE FROM leases WHERE owner = $1', [owner]);

// ---- composite: the statements of one batch, in the order they run

/**
 * Every statement of a poll's batch: outbox, quarantine, journey states, facts and their reminder
 * moments, announced keys (set-statements.ts: one statement per table on PostgreSQL), signposts, then
 * the watermark.
 */
export function batchStatements(
  d: SqlDialect,
  batch: BatchCommit,
  encrypt: (text: string) => Uint8Array,
): Query[] {
  return [
    ...upsertOutboxItems(d, batch, encrypt),
    ...upsertQuarantineItems(d, batch, encrypt),
    ...upsertJourneyStates(d, batch),
    ...(batch.journeyDone?.length ? [dequeueJourneys(d, batch.journeyDone)] : []),
    ...queueJourneys(d, batch),
    ...upsertFacts(d, batch, encrypt),
    ...reminderStatements(d, batch),
    ...insertAnnouncedEvents(d, batch),
    ...(batch.signposts ?? []).map((s) => insertSignpost(s.name, s.at)),
    ...(batch.watermark !== undefined
      ? [upsertWatermark(batch.stream, batch.watermark, batch.settled ?? null, batch.now)]
      : []),
  ];
}

/** Claimed rows come back in no particular order from `RETURNING`: priority, then id. */
export function byPriorityThenId<T extends { priority?: number; id: string }>(a: T, b: T): number {
  return (a.priority ?? 100) - (b.priority ?? 100) || Number(a.id) - Number(b.id);
}
