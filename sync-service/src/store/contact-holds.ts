/**
 * Contact holds (issue #19, items 4 and 5): the statements and row mapper both adapters share for the
 * patients whose Contact the sync must not write until an admin acts. `review`: several Salesforce
 * records could be the patient (the match-review queue); `deleted`: the patient's Contact was deleted
 * in Salesforce. Outbox items of a held patient wait blocked by `ContactHold:<patientId>`
 * (`holdBlockKey`); resolving the hold releases them. Never a name or an email here: Salesforce ids only.
 */
import type { SqlDialect } from './dialect.js';
import { blockOutbox, deleteRecordStates, releaseBlockedOutbox, type Query } from './statements.js';

export type ContactHoldKind = 'review' | 'deleted';

export interface ContactHoldInput {
  readonly patientId: string;
  readonly kind: ContactHoldKind;
  /** What the candidates are: `Contact` or `Lead`. */
  readonly object: 'Contact' | 'Lead';
  /** Salesforce ids: the records that could be the patient (review), or the deleted Contact. */
  readonly candidates: readonly string[];
  /** Why, in words an operator reads (no values). */
  readonly reason: string;
}

/** An outbox item to park behind a hold (only while `payloadHash` is still its payload). */
export interface HoldBlock {
  readonly outboxId: string;
  readonly payloadHash: string;
}
/** How a resolution is recorded: the answer, who gave it, Contact keys whose stored state to forget. */
export interface HoldResolution {
  readonly resolution: string;
  readonly by: string;
  readonly forget?: readonly string[];
}

export interface ContactHold extends ContactHoldInput {
  readonly createdAt: number;
  readonly resolvedAt: number | null;
  /** `link:<Salesforce id>`, `create` or `restore`. */
  readonly resolution: string | null;
  readonly resolvedBy: string | null;
}

/** The `blocked_by` key of outbox items waiting for a patient's hold to be resolved. */
export const holdBlockKey = (patientId: string): string => `ContactHold:${patientId}`;

const q = (sql: string, params: readonly unknown[] = []): Query => ({ sql, params });
const COLUMNS =
  'patient_id, kind, object, candidates, reason, created_at, resolved_at, resolution, resolved_by';

export const upsertContactHold = (hold: ContactHoldInput, now: number): Query =>
  q(
    `INSERT INTO contact_holds (patient_id, kind, object, candidates, reason, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (patient_id) DO UPDATE SET kind = EXCLUDED.kind, object = EXCLUDED.object,
       candidates = EXCLUDED.candidates, reason = EXCLUDED.reason, created_at = EXCLUDED.created_at,
       resolved_at = NULL, resolution = NULL, resolved_by = NULL`,
    [hold.patientId, hold.kind, hold.object, JSON.stringify(hold.candidates), hold.reason, now],
  );

export const selectOpenContactHold = (d: SqlDialect, patientId: string): Query =>
  q(`SELECT ${COLUMNS} FROM contact_holds WHERE patient_id = $1 AND resolved_at IS NULL ${d.forUpdate}`, [
    patientId,
  ]);

export const selectContactHolds = (
  d: SqlDialect,
  o: { patientIds?: readonly string[]; open?: boolean; limit?: number },
): Query => {
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.patientIds !== undefined) {
    params.push(d.listParam(o.patientIds));
    where.push(d.inList('patient_id', params.length));
  }
  if (o.open === true) where.push('resolved_at IS NULL');
  params.push(Math.min(10_000, Math.max(1, o.limit ?? 1000)));
  const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  return q(
    `SELECT ${COLUMNS} FROM contact_holds ${filter} ORDER BY created_at, patient_id LIMIT $${params.length}`,
    params,
  );
};

export const resolveContactHold = (patientId: string, resolution: string, by: string, now: number): Query =>
  q(
    `UPDATE contact_holds SET resolved_at = $2, resolution = $3, resolved_by = $4
     WHERE patient_id = $1 AND resolved_at IS NULL`,
    [patientId, now, resolution, by],
  );

/** Of these patients, those with an open hold (their dependants wait like a quarantined patient's). */
export const selectHeldPatients = (d: SqlDialect, patientIds: readonly string[]): Query =>
  q(`SELECT patient_id FROM contact_holds WHERE resolved_at IS NULL AND ${d.inList('patient_id', 1)}`, [
    d.listParam(patientIds),
  ]);

export function toContactHold(row: Record<string, unknown>): ContactHold {
  const optional = (v: unknown) => (typeof v === 'string' ? v : null);
  const parsed = JSON.parse(String(row.candidates)) as unknown;
  return {
    patientId: String(row.patient_id),
    kind: String(row.kind) as ContactHoldKind,
    object: String(row.object) === 'Lead' ? 'Lead' : 'Contact',
    candidates: Array.isArray(parsed) ? parsed.map(String) : [],
    reason: String(row.reason),
    createdAt: Number(row.created_at),
    resolvedAt: row.resolved_at === null || row.resolved_at === undefined ? null : Number(row.resolved_at),
    resolution: optional(row.resolution),
    resolvedBy: optional(row.resolved_by),
  };
}

/**
 * The statements of `Store.holdContact` after reading the patient's open hold (`open`), for both adapters:
 * a new hold (none open, or another kind) is written, the item is parked; `fresh` says whether to audit.
 */
export function holdStatements(
  open: Record<string, unknown> | undefined,
  hold: ContactHoldInput,
  block: HoldBlock | null,
  now: number,
): { fresh: boolean; queries: Query[] } {
  const fresh = open === undefined || open.kind !== hold.kind;
  const queries = fresh ? [upsertContactHold(hold, now)] : [];
  if (block) queries.push(blockOutbox(block.outboxId, holdBlockKey(hold.patientId), block.payloadHash));
  return { fresh, queries };
}

/** The statements of `Store.resolveContactHold` once an open hold was found. */
export function resolveStatements(d: SqlDialect, patientId: string, r: HoldResolution, now: number): Query[] {
  return [
    resolveContactHold(patientId, r.resolution, r.by, now),
    ...(r.forget?.length ? [deleteRecordStates(d, 'Contact', r.forget)] : []),
    releaseBlockedOutbox(holdBlockKey(patientId), now),
  ];
}
