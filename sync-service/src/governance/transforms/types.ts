/** The vocabulary of the named transforms (see ../transforms.ts for the contract). */

/** Salesforce field types as they appear in `<type>` of a CustomField, plus the standard fields'. */
export type SalesforceFieldType =
  | 'Text'
  | 'TextArea'
  | 'LongTextArea'
  | 'Email'
  | 'Phone'
  | 'Date'
  | 'DateTime'
  | 'Checkbox'
  | 'Number'
  | 'Currency'
  | 'Percent'
  | 'Picklist'
  | 'Lookup'
  | 'MasterDetail';

/** Values the caller supplies per run: reference names (never patient data) and the clock. */
export interface ProjectionContext {
  /** Display names of Cliniko reference records by id (businesses, practitioners, appointment types). */
  readonly names?: {
    readonly businesses?: ReadonlyMap<string, string>;
    readonly practitioners?: ReadonlyMap<string, string>;
    readonly appointmentTypes?: ReadonlyMap<string, string>;
  };
  /** The clinic's calendar date today (YYYY-MM-DD, clinic time zone), for "expired" decisions. */
  readonly today?: string;
  /** Country calling code used to normalise national phone numbers; default 61 (Australia). */
  readonly defaultCallingCode?: string;
}

export class TransformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransformError';
  }
}

/** A write by external id: `{ Contact__r: { Cliniko_Patient_Id__c: '123' } }` instead of `Contact__c`. */
export interface ExternalIdReference {
  readonly kind: 'external-id-reference';
  readonly externalIdField: string;
  readonly id: string;
}

export function isExternalIdReference(value: unknown): value is ExternalIdReference {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'external-id-reference'
  );
}

export interface TransformDefinition {
  readonly name: string;
  readonly description: string;
  /**
   * The source fields the entry must list (in any order: inputs are passed by name); `undefined` means
   * exactly one field of any name; `variadic` means one or more fields of any name (the address join).
   */
  readonly sources?: readonly string[] | 'variadic';
  /** Target field types this transform may write. */
  readonly fieldTypes: readonly SalesforceFieldType[];
  readonly apply: (input: SourceValues, context: ProjectionContext) => unknown;
  /**
   * Salesforce value -> Cliniko patch for `both` entries. Receives the Salesforce value and the current
   * Cliniko values of the entry's source fields (after earlier inverse transforms of the same patch),
   * returns the Cliniko fields to write. Absent: the entry cannot be `both`.
   */
  readonly inverse?: (value: unknown, current: SourceValues, fields: readonly string[]) => SourceValues;
}

/** The entry's source fields, sliced from the record: field name -> value (absent key = not sent). */
export type SourceValues = Readonly<Record<string, unknown>>;
