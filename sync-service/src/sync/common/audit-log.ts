import { buildAuditEntry, type AuditEntry, type AuditInput, type ChainHead } from '../../governance/audit.js';
import type { AuditHead, AuditRow, Store } from '../../store/index.js';
import { letLoopThrough } from '../../loop.js';

/**
 * The audit log as rows of the store: walking it a page at a time (verification, the quarter, the
 * CLI), the head a new entry chains onto, and the row an entry is stored as. One home for the service's
 * writers (the outbox worker, the pause control, the governance commands) and readers (audit verify,
 * the periodic self-check, the nightly pass).
 */

/** Entries read per page of a walk. */
export const AUDIT_PAGE = 5_000;

/**
 * Each audit row in append order, parsed, handed to `visit` a page at a time and not kept (issue #16: the
 * service's own verification held the whole log, and ran out of its heap at 20,000 patients), the event
 * loop let through between pages. Stops at the first row whose JSON does not parse or whose hash
 * columns disagree with its entry.
 */
export async function walkAuditLog(
  store: Store,
  visit: (entry: AuditEntry) => void,
): Promise<{ count: number; rowProblem: { seq: number; reason: string } | undefined }> {
  let count = 0;
  let afterSeq = 0;
  for (;;) {
    const rows = await store.listAudit({ afterSeq, limit: AUDIT_PAGE });
    for (const row of rows) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(row.entry) as AuditEntry;
      } catch {
        return { count, rowProblem: { seq: row.seq, reason: `row ${row.seq} does not hold valid JSON` } };
      }
      // The row's own columns are indexes over the entry; a mismatch means one of them was edited.
      if (row.hash !== entry.hash || (row.prevHash ?? null) !== (entry.previousHash ?? null)) {
        return {
          count,
          rowProblem: {
            seq: row.seq,
            reason: `row ${row.seq}: its hash columns do not match the entry it holds`,
          },
        };
      }
      visit(entry);
      count += 1;
    }
    const last = rows[rows.length - 1];
    if (rows.length < AUDIT_PAGE || last === undefined) return { count, rowProblem: undefined };
    afterSeq = last.seq;
    // Millions of entries after a large backfill, about 10 µs each: the hourly self-check would
    // otherwise hold the event loop, the polls and the HTTP server for its whole length.
    await letLoopThrough();
  }
}

/** The chain head an entry appended after `previous` links to (none for the first entry). */
export function chainHeadOf(previous: AuditHead | null): ChainHead | undefined {
  if (previous === null) return undefined;
  const parsed = JSON.parse(previous.entry) as { seq?: unknown };
  return { seq: typeof parsed.seq === 'number' ? parsed.seq : 0, hash: previous.hash };
}

export function auditRowOf(entry: AuditEntry, createdAt: number): AuditRow {
  return {
    hash: entry.hash,
    prevHash: entry.previousHash,
    object: entry.object,
    externalId: entry.externalId,
    createdAt,
    entry: JSON.stringify(entry),
  };
}

/**
 * The store's append callback for one entry (`completeWrites([], appendEntry(input, now), now)`): the
 * entry is chained onto whatever head the store holds inside its transaction.
 */
export function appendEntry(
  input: AuditInput,
  createdAt: number,
): (previous: AuditHead | null) => AuditRow[] {
  return (previous) => [auditRowOf(buildAuditEntry(input, chainHeadOf(previous)), createdAt)];
}
