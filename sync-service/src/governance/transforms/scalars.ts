import type { TransformDefinition } from './types.js';
import {
  asText,
  booleanOrNull,
  dateTimeValue,
  dateValue,
  ID_PATTERN,
  integerValue,
  isAbsent,
  moneyValue,
  only,
  single,
  trimmedOrNull,
} from './values.js';
import { TransformError } from './types.js';

/** Transforms of one scalar value: copy, text, id, email, dates, money, whole numbers, flags. */

export const none: TransformDefinition = {
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
};

export const text: TransformDefinition = {
  name: 'text',
  description:
    'Trims text (a number, e.g. an invoice number, becomes its digits); empty text clears the field.',
  fieldTypes: ['Text', 'TextArea', 'LongTextArea', 'Picklist'],
  apply: (input) => trimmedOrNull(asText(only(input), 'value')),
  inverse: (value, _current, fields) => single(fields, trimmedOrNull(asText(value, 'value')) ?? null),
};

export const id: TransformDefinition = {
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
};

export const email: TransformDefinition = {
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
};

export const date: TransformDefinition = {
  name: 'date',
  description: 'A calendar date (YYYY-MM-DD).',
  fieldTypes: ['Date'],
  apply: (input) => dateValue(only(input)),
  inverse: (value, _current, fields) => single(fields, dateValue(value) ?? null),
};

export const datetime: TransformDefinition = {
  name: 'datetime',
  description: 'An instant (ISO 8601 with a zone), written in UTC.',
  fieldTypes: ['DateTime'],
  apply: (input) => dateTimeValue(only(input)),
};

export const money: TransformDefinition = {
  name: 'money',
  description: 'A decimal string to a number rounded to cents.',
  fieldTypes: ['Currency', 'Number'],
  apply: (input) => moneyValue(only(input)),
};

export const integer: TransformDefinition = {
  name: 'integer',
  description: 'A whole number.',
  fieldTypes: ['Number'],
  apply: (input) => integerValue(only(input)),
};

export const boolean: TransformDefinition = {
  name: 'boolean',
  description: 'true stays true; false and null (never answered) become false.',
  fieldTypes: ['Checkbox'],
  apply: (input) => {
    const value = booleanOrNull(only(input), 'flag');
    return value === undefined ? undefined : value === true;
  },
};
