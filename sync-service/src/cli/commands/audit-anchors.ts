import type { Connection } from 'jsforce';
import { ConfigError } from '../../config/index.js';
import { ANCHOR_OBJECT, type AuditAnchor } from '../../governance/audit-anchor.js';
import { connectSalesforce } from '../../salesforce/connection.js';
import { describeError } from '../../sync/common/run-record.js';
import type { CliContext } from '../types.js';

/**
 * `audit verify` reads every Audit_Anchor__c from Salesforce. It needs the Salesforce credentials (the
 * rest of the command does not): without them, or with Salesforce unreachable, the anchors are not
 * read and the command says so, naming variables, never values.
 */

export type AnchorRead =
  | { readonly ok: true; readonly anchors: readonly AuditAnchor[] }
  /** `unavailable`: no credentials or no connection; `invalid`: an anchor record that is not one. */
  | { readonly ok: false; readonly kind: 'unavailable' | 'invalid'; readonly reason: string };

const SOQL = `SELECT Sequence__c, Head_Hash__c FROM ${ANCHOR_OBJECT} ORDER BY Sequence__c`;

export async function readAnchors(ctx: CliContext): Promise<AnchorRead> {
  let config;
  try {
    config = ctx.config();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const variables = [...new Set(err.problems.map((p) => p.variable))].join(', ');
    return {
      ok: false,
      kind: 'unavailable',
      reason: `the Salesforce credentials are missing or incomplete (configuration problems in ${variables})`,
    };
  }
  let connection: Connection;
  try {
    connection = (await connectSalesforce(config.salesforce, ctx.logger())).connection;
  } catch (err) {
    return {
      ok: false,
      kind: 'unavailable',
      reason: `Salesforce could not be reached (${describeError(err)})`,
    };
  }
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
