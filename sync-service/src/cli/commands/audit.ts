import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createChainWalk, inPatientTrail, type AuditEntry } from '../../governance/audit.js';
import { createPruneScan, pruneEntryOf } from '../../governance/audit-retention.js';
import {
  VERIFICATION_OBJECT,
  verificationRecord,
  type VerificationOutcome,
} from '../../governance/audit-verification.js';
import { verifyAuditTrail } from '../../sync/common/audit-verify.js';
import type { Command, CliContext } from '../types.js';
import { readAnchors, writeVerification } from './audit-anchors.js';
import { auditRowOf, chainHeadOf, localConfigOf, openStoreOnly, walkAuditLog } from './audit-store.js';

/**
 * `audit verify | show --patient ID | prune [--years N]`: the compliance officer's view of the
 * hash-chained audit log. Reads the store; `verify` also reads the chain's anchors from Salesforce
 * (Audit_Anchor__c) when the Salesforce credentials are configured. Entries never hold field values,
 * so everything printed here is names, ids, times and hashes.
 */

const USAGE = `npm run sync -- audit <verify | show --patient ID | prune [--years N] [--dry-run]>

  verify                 Re-walk the audit log's hash chain; report the first broken link (exit 1).
                         Then check it against every anchor in Salesforce (Audit_Anchor__c): a
                         truncated or rewritten log is reported by the first failing seq (exit 1).
                         Needs the Salesforce credentials; without them it says so and checks the
                         local chain only. The result is recorded in Salesforce
                         (Audit_Verification__c) for the governance review.
  show --patient ID      One Cliniko patient's trail: every write to their Contact and linked records.
         [--json]        One JSON entry per line instead of a table.
  prune [--years N]      Delete entries older than the retention (SYNC_AUDIT_RETENTION_YEARS, default 6)
        [--dry-run]      and record the prune in the log itself. --dry-run only says what would go.`;

function describe(e: AuditEntry): string {
  return [
    e.timestamp,
    `#${e.seq}`.padEnd(8),
    e.operation.padEnd(13),
    `${e.object} ${e.externalId}`.padEnd(40),
    `sf=${e.salesforceId ?? '-'}`.padEnd(22),
    `run=${e.runId}`,
    `fields=${e.changedFields.join(',') || '-'}`,
    `payload=${e.payloadSha256.slice(0, 16)}`,
  ].join('  ');
}

async function verify(ctx: CliContext): Promise<number> {
  const outcome = await verifyOutcome(ctx);
  ctx.print(await recordVerification(ctx, outcome));
  return outcome.result === 'Broken' ? 1 : 0;
}

/** Walks the chain, then checks it against the anchors (sync/common/audit-verify.ts); prints each finding. */
async function verifyOutcome(ctx: CliContext): Promise<VerificationOutcome> {
  const store = await openStoreOnly(ctx);
  try {
    // Anchors before the log (as the nightly pass): an anchor names only entries already durable.
    const anchors = await readAnchors(ctx);
    return await verifyAuditTrail(
      (visit) => walkAuditLog(store, visit),
      anchors,
      (line) => ctx.print(line),
    );
  } finally {
    await store.close();
  }
}

/** Writes the outcome to Salesforce (Audit_Verification__c) for the governance review; says what happened. */
async function recordVerification(ctx: CliContext, outcome: VerificationOutcome): Promise<string> {
  const record = verificationRecord(outcome, new Date(), `verify-${randomUUID().replaceAll('-', '')}`, 'cli');
  const written = await writeVerification(ctx, record);
  return written.ok
    ? `verification recorded in Salesforce (${VERIFICATION_OBJECT}): ${outcome.result}`
    : `verification NOT recorded in Salesforce: ${written.reason}`;
}

async function show(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { patient: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  const patient = values.patient?.trim();
  if (patient === undefined || !/^\d{1,20}$/.test(patient)) {
    ctx.print('audit show needs --patient <Cliniko patient id> (digits)');
    return 2;
  }
  const store = await openStoreOnly(ctx);
  try {
    // Walked a page at a time; only the patient's own entries are kept.
    const trail: AuditEntry[] = [];
    await walkAuditLog(store, (e) => {
      if (inPatientTrail(e, patient)) trail.push(e);
    });
    if (values.json) {
      for (const e of trail) ctx.print(JSON.stringify(e));
      return 0;
    }
    ctx.print(`audit trail of Cliniko patient ${patient}: ${trail.length} entries (names and hashes only)`);
    for (const e of trail) ctx.print(`  ${describe(e)}`);
    return 0;
  } finally {
    await store.close();
  }
}

async function prune(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { years: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
    allowPositionals: false,
  });
  const config = localConfigOf(ctx);
  const years = values.years === undefined ? config.auditRetentionYears : Number(values.years);
  if (!Number.isInteger(years) || years < 1) {
    ctx.print('--years must be a whole number of years, at least 1');
    return 2;
  }
  const store = await openStoreOnly(ctx);
  try {
    // One walk of the log, a page at a time: the chain is verified and the prunable prefix found
    // together, and nothing but counts and hashes is kept (issue #16).
    const now = new Date();
    const chain = createChainWalk();
    const scan = createPruneScan(now, years);
    const { rowProblem } = await walkAuditLog(store, (e) => {
      chain.push(e);
      scan.push(e);
    });
    // Pruning a broken chain would destroy the evidence of the break.
    if (rowProblem !== undefined || !chain.finish().ok) {
      ctx.print('the audit log does not verify; run `npm run sync -- audit verify` - nothing pruned');
      return 1;
    }
    const { cutoff, cutoffMs } = scan;
    const pruned = scan.result();
    if (pruned.last === undefined) {
      ctx.print(`nothing to prune: no entry is older than ${cutoff} (${years} years)`);
      return 0;
    }
    if (pruned.oldAfterNew) {
      // The store deletes by time; an old entry after a newer one (a clock step) would leave a hole.
      ctx.print(
        'an entry older than the cutoff follows a newer one (a clock step); prune with a longer --years, nothing pruned',
      );
      return 1;
    }
    const range = `seq ${pruned.firstSeq}..${pruned.last.seq}`;
    if (values['dry-run']) {
      ctx.print(`would prune ${pruned.count} entries (${range}) older than ${cutoff}`);
      return 0;
    }
    const runId = randomUUID();
    const count = await store.pruneAudit(cutoffMs, (previous, deleted) => {
      if (deleted !== pruned.count) {
        // Throwing rolls the transaction back: the rows deleted are not the ones the prune entry records.
        throw new Error(
          `the store would delete ${deleted} entries but ${pruned.count} were found older than the cutoff; nothing pruned`,
        );
      }
      const head = chainHeadOf(previous);
      if (head === undefined) throw new Error('the audit log has no head to attach the prune entry to');
      const entry = pruneEntryOf(pruned, head, {
        timestamp: now.toISOString(),
        actor: `cli:${ctx.env.USER ?? 'operator'}`,
        runId,
        cutoff,
      });
      return auditRowOf(entry, now.getTime());
    });
    ctx.print(`pruned ${count} entries (${range}) older than ${cutoff}; the prune is recorded in the log`);
    return 0;
  } finally {
    await store.close();
  }
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'Verify the hash-chained audit log, show a patient trail, prune past retention.',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'verify':
        parseArgs({ args: rest, options: {}, allowPositionals: false });
        return verify(ctx);
      case 'show':
        return show(rest, ctx);
      case 'prune':
        return prune(rest, ctx);
      default:
        ctx.print(USAGE);
        return 2;
    }
  },
};
