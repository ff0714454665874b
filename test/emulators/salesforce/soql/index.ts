/** The emulator's SOQL engine; see README.md for what it covers. */
export { executeSoql } from './execute.js';
export { SoqlError, type SoqlErrorCode } from './errors.js';
export { dateLiteralRange, type DateRange } from './date-literals.js';
