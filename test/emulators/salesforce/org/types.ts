/**
 * The org's shared vocabulary: records, users, save results (Salesforce's per-record result shape),
 * save items, published events, lock faults and snapshots; and how a per-record error becomes a
 * failed result.
 */
import { RecordError } from '../errors.js';
import type { FieldDef, ObjectDef } from '../schema.js';

export type Rec = Record<string, unknown>;

export interface UserDef {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  email: string;
  /** System Administrator: object and field security do not apply. */
  bypassSecurity: boolean;
}

export interface SaveResult {
  id?: string;
  success: boolean;
  errors: Array<{ statusCode: string; message: string; fields: string[] }>;
  created?: boolean;
}

export interface PublishedEvent {
  object: string;
  id: string;
  uuid: string;
  replayId: number;
  publishedAt: string;
  publishedById: string;
  payload: Rec;
}

/** A unit of work in a batch: what to write and how. */
export interface SaveItem {
  operation: 'insert' | 'update' | 'upsert';
  object: ObjectDef;
  values: Rec;
  /** For update: the record id. */
  id?: string;
  /** For upsert: the field to match on (an external id, an idLookup field, or Id). */
  externalIdField?: FieldDef;
}

export interface LockFault {
  object: string;
  /** Matches when the record (before or after the write) has this value in this field. */
  field: string;
  value: string;
  /** How many writes to fail; unlimited when absent. */
  times?: number;
}

export interface OrgSnapshot {
  version: number;
  tables: Record<string, Rec[]>;
  counters: Record<string, number>;
  autoNumbers: Record<string, number>;
}

/** Several per-record errors for one record (Salesforce reports them all). */
export class RecordErrors extends Error {
  constructor(readonly errors: RecordError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** A per-record failure as a result; anything else is a bug and is rethrown. */
export function failedResult(error: unknown): SaveResult {
  if (error instanceof RecordErrors) return { success: false, errors: error.errors.map((e) => e.toJSON()) };
  if (error instanceof RecordError) return { success: false, errors: [error.toJSON()] };
  throw error;
}

/** The result of a valid record in an allOrNone request that failed elsewhere. */
export function rolledBack(): SaveResult {
  return {
    success: false,
    errors: [
      {
        statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
        message:
          'Record rolled back because not all records were valid and the request was using AllOrNone header',
        fields: [],
      },
    ],
  };
}
