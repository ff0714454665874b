import { canonicalJson, payloadSha256, sha256Hex } from './canonical.js';

/**
 * The audit log: append-only, hash-chained entries for every Salesforce create/update, every Cliniko
 * write-back and every governance act (sign-off, pruning). Pure construction and verification; the
 * store appends and reads.
 *
 * An entry never holds field values: only names, ids, and the sha256 of the payload that was written
 * (which proves what was written to anyone holding the payload, without revealing it).
 *
 * Chain: `hash = sha256(canonical JSON of the entry without hash)`, and each entry carries the previous
 * entry's hash and a sequence number one higher. Altering an entry breaks its own hash; deleting or
 * reordering breaks the next entry's `previousHash` / `seq`. Truncating the tail, or editing an entry
 * and recomputing the chain, is only visible against heads kept elsewhere: the anchors in Salesforce
 * (audit-anchor.ts, `verifyAgainstAnchors`), or one head passed as `expectedHead`.
 */

export const GENESIS_HASH = '0'.repeat(64);

export const AUDIT_OPERATIONS = [
  'create',
  'update',
  'delete',
  'write-back',
  'data-map-sign',
  'journey-sign',
  'approvers-change',
  'prune',
  // Operators pausing and resuming automatic sync from the console or the admin API (runtime/control.ts).
  'sync-pause',
  'sync-resume',
  // Matching existing records and respecting deletions (issue #19; sync/match/): an existing Contact
  // or Lead linked to a patient, a patient held for match review, an admin's resolution, a Contact
  // found deleted in Salesforce, and its re-creation on an admin's command.
  'contact-link',
  'lead-link',
  'match-review',
  'match-resolve',
  'contact-deleted',
  'contact-restore',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

export const SOURCE_SYSTEMS = ['cliniko', 'salesforce', 'sync-service'] as const;
export type SourceSystem = (typeof SOURCE_SYSTEMS)[number];

export interface AuditInput {
  /** ISO 8601 instant. */
  readonly timestamp: string;
  /** Who caused the change: the integration user, a Salesforce user id, `cli:<name>`. */
  readonly actor: string;
  /** Where the change came from. */
  readonly sourceSystem: SourceSystem;
  /** The object written: `Contact`, `Cliniko_Appointment__c`, `patients`, `data-map`, `audit-log`. */
  readonly object: string;
  /** The record's external id (Cliniko id), or `-` for governance acts. */
  readonly externalId: string;
  readonly salesforceId?: string | null;
  /** The Cliniko patient the record belongs to, so `audit show --patient` finds appointments too. */
  readonly patientId?: string | null;
  readonly operation: AuditOperation;
  /** Names of the fields written. Names only: anything that does not look like a field name is refused. */
  readonly changedFields: readonly string[];
  /** The payload as written; only its sha256 is kept. */
  readonly payload: unknown;
  readonly runId: string;
  /** Only for `prune`: what was removed (see audit-retention.ts). */
  readonly prune?: PruneRecord;
}

export interface PruneRecord {
  readonly count: number;
  readonly throughSeq: number;
  /** Hash of the last pruned entry: the first kept entry's `previousHash`. */
  readonly throughHash: string;
  readonly cutoff: string;
}

export interface AuditEntry {
  readonly seq: number;
  readonly timestamp: string;
  readonly actor: string;
  readonly sourceSystem: SourceSystem;
  readonly object: string;
  readonly externalId: string;
  readonly salesforceId: string | null;
  readonly patientId: string | null;
  readonly operation: AuditOperation;
  readonly changedFields: readonly string[];
  readonly payloadSha256: string;
  readonly runId: string;
  readonly prune: PruneRecord | null;
  readonly previousHash: string;
  readonly hash: string;
}

/** Where a new entry attaches: the last entry, or nothing for the first entry ever. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function entryHash(entry: Omit<AuditEntry, 'hash'>): string {
  return sha256Hex(canonicalJson(entry));
}

/**
 * Builds the next entry of the chain. `previous` is the current head (undefined for the first entry).
 * Throws on input that would weaken the log (a value where a field name belongs, a bad timestamp).
 */
export function buildAuditEntry(input: AuditInput, previous: ChainHead | undefined): AuditEntry {
  return chainEntry(input, payloadSha256(input.payload), previous);
}

/**
 * buildAuditEntry for an input whose payload is given by its sha256 alone: a payload too large to hold
 * (a prune's, which names every pruned entry; audit-retention.ts hashes it as the log is walked).
 */
export function chainEntry(
  input: Omit<AuditInput, 'payload'>,
  payloadHash: string,
  previous: ChainHead | undefined,
): AuditEntry {
  for (const name of input.changedFields) {
    // Refuse rather than record: a caller passing values here would put patient data in the log.
    if (!FIELD_NAME.test(name) || name.length > 80) {
      throw new TypeError('audit changedFields must be field names, never values');
    }
  }
  if (!ISO_INSTANT.test(input.timestamp) || Number.isNaN(Date.parse(input.timestamp))) {
    throw new TypeError('audit timestamp must be an ISO 8601 UTC instant');
  }
  if ((input.operation === 'prune') !== (input.prune !== undefined)) {
    throw new TypeError('a prune record goes with the prune operation, and only with it');
  }
  // The members in canonical (code-unit) order, so that hashing the body needs no sorted copy of it.
  const body: Omit<AuditEntry, 'hash'> = {
    actor: input.actor,
    changedFields: [...new Set(input.changedFields)].sort(),
    externalId: input.externalId,
    object: input.object,
    operation: input.operation,
    patientId: input.patientId ?? null,
    payloadSha256: payloadHash,
    previousHash: previous === undefined ? GENESIS_HASH : previous.hash,
    prune: input.prune ?? null,
    runId: input.runId,
    salesforceId: input.salesforceId ?? null,
    seq: previous === undefined ? 1 : previous.seq + 1,
    sourceSystem: input.sourceSystem,
    timestamp: new Date(input.timestamp).toISOString(),
  };
  return { ...body, hash: entryHash(body) };
}

export type AuditVerification =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead | undefined }
  | {
      readonly ok: false;
      /** Position in the list given. */
      readonly index: number;
      readonly seq: number | undefined;
      readonly reason: string;
    };

