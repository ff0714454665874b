import type { Logger } from '../../logger.js';
import type { OutboxInput } from '../../store/index.js';
import { CYCLE_LEASE, LEASE_MS } from '../common/run-record.js';
import { fieldTypesOf, type FieldTypes } from '../common/value-equality.js';
import { createPayloadRules, type PayloadRules } from '../payloads.js';
import type { ReconcilerDeps, Row } from './types.js';

/** What every step of a reconciliation pass shares, built once from the deps. */
export interface ReconcileContext {
  readonly deps: ReconcilerDeps;
  readonly log: Logger;
  /** Whether the signed data map writes `object.field` (clinician-only entries have no target). */
  readonly isMapped: (object: string, field: string) => boolean;
  /** Contact fields a Salesforce edit of which the write-back may carry to Cliniko: `both` and consent. */
  readonly writeBackFields: ReadonlySet<string>;
  /** Metadata type of each mapped target, for the value comparison. */
  readonly fieldTypes: FieldTypes;
  /** The same payloads and hashes as the runner (payloads.ts): a repaired record is one the next cycle finds unchanged. */
  readonly rules: PayloadRules;
  /** The outbox item that upserts `fields` on `object` keyed `key`. */
  readonly outboxItem: (object: string, key: string, fields: Row, runId: string) => OutboxInput;
  /** Keeps the cycle lease alive on PostgreSQL between long steps; throws when another instance took it. */
  readonly renewLease: () => Promise<void>;
}

export function createReconcileContext(deps: ReconcilerDeps): ReconcileContext {
  const rules = createPayloadRules(deps);
  const mappedTargets = new Set(
    deps.dataMap.entries.flatMap((e) =>
      e.target && e.classification !== 'clinician-only' ? [e.target.path] : [],
    ),
  );
  return {
    deps,
    log: deps.logger.child({ module: 'reconcile' }),
    isMapped: (object, field) => mappedTargets.has(`${object}.${field}`),
    writeBackFields: writeBackFieldsOf(deps),
    fieldTypes: fieldTypesOf(deps.dataMap),
    rules,
    outboxItem: (object, key, fields, runId) =>
      rules.outboxItem({ object, key, fields, operation: 'upsert' }, runId),
    renewLease: async () => {
      if (deps.store.kind !== 'postgres') return;
      if (!(await deps.store.acquireLease(CYCLE_LEASE, deps.worker.owner, LEASE_MS, Date.now())))
        throw new Error(`lost the ${CYCLE_LEASE} lease to another instance`);
    },
  };
}

function writeBackFieldsOf(deps: ReconcilerDeps): ReadonlySet<string> {
  return new Set(
    deps.dataMap.entries.flatMap((e) =>
      e.resource === 'patients' &&
      e.target?.object === 'Contact' &&
      (e.direction === 'both' ||
        e.sources.some((f) => f === 'accepted_email_marketing' || f === 'accepted_sms_marketing'))
        ? [e.target.field]
        : [],
    ),
  );
}
