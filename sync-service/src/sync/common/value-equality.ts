import type { DataMap } from '../../governance/data-map.js';

/**
 * Whether Salesforce already holds the value a sync would write: the one rule the dry run (what would
 * change) and the nightly reconciliation (what drifted) share, so they never disagree about drift.
 *
 * Salesforce answers in its own spelling, so meaning is compared, not spelling, and what counts as the
 * same meaning depends on the field's type (the package's metadata `<type>`, carried by the data map's
 * FieldRef). Each rule below is what Salesforce stores and returns for that type; sources:
 * - [DisplayType]: https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-enum-schema-displaytype.html
 *   ("Phone: ... Client applications are responsible for phone number formatting": stored as given).
 * - [Primitive]: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/primitive_data_types.htm
 *   (boolean is true or false; date has no time; dateTime is a UTC timestamp "with a precision of one
 *   second"; currency, number and percent travel as double, limited by precision and scale).
 * - [Multi-select]: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/api/sforce_api_calls_soql_querying_multiselect_picklists.htm
 *   (a value is the set of selected items joined by `;`; `= 'AAA;BBB'` matches "AAA and BBB selected").
 *
 * An untyped field (not in the data map: an external id, a field a rule adds) is judged by the shape
 * Salesforce answered with: a JSON number is a number field, a boolean a checkbox, an ISO timestamp on
 * both sides a datetime; anything else is text, compared exactly.
 */

/** How Salesforce stores a metadata `<type>` (CustomField type names, as in `*.field-meta.xml`). */
export type ValueKind = 'text' | 'multi-select' | 'number' | 'date' | 'datetime' | 'checkbox';

const KIND_BY_TYPE: Readonly<Record<string, ValueKind>> = {
  Text: 'text',
  TextArea: 'text',
  LongTextArea: 'text',
  Html: 'text',
  Email: 'text',
  Phone: 'text',
  Url: 'text',
  Picklist: 'text',
  Lookup: 'text',
  MasterDetail: 'text',
  MultiselectPicklist: 'multi-select',
  Number: 'number',
  Currency: 'number',
  Percent: 'number',
  Date: 'date',
  DateTime: 'datetime',
  Checkbox: 'checkbox',
};

/** The kind of a metadata type; undefined for an unknown type or none (then judged by shape). */
export function valueKind(type: string | undefined): ValueKind | undefined {
  return type === undefined ? undefined : KIND_BY_TYPE[type];
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T/;
const ISO_DATE = /^(\d{4}-\d{2}-\d{2})/;

/** Blank as Salesforce sees it: null, absent or empty text (it keeps no empty text). */
export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/** A JSON scalar as text (a number written to a text field is stored as its decimal text). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Milliseconds of an ISO timestamp, accepting Salesforce's `+0000` offset form; NaN when not one. */
export function instantOf(value: unknown): number {
  if (typeof value !== 'string') return Number.NaN;
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

function sameNumber(expected: unknown, actual: unknown): boolean {
  const a = typeof expected === 'string' ? Number(expected.trim()) : expected;
  const b = typeof actual === 'string' ? Number(actual.trim()) : actual;
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b))
    return asText(expected) === asText(actual);
  return a === b;
}

/** [Primitive] dateTime: stored in UTC to the second, so the same second is the same value. */
function sameDateTime(expected: unknown, actual: unknown): boolean {
  const a = instantOf(expected);
  const b = instantOf(actual);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return asText(expected) === asText(actual);
  return Math.floor(a / 1000) === Math.floor(b / 1000);
}

/** [Primitive] date: no time portion, so only the calendar date counts. */
function sameDate(expected: unknown, actual: unknown): boolean {
  const a = ISO_DATE.exec(asText(expected))?.[1];
  const b = ISO_DATE.exec(asText(actual))?.[1];
  return a !== undefined && b !== undefined ? a === b : asText(expected) === asText(actual);
}

/** [Multi-select]: the set of selected items; their order in the text carries no meaning. */
function sameSelection(expected: unknown, actual: unknown): boolean {
  const items = (v: unknown) =>
    [
      ...new Set(
        asText(v)
          .split(';')
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      ),
    ]
      .sort()
      .join(';');
  return items(expected) === items(actual);
}

/** The kind of an untyped field, from the shape of the two values (see the header). */
function kindByShape(expected: unknown, actual: unknown): ValueKind {
  if (typeof expected === 'boolean' || typeof actual === 'boolean') return 'checkbox';
  if (typeof actual === 'number') return 'number';
  if (ISO_DATE_TIME.test(asText(expected)) && ISO_DATE_TIME.test(asText(actual))) return 'datetime';
  return 'text';
}

/**
 * Whether Salesforce's `actual` is the value `expected` (what a sync would write) for a field of metadata
 * type `type`. Blank: `''`, null and a missing value are the same blank. This one is the house rule,
 * not a documented one: none of the pages above says how an empty text is stored; an empty text
 * written reads back as null (as the Salesforce emulator's `coerceValue` in
 * test/emulators/salesforce/values.ts stores it), and telling the two apart would report drift no
 * write can repair. A checkbox is never blank ([Primitive] boolean: true or false), so writing null
 * to one stores false; a blank read where true or false is expected is a difference (the field was
 * not there to read).
 */
export function sameSalesforceValue(expected: unknown, actual: unknown, type?: string): boolean {
  if (isBlank(expected)) return isBlank(actual) || actual === false;
  if (isBlank(actual)) return false;
  switch (valueKind(type) ?? kindByShape(expected, actual)) {
    case 'checkbox':
      return expected === actual;
    case 'number':
      return sameNumber(expected, actual);
    case 'datetime':
      return sameDateTime(expected, actual);
    case 'date':
      return sameDate(expected, actual);
    case 'multi-select':
      return sameSelection(expected, actual);
    case 'text':
      return asText(expected) === asText(actual);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The same rule over a queried record: a lookup written by external id (`Contact__r:
 * {Cliniko_Patient_Id__c}`) is compared through the relationship's fields; a cleared lookup
 * (`Contact__c: null`) through the id field.
 */
export function sameFieldValue(
  expected: unknown,
  row: Readonly<Record<string, unknown>>,
  field: string,
  type?: string,
): boolean {
  const actual = row[field];
  if (isPlainObject(expected)) {
    return Object.entries(expected).every(([sub, value]) =>
      sameSalesforceValue(value, isPlainObject(actual) ? actual[sub] : null),
    );
  }
  return sameSalesforceValue(expected, actual, type);
}

/** `Object.Field` -> metadata type of every target the data map writes (from the package metadata). */
export type FieldTypes = ReadonlyMap<string, string>;

export function fieldTypesOf(map: Pick<DataMap, 'entries'>): FieldTypes {
  const types = new Map<string, string>();
  for (const e of map.entries) if (e.target?.type !== undefined) types.set(e.target.path, e.target.type);
  return types;
}