/**
 * Re-walks the chain in the order given (the store's append order) and reports the first broken link.
 * A chain that starts after seq 1 is accepted only when a later `prune` entry records exactly what was
 * removed (its throughSeq and throughHash match the first kept entry).
 */
export function verifyAuditChain(
  entries: readonly AuditEntry[],
  options: { expectedHead?: ChainHead } = {},
): AuditVerification {
  const walk = createChainWalk(options);
  for (const entry of entries) walk.push(entry);
  return walk.finish();
}

/**
 * The same walk one entry at a time (issue #16): a log of millions of entries is verified page by page,
 * holding the previous entry and what a later entry may still settle (the prune entry a log that starts
 * after seq 1 needs; whether a missing seq turns up later, which only changes the reason given), never
 * the log. `verifyAuditChain` is this walk over a list.
 */
export function createChainWalk(options: { expectedHead?: ChainHead } = {}) {
  let index = 0;
  let prev: AuditEntry | undefined;
  /** The first entry, while no prune entry has been seen that accounts for the entries before it. */
  let unpruned: { seq: number; previousHash: string } | undefined;
  let failure: Extract<AuditVerification, { ok: false }> | undefined;
  /** A gap found: whether the missing seq appears later decides the reason. */
  let gap: { index: number; seq: number; expected: number; prevSeq: number; later: boolean } | undefined;
  const fail = (at: number, seq: number | undefined, reason: string) =>
    void (failure ??= { ok: false, index: at, seq, reason });

  function push(entry: AuditEntry): void {
    const i = index++;
    if (unpruned !== undefined && entry.operation === 'prune') {
      const p = entry.prune;
      if (p?.throughSeq === unpruned.seq - 1 && p.throughHash === unpruned.previousHash) unpruned = undefined;
    }
    if (gap !== undefined && entry.seq === gap.expected) gap.later = true;
    if (failure !== undefined || gap !== undefined) return;
    const { hash, ...body } = entry;
    if (entryHash(body) !== hash) {
      fail(i, entry.seq, `entry seq ${entry.seq} was altered: its content no longer matches its hash`);
    } else if (prev === undefined) {
      if (entry.seq === 1) {
        if (entry.previousHash !== GENESIS_HASH)
          fail(i, entry.seq, 'the first entry does not start the chain');
      } else if (!(
        entry.operation === 'prune' &&
        entry.prune?.throughSeq === entry.seq - 1 &&
        entry.prune.throughHash === entry.previousHash
      )) {
        unpruned = { seq: entry.seq, previousHash: entry.previousHash };
      }
    } else if (entry.seq !== prev.seq + 1) {
      if (entry.seq <= prev.seq) {
        fail(
          i,
          entry.seq,
          `entry seq ${entry.seq} is out of order (seq ${prev.seq + 1} should follow seq ${prev.seq})`,
        );
      } else gap = { index: i, seq: entry.seq, expected: prev.seq + 1, prevSeq: prev.seq, later: false };
    } else if (entry.previousHash !== prev.hash) {
      fail(
        i,
        entry.seq,
        `entry seq ${entry.seq} does not link to entry seq ${prev.seq} (previousHash differs)`,
      );
    }
    prev = entry;
  }

  function finish(): AuditVerification {
    if (unpruned !== undefined) {
      return {
        ok: false,
        index: 0,
        seq: unpruned.seq,
        reason: `the log starts at seq ${unpruned.seq} but no prune entry records the removal of the earlier entries`,
      };
    }
    if (gap !== undefined) fail(gap.index, gap.seq, gapReason(gap));
    if (failure !== undefined) return failure;
    const head = prev === undefined ? undefined : { seq: prev.seq, hash: prev.hash };
    const expected = options.expectedHead;
    if (expected !== undefined && (head?.seq !== expected.seq || head.hash !== expected.hash)) {
      return {
        ok: false,
        index: index - 1,
        seq: head?.seq,
        reason: `the log ends at seq ${head?.seq ?? 0} but the recorded head is seq ${expected.seq}: entries were removed from the end`,
      };
    }
    return { ok: true, count: index, head };
  }

  return { push, finish };
}

function gapReason(gap: { seq: number; expected: number; prevSeq: number; later: boolean }): string {
  const { expected, prevSeq, seq } = gap;
  return gap.later
    ? `entry seq ${seq} is out of order (seq ${expected} should follow seq ${prevSeq})`
    : `entries seq ${expected}..${seq - 1} are missing`;
}

/** A patient's trail: entries for the patient's own record and every record linked to them. */
export function patientTrail(entries: readonly AuditEntry[], clinikoPatientId: string): AuditEntry[] {
  return entries.filter((e) => inPatientTrail(e, clinikoPatientId));
}

/** Whether one entry belongs to the patient's trail (for a walk of the log that keeps only those). */
export function inPatientTrail(e: AuditEntry, clinikoPatientId: string): boolean {
  return (
    e.patientId === clinikoPatientId ||
    (e.object === 'Contact' && e.externalId === clinikoPatientId) ||
    (e.object === 'patients' && e.externalId === clinikoPatientId)
  );
}
