import { LightningElement, wire } from 'lwc';
import { graphql, gql } from 'lightning/graphql';
import { gqlDisplay, gqlNodes, gqlValue } from 'c/ldsUtils';
import RECONCILIATION_OBJECT from '@salesforce/schema/Consent_Reconciliation__c';
import NAME_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Name';
import SNAPSHOT_AT_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Snapshot_At__c';
import CLINIKO_EMAIL_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Cliniko_Email_Opt_In__c';
import SALESFORCE_EMAIL_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Salesforce_Email_Opt_In__c';
import CLINIKO_SMS_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Cliniko_SMS_Opt_In__c';
import SALESFORCE_SMS_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Salesforce_SMS_Opt_In__c';
import PATIENTS_COMPARED_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Patients_Compared__c';
import MISMATCH_SAMPLE_FIELD from '@salesforce/schema/Consent_Reconciliation__c.Mismatch_Sample__c';

/** How many recent snapshots make the trend. */
export const TREND_SNAPSHOTS = 8;

interface Snapshot {
  id: string;
  label: string;
  takenAt: string;
  clinikoEmail: number;
  salesforceEmail: number;
  clinikoSms: number;
  salesforceSms: number;
  patientsCompared?: number;
  mismatchSample?: string | null;
}

interface MismatchView {
  key: string;
  patientId: string;
  channel: string;
  cliniko: string;
  salesforce: string;
}

function count(node: Record<string, unknown>, field: SchemaFieldId): number {
  return Number(gqlValue<number>(node, field) ?? 0);
}

function gapText(gap: number): string {
  if (gap === 0) return 'In step';
  return gap > 0 ? `Salesforce has ${gap} more` : `Salesforce has ${-gap} fewer`;
}

function optIn(value: unknown): string {
  return value === true ? 'Opted in' : value === false ? 'Not opted in' : '—';
}

/**
 * Parses Mismatch_Sample__c (JSON list of {clinikoPatientId, channel, cliniko, salesforce}). Returns
 * an error message naming the snapshot and the field when the JSON is malformed.
 */
export function parseMismatchSample(
  raw: string | null | undefined,
  snapshotName: string,
): { rows: MismatchView[]; problem?: string } {
  if (!raw) return { rows: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { rows: [], problem: `${snapshotName}: Mismatch_Sample__c is not valid JSON.` };
  }
  if (!Array.isArray(parsed)) {
    return { rows: [], problem: `${snapshotName}: Mismatch_Sample__c is not a list.` };
  }
  const rows = parsed.map((item: Record<string, unknown>, index) => {
    const channel = String(item.channel ?? '');
    return {
      key: `${index}`,
      patientId: String(item.clinikoPatientId ?? '—'),
      channel:
        channel.toLowerCase() === 'sms' ? 'SMS' : channel.toLowerCase() === 'email' ? 'Email' : channel,
      cliniko: optIn(item.cliniko),
      salesforce: optIn(item.salesforce),
    };
  });
  return { rows };
}

/**
 * Consent reconciliation for the compliance officer: for email and SMS, the Cliniko opted-in count
 * (the source of truth) against Salesforce's, the gap, its trend over recent snapshots, and the sample
 * of mismatched patients to investigate. Reads Consent_Reconciliation__c through GraphQL.
 */
export default class ConsentReconciliation extends LightningElement {
  snapshots: Snapshot[] = [];
  errors: unknown = undefined;
  loaded = false;

