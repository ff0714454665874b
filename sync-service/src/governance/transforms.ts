/**
 * Named transforms: the only code that turns a Cliniko value into a Salesforce value (and, for the few
 * `both` fields, back). A data-map entry names its transform; the validator refuses unknown names, a
 * source list that does not fit the transform, and a target field of a type the transform cannot write.
 *
 * Governance property: a transform only ever receives the source fields its entry lists (the projector
 * slices the record before calling it), so a transform cannot read, and therefore cannot leak, a field
 * the signed map does not name.
 *
 * Contract for `apply`: return `undefined` to leave the target out of the payload (nothing to say),
 * `null` to clear it, or the value to write. Throw `TransformError` for a value that cannot be written;
 * its message must name the problem, never the value (it ends up in logs and the quarantine reason).
 */

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

// ---------------------------------------------------------------------------------------------------
// helpers

function only(input: SourceValues): unknown {
  const values = Object.values(input);
  return values[0];
}

function isAbsent(value: unknown): value is undefined {
  return value === undefined;
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false;
}

function asText(value: unknown, what: string): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TransformError(`${what} is not text`);
}

function trimmedOrNull(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Cliniko ids are strings holding 64-bit integers; never parse them as numbers. */
const ID_PATTERN = /^\d{1,20}$/;

/** The id at the end of a Cliniko `links.self` URL, e.g. `.../v1/patients/123` -> `123`. */
export function idFromLink(value: unknown): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'object') throw new TransformError('link is not an object with links.self');
  const self = (value as { links?: { self?: unknown } }).links?.self;
  if (self === undefined || self === null) return null;
  if (typeof self !== 'string') throw new TransformError('links.self is not a URL');
  let path: string;
  try {
    path = new URL(self).pathname;
  } catch {
    throw new TransformError('links.self is not a URL');
  }
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!ID_PATTERN.test(last)) throw new TransformError('links.self does not end in a Cliniko id');
  return last;
}

function reference(externalIdField: string) {
  return (input: SourceValues): ExternalIdReference | null | undefined => {
    const id = idFromLink(only(input));
    if (id === undefined || id === null) return id;
    return { kind: 'external-id-reference', externalIdField, id };
  };
}

function named(pick: (ctx: ProjectionContext) => ReadonlyMap<string, string> | undefined, what: string) {
  return (input: SourceValues, context: ProjectionContext): string | null | undefined => {
    const id = idFromLink(only(input));
    if (id === undefined || id === null) return id;
    const name = pick(context)?.get(id);
    // An unknown reference is a gap in the run's lookups, not bad patient data: leave the field as it is.
    if (name === undefined) throw new TransformError(`no ${what} name known for the linked id`);
    return name;
  };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function validDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function dateValue(value: unknown): string | null | undefined {
  const text = asText(value, 'date');
  if (text === undefined || text === null) return text;
  if (!validDate(text)) throw new TransformError('date is not YYYY-MM-DD');
  return text;
}

function dateTimeValue(value: unknown): string | null | undefined {
  const text = asText(value, 'date-time');
  if (text === undefined || text === null) return text;
  if (!ISO_DATETIME.test(text) || Number.isNaN(Date.parse(text))) {
    throw new TransformError('date-time is not ISO 8601 with a zone');
  }
  // Salesforce accepts ISO 8601; normalise to UTC milliseconds so equal instants compare equal.
  return new Date(text).toISOString();
}

/** Money arrives as a decimal string; Salesforce Currency(16,2) takes a number. */
function moneyValue(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  const text = typeof value === 'number' ? String(value) : value;
  const m = typeof text === 'string' ? /^(-?)(\d{1,14})(?:\.(\d+))?$/.exec(text.trim()) : null;
  if (m === null) throw new TransformError('amount is not a decimal number');
  // Round half away from zero on the decimal digits themselves: binary floating point would turn
  // 1.005 into 1.00 (1.005 * 100 = 100.49999...).
  const [, sign = '', whole = '0', fraction = ''] = m;
  let cents = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  if ((fraction[2] ?? '0') >= '5') cents += 1n;
  const amount = Number(cents) / 100;
  return sign === '-' && amount !== 0 ? -amount : amount;
}

function integerValue(value: unknown): number | null | undefined {
  if (value === undefined || value === null) return value;
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new TransformError('value is not a whole number');
  return n;
}

function booleanOrNull(value: unknown, what: string): boolean | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'boolean') throw new TransformError(`${what} is not true/false`);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// phones

