import { LightningElement, api } from 'lwc';
import { gqlDisplay, gqlValue } from 'c/ldsUtils';

export interface ConsentRow {
  key: string;
  channel: string;
  cliniko: number;
  salesforce: number;
  /** Salesforce minus Cliniko: negative when Salesforce has fewer opted in. */
  gap: number;
}

/** Email and SMS opted-in counts of the latest `Consent_Reconciliation__c` node, with the gap. */
export function consentRowsOf(consent: Record<string, unknown> | undefined): ConsentRow[] {
  if (!consent) return [];
  const n = (field: string): number => Number(gqlValue<number>(consent, field) ?? 0);
  return [
    {
      key: 'email',
      channel: 'Email',
      cliniko: n('Cliniko_Email_Opt_In__c'),
      salesforce: n('Salesforce_Email_Opt_In__c'),
    },
    {
      key: 'sms',
      channel: 'SMS',
      cliniko: n('Cliniko_SMS_Opt_In__c'),
      salesforce: n('Salesforce_SMS_Opt_In__c'),
    },
  ].map((row) => ({ ...row, gap: row.salesforce - row.cliniko }));
}

/** Item 4 is done when the counts are reviewed and any non-zero gap is explained. */
export function consentItemComplete(
  consent: Record<string, unknown> | undefined,
  reviewed: boolean,
  gapExplanation: string,
): boolean {
  const hasGap = consentRowsOf(consent).some((r) => r.gap !== 0);
  return reviewed && (!hasGap || gapExplanation.trim().length > 0);
}

/**
 * Agenda item 4 of the governance review: the latest consent counts, Cliniko against Salesforce, the
 * gap explanation and the "reviewed" confirmation, reported to the container as `itemchange` events
 * (`detail: { field: 'consentGapExplanation' | 'consentReviewed', value }`).
 */
export default class GovernanceConsentItem extends LightningElement {
  /** The latest `Consent_Reconciliation__c` GraphQL node, if there is one. */
  @api consent: Record<string, unknown> | undefined = undefined;
  @api reviewed = false;
  @api gapExplanation = '';
  @api disabled = false;

  get hasConsent(): boolean {
    return this.consent !== undefined && this.consent !== null;
  }

  get rows(): ConsentRow[] {
    return consentRowsOf(this.consent ?? undefined);
  }

  get snapshotLabel(): string {
    return this.consent ? `Snapshot of ${gqlDisplay(this.consent, 'Snapshot_At__c') || '—'}` : '';
  }

  /** A <textarea> has no `value` attribute to bind in a template: its property is set here. */
  renderedCallback(): void {
    const area = (this.template as unknown as ParentNode).querySelector('textarea');
    if (area && area.value !== this.gapExplanation) area.value = this.gapExplanation;
  }

  handleExplanation(event: Event): void {
    this.report('consentGapExplanation', (event.target as HTMLTextAreaElement).value);
  }

  handleReviewed(event: Event): void {
    this.report('consentReviewed', (event.target as HTMLInputElement).checked);
  }

  report(field: string, value: boolean | string): void {
    this.dispatchEvent(new CustomEvent('itemchange', { detail: { field, value } }));
  }
}
