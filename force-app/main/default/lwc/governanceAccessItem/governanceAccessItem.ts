import { LightningElement, api } from 'lwc';
import { gqlDisplay, gqlValue } from 'c/ldsUtils';

/** The last signed review of an earlier quarter: the baseline for "since the last review". */
export interface ReviewBaseline {
  label: string;
  signedAt: string | null;
}

export interface AccessChangeRow {
  key: string;
  when: string;
  who: string;
  what: string;
  /** The grants the access comes through (profile, permission set, group, View All ...), if any. */
  path: string;
  /** The synced fields (`Object.Field`) a Gained / Lost / Outside Audience row is about, one per line. */
  fields: string;
  /** "Resolved 1/2/2027" when the finding no longer holds; empty while it does. */
  resolved: string;
  details: string;
  rowClass: string;
}

/** Human labels of the data map's classifications (the picklist's labels, when the node lacks them). */
const CLASS_LABELS: Record<string, string> = {
  'marketing-safe': 'Marketing-safe',
  'operations-safe': 'Operations-safe',
  billing: 'Billing',
};

const FINDINGS = new Set(['Gained', 'Lost', 'Outside Audience']);

function rowOf(c: Record<string, unknown>): AccessChangeRow {
  const type = gqlValue<string>(c, 'Change_Type__c') ?? '';
  const typeLabel = gqlDisplay(c, 'Change_Type__c') || 'Changed';
  const fieldClass = gqlValue<string>(c, 'Field_Class__c');
  // The picklist's label as the org gives it, else the classification's own label.
  const given = (c.Field_Class__c as { displayValue?: string | null } | null | undefined)?.displayValue;
  const classLabel = given || CLASS_LABELS[fieldClass ?? ''] || fieldClass || '';
  const resolvedAt = gqlValue<string>(c, 'Resolved_At__c');
  return {
    key: String(c.Id),
    when: gqlDisplay(c, 'Detected_At__c') || '—',
    who: gqlValue<string>(c, 'Username__c') ?? '—',
    what: FINDINGS.has(type)
      ? `${typeLabel}: ${classLabel} fields`
      : `${typeLabel}: ${gqlValue<string>(c, 'Permission_Set__c') ?? '—'}`,
    path: gqlValue<string>(c, 'Path__c') ?? '',
    fields: gqlValue<string>(c, 'Fields__c') ?? '',
    resolved: resolvedAt ? `Resolved ${gqlDisplay(c, 'Resolved_At__c') || resolvedAt}` : '',
    details: gqlValue<string>(c, 'Details__c') ?? '',
    rowClass: type === 'Outside Audience' && !resolvedAt ? 'access-change access-flagged' : 'access-change',
  };
}

/**
 * Readers outside their audience that still hold (not resolved), whenever first detected: a flag stays
 * on the agenda until the access is taken away, whichever review it was first seen before.
 */
export function outsideAudienceFlags(changes: ReadonlyArray<Record<string, unknown>>): AccessChangeRow[] {
  return changes
    .filter(
      (c) => gqlValue<string>(c, 'Change_Type__c') === 'Outside Audience' && !gqlValue(c, 'Resolved_At__c'),
    )
    .map(rowOf);
}

/**
 * The `Access_Change__c` nodes detected after the baseline review was signed (all of them when there is
 * none, and any without a detection time, so nothing is hidden from the reviewer).
 */
export function accessChangesSince(
  changes: ReadonlyArray<Record<string, unknown>>,
  baseline: ReviewBaseline | undefined,
): AccessChangeRow[] {
  const since = baseline?.signedAt;
  return changes
    .filter((c) => {
      const at = gqlValue<string>(c, 'Detected_At__c');
      return !since || !at || at > since;
    })
    .map(rowOf);
}

/** "2 access changes since GR-0002." / "0 access changes on record." */
export function accessSummaryOf(
  changes: ReadonlyArray<Record<string, unknown>>,
  baseline: ReviewBaseline | undefined,
): string {
  const n = accessChangesSince(changes, baseline).length;
  const since = baseline ? `since ${baseline.label}` : 'on record';
  return n === 1 ? `1 access change ${since}.` : `${n} access changes ${since}.`;
}

/** "1 user reads synced fields outside their audience." / "" when nobody does. */
export function flagSummaryOf(changes: ReadonlyArray<Record<string, unknown>>): string {
  const users = new Set(outsideAudienceFlags(changes).map((f) => f.who)).size;
  if (users === 0) return '';
  return users === 1
    ? '1 user reads synced fields outside their audience.'
    : `${users} users read synced fields outside their audience.`;
}

/**
 * Agenda item 2 of the governance review: who reads synced fields outside their audience (the flags of
 * the nightly access picture), then the access changes detected since the last signed review (permission
 * set assignments, and fields gained or lost per field class with the grant they come through),
 * and the reviewer's "reviewed" confirmation and notes, reported to the container as `itemchange`
 * events (`detail: { field: 'accessReviewed' | 'accessNotes', value }`).
 */
export default class GovernanceAccessItem extends LightningElement {
  /** `Access_Change__c` GraphQL nodes, newest first. */
  @api accessChanges: ReadonlyArray<Record<string, unknown>> = [];
  /** The last signed review of an earlier quarter, if any. */
  @api baseline: ReviewBaseline | undefined = undefined;
  @api reviewed = false;
  @api notes = '';
  @api disabled = false;

  get changes(): AccessChangeRow[] {
    return accessChangesSince(this.accessChanges ?? [], this.baseline);
  }

  get hasChanges(): boolean {
    return this.changes.length > 0;
  }

  get summary(): string {
    return accessSummaryOf(this.accessChanges ?? [], this.baseline);
  }

  get flags(): AccessChangeRow[] {
    return outsideAudienceFlags(this.accessChanges ?? []);
  }

  get hasFlags(): boolean {
    return this.flags.length > 0;
  }

  get flagSummary(): string {
    return flagSummaryOf(this.accessChanges ?? []);
  }

  /** A <textarea> has no `value` attribute to bind in a template: its property is set from `notes`. */
  renderedCallback(): void {
    const area = (this.template as unknown as ParentNode).querySelector('textarea');
    if (area && area.value !== this.notes) area.value = this.notes;
  }

  handleReviewed(event: Event): void {
    this.report('accessReviewed', (event.target as HTMLInputElement).checked);
  }

  handleNotes(event: Event): void {
    this.report('accessNotes', (event.target as HTMLTextAreaElement).value);
  }

  report(field: string, value: boolean | string): void {
    this.dispatchEvent(new CustomEvent('itemchange', { detail: { field, value } }));
  }
}
