// TEMPORARY merge shim (issue #14): the reconciliation moved to ./reconcile/ (see its README). Only
// server.ts (another branch's file this round) still imports it from here; the lead repoints that import
// to ./sync/reconcile/index.js after the branches merge and deletes this file.
export { reconcilerForService } from './reconcile/index.js';