  @wire(graphql, {
    query: gql`
      query consentSnapshots($first: Int) {
        uiapi {
          query {
            Consent_Reconciliation__c(
              orderBy: { Snapshot_At__c: { order: DESC, nulls: LAST } }
              first: $first
            ) {
              edges {
                node {
                  Id
                  Name @optional {
                    value
                  }
                  Snapshot_At__c @optional {
                    value
                    displayValue
                  }
                  Cliniko_Email_Opt_In__c @optional {
                    value
                  }
                  Salesforce_Email_Opt_In__c @optional {
                    value
                  }
                  Cliniko_SMS_Opt_In__c @optional {
                    value
                  }
                  Salesforce_SMS_Opt_In__c @optional {
                    value
                  }
                  Patients_Compared__c @optional {
                    value
                  }
                  Mismatch_Sample__c @optional {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: { first: TREND_SNAPSHOTS },
    operationName: 'consentSnapshots',
  })
  handleSnapshots(result: GraphqlResult<unknown>): void {
    if (result.errors) {
      this.errors = result.errors;
      this.snapshots = [];
      this.loaded = true;
    } else if (result.data) {
      this.errors = undefined;
      this.snapshots = gqlNodes(result.data, RECONCILIATION_OBJECT.objectApiName).map((node) => ({
        id: String(node.Id),
        label: gqlDisplay(node, NAME_FIELD) || String(node.Id),
        takenAt: gqlDisplay(node, SNAPSHOT_AT_FIELD) || '—',
        clinikoEmail: count(node, CLINIKO_EMAIL_FIELD),
        salesforceEmail: count(node, SALESFORCE_EMAIL_FIELD),
        clinikoSms: count(node, CLINIKO_SMS_FIELD),
        salesforceSms: count(node, SALESFORCE_SMS_FIELD),
        patientsCompared: gqlValue<number>(node, PATIENTS_COMPARED_FIELD) ?? undefined,
        mismatchSample: gqlValue<string>(node, MISMATCH_SAMPLE_FIELD),
      }));
      this.loaded = true;
    }
  }

  get latest(): Snapshot | undefined {
    return this.snapshots[0];
  }

  get isLoading(): boolean {
    return !this.loaded;
  }

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get isEmpty(): boolean {
    return this.loaded && !this.hasError && this.snapshots.length === 0;
  }

  get hasData(): boolean {
    return !this.hasError && this.snapshots.length > 0;
  }

  get latestLabel(): string {
    const s = this.latest;
    if (!s) return '';
    const compared = s.patientsCompared === undefined ? '' : `, ${s.patientsCompared} patients compared`;
    return `Latest snapshot ${s.label} taken ${s.takenAt}${compared}`;
  }

  get channels(): Array<{
    key: string;
    channel: string;
    cliniko: number;
    salesforce: number;
    gap: number;
    gapLabel: string;
    gapClass: string;
  }> {
    const s = this.latest;
    if (!s) return [];
    return [
      { key: 'email', channel: 'Email', cliniko: s.clinikoEmail, salesforce: s.salesforceEmail },
      { key: 'sms', channel: 'SMS', cliniko: s.clinikoSms, salesforce: s.salesforceSms },
    ].map((c) => {
      const gap = c.salesforce - c.cliniko;
      return {
        ...c,
        gap,
        gapLabel: gapText(gap),
        gapClass: gap === 0 ? 'slds-text-color_success gap' : 'slds-text-color_error gap',
      };
    });
  }

  /** Oldest first, so the table reads as a trend. */
  get trend(): Array<{ key: string; takenAt: string; emailGap: number; smsGap: number }> {
    return [...this.snapshots].reverse().map((s) => ({
      key: s.id,
      takenAt: s.takenAt,
      emailGap: s.salesforceEmail - s.clinikoEmail,
      smsGap: s.salesforceSms - s.clinikoSms,
    }));
  }

  get trendSummary(): string {
    if (this.snapshots.length < 2) return 'Only one snapshot so far; the trend starts with the next one.';
    const oldest = this.snapshots[this.snapshots.length - 1]!;
    const newest = this.snapshots[0]!;
    const describe = (label: string, from: number, to: number): string => {
      const a = Math.abs(from);
      const b = Math.abs(to);
      if (a === b) return `${label} gap unchanged at ${b}`;
      return `${label} gap ${b < a ? 'narrowed' : 'widened'} from ${a} to ${b}`;
    };
    return `${describe('Email', oldest.salesforceEmail - oldest.clinikoEmail, newest.salesforceEmail - newest.clinikoEmail)}; ${describe(
      'SMS',
      oldest.salesforceSms - oldest.clinikoSms,
      newest.salesforceSms - newest.clinikoSms,
    )} over ${this.snapshots.length} snapshots.`;
  }

  get mismatch(): { rows: MismatchView[]; problem?: string } {
    const s = this.latest;
    return s ? parseMismatchSample(s.mismatchSample, s.label) : { rows: [] };
  }

  get mismatchRows(): MismatchView[] {
    return this.mismatch.rows;
  }

  get hasMismatches(): boolean {
    return this.mismatch.rows.length > 0;
  }

  get mismatchProblem(): string | undefined {
    return this.mismatch.problem;
  }

  get noMismatches(): boolean {
    return !this.hasMismatches && !this.mismatchProblem;
  }
}
