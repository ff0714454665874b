/**
 * Schema migrations, numbered and applied in order inside a transaction; the applied versions are
 * recorded in `schema_migrations`. Both adapters share one list; the only dialect differences are the
 * auto-increment key and the binary type, substituted below, and a table SQLite must rebuild where
 * PostgreSQL alters it (migration 13). Never edit a released migration: add one.
 */
export type Dialect = 'sqlite' | 'postgres';

interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL, or the SQL of each dialect where they must differ (a constraint SQLite can only drop by rebuilding). */
  readonly sql: string | Readonly<Record<Dialect, string>>;
}

const LEAN_OUTBOX_INDEXES = `
DROP INDEX outbox_due;
DROP INDEX outbox_blocked_by;
CREATE INDEX outbox_blocked_by ON outbox (blocked_by) WHERE blocked_by IS NOT NULL;
`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE watermarks (
  stream TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE record_state (
  object TEXT NOT NULL,
  external_id TEXT NOT NULL,
  salesforce_id TEXT,
  payload_hash TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (object, external_id)
);
CREATE TABLE outbox (
  id {{SERIAL}},
  object TEXT NOT NULL,
  external_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  payload {{BLOB}} NOT NULL,
  payload_hash TEXT NOT NULL,
  run_id TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 100,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires_at BIGINT,
  last_error_code TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (object, external_id)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, priority, id);
CREATE TABLE dead_letters (
  id {{SERIAL}},
  object TEXT NOT NULL,
  external_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  payload {{BLOB}} NOT NULL,
  payload_hash TEXT NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  upstream_code TEXT,
  attempts INTEGER NOT NULL,
  run_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  replayed_at BIGINT
);
CREATE INDEX dead_letters_open ON dead_letters (replayed_at, id);
CREATE TABLE quarantine (
  id {{SERIAL}},
  resource TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  payload {{BLOB}} NOT NULL,
  run_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (resource, record_id, field)
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  counts TEXT NOT NULL DEFAULT '{}',
  data_map_hash TEXT NOT NULL,
  error TEXT
);
CREATE INDEX runs_started ON runs (started_at);
CREATE TABLE audit_log (
  seq {{SERIAL}},
  hash TEXT NOT NULL UNIQUE,
  prev_hash TEXT,
  object TEXT NOT NULL,
  external_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  entry TEXT NOT NULL
);
CREATE INDEX audit_external_id ON audit_log (external_id, seq);
CREATE TABLE journey_state (
  patient_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'facts',
    // The non-clinical facts the journey engine needs per patient (appointment times, types, attendance,
    // case limits, invoice totals), kept so a change to one appointment can be judged against the
    // patient's whole history without re-reading Cliniko. Encrypted like every other payload.
    sql: `
CREATE TABLE facts (
  resource TEXT NOT NULL,
  id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  data {{BLOB}} NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (resource, id)
);
CREATE INDEX facts_patient ON facts (patient_id);
`,
  },
  {
    version: 3,
    name: 'quarantine-first-seen',
    // The operator's listing shows when a record was first and last quarantined; `created_at` is
    // rewritten on every re-quarantine (so it is the last seen), the first sighting is kept here.
    sql: `
ALTER TABLE quarantine ADD COLUMN first_seen_at BIGINT;
UPDATE quarantine SET first_seen_at = created_at;
CREATE INDEX quarantine_last_seen ON quarantine (created_at);
`,
  },
  {
    version: 4,
    name: 'dead-letter-history-and-blocked-items',
    // Issue #15: one open dead letter per record and slot, keeping its history (all attempts across
    // re-queues, how often it failed, when first); the outcome of a replay (requeued, or dropped with the
    // reason); outbox attempts carried over from earlier payloads or dead letters; and dependants that
    // wait for a parent that is quarantined or dead-lettered (`blocked_by`, e.g. `Contact:123`);
    // `superseded_at`: when a newer write of the record succeeded while the letter was open;
    // `publish_started_at`: a platform event's publish began and is not yet recorded (in doubt after a crash).
    // Older duplicate open dead letters are closed, the newest of each record kept open.
    sql: `
ALTER TABLE dead_letters ADD COLUMN total_attempts INTEGER;
ALTER TABLE dead_letters ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dead_letters ADD COLUMN first_failed_at BIGINT;
ALTER TABLE dead_letters ADD COLUMN replay_outcome TEXT;
ALTER TABLE dead_letters ADD COLUMN superseded_at BIGINT;
UPDATE dead_letters SET total_attempts = attempts, first_failed_at = created_at;
UPDATE dead_letters SET replayed_at = created_at, replay_outcome = 'dropped: a newer dead letter of the same record replaced it'
  WHERE replayed_at IS NULL AND id < (SELECT MAX(d2.id) FROM dead_letters d2
    WHERE d2.object = dead_letters.object AND d2.external_id = dead_letters.external_id AND d2.replayed_at IS NULL);
CREATE UNIQUE INDEX dead_letters_one_open ON dead_letters (object, external_id) WHERE replayed_at IS NULL;
ALTER TABLE outbox ADD COLUMN prior_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN blocked_by TEXT;
CREATE INDEX outbox_blocked_by ON outbox (blocked_by);
ALTER TABLE outbox ADD COLUMN publish_started_at BIGINT;
`,
  },
  {
    version: 5,
    name: 'announced-events-and-signposts',
    // Issue #19: every appointment event key the service has announced (the durable "emitted" record,
    // written in the transaction that queues the event; never deleted, so a key is announced once
    // across restarts and instances), and named instants that are set once and never move (the
    // appointment events' go-live: the end of the first complete read of appointments).
    sql: `
CREATE TABLE announced_events (
  event_key TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
CREATE TABLE signposts (
  name TEXT PRIMARY KEY,
  at BIGINT NOT NULL
);
`,
  },
  {
    version: 6,
    name: 'reminders-due',
    // Issue #19: the reminder index. One row per moment at which an appointment may owe an upcoming
    // event (start minus an offset), written in the transaction that writes the appointment's facts,
    // so the scheduler's reminder job reads `due_at <= now` through the index instead of decrypting
    // every stored appointment. Only the appointment id and the moment: no patient id, name or type
    // (docs/marketing.md, "What the reminder index stores"). `reminders_index` holds the fingerprint of
    // the offsets the rows were computed with; a different one makes the job rebuild them.
    sql: `
CREATE TABLE reminders_due (
  appointment_id TEXT NOT NULL,
  due_at BIGINT NOT NULL,
  PRIMARY KEY (appointment_id, due_at)
);
CREATE INDEX reminders_due_at ON reminders_due (due_at);
CREATE TABLE reminders_index (
  fingerprint TEXT PRIMARY KEY,
  built_at BIGINT NOT NULL
);
`,
  },
  {
    version: 7,
    name: 'contact-holds',
    // Issue #19, items 4 and 5: a patient whose Contact the sync must not write on its own. `review`: the
    // matcher found several Contacts or Leads that could be the patient and an admin must choose;
    // `deleted`: someone deleted the patient's Contact in Salesforce and only an explicit restore
    // re-creates it. One row per patient (its current state; the history is in the audit log).
    // `candidates` is a JSON array of Salesforce ids, never names or emails.
    sql: `
CREATE TABLE contact_holds (
  patient_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  object TEXT NOT NULL,
  candidates TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  resolved_at BIGINT,
  resolution TEXT,
  resolved_by TEXT
);
CREATE INDEX contact_holds_resolved ON contact_holds (resolved_at);
`,
  },
  {
    version: 8,
    name: 'watermark-settled',
    // Issue #16, item 5: a stream's second bookmark, the settled point: every Cliniko record stamped at
    // or before it has certainly been read (late commits included). Incremental reads start at the
    // cursor (no overlap) and re-read the window between the two once, after it has settled
    // (cliniko/README.md, "Watermarks"). NULL for rows written before it: read as cursor minus the
    // overlap, which is what the old every-cycle overlap had settled.
    sql: `
ALTER TABLE watermarks ADD COLUMN settled TEXT;
`,
  },
  {
    version: 9,
    name: 'journey-due',
    // Issue #16, item 2: the patients whose journey a cycle must derive again, queued in the transaction
    // that commits the page that read them and removed in the transaction that commits their journey.
    // The cycle walks this table in keyset pages instead of holding a set of every patient it read (a
    // backfill's was the whole practice), and a crash between the two leaves them queued for the next
    // cycle instead of waiting for the daily pass.
    sql: `
CREATE TABLE journey_due (
  patient_id TEXT PRIMARY KEY,
  queued_at BIGINT NOT NULL
);
`,
  },
  {
    version: 10,
    name: 'outbox-claim-order',
    // Issue #16: a claim takes the first due items in (priority, id) order. Through outbox_due
    // (next_attempt_at first) every due item had to be read and sorted for each claim: after a 100,000-
    // patient backfill queued ~2.6 million items, each claim of 10,000 sorted them all. Walking this
    // index in order, a claim stops after its limit (the due and lease terms filter as it walks).
    sql: `
CREATE INDEX outbox_claim ON outbox (priority, id);
`,
  },
  {
    version: 11,
    name: 'outbox-lease-owner',
    // Issue #16: the lease heartbeat (every LEASE_MS / 3) extends the leases of the items a worker holds,
    // by owner. Without an index it read the whole outbox each time: ~0.3 s at 20,000 patients, ~1.5 s
    // (on the event loop) with the 2.7 million items a 100,000-patient backfill queues. Partial: only
    // the claimed items (a few claims' worth) are in it, so claims and completions keep it small.
    sql: `
CREATE INDEX outbox_lease_owner ON outbox (lease_owner) WHERE lease_owner IS NOT NULL;
`,
  },
  {
    version: 12,
    name: 'reference-lists',
    // Issue #16: the reference lists a projection needs (business, practitioner and appointment-type
    // names, business time zones), as last read from Cliniko, encrypted, with the instant they were
    // read. A service that restarts while they are fresh serves them instead of reading them again.
    // One row per list set (`name`); no patient data.
    sql: `
CREATE TABLE reference_lists (
  name TEXT PRIMARY KEY,
  loaded_at BIGINT NOT NULL,
  lists {{BLOB}} NOT NULL
);
`,
  },
  {
    version: 13,
    name: 'lean-write-indexes',
    // Issue #16: indexes every outbox item and audit entry paid for on the way in and out, and no
    // statement used. audit_log's UNIQUE (hash) put each append at a random place of an index as large
    // as the log (a page of it dirtied per entry; docs/benchmarks.md). No statement looks an entry up
    // by hash, and the chain itself is what proves each entry appears once (a repeated entry breaks its
    // successor's prev_hash: `audit verify`). outbox_due (next_attempt_at first) has served no claim
    // since migration 10 (claims walk outbox_claim); outbox_blocked_by held every item, blocked or not,
    // and now holds only the blocked ones (the statements that use it all name a blocking key).
    // SQLite drops a column's UNIQUE only by rebuilding the table: the same rows, seq and sequence.
    sql: {
      sqlite: `
CREATE TABLE audit_log_v13 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  hash TEXT NOT NULL,
  prev_hash TEXT,
  object TEXT NOT NULL,
  external_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  entry TEXT NOT NULL
);
INSERT INTO audit_log_v13 (seq, hash, prev_hash, object, external_id, created_at, entry)
  SELECT seq, hash, prev_hash, object, external_id, created_at, entry FROM audit_log ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'audit_log_v13';
INSERT INTO sqlite_sequence (name, seq) SELECT 'audit_log_v13', seq FROM sqlite_sequence WHERE name = 'audit_log';
DROP TABLE audit_log;
ALTER TABLE audit_log_v13 RENAME TO audit_log;
CREATE INDEX audit_external_id ON audit_log (external_id, seq);
${LEAN_OUTBOX_INDEXES}`,
      postgres: `
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;
${LEAN_OUTBOX_INDEXES}`,
    },
  },
];

export function migrationSql(dialect: Dialect, sql: Migration['sql']): string {
  return (typeof sql === 'string' ? sql : sql[dialect])
    .replaceAll(
      '{{SERIAL}}',
      dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY',
    )
    .replaceAll('{{BLOB}}', dialect === 'sqlite' ? 'BLOB' : 'BYTEA');
}

export function pendingMigrations(applied: ReadonlySet<number>): readonly Migration[] {
  return MIGRATIONS.filter((m) => !applied.has(m.version));
}

export const MIGRATIONS_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';
