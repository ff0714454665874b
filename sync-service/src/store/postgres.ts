import pg from 'pg';
import { POSTGRES } from './dialect.js';
import { quarantineLimit, toQuarantineItem } from './quarantine.js';
import { MIGRATIONS_TABLE_SQL, migrationSql, pendingMigrations } from './migrations.js';
import {
  toAudit,
  toAuditHead,
  toDeadLetter,
  toOutboxItem,
  replayVerdict,
  toQuarantine,
  toRecordState,
  toRun,
  toText,
  toBlockedItem,
  toWatermark,
} from './rows.js';
import * as S from './statements.js';
import { factReads, type FactReads } from './fact-reads.js';
import * as H from './contact-holds.js';
import type {
  AuditBuilder,
  ContactHold,
  ContactHoldInput,
  HoldBlock,
  HoldResolution,
  AuditHead,
  AuditRow,
  BatchCommit,
  CompletedWrite,
  BlockedItem,
  DeadLetter,
  OutboxItem,
  PayloadCipher,
  QuarantineItem,
  QuarantineRecord,
  RecordState,
  RunMode,
  RunRecord,
  RunStatus,
  Store,
  StoredAuditRow,
  Watermark,
} from './types.js';

type Row = Record<string, unknown>;
type Queryable = Pick<pg.PoolClient, 'query'>;

/** Advisory lock keys: serialise migrations and audit-chain appends across instances. */
const MIGRATION_LOCK = 7_301_001;
const AUDIT_LOCK = 7_301_002;

