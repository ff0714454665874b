import type { SqlDialect } from './dialect.js';
import type { Query } from './statements.js';
import type { AuditRow, BatchCommit, CompletedWrite } from './types.js';

/**
 * The hot paths' statements as sets (issue #16, "batched store statements"): a poll's batch and a
 * completed collection used to run one statement per row (per row four for a completed write), which
 * was most of the store's CPU in a backfill on SQLite and one round trip per row on PostgreSQL. Here
 * each table a batch touches takes ONE statement over the whole list, carried in one JSON array
 * parameter (so no parameter limit applies and the SQL text, hence the prepared statement, is the same
 * whatever the batch size) and unpacked by `jsonTable` into a table named and typed like its target.
 *
 * They mean exactly what the per-row statements meant, in the order those ran:
 * - a list that names the same key twice is folded first (`lastByKey`): the later row's values win
 *   at the earlier row's position, as the second of two upserts would leave them. PostgreSQL refuses
 *   an upsert that touches one row twice, and the folding keeps the two adapters identical;
 * - inserts into a table with a serial key keep the list's order (`ORDER BY ord`), so ids (the outbox's
 *   claim order, the audit chain's `seq`) are assigned as before.
 * Placeholders are `$n`, as in statements.ts.
 */

const q = (sql: string, params: readonly unknown[] = []): Query => ({ sql, params });

type Kind = 'text' | 'integer' | 'bigint' | 'bytes';
type Columns = Readonly<Record<string, Kind>>;

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

/** The rows of a list, a key named twice folded into one: the later values at the earlier position. */
export function lastByKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const out = new Map<string, T>();
  for (const row of rows) out.set(key(row), row);
  return [...out.values()];
}

const k = (...parts: readonly string[]): string => parts.join('\u0000');

/** Sealed bytes as hex, the form a binary column takes inside the JSON parameter. */
const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

// ---- the batch a poll commits (commitBatch)

type Encrypt = (text: string) => Uint8Array;

const OUTBOX: Columns = {
  object: 'text',
  external_id: 'text',
  operation: 'text',
  payload: 'bytes',
  payload_hash: 'text',
  run_id: 'text',
  priority: 'integer',
  blocked_by: 'text',
};
/**
 * Queues the items. A newer payload starts its own retry schedule (attempts 0) but the attempts of the
 * one it replaces are kept in prior_attempts: the history a later dead letter reports (issue #15).
 * (`WHERE true`: SQLite would otherwise read the upsert's ON as a join constraint.)
 */
export function upsertOutboxItems(d: SqlDialect, batch: BatchCommit, encrypt: Encrypt): Query | undefined {
  const items = lastByKey(batch.outbox ?? [], (i) => k(i.object, i.externalId));
  if (items.length === 0) return undefined;
  const rows = items.map((i) => ({
    object: i.object,
    external_id: i.externalId,
    operation: i.operation,
    payload: hex(encrypt(i.payload)),
    payload_hash: i.payloadHash,
    run_id: i.runId,
    priority: i.priority ?? 100,
    blocked_by: i.blockedBy ?? null,
  }));
  return q(
    `WITH ${jsonTable(d, 'i', 1, OUTBOX)}
     INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, next_attempt_at, created_at, blocked_by)
     SELECT object, external_id, operation, payload, payload_hash, run_id, priority, 0, CAST($2 AS BIGINT), CAST($2 AS BIGINT), blocked_by
     FROM i WHERE true ORDER BY ord
     ON CONFLICT (object, external_id) DO UPDATE SET
       operation = EXCLUDED.operation, payload = EXCLUDED.payload, payload_hash = EXCLUDED.payload_hash,
       run_id = EXCLUDED.run_id, priority = EXCLUDED.priority,
       prior_attempts = outbox.prior_attempts + outbox.attempts, attempts = 0,
       next_attempt_at = EXCLUDED.next_attempt_at, last_error_code = NULL, blocked_by = EXCLUDED.blocked_by`,
    [JSON.stringify(rows), batch.now],
  );
}

const QUARANTINE: Columns = {
  resource: 'text',
  record_id: 'text',
  field: 'text',
  reason: 'text',
  payload: 'bytes',
  run_id: 'text',
};
/** Quarantines the records by record and field; a record seen again keeps its first sighting. */
export function upsertQuarantineItems(
  d: SqlDialect,
  batch: BatchCommit,
  encrypt: Encrypt,
): Query | undefined {
  const items = lastByKey(batch.quarantine ?? [], (i) => k(i.resource, i.recordId, i.field));
  if (items.length === 0) return undefined;
  const rows = items.map((i) => ({
    resource: i.resource,
    record_id: i.recordId,
    field: i.field,
    reason: i.reason,
    payload: hex(encrypt(i.payload)),
    run_id: i.runId,
  }));
  return q(
    `WITH ${jsonTable(d, 'i', 1, QUARANTINE)}
     INSERT INTO quarantine (resource, record_id, field, reason, payload, run_id, created_at, first_seen_at)
     SELECT resource, record_id, field, reason, payload, run_id, CAST($2 AS BIGINT), CAST($2 AS BIGINT)
     FROM i WHERE true ORDER BY ord
     ON CONFLICT (resource, record_id, field) DO UPDATE SET reason = EXCLUDED.reason, payload = EXCLUDED.payload,
       run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at`,
    [JSON.stringify(rows), batch.now],
  );
}