export const PHONE_TYPES = ['Mobile', 'Home', 'Work', 'Other', 'Fax'] as const;
type PhoneType = (typeof PHONE_TYPES)[number];

interface ClinikoPhone {
  readonly number: string;
  readonly phone_type: string;
}

function phoneList(value: unknown): ClinikoPhone[] | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value)) throw new TransformError('patient_phone_numbers is not a list');
  const phones: ClinikoPhone[] = [];
  value.forEach((item, index) => {
    if (typeof item !== 'object' || item === null) {
      throw new TransformError(`patient_phone_numbers[${index}] is not an object`);
    }
    const { number, phone_type: phoneType } = item as { number?: unknown; phone_type?: unknown };
    if (typeof number !== 'string' || typeof phoneType !== 'string') {
      throw new TransformError(`patient_phone_numbers[${index}] lacks number or phone_type`);
    }
    phones.push({ number, phone_type: phoneType });
  });
  return phones;
}

/**
 * E.164-ish normalisation. Australian national numbers (`04xx xxx xxx`, `(02) xxxx xxxx`) and numbers
 * already in international form (`+61 4...`, `61 4...`, `0011 61 ...`) become `+61...`; anything else
 * is returned with its punctuation tidied but otherwise as written, because guessing a country for it
 * would corrupt it. Returns null for a number without digits.
 */
export function normalisePhone(raw: string, callingCode = '61'): string | null {
  const trimmed = raw.trim();
  const digits = trimmed.replace(/\D/g, '');
  if (digits === '') return null;
  if (trimmed.startsWith('+')) return `+${digits}`;
  if (digits.startsWith('0011')) return `+${digits.slice(4)}`;
  if (callingCode === '61') {
    // 10-digit national number with trunk prefix 0: mobiles 04, landlines 02/03/07/08.
    if (/^0[2-478]\d{8}$/.test(digits)) return `+61${digits.slice(1)}`;
    // Already carries the country code without the plus.
    if (/^61[2-478]\d{8}$/.test(digits)) return `+${digits}`;
    // Mobile without its trunk 0 (a common data-entry slip): 4xx xxx xxx.
    if (/^4\d{8}$/.test(digits)) return `+61${digits}`;
  } else if (digits.startsWith('0')) {
    return `+${callingCode}${digits.slice(1)}`;
  }
  return trimmed.replace(/\s+/g, ' ');
}

function pickPhone(types: readonly PhoneType[]) {
  return (input: SourceValues, context: ProjectionContext): string | null | undefined => {
    const phones = phoneList(only(input));
    if (phones === undefined) return undefined;
    for (const type of types) {
      const found = (phones ?? []).find((p) => p.phone_type === type);
      if (found) return normalisePhone(found.number, context.defaultCallingCode);
    }
    return null;
  };
}

/**
 * Writes one number back into the list: the first number of that type is replaced in place (or
 * removed when cleared), or the number is appended when the patient had none of that type. Other
 * numbers, and the order, are kept, so a write-back changes only what Salesforce changed.
 */
function phoneInverse(type: PhoneType) {
  return (value: unknown, current: SourceValues): SourceValues => {
    const text = trimmedOrNull(asText(value, 'phone'));
    const phones = phoneList(only(current)) ?? [];
    const index = phones.findIndex((p) => p.phone_type === type);
    const existing = phones[index];
    let next: ClinikoPhone[];
    if (text === null || text === undefined) {
      next = phones.filter((_, i) => i !== index);
    } else if (existing === undefined) {
      next = [...phones, { number: text, phone_type: type }];
    } else {
      // Keep Cliniko's spelling when only the formatting differs, so a round trip does not rewrite it.
      const same = normalisePhone(existing.number) === normalisePhone(text);
      next = phones.map((p, i) => (i === index ? { number: same ? p.number : text, phone_type: type } : p));
    }
    return { patient_phone_numbers: next.map((p) => ({ number: p.number, phone_type: p.phone_type })) };
  };
}

