import { deniedSources } from './clinical-deny-list.js';
import { EXTERNAL_ID_FIELDS, type DataMap, type DataMapEntry } from './data-map.js';
import {
  TRANSFORMS,
  TransformError,
  isExternalIdReference,
  type ProjectionContext,
  type SourceValues,
} from './transforms.js';
import { salesforceValueProblem } from './value-checks.js';

/**
 * Outbound projection (Cliniko record -> Salesforce payloads) and inbound projection (Salesforce
 * Contact -> Cliniko patient patch). Both are allow-lists: only entries of the signed map are read, a
 * field the map does not name is never looked at, and clinician-only entries are skipped before any
 * value is touched.
 */

export { EXTERNAL_ID_FIELDS };

export interface SalesforcePayload {
  readonly object: string;
  readonly externalIdField: string;
  readonly externalId: string;
  /**
   * Field API name -> value. Lookups written by external id appear under the relationship name:
   * `Contact__r: { Cliniko_Patient_Id__c: '123' }` (a cleared lookup is `Contact__c: null`).
   */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The map entries that produced the fields, for audit `changedFields` and debugging. */
  readonly entryKeys: readonly string[];
}

export interface ProjectionProblem {
  readonly resource: string;
  /** The Cliniko id when the record has a readable one. */
  readonly recordId: string | undefined;
  readonly entry: string | undefined;
  readonly field: string | undefined;
  /** Never contains a field value. */
  readonly message: string;
}