export function upsertJourneyStates(d: SqlDialect, batch: BatchCommit): Query | undefined {
  const items = lastByKey(batch.journeyStates ?? [], (i) => i.patientId);
  if (items.length === 0) return undefined;
  const rows = items.map((i) => ({ patient_id: i.patientId, state: i.state }));
  return q(
    `WITH ${jsonTable(d, 'i', 1, { patient_id: 'text', state: 'text' })}
     INSERT INTO journey_state (patient_id, state, updated_at) SELECT patient_id, state, CAST($2 AS BIGINT) FROM i WHERE true
     ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(rows), batch.now],
  );
}

export function upsertFacts(d: SqlDialect, batch: BatchCommit, encrypt: Encrypt): Query | undefined {
  const items = lastByKey(batch.facts ?? [], (i) => k(i.resource, i.id));
  if (items.length === 0) return undefined;
  const rows = items.map((i) => ({
    resource: i.resource,
    id: i.id,
    patient_id: i.patientId,
    data: hex(encrypt(i.data)),
  }));
  return q(
    `WITH ${jsonTable(d, 'i', 1, { resource: 'text', id: 'text', patient_id: 'text', data: 'bytes' })}
     INSERT INTO facts (resource, id, patient_id, data, updated_at) SELECT resource, id, patient_id, data, CAST($2 AS BIGINT) FROM i WHERE true
     ON CONFLICT (resource, id) DO UPDATE SET patient_id = EXCLUDED.patient_id, data = EXCLUDED.data,
       updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(rows), batch.now],
  );
}

/** The event keys announced with this batch; a key already announced stays as it was. */
export function insertAnnouncedEvents(d: SqlDialect, batch: BatchCommit): Query | undefined {
  const keys = [...new Set(batch.announced ?? [])];
  if (keys.length === 0) return undefined;
  return q(
    `WITH ${jsonTable(d, 'i', 1, { event_key: 'text' })}
     INSERT INTO announced_events (event_key, created_at) SELECT event_key, CAST($2 AS BIGINT) FROM i WHERE true
     ON CONFLICT (event_key) DO NOTHING`,
    [JSON.stringify(keys.map((key) => ({ event_key: key }))), batch.now],
  );
}

/** The reminder moments of the listed appointments (their old ones deleted just before). */
export function insertReminders(d: SqlDialect, batch: BatchCommit): Query | undefined {
  const rows = (batch.reminders ?? []).flatMap((r) =>
    r.dueAt.map((at) => ({ appointment_id: r.appointmentId, due_at: at })),
  );
  if (rows.length === 0) return undefined;
  return q(
    `WITH ${jsonTable(d, 'i', 1, { appointment_id: 'text', due_at: 'bigint' })}
     INSERT INTO reminders_due (appointment_id, due_at) SELECT appointment_id, due_at FROM i WHERE true
     ON CONFLICT (appointment_id, due_at) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

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
  // Two writes of one record: the later payload's hash, and the last Salesforce id known (COALESCE).
  const states = new Map<string, CompletedWrite>();
  for (const w of writes) {
    const key = k(w.object, w.externalId);
    states.set(key, { ...w, salesforceId: w.salesforceId ?? states.get(key)?.salesforceId ?? null });
  }
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
    q(
      `WITH ${jsonTable(d, 'w', 1, WRITES)}
       INSERT INTO record_state (object, external_id, salesforce_id, payload_hash, updated_at)
       SELECT object, external_id, salesforce_id, payload_hash, CAST($2 AS BIGINT) FROM w WHERE true
       ON CONFLICT (object, external_id) DO UPDATE SET
         salesforce_id = COALESCE(EXCLUDED.salesforce_id, record_state.salesforce_id),
         payload_hash = EXCLUDED.payload_hash, updated_at = EXCLUDED.updated_at`,
      [writeRows([...states.values()]), now],
    ),
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

// ---- the audit chain

const AUDIT: Columns = {
  hash: 'text',
  prev_hash: 'text',
  object: 'text',
  external_id: 'text',
  created_at: 'bigint',
  entry: 'text',
};
/** Appends the rows in the chain's order: `seq` is assigned in list order (`ORDER BY ord`). */
export function insertAuditRows(d: SqlDialect, rows: readonly AuditRow[]): Query | undefined {
  if (rows.length === 0) return undefined;
  const json = rows.map((r) => ({
    hash: r.hash,
    prev_hash: r.prevHash,
    object: r.object,
    external_id: r.externalId,
    created_at: r.createdAt,
    entry: r.entry,
  }));
  return q(
    `WITH ${jsonTable(d, 'a', 1, AUDIT)}
     INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry)
     SELECT hash, prev_hash, object, external_id, created_at, entry FROM a ORDER BY ord`,
    [JSON.stringify(json)],
  );
}
