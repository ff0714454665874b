// Ambient declarations for platform modules that @salesforce/lightning-types lacks (schema imports,
// the GraphQL and record wire adapters, Apex methods). A script file (no top-level import/export) so
// that the `declare module` blocks declare modules rather than augment them.

/** What an `@salesforce/schema/<Object>.<Field>` import resolves to on the platform. */
interface SchemaFieldId {
  objectApiName: string;
  fieldApiName: string;
}

/** One field of a UI API GraphQL node: `{ value, displayValue }`. Absent when FLS hides it (`@optional`). */
interface GqlField<T> {
  value: T | null;
  displayValue?: string | null;
}

/** The value a `lightning/graphql` wire provisions. */
interface GraphqlResult<T> {
  data?: T;
  errors?: unknown;
  refresh?: () => Promise<void>;
}

/** A wire adapter class as the LWC engine drives it (structurally lwc's WireAdapterConstructor). */
interface PlatformWireAdapter<Value> {
  new (dataCallback: (value: Value) => void): {
    update(config: Record<string, unknown>, context?: Record<string, unknown>): void;
    connect(): void;
    disconnect(): void;
  };
}

/** A record as Lightning Data Service returns it (`getRecord`). */
interface LdsRecord {
  id: string;
  apiName: string;
  fields: Record<string, { value: unknown; displayValue: string | null } | undefined>;
}

declare module '@salesforce/schema/*' {
  const ref: SchemaFieldId;
  export default ref;
}

declare module 'lightning/graphql' {
  // The GraphQL wire adapter: config `{ query, variables, operationName }`.
  export const graphql: PlatformWireAdapter<GraphqlResult<unknown>>;
  /** Tags a GraphQL document; the platform parses it at compile time. */
  export function gql(strings: TemplateStringsArray, ...values: unknown[]): unknown;
}

declare module 'lightning/uiRecordApi' {
  export const getRecord: PlatformWireAdapter<{ data?: LdsRecord; error?: unknown }>;
  /** Several records at once: `results[i].result` is a record, or an error (statusCode 4xx). */
  export const getRecords: PlatformWireAdapter<{
    data?: { results: Array<{ statusCode: number; result: LdsRecord | unknown }> };
    error?: unknown;
  }>;
  export interface RecordInput {
    apiName?: string;
    fields: Record<string, unknown>;
  }
  export function createRecord(recordInput: RecordInput): Promise<LdsRecord>;
  export function updateRecord(recordInput: RecordInput): Promise<LdsRecord>;
  export function getFieldValue(record: LdsRecord | undefined, field: SchemaFieldId | string): unknown;
  export function getFieldDisplayValue(
    record: LdsRecord | undefined,
    field: SchemaFieldId | string,
  ): string | null | undefined;
  export function notifyRecordUpdateAvailable(items: Array<{ recordId: string }>): Promise<void>;
}

declare module '@salesforce/apex/*' {
  /** An `@AuraEnabled` Apex method: callable imperatively, or usable as a wire adapter. */
  const method: (params?: Record<string, unknown>) => Promise<unknown>;
  export default method;
}

declare module '@salesforce/i18n/locale' {
  /** The running user's locale, e.g. `en-AU` (BCP 47), for Intl formatting. */
  const locale: string;
  export default locale;
}

declare module '@salesforce/i18n/timeZone' {
  /** The running user's time zone, e.g. `Australia/Sydney` (IANA), for Intl formatting. */
  const timeZone: string;
  export default timeZone;
}

declare module 'lightning/uiObjectInfoApi' {
  /** Object metadata: field labels and types (`getObjectInfo`). */
  export const getObjectInfo: PlatformWireAdapter<{
    data?: { apiName: string; fields: Record<string, { label: string } | undefined> };
    error?: unknown;
  }>;
}
