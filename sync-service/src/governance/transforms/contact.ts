import type { ProjectionContext, SourceValues, TransformDefinition } from './types.js';
import { TransformError } from './types.js';
import { asText, isAbsent, only, trimmedOrNull } from './values.js';

/** Transforms of a patient's contact details: phone numbers (AU E.164 normalisation) and the address. */

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

export const addressJoin: TransformDefinition = {
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
};

export const phoneMobile: TransformDefinition = {
  name: 'phone-mobile',
  description: 'The Mobile number from patient_phone_numbers, normalised (+61...).',
  sources: ['patient_phone_numbers'],
  fieldTypes: ['Phone'],
  apply: pickPhone(['Mobile']),
  inverse: phoneInverse('Mobile'),
};

export const phoneHome: TransformDefinition = {
  name: 'phone-home',
  description: 'The Home number from patient_phone_numbers, normalised.',
  sources: ['patient_phone_numbers'],
  fieldTypes: ['Phone'],
  apply: pickPhone(['Home']),
  inverse: phoneInverse('Home'),
};

export const phoneWork: TransformDefinition = {
  name: 'phone-work',
  description: 'The Work number from patient_phone_numbers (else Other), normalised. Fax is never used.',
  sources: ['patient_phone_numbers'],
  fieldTypes: ['Phone'],
  apply: pickPhone(['Work', 'Other']),
  inverse: phoneInverse('Work'),
};
