import { buildAuditEntry, type AuditEntry, type ChainHead } from '../../governance/audit.js';
import { chainHeadOf } from '../common/audit-log.js';
import type { WriteResult } from '../../salesforce/writer.js';
import type { AuditHead, AuditRow, OutboxItem } from '../../store/index.js';
import { patientOf } from './keys.js';

/** One item Salesforce accepted, with the fields it was sent. */
export interface CompletedItem {
  readonly item: OutboxItem;
  readonly result: WriteResult;
  readonly fields: Record<string, unknown>;
}

/**
 * The audit callback of `Store.completeWrites`: given the chain's head (read inside the transaction),
 * one chained audit row per completed write, in order. The one builder of write audit rows (the worker
 * and the benchmark use it).
 */
export function auditRowsFor(
  done: readonly CompletedItem[],
  options: { readonly actor: string; readonly now: () => number },
): (previous: AuditHead | null) => AuditRow[] {
  return (previous) => {
    let head: ChainHead | undefined = chainHeadOf(previous);
    return done.map(({ item, result, fields }) => {
      const entry: AuditEntry = buildAuditEntry(
        {
          timestamp: new Date(options.now()).toISOString(),
          actor: options.actor,
          sourceSystem: 'cliniko',
          object: item.object,
          externalId: item.externalId,
          salesforceId: result.id,
          patientId: patientOf(item, fields),
          operation: result.created === true ? 'create' : 'update',
          changedFields: Object.keys(fields),
          payload: fields,
          runId: item.runId,
        },
        head,
      );
      head = { seq: entry.seq, hash: entry.hash };
      return {
        hash: entry.hash,
        prevHash: entry.previousHash,
        object: item.object,
        externalId: item.externalId,
        createdAt: options.now(),
        entry: JSON.stringify(entry),
      };
    });
  };
}
