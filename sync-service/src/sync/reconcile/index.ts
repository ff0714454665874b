/** The nightly reconciliation's public surface (the CLI, the server's schedule and the tests use it). */
export {
  createReconciler,
  reconcilerForService,
  type Reconciler,
  type ReconcilerService,
} from './reconciler.js';
export {
  ACCESS_PICTURE_KEY,
  ACCESS_SNAPSHOT_KEY,
  MONITORED_PERMISSION_SETS,
  RECONCILED_OBJECTS,
  type AccessChange,
  type AccessPictureReport,
  type AccessSnapshot,
  type ConsentMismatch,
  type ConsentSnapshot,
  type ObjectReconciliation,
  type ReconcilerDeps,
  type ReconcileReport,
} from './types.js';
