/**
 * Values Salesforce would reject, or that must not cross at all, found before they are queued (issue
 * #15, item 5). Pure: the projector (`project.ts`) calls `salesforceValueProblem` on every value it is
 * about to write and quarantines the record with the message, which names the rule, never the value.
 *
 * - Dates and date-times: Salesforce stores 1700-01-01 to 4000-12-31 (a Date or DateTime outside is
 *   refused as INVALID_TYPE_ON_FIELD_IN_RECORD, or stored as something else). The year is read from the
 *   ISO text the date transforms produce.
 * - Numbers: a Number / Currency field holds at most 18 digits; a number that is not finite, or an
 *   integer JSON could not carry exactly (beyond 2^53), has already lost its value.
 * - Text: C0 control characters other than tab, line feed and carriage return (CR is half of a CRLF
 *   line break, which Cliniko's multi-line fields carry), DEL, and the Unicode bidirectional overrides
 *   and isolates (U+202A..U+202E, U+2066..U+2069) that make a name display as something it is not
 *   (the "Trojan Source" trick). NUL in particular is refused by Salesforce and truncates C strings.
 */

export const SALESFORCE_MIN_DATE = '1700-01-01';
export const SALESFORCE_MAX_DATE = '4000-12-31';
/** Salesforce Number and Currency fields: at most 18 digits in all. */
export const SALESFORCE_MAX_DIGITS = 18;

const ISO_DATE_PREFIX = /^([+-]?\d{4,6})-(\d{2})-(\d{2})/;
// eslint-disable-next-line no-control-regex -- the point of the pattern is to find control characters
const FORBIDDEN_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/u;

/** How the target stores the value; the projector passes the package's field type and the transform. */
export interface ValueTarget {
  /** `Object.Field`. */
  readonly path: string;
  /** The package's metadata type (`Date`, `DateTime`, `Number`, `Currency`, ...), when known. */
  readonly type?: string | undefined;
  /** The data map transform that produced the value (`date`, `datetime`, ...). */
  readonly transform?: string | undefined;
}

const DATE_TYPES = new Set(['Date', 'DateTime']);
const DATE_TRANSFORMS = new Set(['date', 'datetime']);

function isDateTarget(target: ValueTarget): boolean {
  return (
    (target.type !== undefined && DATE_TYPES.has(target.type)) ||
    (target.transform !== undefined && DATE_TRANSFORMS.has(target.transform))
  );
}

/** The name of the first forbidden character class in `text`, or undefined. Never the text. */
export function forbiddenCharacter(text: string): string | undefined {
  const m = FORBIDDEN_CHARACTERS.exec(text);
  if (!m) return undefined;
  const code = m[0].codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0) return `a NUL character (${hex})`;
  if (code >= 0x202a) return `a bidirectional control character (${hex})`;
  return `a control character (${hex})`;
}

/**
 * Why Salesforce cannot take `value` for `target`, or undefined when it can. The message names the
 * target field and the rule, never the value. Objects (external-id references) are checked field by field.
 */
export function salesforceValueProblem(value: unknown, target: ValueTarget): string | undefined {
  if (typeof value === 'string') return textProblem(value, target);
  if (typeof value === 'number') return numberProblem(value, target);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const inner of Object.values(value)) {
      const problem = salesforceValueProblem(inner, target);
      if (problem) return problem;
    }
  }
  return undefined;
}

function textProblem(value: string, target: ValueTarget): string | undefined {
  const bad = forbiddenCharacter(value);
  if (bad) return `value contains ${bad}, which ${target.path} must not receive`;
  if (!isDateTarget(target)) return undefined;
  const m = ISO_DATE_PREFIX.exec(value);
  if (!m) return undefined; // the date transforms refuse non-ISO text themselves
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  // Plain four-digit years compare as text; a signed or longer year is outside by construction.
  if (m[1]!.length !== 4 || day < SALESFORCE_MIN_DATE || day > SALESFORCE_MAX_DATE) {
    return `date is outside ${SALESFORCE_MIN_DATE}..${SALESFORCE_MAX_DATE}, the range ${target.path} stores`;
  }
  return undefined;
}

function numberProblem(value: number, target: ValueTarget): string | undefined {
  if (!Number.isFinite(value)) return `number is not finite; ${target.path} cannot store it`;
  if (Math.abs(value) >= 10 ** SALESFORCE_MAX_DIGITS) {
    return `number has more than the ${SALESFORCE_MAX_DIGITS} digits ${target.path} stores`;
  }
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    return `number is beyond the precision that can be carried exactly to ${target.path}`;
  }
  return undefined;
}
