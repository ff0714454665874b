// TEMPORARY merge shim (issue #14): the reference loader moved to ./cycle/references.ts. The dry run and
// the reconciler (moved in a parallel branch) still import it from here; the lead repoints them after
// both branches merge and deletes this file.
export { loadReferences, type References } from './cycle/references.js';
