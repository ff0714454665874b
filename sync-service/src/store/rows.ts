import type {
  FactInput,
  AuditHead,
  BlockedItem,
  DeadLetter,
  JourneyStateRow,
  OutboxItem,
  PayloadCipher,
  QuarantineRecord,
  RecordState,
  RunMode,
  RunRecord,
  RunStatus,
  StoredAuditRow,
  Watermark,
  WriteOperation,
} from './types.js';

/** Row-to-domain mappers shared by both adapters (column names are identical in both schemas). */
export type Row = Record<string, unknown>;

const str = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  throw new TypeError(`expected a text or numeric column, got ${typeof v}`);
};
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toOutboxItem(row: Row, cipher: PayloadCipher): OutboxItem {
  return {
    id: str(row.id),
    object: str(row.object),
    externalId: str(row.external_id),
    operation: str(row.operation) as WriteOperation,
    payload: cipher.decrypt(row.payload as Uint8Array),
    payloadHash: str(row.payload_hash),
    runId: str(row.run_id),
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    priorAttempts: Number(row.prior_attempts ?? 0),
    nextAttemptAt: Number(row.next_attempt_at),
    createdAt: Number(row.created_at),
    lastErrorCode: strOrNull(row.last_error_code),
    publishStartedAt: numOrNull(row.publish_started_at),
  };
}

export function toDeadLetter(row: Row, cipher: PayloadCipher): DeadLetter {
  return {
    id: str(row.id),
    object: str(row.object),
    externalId: str(row.external_id),
    operation: str(row.operation) as WriteOperation,
    payload: cipher.decrypt(row.payload as Uint8Array),
    payloadHash: str(row.payload_hash),
    errorCode: str(row.error_code),
    errorMessage: str(row.error_message),
    upstreamCode: strOrNull(row.upstream_code),
    attempts: Number(row.attempts),
    totalAttempts: Number(row.total_attempts ?? row.attempts),
    occurrences: Number(row.occurrences ?? 1),
    firstFailedAt: Number(row.first_failed_at ?? row.created_at),
    runId: str(row.run_id),
    createdAt: Number(row.created_at),
    replayedAt: numOrNull(row.replayed_at),
    replayOutcome: strOrNull(row.replay_outcome),
  };
}

export function toQuarantine(row: Row, cipher: PayloadCipher): QuarantineRecord {
  return {
    id: str(row.id),
    resource: str(row.resource),
    recordId: str(row.record_id),
    field: str(row.field),
    reason: str(row.reason),
    payload: cipher.decrypt(row.payload as Uint8Array),
    runId: str(row.run_id),
    createdAt: Number(row.created_at),
  };
}

export function toWatermark(row: Row): Watermark {
  return {
    stream: str(row.stream),
    cursor: str(row.cursor),
    settled: strOrNull(row.settled),
    updatedAt: Number(row.updated_at),
  };
}

export function toRecordState(row: Row): RecordState {
  return {
    object: str(row.object),
    externalId: str(row.external_id),
    salesforceId: strOrNull(row.salesforce_id),
    payloadHash: str(row.payload_hash),
    updatedAt: Number(row.updated_at),
  };
}

export function toJourneyState(row: Row): JourneyStateRow {
  return { patientId: str(row.patient_id), state: str(row.state), updatedAt: Number(row.updated_at) };
}

export function toRun(row: Row): RunRecord {
  return {
    id: str(row.id),
    mode: str(row.mode) as RunMode,
    status: str(row.status) as RunStatus,
    startedAt: Number(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    counts: str(row.counts),
    dataMapHash: str(row.data_map_hash),
    error: strOrNull(row.error),
  };
}

export function toAudit(row: Row): StoredAuditRow {
  return {
    seq: Number(row.seq),
    hash: str(row.hash),
    prevHash: strOrNull(row.prev_hash),
    object: str(row.object),
    externalId: str(row.external_id),
    createdAt: Number(row.created_at),
    entry: str(row.entry),
  };
}

export function toFact(row: Row, cipher: PayloadCipher): FactInput {
  return {
    resource: str(row.resource),
    id: str(row.id),
    patientId: str(row.patient_id),
    data: cipher.decrypt(row.data as Uint8Array),
  };
}

export const toText = str;

export function toAuditHead(row: Row): AuditHead {
  return { hash: str(row.hash), entry: str(row.entry) };
}

export interface OutboxCounts {
  pending?: unknown;
  retrying?: unknown;
  blocked?: unknown;
  oldest?: unknown;
}
export const OUTBOX_STATS_SQL =
  'SELECT SUM(CASE WHEN blocked_by IS NULL THEN 1 ELSE 0 END) AS pending, SUM(CASE WHEN attempts > 0 AND blocked_by IS NULL THEN 1 ELSE 0 END) AS retrying, SUM(CASE WHEN blocked_by IS NULL THEN 0 ELSE 1 END) AS blocked, MIN(CASE WHEN blocked_by IS NULL THEN created_at END) AS oldest FROM outbox';
export const OPEN_DEAD_LETTERS_SQL = 'SELECT COUNT(*) AS n FROM dead_letters WHERE replayed_at IS NULL';
export const QUARANTINE_COUNT_SQL = 'SELECT COUNT(*) AS n FROM quarantine';

export function toOutboxStats(o: Row | undefined, dead: Row | undefined, quarantined: Row | undefined) {
  return {
    pending: Number(o?.pending ?? 0),
    retrying: Number(o?.retrying ?? 0),
    blocked: Number(o?.blocked ?? 0),
    deadLettered: Number(dead?.n ?? 0),
    quarantined: Number(quarantined?.n ?? 0),
    oldestPendingAt: numOrNull(o?.oldest),
  };
}

/** The replay decision (issue #15), shared by both adapters: what the letter's record has since. */
export function replayVerdict(
  letter: Row,
  state: Row | undefined,
  queued: Row | undefined,
): { readonly requeue: true } | { readonly requeue: false; readonly outcome: string } {
  if (queued !== undefined) {
    return {
      requeue: false,
      outcome: 'dropped: a newer payload for this record is queued and is written instead',
    };
  }
  if (state !== undefined && String(state.payload_hash) === String(letter.payload_hash)) {
    return { requeue: false, outcome: 'dropped: this payload was written since' };
  }
  // Recorded by the write itself (completeWrites); the time comparison covers letters from before that.
  const superseded = letter.superseded_at ?? null;
  if (superseded !== null || (state !== undefined && Number(state.updated_at) > Number(letter.created_at))) {
    const at = new Date(Number(superseded ?? state?.updated_at)).toISOString();
    return { requeue: false, outcome: `dropped: a newer write of this record succeeded at ${at}` };
  }
  return { requeue: true };
}

export function toBlockedItem(row: Row): BlockedItem {
  return { object: str(row.object), externalId: str(row.external_id), blockedBy: str(row.blocked_by) };
}