export type ProjectionResult =
  | { readonly ok: true; readonly payloads: readonly SalesforcePayload[] }
  | { readonly ok: false; readonly problems: readonly ProjectionProblem[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only the keys the entry lists, and only when the record has them (absent stays absent). */
function slice(record: Readonly<Record<string, unknown>>, fields: readonly string[]): SourceValues {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (Object.hasOwn(record, f)) out[f] = record[f];
  return out;
}

/** `Contact__c` -> `Contact__r`; standard lookups (`AccountId`) -> `Account`. */
export function relationshipName(field: string): string {
  if (field.endsWith('__c')) return `${field.slice(0, -3)}__r`;
  if (field.endsWith('Id')) return field.slice(0, -2);
  return field;
}

function outboundEntries(map: DataMap, resource: string): DataMapEntry[] {
  return map.entries.filter(
    (e) => e.resource === resource && e.classification !== 'clinician-only' && e.target !== undefined,
  );
}

/**
 * Projects one Cliniko record into one payload per target object. Any problem (a value a transform
 * cannot write, a missing external id) fails the whole record, so that a half-written record never
 * reaches Salesforce: the runner quarantines it with the problems (which name entry and field, never
 * values) and carries on with the batch.
 */
export function projectRecord(
  resource: string,
  rawRecord: unknown,
  map: DataMap,
  context: ProjectionContext = {},
): ProjectionResult {
  const recordId = isRecord(rawRecord) && typeof rawRecord.id === 'string' ? rawRecord.id : undefined;
  const problems: ProjectionProblem[] = [];
  const problem: Problem = (entry, field, message) => {
    problems.push({ resource, recordId, entry, field, message });
  };
  if (!isRecord(rawRecord)) {
    problem(undefined, undefined, 'the record is not a JSON object');
    return { ok: false, problems };
  }
  const byObject = new Map<string, ObjectBucket>();
  for (const entry of outboundEntries(map, resource)) {
    const projected = projectEntry(resource, rawRecord, entry, context, problem);
    if (projected === undefined) continue;
    const { target, value } = projected;
    const bucket = byObject.get(target.object) ?? { fields: {}, entryKeys: [] };
    byObject.set(target.object, bucket);
    if (isExternalIdReference(value)) {
      bucket.fields[relationshipName(target.field)] = { [value.externalIdField]: value.id };
    } else {
      bucket.fields[target.field] = value;
    }
    bucket.entryKeys.push(entry.key);
  }
  const payloads = payloadsOf(byObject, problem);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, payloads };
}

type Problem = (entry: string | undefined, field: string | undefined, message: string) => void;
interface ObjectBucket {
  fields: Record<string, unknown>;
  entryKeys: string[];
}

/**
 * One entry's value for its target, or undefined (nothing to send, or a problem reported). The checks
 * run in this order: the clinical deny-list (before any value is read), the transform, the target's
 * length, then what Salesforce can store.
 */
function projectEntry(
  resource: string,
  rawRecord: Record<string, unknown>,
  entry: DataMapEntry,
  context: ProjectionContext,
  problem: Problem,
): { target: NonNullable<DataMapEntry['target']>; value: unknown } | undefined {
  const target = entry.target;
  const def = TRANSFORMS.get(entry.transform);
  if (target === undefined || def === undefined) return undefined; // parseDataMap guarantees both
  // parseDataMap refuses denied fields too; this second check holds for a map object built any other
  // way, and it runs before any value of the record is read.
  const denied = deniedSources(resource, entry.sources);
  if (denied.length > 0) {
    for (const d of denied) problem(entry.key, d.field, `${d.field} is on the clinical deny-list; not sent`);
    return undefined;
  }
  const input = slice(rawRecord, entry.sources);
  // Nothing sent for this entry (a partial record): say nothing rather than derive from absence.
  if (Object.keys(input).length === 0) return undefined;
  let value: unknown;
  try {
    value = def.apply(input, context);
  } catch (err) {
    const message = err instanceof TransformError ? err.message : 'the transform failed unexpectedly';
    problem(entry.key, target.path, message);
    return undefined;
  }
  if (value === undefined) return undefined;
  // Refuse here rather than let Salesforce reject the record later (STRING_TOO_LONG): the record is
  // quarantined with a reason naming the field, and nothing is silently truncated.
  if (typeof value === 'string' && target.maxLength !== undefined && value.length > target.maxLength) {
    problem(
      entry.key,
      target.path,
      `value is longer than the ${target.maxLength} characters ${target.path} holds`,
    );
    return undefined;
  }
  // Dates Salesforce cannot store, numbers beyond its precision, control and bidi-override
  // characters (value-checks.ts): quarantined here, naming the field and the rule, never the value.
  const refused = salesforceValueProblem(value, {
    path: target.path,
    type: target.type,
    transform: entry.transform,
  });
  if (refused !== undefined) {
    problem(entry.key, target.path, refused);
    return undefined;
  }
  return { target, value };
}

/** One payload per target object, each keyed on its external id (a missing one is a problem). */
function payloadsOf(byObject: Map<string, ObjectBucket>, problem: Problem): SalesforcePayload[] {
  const payloads: SalesforcePayload[] = [];
  for (const [object, bucket] of byObject) {
    const externalIdField = EXTERNAL_ID_FIELDS[object];
    const externalId = externalIdField === undefined ? undefined : bucket.fields[externalIdField];
    if (externalIdField === undefined) {
      problem(undefined, object, `${object} has no external id to upsert on`);
    } else if (typeof externalId !== 'string' || externalId === '') {
      problem(
        undefined,
        `${object}.${externalIdField}`,
        `the map gives ${object} no ${externalIdField} value`,
      );
    } else {
      payloads.push({
        object,
        externalIdField,
        externalId,
        fields: bucket.fields,
        entryKeys: bucket.entryKeys,
      });
    }
  }
  return payloads;
}

// ---------------------------------------------------------------------------------------------------
// inbound (write-back)

export interface InboundPatch {
  /** Cliniko patient fields to PATCH; empty when nothing the map allows changed. */
  readonly patch: Readonly<Record<string, unknown>>;
  /** Entry keys that contributed, for the audit entry's changed fields. */
  readonly entryKeys: readonly string[];
  /** Consent opt-outs carried back (see consentOptOutPatch). */
  readonly consentOptOuts: readonly ('email' | 'sms')[];
  readonly problems: readonly ProjectionProblem[];
}

/**
 * Salesforce Contact -> Cliniko patient patch for write-back. Only `both` entries targeting Contact are
 * used, and only for the Salesforce fields in `changedFields` (the fields the non-integration user
 * changed, from the reverse poller's comparison). Consent is never part of it: consent fields are
 * `cliniko-to-salesforce` in the map and their transforms have no inverse; the one exception is the
 * opt-out path, added by `consentOptOutPatch`.
 */
export function projectInbound(
  contact: Readonly<Record<string, unknown>>,
  currentPatient: Readonly<Record<string, unknown>>,
  map: DataMap,
  changedFields: readonly string[],
  consent?: { before: Readonly<Record<string, unknown>> },
): InboundPatch {
  const changed = new Set(changedFields);
  const patientId = typeof currentPatient.id === 'string' ? currentPatient.id : undefined;
  const patch: Record<string, unknown> = {};
  const entryKeys: string[] = [];
  const problems: ProjectionProblem[] = [];
  for (const entry of map.entries) {
    const target = entry.target;
    if (entry.direction !== 'both' || entry.resource !== 'patients' || target?.object !== 'Contact') continue;
    if (!changed.has(target.field) || !Object.hasOwn(contact, target.field)) continue;
    const def = TRANSFORMS.get(entry.transform);
    if (def?.inverse === undefined) continue; // parseDataMap refuses `both` without an inverse
    // Later entries on the same source (mobile after home phone) see the earlier ones' result.
    const current = { ...slice(currentPatient, entry.sources), ...slice(patch, entry.sources) };
    try {
      Object.assign(patch, def.inverse(contact[target.field], current, entry.sources));
      entryKeys.push(entry.key);
    } catch (err) {
      problems.push({
        resource: 'patients',
        recordId: patientId,
        entry: entry.key,
        field: target.path,
        message: err instanceof TransformError ? err.message : 'the inverse transform failed unexpectedly',
      });
    }
  }
  const optOut =
    consent === undefined ? { patch: {}, channels: [] } : consentOptOutPatch(consent.before, contact, map);
  Object.assign(patch, optOut.patch);
  return { patch, entryKeys, consentOptOuts: optOut.channels, problems };
}

/** Which Cliniko consent field carries which channel. */
const CONSENT_CHANNELS: Readonly<Record<string, 'email' | 'sms'>> = {
  accepted_email_marketing: 'email',
  accepted_sms_marketing: 'sms',
};

/**
 * The documented consent opt-out path, the only way consent travels from Salesforce to Cliniko.
 * Cliniko is the authority for consent: outbound sync always overwrites the Salesforce consent fields.
 * A patient who unsubscribes through Salesforce is an opt-out Cliniko must learn. Which Salesforce
 * changes count is read from the map itself, so it follows whatever the compliance officer signed: a
 * Contact field fed from a consent field through `consent-opt-out` (HasOptedOutOfEmail, DoNotCall)
 * that becomes true, or one fed through `boolean` (the consent checkboxes) that becomes false. It is
 * written back as `accepted_email_marketing: false` / `unsubscribe_sms_marketing: true` (Cliniko's
 * `accepted_sms_marketing` is read-only). An opt-in in Salesforce never flows back: consent to be
 * contacted must be given in Cliniko.
 */
export function consentOptOutPatch(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  map: DataMap,
): { patch: Record<string, unknown>; channels: ('email' | 'sms')[] } {
  const optedOut = new Set<'email' | 'sms'>();
  for (const e of map.entries) {
    const source = e.sources.length === 1 ? e.sources[0] : undefined;
    const channel = source === undefined ? undefined : CONSENT_CHANNELS[source];
    const field = e.target?.field;
    if (
      channel === undefined ||
      field === undefined ||
      e.resource !== 'patients' ||
      e.target?.object !== 'Contact'
    ) {
      continue;
    }
    if (e.transform === 'consent-opt-out' && before[field] !== true && after[field] === true)
      optedOut.add(channel);
    if (e.transform === 'boolean' && before[field] === true && after[field] === false) optedOut.add(channel);
  }
  const patch: Record<string, unknown> = {};
  if (optedOut.has('email')) patch.accepted_email_marketing = false;
  if (optedOut.has('sms')) patch.unsubscribe_sms_marketing = true;
  return { patch, channels: (['email', 'sms'] as const).filter((c) => optedOut.has(c)) };
}
