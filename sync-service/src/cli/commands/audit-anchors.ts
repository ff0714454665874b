import type { Connection } from 'jsforce';
import { ConfigError } from '../../config/index.js';
import { ANCHOR_OBJECT, type AuditAnchor } from '../../governance/audit-anchor.js';
import { VERIFICATION_OBJECT } from '../../governance/audit-verification.js';
import { connectSalesforce } from '../../salesforce/connection.js';
import { describeError } from '../../sync/common/run-record.js';
import type { CliContext } from '../types.js';

/**
 * `audit verify` reads every Audit_Anchor__c from Salesforce and records its result as an
 * Audit_Verification__c. It needs the Salesforce credentials (the
 * rest of the command does not): without them, or with Salesforce unreachable, the anchors are not
 * read and the command says so, naming variables, never values.
 */

export type AnchorRead =
  | { readonly ok: true; readonly anchors: readonly AuditAnchor[] }
  /** `unavailable`: no credentials or no connection; `invalid`: an anchor record that is not one. */
  | { readonly ok: false; readonly kind: 'unavailable' | 'invalid'; readonly reason: string };

const SOQL = `SELECT Sequence__c, Head_Hash__c FROM ${ANCHOR_OBJECT} ORDER BY Sequence__c`;

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
  const { connection } = connected;
  try {
    const anchors: AuditAnchor[] = [];
    let result = await connection.query<Record<string, unknown>>(SOQL);
    for (;;) {
      for (const record of result.records) anchors.push(anchorOf(record, anchors.length));
      if (result.done || !result.nextRecordsUrl) break;
      result = await connection.queryMore<Record<string, unknown>>(result.nextRecordsUrl);
    }
    return { ok: true, anchors };
  } catch (err) {
    if (err instanceof InvalidAnchor) return { ok: false, kind: 'invalid', reason: err.message };
    return {
      ok: false,
      kind: 'unavailable',
      reason: `the anchors could not be read from Salesforce (${describeError(err)})`,
    };
  }
}

function anchorOf(record: Record<string, unknown>, index: number): AuditAnchor {
  const seq = record.Sequence__c;
  const hash = record.Head_Hash__c;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new InvalidAnchor(`${ANCHOR_OBJECT} record ${index + 1}: Sequence__c is not a whole number ≥ 1`);
  }
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new InvalidAnchor(`${ANCHOR_OBJECT} record ${index + 1}: Head_Hash__c is not a sha256 hex hash`);
  }
  return { seq, hash };
}

class InvalidAnchor extends Error {}
