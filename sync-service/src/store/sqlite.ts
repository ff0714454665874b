import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import {
  QUARANTINE_TOTAL_SQL,
  quarantineLimit,
  quarantineListSql,
  quarantineReleaseSql,
  toQuarantineItem,
} from './quarantine.js';
import { MIGRATIONS_TABLE_SQL, migrationSql, pendingMigrations } from './migrations.js';
import {
  type AuditHead,
  type AuditRow,
  type BatchCommit,
  type CompletedWrite,
  type DeadLetter,
  type FactInput,
  type JourneyStateRow,
  type OutboxItem,
  type OutboxStats,
  type PayloadCipher,
  type QuarantineItem,
  type QuarantineRecord,
  type RecordState,
  type RunMode,
  type RunRecord,
  type RunStatus,
  type Store,
  type StoredAuditRow,
  type Watermark,
} from './types.js';
import {
  OPEN_DEAD_LETTERS_SQL,
  OUTBOX_STATS_SQL,
  QUARANTINE_COUNT_SQL,
  toAudit,
  toAuditHead,
  toDeadLetter,
  toFact,
  toText,
  toJourneyState,
  toOutboxItem,
  toOutboxStats,
  toQuarantine,
  toRecordState,
  toRun,
  toWatermark,
} from './rows.js';

type Row = Record<string, SQLInputValue>;

// The driver is synchronous; the methods are async so that every failure reaches the caller as a
// rejected promise, exactly as with PostgreSQL.

