import { loadLocalConfig, type LocalConfig } from '../../config/index.js';
import { openStore } from '../../runtime/wiring.js';
import type { Store } from '../../store/index.js';
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

export { auditRowOf, chainHeadOf, walkAuditLog } from '../../sync/common/audit-log.js';
