import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { SQLITE, sqlitePlaceholders } from './dialect.js';
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

type Row = Record<string, SQLInputValue>;

// The driver is synchronous; the methods are async so that every failure reaches the caller as a
// rejected promise, exactly as with PostgreSQL.

/**
 * The embedded store: one SQLite file in WAL mode through node:sqlite (no native addon).
 * Every method runs synchronously inside its own transaction, so no two transactions interleave on the
 * connection even though the interface is async. One process owns the file; several instances need
 * PostgreSQL. The SQL is shared with the PostgreSQL adapter (statements.ts).
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: DatabaseSync;

  private readonly reads: FactReads;

  constructor(
    path: string,
    private readonly cipher: PayloadCipher,
  ) {
    this.reads = factReads(SQLITE, (q) => Promise.resolve(this.all(q)), cipher);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // The busy timeout first: switching to WAL needs a lock, and another connection (a CLI command, a
    // process that was just killed and is still letting go) may hold one for a moment.
    this.db = new DatabaseSync(path, { timeout: 5_000 });
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    // Within a run, a checkpoint every 10,000 WAL pages (40 MB) instead of 1,000: each copies the pages
    // changed since the last one into the file and syncs both, holding the thread, and a backfill
    // changes the same index pages commit after commit (docs/benchmarks.md). Every run ends with one
    // (finishRun), so what a power loss can roll back stays within the run in progress.
    this.db.exec('PRAGMA wal_autocheckpoint = 10000');
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

  /**
   * Prepared statements by SQL text, reused (issue #16: preparing every row's statement again was a
   * large share of a backfill's store time). The statements are a fixed set (statements.ts binds lists
   * as one parameter), so the cache stays small; it is emptied if it ever grows past a bound.
   */
  private readonly statements = new Map<string, StatementSync>();

  private prepare(query: S.Query): { run: () => number; all: () => Row[] } {
    let statement = this.statements.get(query.sql);
    if (statement === undefined) {
      if (this.statements.size >= 500) this.statements.clear();
      statement = this.db.prepare(sqlitePlaceholders(query.sql));
      this.statements.set(query.sql, statement);
    }
    const params = query.params as SQLInputValue[];
    return { run: () => Number(statement.run(...params).changes), all: () => statement.all(...params) };
  }
  private all(query: S.Query): Row[] {
    return this.prepare(query).all();
  }
  private get(query: S.Query): Row | undefined {
    return this.all(query)[0];
  }
  private run(query: S.Query): number {
    return this.prepare(query).run();
  }

  async migrate(): Promise<void> {
    this.db.exec(MIGRATIONS_TABLE_SQL);
    const applied = new Set(this.all(S.selectMigrations()).map((r) => Number(r.version)));
    for (const migration of pendingMigrations(applied)) {
      this.tx(() => {
        this.db.exec(migrationSql('sqlite', migration.sql));
        this.run(S.insertMigration(migration.version, migration.name, Date.now()));
      });
    }
    return Promise.resolve();
  }

  async ping(): Promise<boolean> {
    return Promise.resolve(this.get(S.ping())?.one === 1);
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
    return Promise.resolve();
  }

  async getWatermark(stream: string): Promise<Watermark | undefined> {
    const row = this.get(S.selectWatermark(stream));
    return Promise.resolve(row ? toWatermark(row) : undefined);
  }

  async listWatermarks(): Promise<Watermark[]> {
    return Promise.resolve(this.all(S.selectWatermarks()).map(toWatermark));
  }

  async commitBatch(batch: BatchCommit): Promise<void> {
    this.tx(() => {
      for (const query of S.batchStatements(SQLITE, batch, (text) => this.cipher.encrypt(text)))
        this.run(query);
    });
    return Promise.resolve();
  }

  async getRecordStates(object: string, externalIds: readonly string[]): Promise<Map<string, RecordState>> {
    const out = new Map<string, RecordState>();
    if (externalIds.length === 0) return Promise.resolve(out);
    for (const row of this.all(S.selectRecordStates(SQLITE, object, externalIds))) {
      const state = toRecordState(row);
      out.set(state.externalId, state);
    }
    return Promise.resolve(out);
  }

  async pendingPayloadHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (externalIds.length === 0) return Promise.resolve(out);
    for (const row of this.all(S.selectPendingHashes(SQLITE, object, externalIds))) {
      out.set(toText(row.external_id), toText(row.payload_hash));
    }
    return Promise.resolve(out);
  }

  async listRecordStates(object: string): Promise<RecordState[]> {
    return Promise.resolve(this.all(S.selectObjectRecordStates(object)).map(toRecordState));
  }

  async forgetRecordStates(object: string, externalIds: readonly string[]): Promise<void> {
    this.tx(() => this.run(S.deleteRecordStates(SQLITE, object, externalIds)));
    return Promise.resolve();
  }

  async claimOutbox(options: S.ClaimOptions): Promise<OutboxItem[]> {
    const rows = this.tx(() => this.all(S.claimOutbox(SQLITE, options)));
    return Promise.resolve(rows.map((row) => toOutboxItem(row, this.cipher)).sort(S.byPriorityThenId));
  }

  async completeWrites(
    writes: readonly CompletedWrite[],
    audit: (previous: AuditHead | null) => AuditRow[],
    now: number,
  ): Promise<void> {
    this.tx(() => {
      if (
        writes.length > 0 &&
        this.get(S.selectQueuedItem(writes[0]!.outboxId)) === undefined &&
        Number(this.get(S.countWrittenElsewhere(SQLITE, writes))?.n) === writes.length
      )
        return;
      for (const query of S.completeWriteStatements(SQLITE, writes, now)) this.run(query);
      this.appendAudit(audit);
    });
    return Promise.resolve();
  }

  private appendAudit(build: (previous: AuditHead | null) => AuditRow[]): void {
    const last = this.get(S.selectAuditHead());
    for (const query of S.insertAuditRows(SQLITE, build(last ? toAuditHead(last) : null))) this.run(query);
  }

  async retryLater(
    outboxId: string,
    update: { attempts: number; nextAttemptAt: number; errorCode: string; payloadHash?: string },
  ): Promise<void> {
    this.tx(() => {
      if (!this.replaced(outboxId, update.payloadHash)) this.run(S.retryOutbox(outboxId, update));
    });
    return Promise.resolve();
  }

  /**
   * True (and the item released) when a newer payload replaced the one that failed while it was in
   * flight: the failure belongs to the old payload, the new one is written next with its own attempts.
   */
  private replaced(outboxId: string, payloadHash: string | undefined): boolean {
    return payloadHash !== undefined && this.run(S.releaseReplacedOutbox(outboxId, payloadHash)) > 0;
  }

  async deadLetter(
    outboxId: string,
    error: S.DeadLetterError & { payloadHash?: string },
    now: number,
  ): Promise<boolean> {
    const moved = this.tx(() => {
      if (this.replaced(outboxId, error.payloadHash)) return false;
      this.run(S.moveToDeadLetters(outboxId, error, now));
      return this.run(S.deleteOutbox(outboxId)) > 0;
    });
    return Promise.resolve(moved);
  }

  async listDeadLetters(options: { limit?: number; includeReplayed?: boolean } = {}): Promise<DeadLetter[]> {
    const rows = this.all(S.selectDeadLetters(options.includeReplayed === true, options.limit ?? 1000));
    return Promise.resolve(rows.map((r) => toDeadLetter(r, this.cipher)));
  }

  async getDeadLetter(id: string): Promise<DeadLetter | undefined> {
    const row = /^\d+$/.test(id) ? this.get(S.selectDeadLetter(id)) : undefined;
    return Promise.resolve(row ? toDeadLetter(row, this.cipher) : undefined);
  }

  async replayDeadLetter(id: string, now: number, runId: string): Promise<boolean> {
    if (!/^\d+$/.test(id)) return Promise.resolve(false);
    const replayed = this.tx(() => {
      const letter = this.get(S.lockOpenDeadLetter(SQLITE, id));
      if (!letter) return false;
      const object = toText(letter.object);
      const externalId = toText(letter.external_id);
      const verdict = replayVerdict(
        letter,
        this.get(S.selectRecordState(object, externalId)),
        this.get(S.selectQueuedFor(object, externalId)),
      );
      if (verdict.requeue) this.run(S.requeueDeadLetter(id, runId, now));
      this.run(S.markReplayed(id, now, verdict.requeue ? 'requeued' : verdict.outcome));
      return true;
    });
    return Promise.resolve(replayed);
  }

  async openDeadLetterHashes(object: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (externalIds.length === 0) return Promise.resolve(out);
    for (const row of this.all(S.selectOpenDeadLetterHashes(SQLITE, object, externalIds))) {
      out.set(toText(row.external_id), toText(row.payload_hash));
    }
    return Promise.resolve(out);
  }

  async blockOutbox(outboxId: string, parentKey: string, payloadHash: string): Promise<void> {
    this.tx(() => this.run(S.blockOutbox(outboxId, parentKey, payloadHash)));
    return Promise.resolve();
  }

  async markPublishing(outboxIds: readonly string[], now: number): Promise<void> {
    if (outboxIds.length > 0) this.tx(() => this.run(S.markPublishing(SQLITE, outboxIds, now)));
    return Promise.resolve();
  }

  async unwrittenFailedPatients(patientIds: readonly string[]): Promise<Set<string>> {
    if (patientIds.length === 0) return Promise.resolve(new Set());
    const ids = (query: S.Query, column: string) => this.all(query).map((r) => toText(r[column]));
    const written = new Set(ids(S.selectWrittenContacts(SQLITE, patientIds), 'external_id'));
    const failed = [
      ...ids(S.selectQuarantinedPatients(SQLITE, patientIds), 'record_id'),
      ...ids(S.selectDeadLetteredContacts(SQLITE, patientIds), 'external_id'),
    ];
    const held = ids(H.selectHeldPatients(SQLITE, patientIds), 'patient_id');
    return Promise.resolve(new Set([...failed.filter((p) => !written.has(p)), ...held]));
  }

  async holdContact(hold: ContactHoldInput, block: HoldBlock | null, audit: AuditBuilder, now: number) {
    const fresh = this.tx(() => {
      const open = this.get(H.selectOpenContactHold(SQLITE, hold.patientId));
      const plan = H.holdStatements(open, hold, block, now);
      for (const query of plan.queries) this.run(query);
      if (plan.fresh) this.appendAudit(audit);
      return plan.fresh;
    });
    return Promise.resolve(fresh);
  }

  async listContactHolds(options: Parameters<Store['listContactHolds']>[0] = {}): Promise<ContactHold[]> {
    if (options.patientIds?.length === 0) return Promise.resolve([]);
    return Promise.resolve(this.all(H.selectContactHolds(SQLITE, options)).map(H.toContactHold));
  }

  async resolveContactHold(patientId: string, r: HoldResolution, audit: AuditBuilder, now: number) {
    const resolved = this.tx(() => {
      const open = this.get(H.selectOpenContactHold(SQLITE, patientId));
      if (!open) return undefined;
      for (const query of H.resolveStatements(SQLITE, patientId, r, now)) this.run(query);
      this.appendAudit(audit);
      return H.toContactHold(open);
    });
    return Promise.resolve(resolved);
  }

  async listBlocked(options: { limit?: number } = {}): Promise<BlockedItem[]> {
    return Promise.resolve(this.all(S.selectBlockedOutbox(SQLITE, options.limit ?? 1000)).map(toBlockedItem));
  }

  async listQuarantine(
    options: { limit?: number } = {},
  ): Promise<{ items: QuarantineItem[]; total: number }> {
    const items = this.all(S.selectQuarantineItems(quarantineLimit(options.limit))).map(toQuarantineItem);
    return Promise.resolve({ items, total: Number(this.get(S.countQuarantine())?.n ?? 0) });
  }

  async releaseQuarantine(resource: string, recordIds: readonly string[]): Promise<number> {
    return Promise.resolve(
      recordIds.length === 0 ? 0 : this.run(S.deleteQuarantine(SQLITE, resource, recordIds)),
    );
  }

  async listQuarantinePayloads(options: { limit?: number } = {}): Promise<QuarantineRecord[]> {
    const rows = this.all(S.selectQuarantine(options.limit ?? 1000));
    return Promise.resolve(rows.map((r) => toQuarantine(r, this.cipher)));
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
    this.run(S.insertRun(run));
    return Promise.resolve();
  }

  async finishRun(run: {
    id: string;
    status: RunStatus;
    finishedAt: number;
    counts: string;
    error: string | null;
  }): Promise<void> {
    this.run(S.finishRun(run));
    // The run's end is on disk: the WAL synced and copied into the file (see the constructor).
    this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    return Promise.resolve();
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    return Promise.resolve(this.all(S.selectRuns(options.limit ?? 50)).map(toRun));
  }

  async lastAuditRow(): Promise<StoredAuditRow | undefined> {
    const row = this.get(S.selectLastAudit());
    return Promise.resolve(row ? toAudit(row) : undefined);
  }

  async listAudit(
    options: { externalId?: string; afterSeq?: number; limit?: number } = {},
  ): Promise<StoredAuditRow[]> {
    return Promise.resolve(this.all(S.selectAudit(options)).map(toAudit));
  }

  async pruneAudit(
    before: number,
    record: (previous: AuditHead | null, pruned: number) => AuditRow,
  ): Promise<number> {
    const pruned = this.tx(() => {
      const count = this.run(S.deleteAuditBefore(before));
      this.appendAudit((prev) => [record(prev, count)]);
      return count;
    });
    return Promise.resolve(pruned);
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const held = this.tx(() => this.get(S.acquireLease(name, owner, ttlMs, now))?.owner === owner);
    return Promise.resolve(held);
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.run(S.releaseLease(name, owner));
    return Promise.resolve();
  }

  async renewLeases(
    owner: string,
    until: { outboxUntil: number; namedUntil: number },
  ): Promise<{ outbox: number; named: number }> {
    const renewed = this.tx(() => ({
      outbox: this.run(S.renewOutboxLeases(owner, until.outboxUntil)),
      named: this.run(S.renewNamedLeases(owner, until.namedUntil)),
    }));
    return Promise.resolve(renewed);
  }

  async holdOutboxItems(owner: string, ids: readonly string[], until: number, keepIfPast = until) {
    const hold = () =>
      S.holdOutboxItems(SQLITE, owner, ids, { until, keepIfPast }).flatMap((q) => this.all(q));
    const held = ids.length === 0 ? [] : this.tx(hold);
    return Promise.resolve(new Set(held.map((r) => toText(r.id))));
  }

  async releaseLeases(
    which: { owner: string; ids?: readonly string[] } | { ownerPrefix: string },
  ): Promise<{ outbox: number; named: number }> {
    if ('ids' in which && which.ids !== undefined) {
      const ids = which.ids;
      const outbox =
        ids.length === 0 ? 0 : this.tx(() => this.run(S.releaseOutboxItemsOfOwner(SQLITE, which.owner, ids)));
      return Promise.resolve({ outbox, named: 0 });
    }
    const released = this.tx(() =>
      'owner' in which
        ? {
            outbox: this.run(S.releaseOutboxOfOwner(which.owner)),
            named: this.run(S.releaseLeasesOfOwner(which.owner)),
          }
        : {
            outbox: this.run(S.releaseOutboxByOwnerPrefix(which.ownerPrefix)),
            named: this.run(S.releaseLeasesByOwnerPrefix(which.ownerPrefix)),
          },
    );
    return Promise.resolve(released);
  }
}
