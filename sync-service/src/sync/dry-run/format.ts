import type { RecordPreview } from './compare.js';

/** Renders a value for `--show-values`: JSON, cut at 80 characters. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'null' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * One line per record that would change: `CREATE Contact 1100: FirstName, LastName` or
 * `UPDATE Contact 1100: Email: changed, Phone: cleared`. Values only with `showValues`.
 */
export function formatPreview(preview: RecordPreview, showValues = false): string | undefined {
  if (preview.action === 'unchanged') return undefined;
  const match = preview.match && preview.match !== 'create' ? ` [${MATCH_NOTE[preview.match]}]` : '';
  const head = `${preview.action.toUpperCase()} ${preview.object} ${preview.externalId}${match}`;
  const parts = preview.changes.map((c) => {
    if (preview.action === 'create') return showValues ? `${c.field} = ${showValue(c.after)}` : c.field;
    return showValues
      ? `${c.field}: ${c.kind} ${showValue(c.before)} -> ${showValue(c.after)}`
      : `${c.field}: ${c.kind}`;
  });
  const line = parts.length > 0 ? `${head}: ${parts.join(', ')}` : head;
  return preview.action === 'drift' ? `${line} ${DRIFT_NOTE}` : line;
}

/** Why a drift line is not a write (see RecordPreview.action). */
export const DRIFT_NOTE = '(unchanged in Cliniko since the last sync: a sync skips it; reconcile repairs it)';

/** What matching existing records does instead of a create (docs/marketing.md, "Existing Contacts and Leads"). */
const MATCH_NOTE = {
  link: 'links an existing Contact instead',
  'link-lead': 'creates it and links an existing Lead',
  review: 'held for match review: several records could be this patient',
  held: 'held: in review, or its Contact was deleted in Salesforce',
} as const;
