import type { AuditEntry, ChainHead } from '../../governance/audit.js';
import { loadLocalConfig, type LocalConfig } from '../../config/index.js';
import { openStore } from '../../runtime/wiring.js';
import type { AuditHead, AuditRow, Store } from '../../store/index.js';
import type { CliContext } from '../types.js';

/**
 * Governance commands (audit verify/show/prune, data-map sign) work on the store alone: they must run
 * while Cliniko or Salesforce is unreachable, so they never build the whole service.
 */

/**
 * The store, files and schedule settings alone: these commands must not demand Cliniko or Salesforce
 * credentials (an auditor's machine does not have them).
 */
export function localConfigOf(ctx: Pick<CliContext, 'env'>): LocalConfig {
  return loadLocalConfig(ctx.env);
}

/** Opens and migrates the configured store with the configured keyring (active and retired keys). */
export function openStoreOnly(ctx: CliContext): Promise<Store> {
  return openStore(localConfigOf(ctx));
}

const PAGE = 5_000;

/** Every audit row in append order, with its entry parsed; a row whose JSON does not parse is reported. */
export async function readAuditLog(
  store: Store,
): Promise<{ entries: AuditEntry[]; rowProblem: { seq: number; reason: string } | undefined }> {
  const entries: AuditEntry[] = [];
  let afterSeq = 0;
  for (;;) {
    const rows = await store.listAudit({ afterSeq, limit: PAGE });
    for (const row of rows) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(row.entry) as AuditEntry;
      } catch {
        return { entries, rowProblem: { seq: row.seq, reason: `row ${row.seq} does not hold valid JSON` } };
      }
      // The row's own columns are indexes over the entry; a mismatch means one of them was edited.
      if (row.hash !== entry.hash || (row.prevHash ?? null) !== (entry.previousHash ?? null)) {
        return {
          entries,
          rowProblem: {
            seq: row.seq,
            reason: `row ${row.seq}: its hash columns do not match the entry it holds`,
          },
        };
      }
      entries.push(entry);
    }
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || last === undefined) break;
    afterSeq = last.seq;
  }
  return { entries, rowProblem: undefined };
}

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
