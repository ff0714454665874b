import pg from 'pg';
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

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;

/** Advisory lock keys: serialise migrations and audit-chain appends across instances. */
const MIGRATION_LOCK = 7_301_001;
const AUDIT_LOCK = 7_301_002;

/**
 * The shared store for several instances: PostgreSQL through `pg`. Outbox items are claimed with
 * `FOR UPDATE SKIP LOCKED` under an expiring lease, so two instances never write the same item at once;
 * audit appends take a transaction-scoped advisory lock so the hash chain stays linear.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(
    connection: string | pg.PoolConfig,
    private readonly cipher: PayloadCipher,
  ) {
    this.pool = new pg.Pool(
      typeof connection === 'string' ? { connectionString: connection, max: 5 } : connection,
    );
    // An idle client that loses its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  private async withTx<T>(fn: (client: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async rows(sql: string, params: unknown[] = [], q: Queryable = this.pool): Promise<Row[]> {
    const result = await q.query<Row>(sql, params);
    return result.rows;
  }

  async migrate(): Promise<void> {
    await this.withTx(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(MIGRATIONS_TABLE_SQL);
      const applied = new Set(
        (await this.rows('SELECT version FROM schema_migrations', [], client)).map((r) => Number(r.version)),
      );
      for (const migration of pendingMigrations(applied)) {
        await client.query(migrationSql('postgres', migration.sql));
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      }
    });
  }

  async ping(): Promise<boolean> {
    const [row] = await this.rows('SELECT 1 AS one');
    return row?.one === 1;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async getWatermark(stream: string): Promise<Watermark | undefined> {
    const [row] = await this.rows('SELECT stream, cursor, updated_at FROM watermarks WHERE stream = $1', [
      stream,
    ]);
    return row ? toWatermark(row) : undefined;
  }

  async listWatermarks(): Promise<Watermark[]> {
    return (await this.rows('SELECT stream, cursor, updated_at FROM watermarks ORDER BY stream')).map(
      toWatermark,
    );
  }

  async commitBatch(batch: BatchCommit): Promise<void> {
    await this.withTx(async (client) => {
      for (const item of batch.outbox ?? []) {
        await client.query(
          `INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, next_attempt_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)
           ON CONFLICT (object, external_id) DO UPDATE SET
             operation = EXCLUDED.operation, payload = EXCLUDED.payload, payload_hash = EXCLUDED.payload_hash,
             run_id = EXCLUDED.run_id, priority = EXCLUDED.priority, attempts = 0,
             next_attempt_at = EXCLUDED.next_attempt_at, last_error_code = NULL`,
          [
            item.object,
            item.externalId,
            item.operation,
            Buffer.from(this.cipher.encrypt(item.payload)),
            item.payloadHash,
            item.runId,
            item.priority ?? 100,
            batch.now,
          ],
        );
      }
      for (const q of batch.quarantine ?? []) {
        await client.query(
          `INSERT INTO quarantine (resource, record_id, field, reason, payload, run_id, created_at, first_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
           ON CONFLICT (resource, record_id, field) DO UPDATE SET reason = EXCLUDED.reason, payload = EXCLUDED.payload,
             run_id = EXCLUDED.run_id, created_at = EXCLUDED.created_at`,
          [
            q.resource,
            q.recordId,
            q.field,
            q.reason,
            Buffer.from(this.cipher.encrypt(q.payload)),
            q.runId,
            batch.now,
          ],
        );
      }
      for (const js of batch.journeyStates ?? []) {
        await client.query(
          `INSERT INTO journey_state (patient_id, state, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (patient_id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
          [js.patientId, js.state, batch.now],
        );
      }
      for (const f of batch.facts ?? []) {
        await client.query(
          `INSERT INTO facts (resource, id, patient_id, data, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (resource, id) DO UPDATE SET patient_id = EXCLUDED.patient_id, data = EXCLUDED.data,
             updated_at = EXCLUDED.updated_at`,
          [f.resource, f.id, f.patientId, Buffer.from(this.cipher.encrypt(f.data)), batch.now],
        );
      }
      if (batch.watermark !== undefined) {
        await client.query(
          `INSERT INTO watermarks (stream, cursor, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at`,
          [batch.stream, batch.watermark, batch.now],
        );
      }
    });
  }

  async getRecordStates(object: string, externalIds: readonly string[]): Promise<Map<string, RecordState>> {
    const out = new Map<string, RecordState>();
    if (externalIds.length === 0) return out;
    const rows = await this.rows(
      `SELECT object, external_id, salesforce_id, payload_hash, updated_at FROM record_state
       WHERE object = $1 AND external_id = ANY($2::text[])`,
      [object, [...externalIds]],
    );
    for (const row of rows) out.set(String(row.external_id), toRecordState(row));
    return out;
  }

  async pendingPayloadHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (externalIds.length === 0) return out;
    const rows = await this.rows(
      'SELECT external_id, payload_hash FROM outbox WHERE object = $1 AND external_id = ANY($2::text[])',
      [object, [...externalIds]],
    );
    for (const row of rows) out.set(toText(row.external_id), toText(row.payload_hash));
    return out;
  }

  async listRecordStates(object: string): Promise<RecordState[]> {
    return (
      await this.rows(
        'SELECT object, external_id, salesforce_id, payload_hash, updated_at FROM record_state WHERE object = $1 ORDER BY external_id',
        [object],
      )
    ).map(toRecordState);
  }

  async forgetRecordStates(object: string, externalIds: readonly string[]): Promise<void> {
    await this.rows('DELETE FROM record_state WHERE object = $1 AND external_id = ANY($2::text[])', [
      object,
      [...externalIds],
    ]);
  }

  async claimOutbox(options: {
    owner: string;
    limit: number;
    leaseMs: number;
    now: number;
    objects?: readonly string[];
  }): Promise<OutboxItem[]> {
    const filter = options.objects?.length ? 'AND object = ANY($5::text[])' : '';
    const params: unknown[] = [options.owner, options.now + options.leaseMs, options.now, options.limit];
    if (options.objects?.length) params.push([...options.objects]);
    const rows = await this.rows(
      `UPDATE outbox SET lease_owner = $1, lease_expires_at = $2
       WHERE id IN (
         SELECT id FROM outbox
         WHERE next_attempt_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3) ${filter}
         ORDER BY priority, id LIMIT $4
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      params,
    );
    return rows
      .map((row) => toOutboxItem(row, this.cipher))
      .sort((a, b) => (a.priority ?? 100) - (b.priority ?? 100) || Number(a.id) - Number(b.id));
  }

  async completeWrites(
    writes: readonly CompletedWrite[],
    audit: (previous: AuditHead | null) => AuditRow[],
    now: number,
  ): Promise<void> {
    await this.withTx(async (client) => {
      for (const w of writes) {
        const removed = await client.query('DELETE FROM outbox WHERE id = $1 AND payload_hash = $2', [
          w.outboxId,
          w.payloadHash,
        ]);
        if (removed.rowCount === 0) {
          // A newer payload replaced this one while it was in flight: release it so it is written next.
          await client.query('UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1', [
            w.outboxId,
          ]);
        }
        await client.query(
          `INSERT INTO record_state (object, external_id, salesforce_id, payload_hash, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (object, external_id) DO UPDATE SET
             salesforce_id = COALESCE(EXCLUDED.salesforce_id, record_state.salesforce_id),
             payload_hash = EXCLUDED.payload_hash, updated_at = EXCLUDED.updated_at`,
          [w.object, w.externalId, w.salesforceId, w.payloadHash, now],
        );
      }
      await this.appendAudit(client, audit);
    });
  }

  private async appendAudit(
    client: Queryable,
    build: (previous: AuditHead | null) => AuditRow[],
  ): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
    const [last] = await this.rows('SELECT hash, entry FROM audit_log ORDER BY seq DESC LIMIT 1', [], client);
    for (const row of build(last ? toAuditHead(last) : null)) {
      await client.query(
        'INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry) VALUES ($1, $2, $3, $4, $5, $6)',
        [row.hash, row.prevHash, row.object, row.externalId, row.createdAt, row.entry],
      );
    }
  }

  async retryLater(
    outboxId: string,
    update: { attempts: number; nextAttemptAt: number; errorCode: string; payloadHash?: string },
  ): Promise<void> {
    await this.withTx(async (client) => {
      if (await this.replaced(client, outboxId, update.payloadHash)) return;
      await client.query(
        'UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error_code = $3, lease_owner = NULL, lease_expires_at = NULL WHERE id = $4',
        [update.attempts, update.nextAttemptAt, update.errorCode, outboxId],
      );
    });
  }

  /**
   * True (and the item released) when a newer payload replaced the one that failed while it was in
   * flight: the failure belongs to the old payload, the new one is written next with its own attempts.
   */
  private async replaced(
    client: Queryable,
    outboxId: string,
    payloadHash: string | undefined,
  ): Promise<boolean> {
    if (payloadHash === undefined) return false;
    const released = await client.query(
      'UPDATE outbox SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND payload_hash <> $2',
      [outboxId, payloadHash],
    );
    return (released.rowCount ?? 0) > 0;
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
    return this.withTx(async (client) => {
      if (await this.replaced(client, outboxId, error.payloadHash)) return false;
      await client.query(
        `INSERT INTO dead_letters (object, external_id, operation, payload, payload_hash, error_code, error_message, upstream_code, attempts, run_id, created_at)
         SELECT object, external_id, operation, payload, payload_hash, $2, $3, $4, $5, run_id, $6 FROM outbox WHERE id = $1`,
        [outboxId, error.code, error.message, error.upstreamCode, error.attempts, now],
      );
      const removed = await client.query('DELETE FROM outbox WHERE id = $1', [outboxId]);
      return (removed.rowCount ?? 0) > 0;
    });
  }

  async listDeadLetters(options: { limit?: number; includeReplayed?: boolean } = {}): Promise<DeadLetter[]> {
    const where = options.includeReplayed ? '' : 'WHERE replayed_at IS NULL';
    return (
      await this.rows(`SELECT * FROM dead_letters ${where} ORDER BY id LIMIT $1`, [options.limit ?? 1000])
    ).map((r) => toDeadLetter(r, this.cipher));
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const [row] = await this.rows('SELECT * FROM dead_letters WHERE id = $1', [id]);
    return row ? toDeadLetter(row, this.cipher) : undefined;
  }

  async replayDeadLetter(id: string, now: number, runId: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return false;
    return this.withTx(async (client) => {
      const [row] = await this.rows(
        'SELECT * FROM dead_letters WHERE id = $1 AND replayed_at IS NULL FOR UPDATE',
        [id],
        client,
      );
      if (!row) return false;
      await client.query(
        `INSERT INTO outbox (object, external_id, operation, payload, payload_hash, run_id, priority, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 100, 0, $7, $7)
         ON CONFLICT (object, external_id) DO NOTHING`,
        [row.object, row.external_id, row.operation, row.payload, row.payload_hash, runId, now],
      );
      await client.query('UPDATE dead_letters SET replayed_at = $1 WHERE id = $2', [now, id]);
      return true;
    });
  }

  async listQuarantine(
    options: { limit?: number } = {},
  ): Promise<{ items: QuarantineItem[]; total: number }> {
    const rows = await this.rows(quarantineListSql('$1'), [quarantineLimit(options.limit)]);
    const [total] = await this.rows(QUARANTINE_TOTAL_SQL);
    return { items: rows.map(toQuarantineItem), total: Number(total?.n ?? 0) };
  }

  async releaseQuarantine(resource: string, recordIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < recordIds.length; i += 500) {
      const ids = recordIds.slice(i, i + 500);
      const result = await this.pool.query(
        quarantineReleaseSql(
          '$1',
          ids.map((_, n) => `$${n + 2}`),
        ),
        [resource, ...ids],
      );
      deleted += result.rowCount ?? 0;
    }
    return deleted;
  }

  async listQuarantinePayloads(options: { limit?: number } = {}): Promise<QuarantineRecord[]> {
    return (await this.rows('SELECT * FROM quarantine ORDER BY id LIMIT $1', [options.limit ?? 1000])).map(
      (r) => toQuarantine(r, this.cipher),
    );
  }

  async listFacts(patientIds: readonly string[]): Promise<FactInput[]> {
    if (patientIds.length === 0) return [];
    const rows = await this.rows(
      'SELECT resource, id, patient_id, data FROM facts WHERE patient_id = ANY($1::text[]) ORDER BY resource, id',
      [[...patientIds]],
    );
    return rows.map((row) => toFact(row, this.cipher));
  }

  async listFactPatientIds(): Promise<string[]> {
    return (await this.rows('SELECT DISTINCT patient_id FROM facts ORDER BY patient_id')).map((r) =>
      toText(r.patient_id),
    );
  }

  async getJourneyState(patientId: string): Promise<JourneyStateRow | undefined> {
    const [row] = await this.rows(
      'SELECT patient_id, state, updated_at FROM journey_state WHERE patient_id = $1',
      [patientId],
    );
    return row ? toJourneyState(row) : undefined;
  }

  async listJourneyStates(): Promise<JourneyStateRow[]> {
    return (
      await this.rows('SELECT patient_id, state, updated_at FROM journey_state ORDER BY patient_id')
    ).map(toJourneyState);
  }

  async startRun(run: { id: string; mode: RunMode; startedAt: number; dataMapHash: string }): Promise<void> {
    await this.rows(
      "INSERT INTO runs (id, mode, status, started_at, data_map_hash) VALUES ($1, $2, 'running', $3, $4)",
      [run.id, run.mode, run.startedAt, run.dataMapHash],
    );
  }

  async finishRun(run: {
    id: string;
    status: RunStatus;
    finishedAt: number;
    counts: string;
    error: string | null;
  }): Promise<void> {
    await this.rows('UPDATE runs SET status = $1, finished_at = $2, counts = $3, error = $4 WHERE id = $5', [
      run.status,
      run.finishedAt,
      run.counts,
      run.error,
      run.id,
    ]);
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    return (
      await this.rows('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT $1', [options.limit ?? 50])
    ).map(toRun);
  }

  async lastAuditRow(): Promise<StoredAuditRow | undefined> {
    const [row] = await this.rows('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1');
    return row ? toAudit(row) : undefined;
  }

  async listAudit(
    options: { externalId?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<StoredAuditRow[]> {
    const params: unknown[] = [options.afterSeq ?? 0];
    let where = 'seq > $1';
    if (options.externalId !== undefined) {
      params.push(options.externalId);
      where += ` AND external_id = $${params.length}`;
    }
    params.push(options.limit ?? 10_000);
    return (
      await this.rows(`SELECT * FROM audit_log WHERE ${where} ORDER BY seq LIMIT $${params.length}`, params)
    ).map(toAudit);
  }

  async pruneAudit(
    before: number,
    record: (previous: AuditHead | null, pruned: number) => AuditRow,
  ): Promise<number> {
    return this.withTx(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const result = await client.query('DELETE FROM audit_log WHERE created_at < $1', [before]);
      const count = result.rowCount ?? 0;
      await this.appendAudit(client, (prev) => [record(prev, count)]);
      return count;
    });
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const rows = await this.rows(
      `INSERT INTO leases (name, owner, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
       WHERE leases.owner = EXCLUDED.owner OR leases.expires_at <= $4
       RETURNING owner`,
      [name, owner, now + ttlMs, now],
    );
    return rows[0]?.owner === owner;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.rows('DELETE FROM leases WHERE name = $1 AND owner = $2', [name, owner]);
  }

  async outboxStats(_now: number): Promise<OutboxStats> {
    const [o] = await this.rows(OUTBOX_STATS_SQL);
    const [d] = await this.rows(OPEN_DEAD_LETTERS_SQL);
    const [q] = await this.rows(QUARANTINE_COUNT_SQL);
    return toOutboxStats(o, d, q);
  }
}
