/**
 * A patient who is archived, merged away or deleted in Cliniko must drop out of every campaign,
 * whatever their consent flags said: Salesforce's own opt-out fields are forced on for them. Consent
 * fields themselves keep Cliniko's values (Cliniko stays the source of truth for consent); only the
 * suppression switches change. Applies to the Contact payload the map produced, and only to fields the
 * map already targets (it never adds a field the map does not name).
 */
const SUPPRESSION_FIELDS = ['HasOptedOutOfEmail', 'DoNotCall'] as const;

export function suppressInactiveMarketing(
  object: string,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  if (object !== 'Contact') return fields;
  const status = fields.Cliniko_Status__c;
  if (status === undefined || status === null || status === 'Active') return fields;
  const out = { ...fields };
  for (const field of SUPPRESSION_FIELDS) if (Object.hasOwn(out, field)) out[field] = true;
  return out;
}