/**
 * The shared store for several instances: PostgreSQL through `pg`. Outbox items are claimed with
 * `FOR UPDATE SKIP LOCKED` under an expiring lease, so two instances never write the same item at once;
 * audit appends take a transaction-scoped advisory lock so the hash chain stays linear. The SQL is
 * shared with the SQLite adapter (statements.ts).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;

  private readonly reads: FactReads;

  constructor(
    connection: string | pg.PoolConfig,
    private readonly cipher: PayloadCipher,
  ) {
    this.reads = factReads(POSTGRES, (q) => this.rows(q), cipher);
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

  private async rows(query: S.Query, q: Queryable = this.pool): Promise<Row[]> {
    return (await q.query<Row>(query.sql, [...query.params])).rows;
  }
  private async first(query: S.Query, q: Queryable = this.pool): Promise<Row | undefined> {
    return (await this.rows(query, q))[0];
  }
  private async run(query: S.Query, q: Queryable = this.pool): Promise<number> {
    return (await q.query(query.sql, [...query.params])).rowCount ?? 0;
  }
  private async lock(client: Queryable, key: number): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1)', [key]);
  }

  async migrate(): Promise<void> {
    await this.withTx(async (client) => {
      await this.lock(client, MIGRATION_LOCK);
      await client.query(MIGRATIONS_TABLE_SQL);
      const applied = new Set((await this.rows(S.selectMigrations(), client)).map((r) => Number(r.version)));
      for (const migration of pendingMigrations(applied)) {
        await client.query(migrationSql('postgres', migration.sql));
        await this.run(S.insertMigration(migration.version, migration.name, Date.now()), client);
      }
    });
  }

  async ping(): Promise<boolean> {
    return (await this.first(S.ping()))?.one === 1;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async getWatermark(stream: string): Promise<Watermark | undefined> {
    const row = await this.first(S.selectWatermark(stream));
    return row ? toWatermark(row) : undefined;
  }

  async listWatermarks(): Promise<Watermark[]> {
    return (await this.rows(S.selectWatermarks())).map(toWatermark);
  }

  async commitBatch(batch: BatchCommit): Promise<void> {
    await this.withTx(async (client) => {
      for (const query of S.batchStatements(POSTGRES, batch, (text) => this.cipher.encrypt(text))) {
        await this.run(query, client);
      }
    });
  }

  async getRecordStates(object: string, externalIds: readonly string[]): Promise<Map<string, RecordState>> {
    const out = new Map<string, RecordState>();
    if (externalIds.length === 0) return out;
    for (const row of await this.rows(S.selectRecordStates(POSTGRES, object, externalIds))) {
      out.set(String(row.external_id), toRecordState(row));
    }
    return out;
  }

  async pendingPayloadHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (externalIds.length === 0) return out;
    for (const row of await this.rows(S.selectPendingHashes(POSTGRES, object, externalIds))) {
      out.set(toText(row.external_id), toText(row.payload_hash));
    }
    return out;
  }

  async listRecordStates(object: string): Promise<RecordState[]> {
    return (await this.rows(S.selectObjectRecordStates(object))).map(toRecordState);
  }

  async forgetRecordStates(object: string, externalIds: readonly string[]): Promise<void> {
    await this.run(S.deleteRecordStates(POSTGRES, object, externalIds));
  }

  async claimOutbox(options: S.ClaimOptions): Promise<OutboxItem[]> {
    const rows = await this.rows(S.claimOutbox(POSTGRES, options));
    return rows.map((row) => toOutboxItem(row, this.cipher)).sort(S.byPriorityThenId);
  }

  async completeWrites(
    writes: readonly CompletedWrite[],
    audit: (previous: AuditHead | null) => AuditRow[],
    now: number,
  ): Promise<void> {
    await this.withTx(async (client) => {
      if (await this.allWrittenElsewhere(writes, client)) return;
      for (const query of S.completeWriteStatements(POSTGRES, writes, now)) await this.run(query, client);
      await this.appendAudit(client, audit);
    });
  }

  private async allWrittenElsewhere(writes: readonly CompletedWrite[], client: Queryable): Promise<boolean> {
    if (writes.length === 0) return false;
    if ((await this.first(S.selectQueuedItem(writes[0]!.outboxId), client)) !== undefined) return false;
    const row = await this.first(S.countWrittenElsewhere(POSTGRES, writes), client);
    return Number(row?.n) === writes.length;
  }

  private async appendAudit(
    client: Queryable,
    build: (previous: AuditHead | null) => AuditRow[],
  ): Promise<void> {
    await this.lock(client, AUDIT_LOCK);
    const last = await this.first(S.selectAuditHead(), client);
    for (const query of S.insertAuditRows(POSTGRES, build(last ? toAuditHead(last) : null)))
      await this.run(query, client);
  }

  async retryLater(
    outboxId: string,
    update: { attempts: number; nextAttemptAt: number; errorCode: string; payloadHash?: string },
  ): Promise<void> {
    await this.withTx(async (client) => {
      if (await this.replaced(client, outboxId, update.payloadHash)) return;
      await this.run(S.retryOutbox(outboxId, update), client);
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
    return (await this.run(S.releaseReplacedOutbox(outboxId, payloadHash), client)) > 0;
  }

  async deadLetter(
    outboxId: string,
    error: S.DeadLetterError & { payloadHash?: string },
    now: number,
  ): Promise<boolean> {
    return this.withTx(async (client) => {
      if (await this.replaced(client, outboxId, error.payloadHash)) return false;
      await this.run(S.moveToDeadLetters(outboxId, error, now), client);
      return (await this.run(S.deleteOutbox(outboxId), client)) > 0;
    });
  }

  async listDeadLetters(options: { limit?: number; includeReplayed?: boolean } = {}): Promise<DeadLetter[]> {
    const rows = await this.rows(
      S.selectDeadLetters(options.includeReplayed === true, options.limit ?? 1000),
    );
    return rows.map((r) => toDeadLetter(r, this.cipher));
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const row = await this.first(S.selectDeadLetter(id));
    return row ? toDeadLetter(row, this.cipher) : undefined;
  }

  async replayDeadLetter(id: string, now: number, runId: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return false;
    return this.withTx(async (client) => {
      const letter = await this.first(S.lockOpenDeadLetter(POSTGRES, id), client);
      if (!letter) return false;
      const object = toText(letter.object);
      const externalId = toText(letter.external_id);
      const verdict = replayVerdict(
        letter,
        await this.first(S.selectRecordState(object, externalId), client),
        await this.first(S.selectQueuedFor(object, externalId), client),
      );
      if (verdict.requeue) await this.run(S.requeueDeadLetter(id, runId, now), client);
      await this.run(S.markReplayed(id, now, verdict.requeue ? 'requeued' : verdict.outcome), client);
      return true;
    });
  }

  async openDeadLetterHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (externalIds.length === 0) return out;
    for (const row of await this.rows(S.selectOpenDeadLetterHashes(POSTGRES, object, externalIds))) {
      out.set(toText(row.external_id), toText(row.payload_hash));
    }
    return out;
  }

  async blockOutbox(outboxId: string, parentKey: string, payloadHash: string): Promise<void> {
    await this.run(S.blockOutbox(outboxId, parentKey, payloadHash));
  }

  async markPublishing(outboxIds: readonly string[], now: number): Promise<void> {
    if (outboxIds.length > 0) await this.run(S.markPublishing(POSTGRES, outboxIds, now));
  }

  async unwrittenFailedPatients(patientIds: readonly string[]): Promise<Set<string>> {
    if (patientIds.length === 0) return new Set();
    const ids = async (query: S.Query, column: string) =>
      (await this.rows(query)).map((r) => toText(r[column]));
    const written = new Set(await ids(S.selectWrittenContacts(POSTGRES, patientIds), 'external_id'));
    const failed = [
      ...(await ids(S.selectQuarantinedPatients(POSTGRES, patientIds), 'record_id')),
      ...(await ids(S.selectDeadLetteredContacts(POSTGRES, patientIds), 'external_id')),
    ];
    const held = await ids(H.selectHeldPatients(POSTGRES, patientIds), 'patient_id');
    return new Set([...failed.filter((p) => !written.has(p)), ...held]);
  }

  async holdContact(hold: ContactHoldInput, block: HoldBlock | null, audit: AuditBuilder, now: number) {
    return this.withTx(async (client) => {
      const open = await this.first(H.selectOpenContactHold(POSTGRES, hold.patientId), client);
      const plan = H.holdStatements(open, hold, block, now);
      for (const query of plan.queries) await this.run(query, client);
      if (plan.fresh) await this.appendAudit(client, audit);
      return plan.fresh;
    });
  }

  async listContactHolds(options: Parameters<Store['listContactHolds']>[0] = {}): Promise<ContactHold[]> {
    if (options.patientIds?.length === 0) return [];
    return (await this.rows(H.selectContactHolds(POSTGRES, options))).map(H.toContactHold);
  }

  async resolveContactHold(patientId: string, r: HoldResolution, audit: AuditBuilder, now: number) {
    return this.withTx(async (client) => {
      const open = await this.first(H.selectOpenContactHold(POSTGRES, patientId), client);
      if (!open) return undefined;
      for (const query of H.resolveStatements(POSTGRES, patientId, r, now)) await this.run(query, client);
      await this.appendAudit(client, audit);
      return H.toContactHold(open);
    });
  }

  async listBlocked(options: { limit?: number } = {}): Promise<BlockedItem[]> {
    return (await this.rows(S.selectBlockedOutbox(POSTGRES, options.limit ?? 1000))).map(toBlockedItem);
  }

  async listQuarantine(
    options: { limit?: number } = {},
  ): Promise<{ items: QuarantineItem[]; total: number }> {
    const rows = await this.rows(S.selectQuarantineItems(quarantineLimit(options.limit)));
    const total = await this.first(S.countQuarantine());
    return { items: rows.map(toQuarantineItem), total: Number(total?.n ?? 0) };
  }

  async releaseQuarantine(resource: string, recordIds: readonly string[]): Promise<number> {
    return recordIds.length === 0 ? 0 : this.run(S.deleteQuarantine(POSTGRES, resource, recordIds));
  }

  async listQuarantinePayloads(options: { limit?: number } = {}): Promise<QuarantineRecord[]> {
    return (await this.rows(S.selectQuarantine(options.limit ?? 1000))).map((r) =>
      toQuarantine(r, this.cipher),
    );
  }

  // Facts, journey states, announced events, signposts, the reminder index, the outbox's statistics,
  // the reference lists (fact-reads.ts, shared).
  readonly listFacts: FactReads['listFacts'] = (ids) => this.reads.listFacts(ids);
  readonly listFactPatientIds: FactReads['listFactPatientIds'] = (...a) =>
    this.reads.listFactPatientIds(...a);
  readonly listJourneyDue: FactReads['listJourneyDue'] = (...a) => this.reads.listJourneyDue(...a);
  readonly readJourneyChunk: FactReads['readJourneyChunk'] = (...a) => this.reads.readJourneyChunk(...a);
  readonly getFacts: FactReads['getFacts'] = (resource, ids) => this.reads.getFacts(resource, ids);
  readonly listResourceFacts: FactReads['listResourceFacts'] = (resource, after, limit) =>
    this.reads.listResourceFacts(resource, after, limit);
  readonly announcedEvents: FactReads['announcedEvents'] = (keys) => this.reads.announcedEvents(keys);
  readonly getSignpost: FactReads['getSignpost'] = (name) => this.reads.getSignpost(name);
  readonly outboxStats: FactReads['outboxStats'] = (now) => this.reads.outboxStats(now);
  readonly getReferenceLists: FactReads['getReferenceLists'] = (name) => this.reads.getReferenceLists(name);
  readonly saveReferenceLists: FactReads['saveReferenceLists'] = (...a) =>
    this.reads.saveReferenceLists(...a);
  readonly dueReminders: FactReads['dueReminders'] = (now, limit) => this.reads.dueReminders(now, limit);
  readonly remindersFingerprint: FactReads['remindersFingerprint'] = () => this.reads.remindersFingerprint();
  readonly getJourneyState: FactReads['getJourneyState'] = (patientId) =>
    this.reads.getJourneyState(patientId);
  readonly getJourneyStates: FactReads['getJourneyStates'] = (...a) => this.reads.getJourneyStates(...a);
  readonly listJourneyStates: FactReads['listJourneyStates'] = () => this.reads.listJourneyStates();

  async startRun(run: { id: string; mode: RunMode; startedAt: number; dataMapHash: string }): Promise<void> {
    await this.run(S.insertRun(run));
  }

  async finishRun(run: {
    id: string;
    status: RunStatus;
    finishedAt: number;
    counts: string;
    error: string | null;
  }): Promise<void> {
    await this.run(S.finishRun(run));
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    return (await this.rows(S.selectRuns(options.limit ?? 50))).map(toRun);
  }

  async lastAuditRow(): Promise<StoredAuditRow | undefined> {
    const row = await this.first(S.selectLastAudit());
    return row ? toAudit(row) : undefined;
  }

  async listAudit(
    options: { externalId?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<StoredAuditRow[]> {
    return (await this.rows(S.selectAudit(options))).map(toAudit);
  }

  async pruneAudit(
    before: number,
    record: (previous: AuditHead | null, pruned: number) => AuditRow,
  ): Promise<number> {
    return this.withTx(async (client) => {
      await this.lock(client, AUDIT_LOCK);
      const count = await this.run(S.deleteAuditBefore(before), client);
      await this.appendAudit(client, (prev) => [record(prev, count)]);
      return count;
    });
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    return (await this.first(S.acquireLease(name, owner, ttlMs, now)))?.owner === owner;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.run(S.releaseLease(name, owner));
  }

  async renewLeases(
    owner: string,
    until: { outboxUntil: number; namedUntil: number },
  ): Promise<{ outbox: number; named: number }> {
    return {
      outbox: await this.run(S.renewOutboxLeases(owner, until.outboxUntil)),
      named: await this.run(S.renewNamedLeases(owner, until.namedUntil)),
    };
  }

  async holdOutboxItems(owner: string, ids: readonly string[], until: number, keepIfPast = until) {
    const held = new Set<string>();
    if (ids.length === 0) return held;
    for (const query of S.holdOutboxItems(POSTGRES, owner, ids, { until, keepIfPast }))
      for (const row of await this.rows(query)) held.add(String(row.id));
    return held;
  }

  async releaseLeases(
    which: { owner: string; ids?: readonly string[] } | { ownerPrefix: string },
  ): Promise<{ outbox: number; named: number }> {
    if ('ids' in which && which.ids !== undefined) {
      const ids = which.ids;
      const outbox =
        ids.length === 0 ? 0 : await this.run(S.releaseOutboxItemsOfOwner(POSTGRES, which.owner, ids));
      return { outbox, named: 0 };
    }
    return this.withTx(async (client) =>
      'owner' in which
        ? {
            outbox: await this.run(S.releaseOutboxOfOwner(which.owner), client),
            named: await this.run(S.releaseLeasesOfOwner(which.owner), client),
          }
        : {
            outbox: await this.run(S.releaseOutboxByOwnerPrefix(which.ownerPrefix), client),
            named: await this.run(S.releaseLeasesByOwnerPrefix(which.ownerPrefix), client),
          },
    );
  }
}