/**
 * The embedded store: one SQLite file in WAL mode through node:sqlite (no native addon).
 * Every method runs synchronously inside its own transaction, so no two transactions interleave on the
 * connection even though the interface is async. One process owns the file; several instances need
 * PostgreSQL.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;

  constructor(
    path: string,
    private readonly cipher: PayloadCipher,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // The busy timeout first: switching to WAL needs a lock, and another connection (a CLI command, a
    // process that was just killed and is still letting go) may hold one for a moment.
    this.db = new DatabaseSync(path, { timeout: 5_000 });
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA foreign_keys = ON');
  }

  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private all(sql: string, ...params: SQLInputValue[]): Row[] {
    return this.db.prepare(sql).all(...params);
  }
  private get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    return this.db.prepare(sql).get(...params);
  }
  private run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.db.prepare(sql).run(...params).changes);
  }

  async migrate(): Promise<void> {
    this.db.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Set(this.all('SELECT version FROM schema_migrations').map((r) => Number(r.version)));
    for (const migration of pendingMigrations(applied)) {
      this.tx(() => {
        this.db.exec(migrationSql('sqlite', migration.sql));
        this.run(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
          migration.version,
          migration.name,
          Date.now(),
        );
      });
    }
    return Promise.resolve();
  }

  async ping(): Promise<boolean> {
    return Promise.resolve(this.get('SELECT 1 AS one')?.one === 1);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
    return Promise.resolve();
  }

  async getWatermark(stream: string): Promise<Watermark | undefined> {
    const row = this.get('SELECT stream, cursor, updated_at FROM watermarks WHERE stream = ?', stream);
    return Promise.resolve(row ? toWatermark(row) : undefined);
  }

  async listWatermarks(): Promise<Watermark[]> {
    return Promise.resolve(
      this.all('SELECT stream, cursor, updated_at FROM watermarks ORDER BY stream').map(toWatermark),
    );
  }

  async commitBatch(batch: BatchCommit): Promise<void> {
    this.tx(() => {
      for (const item of batch.outbox ?? []) {
        this.run(
          `INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
           ON CONFLICT (object, external_id) DO UPDATE SET
             operation = excluded.operation, payload = excluded.payload, payload_hash = excluded.payload_hash,
             run_id = excluded.run_id, priority = excluded.priority, attempts = 0,
             next_attempt_at = excluded.next_attempt_at, last_error_code = NULL`,
          item.object,
          item.externalId,
          item.operation,
          this.cipher.encrypt(item.payload),
          item.payloadHash,
          item.runId,
          item.priority ?? 100,
          batch.now,
          batch.now,
        );
      }
      for (const q of batch.quarantine ?? []) {
        this.run(
          `INSERT INTO quarantine (resource, record_id, field, reason, payload, run_id, created_at, first_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (resource, record_id, field) DO UPDATE SET reason = excluded.reason, payload = excluded.payload,
             run_id = excluded.run_id, created_at = excluded.created_at`,
          q.resource,
          q.recordId,
          q.field,
          q.reason,
          this.cipher.encrypt(q.payload),
          q.runId,
          batch.now,
          batch.now,
        );
      }
      for (const js of batch.journeyStates ?? []) {
        this.run(
          `INSERT INTO journey_state (patient_id, state, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (patient_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
          js.patientId,
          js.state,
          batch.now,
        );
      }
      for (const f of batch.facts ?? []) {
        this.run(
          `INSERT INTO facts (resource, id, patient_id, data, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (resource, id) DO UPDATE SET patient_id = excluded.patient_id, data = excluded.data,
             updated_at = excluded.updated_at`,
          f.resource,
          f.id,
          f.patientId,
          this.cipher.encrypt(f.data),
          batch.now,
        );
      }
      if (batch.watermark !== undefined) {
        this.run(
          `INSERT INTO watermarks (stream, cursor, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
          batch.stream,
          batch.watermark,
          batch.now,
        );
      }
    });
    return Promise.resolve();
  }

  async getRecordStates(object: string, externalIds: readonly string[]): Promise<Map<string, RecordState>> {
    const out = new Map<string, RecordState>();
    for (let i = 0; i < externalIds.length; i += 500) {
      const chunk = externalIds.slice(i, i + 500);
      const rows = this.all(
        `SELECT object, external_id, salesforce_id, payload_hash, updated_at FROM record_state
         WHERE object = ? AND external_id IN (${chunk.map(() => '?').join(',')})`,
        object,
        ...chunk,
      );
      for (const row of rows) {
        const state = toRecordState(row);
        out.set(state.externalId, state);
      }
    }
    return Promise.resolve(out);
  }

  async pendingPayloadHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < externalIds.length; i += 500) {
      const chunk = externalIds.slice(i, i + 500);
      const rows = this.all(
        `SELECT external_id, payload_hash FROM outbox
         WHERE object = ? AND external_id IN (${chunk.map(() => '?').join(',')})`,
        object,
        ...chunk,
      );
      for (const row of rows) out.set(toText(row.external_id), toText(row.payload_hash));
    }
    return Promise.resolve(out);
  }

  async listRecordStates(object: string): Promise<RecordState[]> {
    return Promise.resolve(
      this.all(
        'SELECT object, external_id, salesforce_id, payload_hash, updated_at FROM record_state WHERE object = ? ORDER BY external_id',
        object,
      ).map(toRecordState),
    );
  }

  async forgetRecordStates(object: string, externalIds: readonly string[]): Promise<void> {
    this.tx(() => {
      for (const id of externalIds)
        this.run('DELETE FROM record_state WHERE object = ? AND external_id = ?', object, id);
    });
    return Promise.resolve();
  }

  async claimOutbox(options: {
    owner: string;
    limit: number;
    leaseMs: number;
    now: number;
    objects?: readonly string[];
  }): Promise<OutboxItem[]> {
    const objectFilter = options.objects?.length
      ? `AND object IN (${options.objects.map(() => '?').join(',')})`
      : '';
    const rows = this.tx(() => {
      const due = this.all(
        `SELECT id FROM outbox WHERE next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?) ${objectFilter}
         ORDER BY priority, id LIMIT ?`,
        options.now,
        options.now,
        ...(options.objects ?? []),
        options.limit,
      );
      if (due.length === 0) return [];
      const ids = due.map((r) => r.id as number);
      const placeholders = ids.map(() => '?').join(',');
      this.run(
        `UPDATE outbox SET lease_owner = ?, lease_expires_at = ? WHERE id IN (${placeholders})`,
        options.owner,
        options.now + options.leaseMs,
        ...ids,
      );
      return this.all(`SELECT * FROM outbox WHERE id IN (${placeholders}) ORDER BY priority, id`, ...ids);
    });
    return Promise.resolve(rows.map((row) => toOutboxItem(row, this.cipher)));
  }

  async completeWrites(
    writes: readonly CompletedWrite[],
    audit: (previous: AuditHead | null) => AuditRow[],
    now: number,
  ): Promise<void> {
    this.tx(() => {
      for (const w of writes) {
        const removed = this.run(
          'DELETE FROM outbox WHERE id = ? AND payload_hash = ?',
          Number(w.outboxId),
          w.payloadHash,
        );
        if (removed === 0) {
          // A newer payload replaced this one while it was in flight: release it so it is written next.
          this.run(
            'UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ?',
            Number(w.outboxId),
          );
        }
        this.run(
          `INSERT INTO record_state (object, external_id, salesforce_id, payload_hash, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (object, external_id) DO UPDATE SET
             salesforce_id = COALESCE(excluded.salesforce_id, record_state.salesforce_id),
             payload_hash = excluded.payload_hash, updated_at = excluded.updated_at`,
          w.object,
          w.externalId,
          w.salesforceId,
          w.payloadHash,
          now,
        );
      }
      this.appendAudit(audit);
    });
    return Promise.resolve();
  }

  private appendAudit(build: (previous: AuditHead | null) => AuditRow[]): void {
    const last = this.get('SELECT hash, entry FROM audit_log ORDER BY seq DESC LIMIT 1');
    const rows = build(last ? toAuditHead(last) : null);
    for (const row of rows) {
      this.run(
        'INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry) VALUES (?, ?, ?, ?, ?, ?)',
        row.hash,
        row.prevHash,
        row.object,
        row.externalId,
        row.createdAt,
        row.entry,
      );
    }
  }

  async retryLater(
    outboxId: string,
    update: { attempts: number; nextAttemptAt: number; errorCode: string; payloadHash?: string },
  ): Promise<void> {
    this.tx(() => {
      if (this.replaced(outboxId, update.payloadHash)) return;
      this.run(
        'UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error_code = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?',
        update.attempts,
        update.nextAttemptAt,
        update.errorCode,
        Number(outboxId),
      );
    });
    return Promise.resolve();
  }

  /**
   * True (and the item released) when a newer payload replaced the one that failed while it was in
   * flight: the failure belongs to the old payload, the new one is written next with its own attempts.
   */
  private replaced(outboxId: string, payloadHash: string | undefined): boolean {
    if (payloadHash === undefined) return false;
    const released = this.run(
      'UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND payload_hash <> ?',
      Number(outboxId),
      payloadHash,
    );
    return released > 0;
  }

  async deadLetter(
    outboxId: string,
    error: {
      code: string;
      message: string;
      upstreamCode: string | null;
      attempts: number;
      payloadHash?: string;
    },
    now: number,
  ): Promise<boolean> {
    const moved = this.tx(() => {
      if (this.replaced(outboxId, error.payloadHash)) return false;
      this.run(
        `INSERT INTO dead_letters (object, external_id, operation, payload, payload_hash, error_code, error_message, upstream_code, attempts, run_id, created_at)
         SELECT object, external_id, operation, payload, payload_hash, ?, ?, ?, ?, run_id, ? FROM outbox WHERE id = ?`,
        error.code,
        error.message,
        error.upstreamCode,
        error.attempts,
        now,
        Number(outboxId),
      );
      return this.run('DELETE FROM outbox WHERE id = ?', Number(outboxId)) > 0;
    });
    return Promise.resolve(moved);
  }

  async listDeadLetters(options: { limit?: number; includeReplayed?: boolean } = {}): Promise<DeadLetter[]> {
    const where = options.includeReplayed ? '' : 'WHERE replayed_at IS NULL';
    return Promise.resolve(
      this.all(`SELECT * FROM dead_letters ${where} ORDER BY id LIMIT ?`, options.limit ?? 1000).map((r) =>
        toDeadLetter(r, this.cipher),
      ),
    );
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const row = /^\d+$/.test(id)
      ? this.get('SELECT * FROM dead_letters WHERE id = ?', Number(id))
      : undefined;
    return Promise.resolve(row ? toDeadLetter(row, this.cipher) : undefined);
  }

  async replayDeadLetter(id: string, now: number, runId: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return Promise.resolve(false);
    const replayed = this.tx(() => {
      const open = this.get('SELECT id FROM dead_letters WHERE id = ? AND replayed_at IS NULL', Number(id));
      if (!open) return false;
      this.run(
        `INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, next_attempt_at, created_at)
         SELECT object, external_id, operation, payload, payload_hash, ?, 100, 0, ?, ? FROM dead_letters WHERE id = ?
         ON CONFLICT (object, external_id) DO NOTHING`,
        runId,
        now,
        now,
        Number(id),
      );
      this.run('UPDATE dead_letters SET replayed_at = ? WHERE id = ?', now, Number(id));
      return true;
    });
    return Promise.resolve(replayed);
  }

  async listQuarantine(
    options: { limit?: number } = {},
  ): Promise<{ items: QuarantineItem[]; total: number }> {
    const items = this.all(quarantineListSql('?'), quarantineLimit(options.limit)).map(toQuarantineItem);
    return Promise.resolve({ items, total: Number(this.get(QUARANTINE_TOTAL_SQL)?.n ?? 0) });
  }

  async releaseQuarantine(resource: string, recordIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < recordIds.length; i += 500) {
      const ids = recordIds.slice(i, i + 500);
      deleted += this.run(
        quarantineReleaseSql(
          '?',
          ids.map(() => '?'),
        ),
        resource,
        ...ids,
      );
    }
    return Promise.resolve(deleted);
  }

  async listQuarantinePayloads(options: { limit?: number } = {}): Promise<QuarantineRecord[]> {
    return Promise.resolve(
      this.all('SELECT * FROM quarantine ORDER BY id LIMIT ?', options.limit ?? 1000).map((r) =>
        toQuarantine(r, this.cipher),
      ),
    );
  }

  async listFacts(patientIds: readonly string[]): Promise<FactInput[]> {
    const out: FactInput[] = [];
    for (let i = 0; i < patientIds.length; i += 500) {
      const chunk = patientIds.slice(i, i + 500);
      const rows = this.all(
        `SELECT resource, id, patient_id, data FROM facts WHERE patient_id IN (${chunk.map(() => '?').join(',')})
         ORDER BY resource, id`,
        ...chunk,
      );
      for (const row of rows) out.push(toFact(row, this.cipher));
    }
    return Promise.resolve(out);
  }

  async listFactPatientIds(): Promise<string[]> {
    const rows = this.all('SELECT DISTINCT patient_id FROM facts ORDER BY patient_id');
    return Promise.resolve(rows.map((r) => toText(r.patient_id)));
  }

  async getJourneyState(patientId: string): Promise<JourneyStateRow | undefined> {
    const row = this.get(
      'SELECT patient_id, state, updated_at FROM journey_state WHERE patient_id = ?',
      patientId,
    );
    return Promise.resolve(row ? toJourneyState(row) : undefined);
  }

  async listJourneyStates(): Promise<JourneyStateRow[]> {
    return Promise.resolve(
      this.all('SELECT patient_id, state, updated_at FROM journey_state ORDER BY patient_id').map(
        toJourneyState,
      ),
    );
  }

  async startRun(run: { id: string; mode: RunMode; startedAt: number; dataMapHash: string }): Promise<void> {
    this.run(
      "INSERT INTO runs (id, mode, status, started_at, data_map_hash) VALUES (?, ?, 'running', ?, ?)",
      run.id,
      run.mode,
      run.startedAt,
      run.dataMapHash,
    );
    return Promise.resolve();
  }

  async finishRun(run: {
    id: string;
    status: RunStatus;
    finishedAt: number;
    counts: string;
    error: string | null;
  }): Promise<void> {
    this.run(
      'UPDATE runs SET status = ?, finished_at = ?, counts = ?, error = ? WHERE id = ?',
      run.status,
      run.finishedAt,
      run.counts,
      run.error,
      run.id,
    );
    return Promise.resolve();
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    return Promise.resolve(
      this.all('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?', options.limit ?? 50).map(
        toRun,
      ),
    );
  }

  async lastAuditRow(): Promise<StoredAuditRow | undefined> {
    const row = this.get('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
    return Promise.resolve(row ? toAudit(row) : undefined);
  }

  async listAudit(
    options: { externalId?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<StoredAuditRow[]> {
    const clauses = ['seq > ?'];
    const params: SQLInputValue[] = [options.afterSeq ?? 0];
    if (options.externalId !== undefined) {
      clauses.push('external_id = ?');
      params.push(options.externalId);
    }
    params.push(options.limit ?? 10_000);
    return Promise.resolve(
      this.all(`SELECT * FROM audit_log WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT ?`, ...params).map(
        toAudit,
      ),
    );
  }

  async pruneAudit(
    before: number,
    record: (previous: AuditHead | null, pruned: number) => AuditRow,
  ): Promise<number> {
    const pruned = this.tx(() => {
      const count = this.run('DELETE FROM audit_log WHERE created_at < ?', before);
      this.appendAudit((prev) => [record(prev, count)]);
      return count;
    });
    return Promise.resolve(pruned);
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const held = this.tx(() => {
      this.run(
        `INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at <= ?`,
        name,
        owner,
        now + ttlMs,
        now,
      );
      return this.get('SELECT owner FROM leases WHERE name = ?', name)?.owner === owner;
    });
    return Promise.resolve(held);
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.run('DELETE FROM leases WHERE name = ? AND owner = ?', name, owner);
    return Promise.resolve();
  }

  async outboxStats(now: number): Promise<OutboxStats> {
    const o = this.get(OUTBOX_STATS_SQL);
    const d = this.get(OPEN_DEAD_LETTERS_SQL);
    const q = this.get(QUARANTINE_COUNT_SQL);
    void now;
    return Promise.resolve(toOutboxStats(o, d, q));
  }
}
