// TEMPORARY merge shim (issue #14): the write-back poller moved to ./writeback/ (see its README). Only
// server.ts (another branch's file this round) still imports it from here; the lead repoints that import
// to ./sync/writeback/index.js after the branches merge and deletes this file.
export { createReversePoller, resolveIntegrationUserId } from './writeback/index.js';
