/**
 * Shape checks for the governance review's spot check (issue #17, item 5): each synced value of a
 * sampled record against the shape its data-map entry declares (Data_Map_Field__mdt.Shape__c; the
 * shapes are those of sync-service/src/governance/data-map-schema.ts SHAPES). A value that does not fit
 * is flagged for the reviewer: a clinical note pasted into a name, a phone number in the postcode. Pure:
 * no platform modules, so the rules are tested on their own.
 *
 * The checks are deliberately loose where real data varies (international phone numbers, postcodes of
 * other countries, names with apostrophes and accents) and strict where free text would show: line
 * breaks, digits in a name, sentences where one token belongs.
 */

export const SHAPES = ['email', 'phone', 'postcode', 'date', 'picklist', 'name'] as const;
export type Shape = (typeof SHAPES)[number];

export interface ShapeCheck {
  fits: boolean;
  /** Why it does not fit, in words for the reviewer (never the value); '' when it fits. */
  reason: string;
}

const FITS: ShapeCheck = { fits: true, reason: '' };
const fail = (reason: string): ShapeCheck => ({ fits: false, reason });

export function isShape(value: unknown): value is Shape {
  return typeof value === 'string' && (SHAPES as readonly string[]).includes(value);
}

function validDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Whether `value` (as Salesforce holds it: dates as YYYY-MM-DD) fits `shape`. Empty values fit. */
export function checkShape(shape: Shape, value: unknown): ShapeCheck {
  if (value === null || value === undefined || value === '') return FITS;
  if (typeof value !== 'string') return fail('not text');
  if (/[\r\n]/.test(value)) return fail('more than one line');
  const text = value.trim();
  switch (shape) {
    case 'email':
      return text.length <= 80 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)
        ? FITS
        : fail('not an email address');
    case 'phone': {
      const digits = text.replace(/\D/g, '').length;
      return /^\+?[0-9 ()./-]+$/.test(text) && digits >= 6 && digits <= 15
        ? FITS
        : fail('not a phone number');
    }
    case 'postcode':
      // Every postcode scheme in use where Cliniko runs (AU, NZ, UK, US, CA, IE) has a digit.
      return /^[A-Za-z0-9](?:[A-Za-z0-9 -]{1,8})[A-Za-z0-9]$/.test(text) && /\d/.test(text)
        ? FITS
        : fail('not a postcode');
    case 'date':
      return validDate(text) ? FITS : fail('not a date');
    case 'picklist':
      return text.length <= 80 && text.split(/\s+/).length <= 5 ? FITS : fail('not a single choice');
    case 'name':
      if (/\d/.test(text)) return fail('a name with digits');
      if (!/^[\p{L}\p{M}][\p{L}\p{M} .'’-]*$/u.test(text)) return fail('a name with other characters');
      return text.length <= 80 && text.split(/\s+/).length <= 5 ? FITS : fail('too long for a name');
    default:
      return FITS;
  }
}

/** One synced field of a data-map entry, as the review's Apex data map returns it. */
export interface MappedField {
  targetObject: string | null;
  targetField: string | null;
  shape: string | null;
}

/** One synced field of a sampled record as the spot check shows it. */
export interface SpotField {
  key: string;
  field: string;
  /** The field's label (object info), or its API name when the label is unknown. */
  label: string;
  /** The value as displayed (display value when there is one). '' when empty. */
  display: string;
  shape: Shape | null;
  /** A value was present and a shape was declared: it could be checked. */
  checked: boolean;
  fits: boolean;
  reason: string;
}

/** What the review reads of one record (`getRecords`): value and display value per field. */
export interface RecordFields {
  [field: string]: { value: unknown; displayValue: string | null } | undefined;
}

/**
 * The synced fields of one record, in data-map order, with labels and shape checks. Fields the record
 * does not carry (hidden from the user by field-level security) are left out, not shown as empty.
 */
export function spotFieldsOf(
  object: string,
  mapped: readonly MappedField[],
  fields: RecordFields,
  labels: Readonly<Record<string, string>>,
): SpotField[] {
  const out: SpotField[] = [];
  const seen = new Set<string>();
  for (const m of mapped) {
    const field = m.targetField;
    if (m.targetObject !== object || !field || seen.has(field)) continue;
    seen.add(field);
    const cell = fields[field];
    if (cell === undefined) continue;
    const shape = isShape(m.shape) ? m.shape : null;
    const present = cell.value !== null && cell.value !== '';
    const check = shape && present ? checkShape(shape, cell.value) : FITS;
    out.push({
      key: field,
      field,
      label: labels[field] ?? field,
      display: present ? (cell.displayValue ?? String(cell.value)) : '',
      shape,
      checked: shape !== null && present,
      fits: check.fits,
      reason: check.reason,
    });
  }
  return out;
}

/** A record can be ticked only when at least one of its synced values could be checked. */
export function hasSomethingToCheck(fields: readonly SpotField[]): boolean {
  return fields.some((f) => f.checked);
}
