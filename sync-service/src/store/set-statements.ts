import type { SqlDialect } from './dialect.js';
import type { Query } from './statements.js';
import type { AuditRow, BatchCommit, CompletedWrite } from './types.js';

/**
 * The hot paths' statements over whole lists (issue #16, "batched store statements"): a poll's batch
 * and a completed collection used to run one statement per row (four per completed write).
 *
 * - Inserts and upserts (`insertRows`) are one statement per table on PostgreSQL, where every statement
 *   is a round trip: the list travels in one JSON array parameter (no parameter limit, one statement
 *   text whatever the size), unpacked by `jsonTable` into a table named and typed like its target. On
 *   SQLite, in process, they stay one prepared INSERT per row: measured, that is the cheaper form there
 *   (an audit row 6.5 µs, against 15-17 µs unpacked from a JSON parameter and 9-20 µs as multi-row
 *   VALUES: the cost is the engine's index work, not the call), so `dialect.insertsAsSets` decides.
 * - The other statements of a completed collection (delete, release, blocked dependants, dead letters)
 *   are one statement each on both: mostly they find nothing, and a set statement finds nothing once.
 *
 * They mean exactly what the per-row statements meant, in the order those ran:
 * - a list that names the same key twice is folded first (`lastByKey`): the later row's values win
 *   at the earlier row's position, as the second of two upserts would leave them. PostgreSQL refuses
 *   an upsert that touches one row twice; folding on both keeps the adapters identical;
 * - rows are inserted in list order (`ORDER BY ord`), so serial keys (the outbox's claim order, the
 *   audit chain's `seq`) are assigned as before.
 * Placeholders are `$n`, as in statements.ts.
 */

const q = (sql: string, params: readonly unknown[] = []): Query => ({ sql, params });

type Kind = 'text' | 'integer' | 'bigint' | 'bytes';
type Columns = Readonly<Record<string, Kind>>;
type Row = Readonly<Record<string, unknown>>;

/**
 * `name AS (SELECT <columns>, ord FROM <rows of $n>)`: the JSON array parameter `$n` (objects keyed by
 * column name) as a table with the target's column names and types, and each row's position `ord`.
 */
function jsonTable(d: SqlDialect, name: string, n: number, columns: Columns): string {
  const select = Object.entries(columns).map(([column, kind]) => {
    const text = `j.value ->> '${column}'`;
    if (kind === 'text') return `${text} AS ${column}`;
    if (kind === 'bytes') return `${d.fromHex(text)} AS ${column}`;
    return `CAST(${text} AS ${kind.toUpperCase()}) AS ${column}`;
  });
  return `${name} AS (SELECT ${select.join(', ')}, j.ord AS ord FROM ${d.jsonRows(n, 'j')})`;
}

/** Binary values travel inside the JSON parameter as hex. */
const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/**
 * `INSERT INTO table (columns) <rows> <conflict>`, the rows in list order: one statement over a JSON
 * parameter where statements are round trips, else one prepared statement per row (see above).
 * (`WHERE true`: SQLite would otherwise read an upsert's ON as a join constraint.)
 */
function insertRows(
  d: SqlDialect,
  table: string,
  columns: Columns,
  rows: readonly Row[],
  conflict = '',
): Query[] {
  if (rows.length === 0) return [];
  const names = Object.keys(columns);
  const list = names.join(', ');
  if (!d.insertsAsSets) {
    const sql = `INSERT INTO ${table} (${list}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) ${conflict}`;
    return rows.map((row) =>
      q(
        sql,
        names.map((name) => row[name]),
      ),
    );
  }
  const bytes = names.filter((name) => columns[name] === 'bytes');
  const json = bytes.length === 0 ? rows : rows.map((row) => ({ ...row, ...hexOf(row, bytes) }));
  return [
    q(
      `WITH ${jsonTable(d, 'i', 1, columns)}
       INSERT INTO ${table} (${list}) SELECT ${list} FROM i WHERE true ORDER BY ord ${conflict}`,
      [JSON.stringify(json)],
    ),
  ];
}
const hexOf = (row: Row, names: readonly string[]): Row =>
  Object.fromEntries(names.map((name) => [name, hex(row[name] as Uint8Array)]));

/** The rows of a list, a key named twice folded into one: the later values at the earlier position. */
export function lastByKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const out = new Map<string, T>();
  for (const row of rows) out.set(key(row), row);
  return [...out.values()];
}

const k = (...parts: readonly string[]): string => parts.join('\u0000');

/** Sealed bytes for a payload column (a Buffer: what `pg` binds as bytea and node:sqlite as a BLOB). */
const seal = (encrypt: Encrypt, text: string): Buffer => Buffer.from(encrypt(text));

// ---- the batch a poll commits (commitBatch)

type Encrypt = (text: string) => Uint8Array;

/**
 * Queues the items. A newer payload starts its own retry schedule (attempts 0) but the attempts of the
 * one it replaces are kept in prior_attempts: the history a later dead letter reports (issue #15).
 */
