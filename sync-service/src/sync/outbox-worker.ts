// TEMPORARY merge shim (issue #14): the outbox worker moved to ./outbox/worker.ts. The reconciler (moved
// in a parallel branch) still imports its types from here; the lead repoints it after both branches
// merge and deletes this file.
export type { DrainResult, OutboxWorker } from './outbox/worker.js';
