/**
 * The parts of the org the DML, event, history and view modules work on. `Org` (../org.ts) is the one
 * implementation; the modules take this narrower view so that each names what it touches.
 */
import type { Schema } from '../schema.js';
import type { Clock } from './clock.js';
import type { Security } from './security.js';
import type { RecordStore } from './store.js';
import type { LockFault } from './types.js';

export interface OrgCore {
  readonly schema: Schema;
  readonly clock: Clock;
  readonly store: RecordStore;
  readonly security: Security;
  readonly lockFaults: LockFault[];
}