export const upsertOutboxItems = (d: SqlDialect, batch: BatchCommit, encrypt: Encrypt): Query[] =>
  insertRows(
    d,
    'outbox',
    {
      object: 'text',
      external_id: 'text',
      operation: 'text',
      payload: 'bytes',
      payload_hash: 'text',
      run_id: 'text',
      priority: 'integer',
      attempts: 'integer',
      next_attempt_at: 'bigint',
      created_at: 'bigint',
      blocked_by: 'text',
    },
    lastByKey(batch.outbox ?? [], (i) => k(i.object, i.externalId)).map((i) => ({
      object: i.object,
      external_id: i.externalId,
      operation: i.operation,
      payload: seal(encrypt, i.payload),
      payload_hash: i.payloadHash,
      run_id: i.runId,
      priority: i.priority ?? 100,
      attempts: 0,
      next_attempt_at: batch.now,
      created_at: batch.now,
      blocked_by: i.blockedBy ?? null,
    })),
    `ON CONFLICT (object, external_id) DO UPDATE SET
       operation = EXCLUDED.operation, payload = EXCLUDED.payload, payload_hash = EXCLUDED.payload_hash,
       run_id = EXCLUDED.run_id, priority = EXCLUDED.priority,
       prior_attempts = outbox.prior_attempts + outbox.attempts, attempts = 0,
       next_attempt_at = EXCLUDED.next_attempt_at, last_error_code = NULL, blocked_by = EXCLUDED.blocked_by`,
  );

/** Quarantines the records by record and field; a record seen again keeps its first sighting. */
export const upsertQuarantineItems = (d: SqlDialect, batch: BatchCommit, encrypt: Encrypt): Query[] =>
  insertRows(
    d,
    'quarantine',
    {
      resource: 'text',
      record_id: 'text',
      field: 'text',
      reason: 'text',
      payload: 'bytes',
      run_id: 'text',
      created_at: 'bigint',
      first_seen_at: 'bigint',
    },
    lastByKey(batch.quarantine ?? [], (i) => k(i.resource, i.recordId, i.field)).map((i) => ({
      resource: i.resource,
      record_id: i.recordId,
      field: i.field,
      reason: i.reason,
      payload: seal(encrypt, i.payload),
      run_id: i.runId,
      created_at: batch.now,
      first_seen_at: batch.now,
    })),
    `ON CONFLICT (resource, record_id, field) DO UPDATE SET reason = EXCLUDED.reason, payload = EXCLUDED.payload,
       run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at`,
  );

export const upsertJourneyStates = (d: SqlDialect, batch: BatchCommit): Query[] =>
  insertRows(
    d,
    'journey_state',
    { patient_id: 'text', state: 'text', updated_at: 'bigint' },
    lastByKey(batch.journeyStates ?? [], (i) => i.patientId).map((i) => ({
      patient_id: i.patientId,
      state: i.state,
      updated_at: batch.now,
    })),
    'ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at',
  );

/** The journey queue (migration 9): a patient queued while queued stays queued once. */
export const queueJourneys = (d: SqlDialect, batch: BatchCommit): Query[] =>
  insertRows(
    d,
    'journey_due',
    { patient_id: 'text', queued_at: 'bigint' },
    lastByKey(batch.journeyDue ?? [], (id) => id).map((id) => ({ patient_id: id, queued_at: batch.now })),
    'ON CONFLICT (patient_id) DO NOTHING',
  );

export const upsertFacts = (d: SqlDialect, batch: BatchCommit, encrypt: Encrypt): Query[] =>
  insertRows(
    d,
    'facts',
    { resource: 'text', id: 'text', patient_id: 'text', data: 'bytes', updated_at: 'bigint' },
    lastByKey(batch.facts ?? [], (i) => k(i.resource, i.id)).map((i) => ({
      resource: i.resource,
      id: i.id,
      patient_id: i.patientId,
      data: seal(encrypt, i.data),
      updated_at: batch.now,
    })),
    `ON CONFLICT (resource, id) DO UPDATE SET patient_id = EXCLUDED.patient_id, data = EXCLUDED.data,
       updated_at = EXCLUDED.updated_at`,
  );

/** The event keys announced with this batch; a key already announced stays as it was. */
export const insertAnnouncedEvents = (d: SqlDialect, batch: BatchCommit): Query[] =>
  insertRows(
    d,
    'announced_events',
    { event_key: 'text', created_at: 'bigint' },
    [...new Set(batch.announced ?? [])].map((key) => ({ event_key: key, created_at: batch.now })),
    'ON CONFLICT (event_key) DO NOTHING',
  );

/** The reminder moments of the listed appointments (their old ones deleted just before). */
export const insertReminders = (d: SqlDialect, batch: BatchCommit): Query[] =>
  insertRows(
    d,
    'reminders_due',
    { appointment_id: 'text', due_at: 'bigint' },
    (batch.reminders ?? []).flatMap((r) =>
      r.dueAt.map((at) => ({ appointment_id: r.appointmentId, due_at: at })),
    ),
    'ON CONFLICT (appointment_id, due_at) DO NOTHING',
  );

// ---- completed writes (completeWrites)

