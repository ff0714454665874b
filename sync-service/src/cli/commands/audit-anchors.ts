import type { Connection } from 'jsforce';
import { ConfigError } from '../../config/index.js';
import { VERIFICATION_OBJECT } from '../../governance/audit-verification.js';
import { connectSalesforce } from '../../salesforce/connection.js';
import { readAnchorsFrom, type AnchorRead } from '../../sync/common/audit-verify.js';
import { describeError } from '../../sync/common/run-record.js';
import type { CliContext } from '../types.js';

/**
 * `audit verify` reads every Audit_Anchor__c from Salesforce (sync/common/audit-verify.ts, the reader
 * the nightly job uses too) and records its result as an Audit_Verification__c. It needs the
 * Salesforce credentials (the rest of the command does not): without them, or with Salesforce
 * unreachable, the anchors are not read and the command says so, naming variables, never values.
 */

/** A connection for the CLI, or why there is none (names variables, never values). */
async function connect(
  ctx: CliContext,
): Promise<{ ok: true; connection: Connection } | { ok: false; reason: string }> {
  let config;
  try {
    config = ctx.config();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const variables = [...new Set(err.problems.map((p) => p.variable))].join(', ');
    return {
      ok: false,
      reason: `the Salesforce credentials are missing or incomplete (configuration problems in ${variables})`,
    };
  }
  try {
    return { ok: true, connection: (await connectSalesforce(config.salesforce, ctx.logger())).connection };
  } catch (err) {
    return { ok: false, reason: `Salesforce could not be reached (${describeError(err)})` };
  }
}

/** Records one verification (Audit_Verification__c, insert-only) with the CLI's connection. */
export async function writeVerification(
  ctx: CliContext,
  record: Record<string, unknown>,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const connected = await connect(ctx);
  if (!connected.ok) return connected;
  try {
    const result = await connected.connection.sobject(VERIFICATION_OBJECT).create(record);
    return result.success ? { ok: true } : { ok: false, reason: 'Salesforce refused the record' };
  } catch (err) {
    return { ok: false, reason: `Salesforce refused the record (${describeError(err)})` };
  }
}

export async function readAnchors(ctx: CliContext): Promise<AnchorRead> {
  const connected = await connect(ctx);
  if (!connected.ok) return { ok: false, kind: 'unavailable', reason: connected.reason };
  return readAnchorsFrom(connected.connection);
}