// ---------------------------------------------------------------------------------------------------
// the catalogue

/** Single-field inverses write the one source field the entry names. */
function single(fields: readonly string[], value: unknown): SourceValues {
  const [field] = fields;
  if (field === undefined || fields.length !== 1)
    throw new TransformError('inverse needs exactly one source field');
  return { [field]: value };
}

const definitions: TransformDefinition[] = [
  {
    name: 'none',
    description: 'Copies a scalar value as it is (the default when an entry names no transform).',
    fieldTypes: [
      'Text',
      'TextArea',
      'Email',
      'Phone',
      'Number',
      'Currency',
      'Percent',
      'Checkbox',
      'Picklist',
      'Date',
      'DateTime',
    ],
    apply: (input) => {
      const value = only(input);
      if (value === undefined || value === null || typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return value;
      throw new TransformError('value is not a scalar');
    },
    inverse: (value, _current, fields) => single(fields, value ?? null),
  },
  {
    name: 'text',
    description:
      'Trims text (a number, e.g. an invoice number, becomes its digits); empty text clears the field.',
    fieldTypes: ['Text', 'TextArea', 'LongTextArea', 'Picklist'],
    apply: (input) => trimmedOrNull(asText(only(input), 'value')),
    inverse: (value, _current, fields) => single(fields, trimmedOrNull(asText(value, 'value')) ?? null),
  },
  {
    name: 'id',
    description: 'A Cliniko id (a string holding a 64-bit integer) for an external-id field.',
    fieldTypes: ['Text'],
    apply: (input) => {
      const value = only(input);
      if (isAbsent(value)) return undefined;
      if (typeof value !== 'string' || !ID_PATTERN.test(value))
        throw new TransformError('id is not a Cliniko id');
      return value;
    },
  },
  {
    name: 'referral-type',
    description: 'A case referral_type (dva, medicare) as its label (DVA, Medicare); other text as written.',
    fieldTypes: ['Text'],
    apply: (input) => {
      const text = trimmedOrNull(asText(only(input), 'referral_type'));
      if (text === undefined || text === null) return text;
      const known: Record<string, string> = { dva: 'DVA', medicare: 'Medicare' };
      return known[text.toLowerCase()] ?? text;
    },
  },
  {
    name: 'email',
    description: 'Trims and lower-cases an email address; empty clears it.',
    fieldTypes: ['Email', 'Text'],
    apply: (input) => {
      const text = trimmedOrNull(asText(only(input), 'email'));
      if (text === undefined || text === null) return text;
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) throw new TransformError('email is not an email address');
      return text.toLowerCase();
    },
    inverse: (value, _current, fields) => single(fields, trimmedOrNull(asText(value, 'email')) ?? null),
  },
  {
    name: 'date',
    description: 'A calendar date (YYYY-MM-DD).',
    fieldTypes: ['Date'],
    apply: (input) => dateValue(only(input)),
    inverse: (value, _current, fields) => single(fields, dateValue(value) ?? null),
  },
  {
    name: 'datetime',
    description: 'An instant (ISO 8601 with a zone), written in UTC.',
    fieldTypes: ['DateTime'],
    apply: (input) => dateTimeValue(only(input)),
  },
  {
    name: 'money',
    description: 'A decimal string to a number rounded to cents.',
    fieldTypes: ['Currency', 'Number'],
    apply: (input) => moneyValue(only(input)),
  },
  {
    name: 'integer',
    description: 'A whole number.',
    fieldTypes: ['Number'],
    apply: (input) => integerValue(only(input)),
  },
  {
    name: 'boolean',
    description: 'true stays true; false and null (never answered) become false.',
    fieldTypes: ['Checkbox'],
    apply: (input) => {
      const value = booleanOrNull(only(input), 'flag');
      return value === undefined ? undefined : value === true;
    },
  },
  {
    name: 'consent-opt-out',
    description:
      'Marketing consent to an opt-out flag (HasOptedOutOfEmail, DoNotCall): opted out unless consent is true.',
    fieldTypes: ['Checkbox'],
    apply: (input) => {
      const value = booleanOrNull(only(input), 'consent');
      return value === undefined ? undefined : value !== true;
    },
  },
  {
    name: 'privacy-policy',
    description: 'accepted_privacy_policy true/false/null to Accepted/Declined/No Response.',
    fieldTypes: ['Picklist'],
    apply: (input) => {
      const value = booleanOrNull(only(input), 'accepted_privacy_policy');
      if (value === undefined) return undefined;
      return value === true ? 'Accepted' : value === false ? 'Declined' : 'No Response';
    },
  },
  {
    name: 'reminder-type',
    description: 'reminder_type (None, SMS, Email, SMS & Email); null becomes None.',
    fieldTypes: ['Picklist'],
    apply: (input) => {
      const value = only(input);
      if (value === undefined) return undefined;
      if (value === null) return 'None';
      if (value === 'None' || value === 'SMS' || value === 'Email' || value === 'SMS & Email') return value;
      throw new TransformError('reminder_type is not one of None, SMS, Email, SMS & Email');
    },
  },
  {
    name: 'patient-status',
    description:
      'archived_at, merged_at, deleted_at to Active/Archived/Merged/Deleted (deleted wins, then merged).',
    sources: ['archived_at', 'merged_at', 'deleted_at'],
    fieldTypes: ['Picklist'],
    apply: (input) => {
      const set = (field: string): boolean => input[field] !== undefined && input[field] !== null;
      if (set('deleted_at')) return 'Deleted';
      if (set('merged_at')) return 'Merged';
      if (set('archived_at')) return 'Archived';
      return 'Active';
    },
  },
  {
    name: 'appointment-status',
    description:
      'deleted_at, cancelled_at, did_not_arrive, patient_arrived to Deleted/Cancelled/Did Not Arrive/Arrived/Booked.',
    sources: ['deleted_at', 'cancelled_at', 'did_not_arrive', 'patient_arrived'],
    fieldTypes: ['Picklist'],
    apply: (input) => {
      if (isSet(input.deleted_at)) return 'Deleted';
      if (input.cancelled_at !== undefined && input.cancelled_at !== null) return 'Cancelled';
      if (input.did_not_arrive === true) return 'Did Not Arrive';
      if (input.patient_arrived === true) return 'Arrived';
      return 'Booked';
    },
  },
  {
    name: 'case-status',
    description:
      'closed_at, expiry_date to Closed/Expired/Open (expired when the expiry date is before today).',
    sources: ['closed_at', 'expiry_date'],
    fieldTypes: ['Picklist'],
    apply: (input, context) => {
      if (isSet(input.closed_at)) return 'Closed';
      const expiry = dateValue(input.expiry_date);
      if (expiry && context.today === undefined)
        throw new TransformError('case-status needs today in the context');
      if (expiry && context.today !== undefined && expiry < context.today) return 'Expired';
      return 'Open';
    },
  },
  {
    name: 'invoice-status',
    description:
      'status_description and deleted_at to the invoice picklist: deleted -> Cancelled, Open -> Awaiting Payment, Paid, Closed, Open credit -> Paid, none -> Draft.',
    sources: ['status_description', 'deleted_at'],
    fieldTypes: ['Picklist'],
    apply: (input) => {
      if (isSet(input.deleted_at)) return 'Cancelled';
      const status = input.status_description;
      if (status === undefined) return undefined;
      switch (status) {
        case null:
          return 'Draft';
        case 'Open':
          return 'Awaiting Payment';
        case 'Paid':
          return 'Paid';
        case 'Closed':
          return 'Closed';
        // A credit balance means the invoice itself is settled (more than paid).
        case 'Open credit':
          return 'Paid';
        default:
          throw new TransformError('status_description is not one of Open, Paid, Closed, Open credit');
      }
    },
  },
  {
    name: 'funding-source',
    description:
      'A case referral_type to the Funding_Source__c picklist: dva -> DVA, medicare -> Medicare, workcover -> WorkCover, tac -> TAC, private -> Private, other text -> Other, none -> cleared.',
    fieldTypes: ['Picklist'],
    apply: (input) => {
      const text = trimmedOrNull(asText(only(input), 'referral_type'));
      if (text === undefined || text === null) return text;
      const known: Record<string, string> = {
        dva: 'DVA',
        medicare: 'Medicare',
        workcover: 'WorkCover',
        tac: 'TAC',
        private: 'Private',
      };
      return known[text.toLowerCase().replace(/[\s_-]/g, '')] ?? 'Other';
    },
  },
  {
    name: 'address-join',
    description: 'address_1..3 joined with line breaks, blanks skipped; back again on write-back.',
    sources: 'variadic',
    fieldTypes: ['TextArea', 'Text'],
    apply: (input) => {
      // Line order is field-name order (address_1, address_2, address_3), whatever order the map lists.
      const values = Object.keys(input)
        .sort()
        .map((k) => input[k]);
      if (values.every(isAbsent)) return undefined;
      const lines = values
        .map((v) => trimmedOrNull(asText(v, 'address line')))
        .filter((v): v is string => typeof v === 'string');
      return lines.length === 0 ? null : lines.join('\n');
    },
    inverse: (value, _current, unsorted) => {
      const fields = [...unsorted].sort();
      const text = trimmedOrNull(asText(value, 'street'));
      const lines =
        text === null || text === undefined
          ? []
          : text
              .split(/\r?\n/)
              .map((l) => l.trim())
              .filter(Boolean);
      const patch: Record<string, string | null> = {};
      fields.forEach((field, index) => {
        // Lines beyond the last field are kept, joined into it, rather than lost.
        const isLast = index === fields.length - 1;
        const value = isLast ? lines.slice(index).join(', ') : lines[index];
        patch[field] = value === undefined || value === '' ? null : value;
      });
      return patch;
    },
  },
  {
    name: 'phone-mobile',
    description: 'The Mobile number from patient_phone_numbers, normalised (+61...).',
    sources: ['patient_phone_numbers'],
    fieldTypes: ['Phone'],
    apply: pickPhone(['Mobile']),
    inverse: phoneInverse('Mobile'),
  },
  {
    name: 'phone-home',
    description: 'The Home number from patient_phone_numbers, normalised.',
    sources: ['patient_phone_numbers'],
    fieldTypes: ['Phone'],
    apply: pickPhone(['Home']),
    inverse: phoneInverse('Home'),
  },
  {
    name: 'phone-work',
    description: 'The Work number from patient_phone_numbers (else Other), normalised. Fax is never used.',
    sources: ['patient_phone_numbers'],
    fieldTypes: ['Phone'],
    apply: pickPhone(['Work', 'Other']),
    inverse: phoneInverse('Work'),
  },
  {
    name: 'patient-ref',
    description: 'A patient link to an external-id reference on Cliniko_Patient_Id__c.',
    fieldTypes: ['Lookup', 'MasterDetail'],
    apply: reference('Cliniko_Patient_Id__c'),
  },
  {
    name: 'case-ref',
    description: 'A patient_case link to an external-id reference on Cliniko_Case_Id__c.',
    fieldTypes: ['Lookup', 'MasterDetail'],
    apply: reference('Cliniko_Case_Id__c'),
  },
  {
    name: 'appointment-ref',
    description: 'An appointment link to an external-id reference on Cliniko_Appointment_Id__c.',
    fieldTypes: ['Lookup', 'MasterDetail'],
    apply: reference('Cliniko_Appointment_Id__c'),
  },
  {
    name: 'business-name',
    description: 'A business link to the business display name (from the run context).',
    fieldTypes: ['Text'],
    apply: named((c) => c.names?.businesses, 'business'),
  },
  {
    name: 'practitioner-name',
    description: 'A practitioner link to the practitioner display name (from the run context).',
    fieldTypes: ['Text'],
    apply: named((c) => c.names?.practitioners, 'practitioner'),
  },
  {
    name: 'appointment-type-name',
    description: 'An appointment_type link to the type name (from the run context).',
    fieldTypes: ['Text'],
    apply: named((c) => c.names?.appointmentTypes, 'appointment type'),
  },
];

export const TRANSFORMS: ReadonlyMap<string, TransformDefinition> = new Map(
  definitions.map((d) => [d.name, d]),
);

/** The transform an entry without `transform:` uses. */
export const DEFAULT_TRANSFORM = 'none';