const WRITES: Columns = {
  outbox_id: 'bigint',
  object: 'text',
  external_id: 'text',
  payload_hash: 'text',
  salesforce_id: 'text',
};
const writeRows = (writes: readonly CompletedWrite[]): string =>
  JSON.stringify(
    writes.map((w) => ({
      outbox_id: Number(w.outboxId),
      object: w.object,
      external_id: w.externalId,
      payload_hash: w.payloadHash,
      salesforce_id: w.salesforceId,
    })),
  );

/**
 * The item of a write, if it is still in the outbox. Asked for the first write of a completion before
 * `countWrittenElsewhere`: an item still queued means the batch was not all written elsewhere (each
 * write counts at most once there), which is the common case, answered without encoding and reading
 * every write (issue #16: the full check was 4-6 % of the store's thread in a backfill's drain).
 */
export const selectQueuedItem = (outboxId: string): Query =>
  q('SELECT id FROM outbox WHERE id = $1', [Number(outboxId)]);

/**
 * How many of these writes were already completed by another owner: the item is gone and the record's
 * state holds this very payload (a lease holder frozen mid-write whose items were taken over and
 * written). All of them: the batch is someone else's, done.
 */
export const countWrittenElsewhere = (d: SqlDialect, writes: readonly CompletedWrite[]): Query =>
  q(
    `WITH ${jsonTable(d, 'w', 1, WRITES)}
     SELECT COUNT(*) AS n FROM w JOIN record_state r
       ON r.object = w.object AND r.external_id = w.external_id AND r.payload_hash = w.payload_hash
     WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = w.outbox_id)`,
    [writeRows(writes)],
  );

/**
 * Every statement of a successful collection, in order: the items whose payload is still the one
 * written are deleted; the others (a newer payload replaced it while it was in flight) are released so
 * the newer payload is written next; each record's state is recorded (a missing Salesforce id keeps
 * the known one); dependants waiting for these records (issue #15) are due now; their open dead
 * letters (older payloads) are superseded, so a replay drops them rather than write them over this.
 * (`CROSS JOIN`: SQLite then reads the writes first and finds each open letter by its unique index,
 * instead of reading every open dead letter; PostgreSQL plans it as the inner join it is.)
 */
export function completeWriteStatements(
  d: SqlDialect,
  writes: readonly CompletedWrite[],
  now: number,
): Query[] {
  if (writes.length === 0) return [];
  const all = writeRows(writes);
  const parents = [...new Set(writes.map((w) => `${w.object}:${w.externalId}`))];
  return [
    q(
      `WITH ${jsonTable(d, 'w', 1, WRITES)}
       DELETE FROM outbox WHERE (id, payload_hash) IN (SELECT outbox_id, payload_hash FROM w)`,
      [all],
    ),
    q(`UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE ${d.inIds('id', 1)}`, [
      d.idsParam(writes.map((w) => w.outboxId)),
    ]),
    ...upsertRecordStates(d, writes, now),
    q(
      `UPDATE outbox SET blocked_by = NULL, next_attempt_at = $2, last_error_code = NULL WHERE ${d.inList('blocked_by', 1)}`,
      [d.listParam(parents), now],
    ),
    q(
      `WITH ${jsonTable(d, 'w', 1, WRITES)}
       UPDATE dead_letters SET superseded_at = $2 WHERE id IN (
         SELECT d.id FROM w CROSS JOIN dead_letters d
         WHERE d.object = w.object AND d.external_id = w.external_id AND d.replayed_at IS NULL)`,
      [all, now],
    ),
  ];
}

/** Two writes of one record fold to the later payload's hash and the last Salesforce id known (COALESCE). */
function upsertRecordStates(d: SqlDialect, writes: readonly CompletedWrite[], now: number): Query[] {
  const states = new Map<string, Row>();
  for (const w of writes) {
    const key = k(w.object, w.externalId);
    const known = states.get(key)?.salesforce_id ?? null;
    states.set(key, {
      object: w.object,
      external_id: w.externalId,
      salesforce_id: w.salesforceId ?? known,
      payload_hash: w.payloadHash,
      updated_at: now,
    });
  }
  return insertRows(
    d,
    'record_state',
    {
      object: 'text',
      external_id: 'text',
      salesforce_id: 'text',
      payload_hash: 'text',
      updated_at: 'bigint',
    },
    [...states.values()],
    `ON CONFLICT (object, external_id) DO UPDATE SET
       salesforce_id = COALESCE(EXCLUDED.salesforce_id, record_state.salesforce_id),
       payload_hash = EXCLUDED.payload_hash, updated_at = EXCLUDED.updated_at`,
  );
}

// ---- the audit chain

/** Appends the rows in the chain's order: `seq` is assigned in list order. */
export const insertAuditRows = (d: SqlDialect, rows: readonly AuditRow[]): Query[] =>
  insertRows(
    d,
    'audit_log',
    {
      hash: 'text',
      prev_hash: 'text',
      object: 'text',
      external_id: 'text',
      created_at: 'bigint',
      entry: 'text',
    },
    rows.map((r) => ({
      hash: r.hash,
      prev_hash: r.prevHash,
      object: r.object,
      external_id: r.externalId,
      created_at: r.createdAt,
      entry: r.entry,
    })),
  );
