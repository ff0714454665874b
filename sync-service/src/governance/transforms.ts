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
 *
 * The definitions live in transforms/, split by what they transform: scalars.ts (one scalar value),
 * codes.ts (picklists and labels), contact.ts (phones, address), references.ts (links to external ids
 * and names); types.ts holds the vocabulary and values.ts the shared coercions. This file is the
 * catalogue, in the order error messages list it.
 */
import {
  referralType,
  consentOptOut,
  privacyPolicy,
  reminderType,
  patientStatus,
  appointmentStatus,
  caseStatus,
  invoiceStatus,
  fundingSource,
} from './transforms/codes.js';
import { addressJoin, phoneMobile, phoneHome, phoneWork } from './transforms/contact.js';
import {
  patientRef,
  caseRef,
  appointmentRef,
  businessName,
  practitionerName,
  appointmentTypeName,
} from './transforms/references.js';
import { none, text, id, email, date, datetime, money, integer, boolean } from './transforms/scalars.js';
import type { TransformDefinition } from './transforms/types.js';

export type {
  ExternalIdReference,
  ProjectionContext,
  SalesforceFieldType,
  SourceValues,
  TransformDefinition,
} from './transforms/types.js';
export { isExternalIdReference, TransformError } from './transforms/types.js';
export { idFromLink } from './transforms/values.js';
export { normalisePhone, PHONE_TYPES } from './transforms/contact.js';

const definitions: readonly TransformDefinition[] = [
  none,
  text,
  id,
  referralType,
  email,
  date,
  datetime,
  money,
  integer,
  boolean,
  consentOptOut,
  privacyPolicy,
  reminderType,
  patientStatus,
  appointmentStatus,
  caseStatus,
  invoiceStatus,
  fundingSource,
  addressJoin,
  phoneMobile,
  phoneHome,
  phoneWork,
  patientRef,
  caseRef,
  appointmentRef,
  businessName,
  practitionerName,
  appointmentTypeName,
];

export const TRANSFORMS: ReadonlyMap<string, TransformDefinition> = new Map(
  definitions.map((d) => [d.name, d]),
);

/** The transform an entry without `transform:` uses. */
export const DEFAULT_TRANSFORM = 'none';
