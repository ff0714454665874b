/**
 * The operator's view of the quarantine (`GET /quarantine`, `npm run sync -- quarantine`): which
 * record, which field, why, and when it was first and last seen. Never the payload: the listing is for
 * people who may not see patient data. The statements are in statements.ts; this is the page size and
 * the row mapper both adapters share.
 *
 * `created_at` is when the row was last written (a re-read of a still-invalid record rewrites it), so it
 * is the "last seen"; `first_seen_at` (migration 3) is kept from the first write.
 */
import type { QuarantineItem } from './types.js';

type Row = Record<string, unknown>;

export const QUARANTINE_LIMIT_DEFAULT = 100;
export const QUARANTINE_LIMIT_MAX = 1000;

/** Clamps a requested page size to 1..1000 (100 when absent). */
export function quarantineLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return QUARANTINE_LIMIT_DEFAULT;
  return Math.min(QUARANTINE_LIMIT_MAX, Math.max(1, Math.floor(limit)));
}

export function toQuarantineItem(row: Row): QuarantineItem {
  return {
    resource: String(row.resource),
    id: String(row.record_id),
    field: String(row.field),
    reason: String(row.reason),
    firstSeen: new Date(Number(row.first_seen)).toISOString(),
    lastSeen: new Date(Number(row.last_seen)).toISOString(),
  };
}
