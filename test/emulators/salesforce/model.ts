/**
 * Shared contract between the Salesforce emulator (schema, records, security, routes) and its pure
 * SOQL engine (`soql/`) and Bulk API 2.0 ingest plugin (`bulk/`). Both sides code against these
 * types; a change here is a change to CONTRACT.md as well.
 */
import type { FastifyRequest } from 'fastify';

export type SoqlFieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'boolean'
  | 'int'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime'
  | 'reference';

export interface SoqlField {
  /** Canonical API name, e.g. `Cliniko_Patient_Id__c`. */
  name: string;
  type: SoqlFieldType;
  /** For `reference` fields: the object(s) the id may point at (OwnerId -> ['User']). */
  referenceTo?: string[];
  /** For `reference` fields: the name used in SOQL to traverse, e.g. `Contact__r`, `Owner`. */
  relationshipName?: string;
}

export interface SoqlObject {
  /** Canonical API name, e.g. `Contact`, `Care_Plan__c`. */
  name: string;
  /** Keyed by the lower-cased API name. */
  fields: ReadonlyMap<string, SoqlField>;
  /** Keyed by the lower-cased child relationship name (e.g. `care_plans__r`, `histories`). */
  childRelationships?: ReadonlyMap<string, { childObject: string; field: string }>;
}

export interface SoqlContext {
  /** Case-insensitive; undefined when the object does not exist or the running user cannot read it. */
  describe(objectName: string): SoqlObject | undefined;
  /** Canonical field names, always including Id; deleted rows carry IsDeleted: true. */
  records(objectName: string): Iterable<Readonly<Record<string, unknown>>>;
  byId(id: string): { objectName: string; record: Readonly<Record<string, unknown>> } | undefined;
  /** Field-level security of the running user. */
  canRead(objectName: string, fieldName: string): boolean;
  now: Date;
  /** queryAll sets this; query leaves deleted rows out. */
  includeDeleted: boolean;
  /** API version of the request (e.g. `66.0`), for `attributes.url`. Added to the original contract. */
  apiVersion: string;
}

export interface SoqlResult {
  totalSize: number;
  done: true;
  records: Array<Record<string, unknown>>;
}

/** One row's outcome, in the order of the rows given to applyDml. */
export interface DmlRowResult {
  success: boolean;
  created?: boolean;
  id?: string;
  errors?: Array<{ statusCode: string; message: string; fields: string[] }>;
}

export type DmlOperation = 'insert' | 'update' | 'upsert' | 'delete';

export interface BulkDeps {
  /** undefined -> the plugin replies 401 `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`. */
  authenticate(request: FastifyRequest): Promise<{ userId: string } | undefined>;
  /**
   * Applies CSV rows one by one (allOrNone false). Values are the CSV strings: `null` means set the
   * field to null (the CSV held `#N/A`); an empty string means "leave unchanged" (Bulk 2.0 semantics);
   * an empty `Id` column is tolerated. Relationship columns such as `Contact__r.Cliniko_Patient_Id__c`
   * are resolved by external id. Returns one result per row, in order.
   */
  applyDml(
    userId: string,
    objectName: string,
    operation: DmlOperation,
    externalIdFieldName: string | undefined,
    rows: Array<Record<string, string | null>>,
  ): Promise<DmlRowResult[]>;
  now(): Date;
  /**
   * Optional check when a job is created, as Salesforce refuses a job on an unknown object or an upsert
   * on a field that is not an external id before any data is uploaded. Returns the `InvalidJob : ...`
   * message, or undefined when the job is fine. Added to the original contract; without it every
   * job is accepted and its rows fail one by one.
   */
  validateJob?(
    userId: string,
    objectName: string,
    operation: DmlOperation,
    externalIdFieldName: string | undefined,
  ): string | undefined;
}
