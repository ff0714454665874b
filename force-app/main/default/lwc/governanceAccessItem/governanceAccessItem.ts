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
  details: string;
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
    .map((c) => ({
      key: String(c.Id),
      when: gqlDisplay(c, 'Detected_At__c') || '—',
      who: gqlValue<string>(c, 'Username__c') ?? '—',
      what: `${gqlDisplay(c, 'Change_Type__c') || 'Changed'}: ${gqlValue<string>(c, 'Permission_Set__c') ?? '—'}`,
      details: gqlValue<string>(c, 'Details__c') ?? '',
    }));
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

/**
 * Agenda item 2 of the governance review: the access changes detected since the last signed review,
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
