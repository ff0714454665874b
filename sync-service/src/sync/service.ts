// TEMPORARY merge shim (issue #14): the composition root moved to ../runtime/wiring.ts, and sync/ must
// not import runtime/. Only the reconciler (moved in a parallel branch) still names the wired service's
// type from here; the lead removes this file when the reconciler is wired from runtime/ instead.
export type { SyncService } from '../runtime/wiring.js';
