import { LightningElement, wire } from 'lwc';
import { graphql, gql } from 'lightning/graphql';
import { createRecord, getRecords, updateRecord } from 'lightning/uiRecordApi';
import { getObjectInfo } from 'lightning/uiObjectInfoApi';
import LOCALE from '@salesforce/i18n/locale';
import getDataMap from '@salesforce/apex/ClinikoGovernanceController.getDataMap';
import getFieldHistory from '@salesforce/apex/ClinikoGovernanceController.getFieldHistory';
import { gqlDisplay, gqlNodes, gqlValue, quarterOf, quarterStart, reduceErrors } from 'c/ldsUtils';
import { currentHashLabel, dataMapItemComplete, signedHashLabel } from 'c/governanceDataMapItem';
// eslint-disable-next-line no-unused-vars -- type-only import: the JavaScript rule misses type positions; tsc checks them
import type { DataMapFacts } from 'c/governanceDataMapItem';
import { accessSummaryOf } from 'c/governanceAccessItem';
// eslint-disable-next-line no-unused-vars -- type-only import: the JavaScript rule misses type positions; tsc checks them
import type { ReviewBaseline } from 'c/governanceAccessItem';
import {
  applySpotCheckToggle,
  drawSpotCheckSample,
  noClinicalContentFound,
  parseSpotCheckSample,
  spotCheckComplete,
} from 'c/governanceSpotCheckItem';
// eslint-disable-next-line no-unused-vars -- type-only import: the JavaScript rule misses type positions; tsc checks them
import type { Candidate, HistoryRow, SpotCheckEntry, SpotCheckToggle } from 'c/governanceSpotCheckItem';
import { hasSomethingToCheck, spotFieldsOf } from 'c/fieldShapes';
// eslint-disable-next-line no-unused-vars -- type-only import: the JavaScript rule misses type positions; tsc checks them
import type { MappedField, RecordFields, SpotField } from 'c/fieldShapes';
import { consentItemComplete } from 'c/governanceConsentItem';
import { signItemComplete } from 'c/governanceSignItem';
import REVIEW_OBJECT from '@salesforce/schema/Governance_Review__c';
import REVIEW_ID_FIELD from '@salesforce/schema/Governance_Review__c.Id';
import REVIEW_NAME_FIELD from '@salesforce/schema/Governance_Review__c.Name';
import QUARTER_FIELD from '@salesforce/schema/Governance_Review__c.Quarter__c';
import STATUS_FIELD from '@salesforce/schema/Governance_Review__c.Status__c';
import DATA_MAP_HASH_FIELD from '@salesforce/schema/Governance_Review__c.Data_Map_Hash__c';
import DATA_MAP_UNCHANGED_FIELD from '@salesforce/schema/Governance_Review__c.Data_Map_Unchanged__c';
import ACCESS_REVIEWED_FIELD from '@salesforce/schema/Governance_Review__c.Access_Changes_Reviewed__c';
import SPOT_CHECK_COMPLETE_FIELD from '@salesforce/schema/Governance_Review__c.Spot_Check_Complete__c';
import NO_CLINICAL_FIELD from '@salesforce/schema/Governance_Review__c.No_Clinical_Content_Found__c';
import CONSENT_REVIEWED_FIELD from '@salesforce/schema/Governance_Review__c.Consent_Reviewed__c';
import DATA_MAP_NOTES_FIELD from '@salesforce/schema/Governance_Review__c.Data_Map_Notes__c';
import ACCESS_NOTES_FIELD from '@salesforce/schema/Governance_Review__c.Access_Notes__c';
import SPOT_CHECK_SAMPLE_FIELD from '@salesforce/schema/Governance_Review__c.Spot_Check_Sample__c';
import CONSENT_GAP_FIELD from '@salesforce/schema/Governance_Review__c.Consent_Gap_Explanation__c';
import ATTENDEES_FIELD from '@salesforce/schema/Governance_Review__c.Attendees__c';
import NOTES_FIELD from '@salesforce/schema/Governance_Review__c.Notes__c';
import SIGNED_BY_NAME_FIELD from '@salesforce/schema/Governance_Review__c.Signed_By_Name__c';
import SIGNED_AT_FIELD from '@salesforce/schema/Governance_Review__c.Signed_At__c';
import VERIFICATION_OBJECT from '@salesforce/schema/Audit_Verification__c';
import QUARTER_SUMMARY_OBJECT from '@salesforce/schema/Quarter_Summary__c';
import ACCESS_CHANGE_OBJECT from '@salesforce/schema/Access_Change__c';
import RECONCILIATION_OBJECT from '@salesforce/schema/Consent_Reconciliation__c';
import SYNC_RUN_OBJECT from '@salesforce/schema/Sync_Run__c';
import CONTACT_OBJECT from '@salesforce/schema/Contact';

/** A date-time in the user's locale (`@salesforce/i18n/locale`), or '—'. */
export function formatDateTime(value: string | null | undefined, locale: string = LOCALE): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** A count in the user's locale (grouping separators), or '—' when there is none. */
export function formatCount(value: unknown, locale: string = LOCALE): string {
  return typeof value === 'number' && Number.isFinite(value)
    ? new Intl.NumberFormat(locale).format(value)
    : '—';
}

/**
 * Agenda item 3 is done when the audit trail was verified this quarter (by `audit verify` or the nightly
 * job) and found intact. A broken or local-only verification keeps it open: the break is investigated
 * and the trail verified again before the review is signed.
 */
export function verificationComplete(view: {
  present: boolean;
  result: string;
  thisQuarter: boolean;
}): boolean {
  return view.present && view.thisQuarter && view.result === 'Intact';
}

export const STATUS_DRAFT = 'Draft';
export const STATUS_SIGNED = 'Signed';

interface ReviewNode {
  id: string;
  label: string;
  quarter: string;
  reviewStatus: string;
  dataMapHash: string | null;
  signedAt: string | null;
  signedAtLabel: string;
  signedByName: string;
  attendees: string;
  node: Record<string, unknown>;
}

/** What a child item reports in its `itemchange` event: one field of the review and its new value. */
interface ItemChange {
  field: string;
  value: unknown;
}

/**
 * The quarterly governance review: a container that loads everything the agenda needs (one GraphQL
 * query, two Apex reads), owns the Governance_Review__c being edited and saves it. Each agenda item is
 * a child component that shows its part and reports the reviewer's answers back as `itemchange`
 * events: (1) `c-governance-data-map-item`, data map unchanged without sign-off; (2)
 * `c-governance-access-item`, access changes since the last review; (3) `c-governance-spot-check-item`,
 * change-log spot check of a random sample with field history; (4) `c-governance-consent-item`, consent
 * counts and the gap explained; (5) `c-governance-sign-item`, attendees, notes, sign and lock. Each
 * item's completion rule lives in its child's module and is imported here for the progress strip.
 * Once Status__c is 'Signed' the review is read-only here, as the object's validation rule also
 * enforces. Previous reviews are listed and the summary prints cleanly.
 */
export default class GovernanceReview extends LightningElement {
  now = new Date(Date.now());
  quarter = quarterOf(this.now);

  loaded = false;
  errors: unknown = undefined;
  saveErrors: unknown = undefined;
  statusMessage = '';
  saving = false;

  // Sign-off as deployed (Apex: custom metadata).
  signedHash: string | null = null;
  currentHash: string | null = null;
  dataMapLoaded = false;
  dataMapErrors: unknown = undefined;

  reviews: ReviewNode[] = [];
  accessChanges: Array<Record<string, unknown>> = [];
  syncRuns: Array<Record<string, unknown>> = [];
  verification: Record<string, unknown> | undefined;
  quarterSummary: Record<string, unknown> | undefined;
  consent: Record<string, unknown> | undefined;
  candidates: Candidate[] = [];
  history: HistoryRow[] = [];
  historyErrors: unknown = undefined;
  /** The data map's synced fields (Apex getDataMap), for the spot check's fields and shapes. */
  mappedFields: MappedField[] = [];
  contactLabels: Record<string, string> = {};
  /** Each sampled Contact's fields as LDS returns them (getRecords), keyed by record id. */
  sampledRecords: Record<string, RecordFields> = {};
  sampledErrors: unknown = undefined;
  refreshData: (() => Promise<void>) | undefined;

  // The review being edited.
  reviewId: string | undefined;
  reviewName = '';
  status = STATUS_DRAFT;
  signedAtLabel = '';
  signedByName = '';
  dataMapUnchanged = false;
  dataMapNotes = '';
  accessReviewed = false;
  accessNotes = '';
  spotChecks: SpotCheckEntry[] = [];
  sampleDrawn = false;
  consentReviewed = false;
  consentGapExplanation = '';
  attendees = '';
  notes = '';

  connectedCallback(): void {
    getDataMap()
      .then((result) => {
        const map = result as {
          signoff?: { signedHash?: string; currentHash?: string } | null;
          entries?: MappedField[];
        } | null;
        const deployed = map?.signoff;
        this.mappedFields = (map?.entries ?? []).map((e) => ({
          targetObject: e.targetObject ?? null,
          targetField: e.targetField ?? null,
          shape: e.shape ?? null,
        }));
        this.signedHash = deployed?.signedHash ?? null;
        this.currentHash = deployed?.currentHash ?? null;
        this.dataMapLoaded = true;
      })
      .catch((error: unknown) => {
        this.dataMapErrors = error;
        this.dataMapLoaded = true;
      });
  }

  @wire(getObjectInfo, { objectApiName: CONTACT_OBJECT })
  handleContactInfo({ data }: { data?: { fields: Record<string, { label: string } | undefined> } }): void {
    if (!data) return;
    this.contactLabels = Object.fromEntries(
      Object.entries(data.fields).flatMap(([name, f]) => (f ? [[name, f.label]] : [])),
    );
  }

  /** The getRecords request for the sample: every synced Contact field, optional (FLS may hide it). */
  get sampleRecordsConfig(): Array<{ recordIds: string[]; optionalFields: string[] }> | undefined {
    const ids = this.spotChecks.map((s) => s.recordId);
    const fields = [
      ...new Set(
        this.mappedFields
          .filter((m) => m.targetObject === CONTACT_OBJECT.objectApiName && m.targetField)
          .map((m) => `${CONTACT_OBJECT.objectApiName}.${m.targetField ?? ''}`),
      ),
    ];
    return ids.length === 0 || fields.length === 0 ? undefined : [{ recordIds: ids, optionalFields: fields }];
  }

  @wire(getRecords, { records: '$sampleRecordsConfig' })
  handleSampleRecords({
    data,
    error,
  }: {
    data?: { results: Array<{ statusCode: number; result: unknown }> };
    error?: unknown;
  }): void {
    if (error) {
      // Never check (or tick) against values from before the error.
      this.sampledErrors = error;
      this.sampledRecords = {};
      return;
    }
    if (!data) return;
    this.sampledErrors = undefined;
    const records: Record<string, RecordFields> = {};
    for (const r of data.results) {
      const record = r.result as LdsRecord | undefined;
      if (r.statusCode === 200 && record?.id) records[record.id] = record.fields;
    }
    this.sampledRecords = records;
  }

  /** Each sampled record's synced fields with labels and shape checks (c/fieldShapes). */
  get spotFields(): Record<string, SpotField[]> {
    return Object.fromEntries(
      this.spotChecks.map((s) => [
        s.recordId,
        spotFieldsOf(
          CONTACT_OBJECT.objectApiName,
          this.mappedFields,
          this.sampledRecords[s.recordId] ?? {},
          this.contactLabels,
        ),
      ]),
    );
  }

  get variables(): Record<string, unknown> {
    return { since: quarterStart(this.now).toISOString() };
  }

  @wire(graphql, {
    query: gql`
      query governanceReviewData($since: DateTime) {
        uiapi {
          query {
            Governance_Review__c(orderBy: { CreatedDate: { order: DESC } }, first: 20) {
              edges {
                node {
                  Id
                  Name {
                    value
                  }
                  Quarter__c {
                    value
                  }
                  Status__c {
                    value
                  }
                  Data_Map_Hash__c {
                    value
                  }
                  Data_Map_Unchanged__c {
                    value
                  }
                  Access_Changes_Reviewed__c {
                    value
                  }
                  Spot_Check_Complete__c {
                    value
                  }
                  No_Clinical_Content_Found__c {
                    value
                  }
                  Consent_Reviewed__c {
                    value
                  }
                  Data_Map_Notes__c {
                    value
                  }
                  Access_Notes__c {
                    value
                  }
                  Spot_Check_Sample__c {
                    value
                  }
                  Consent_Gap_Explanation__c {
                    value
                  }
                  Attendees__c {
                    value
                  }
                  Notes__c {
                    value
                  }
                  Signed_At__c {
                    value
                  }
                  Signed_By_Name__c {
                    value
                  }
                }
              }
            }
            Access_Change__c(orderBy: { Detected_At__c: { order: DESC } }, first: 200) {
              edges {
                node {
                  Id
                  Detected_At__c {
                    value
                    displayValue
                  }
                  Username__c {
                    value
                  }
                  Permission_Set__c {
                    value
                  }
                  Change_Type__c {
                    value
                    displayValue
                  }
                  Details__c {
                    value
                  }
                  Field_Class__c {
                    value
                    displayValue
                  }
                  Path__c {
                    value
                  }
                  Fields__c {
                    value
                  }
                  Resolved_At__c {
                    value
                    displayValue
                  }
                }
              }
            }
            Consent_Reconciliation__c(orderBy: { Snapshot_At__c: { order: DESC } }, first: 1) {
              edges {
                node {
                  Id
                  Snapshot_At__c {
                    value
                    displayValue
                  }
                  Cliniko_Email_Opt_In__c {
                    value
                  }
                  Salesforce_Email_Opt_In__c {
                    value
                  }
                  Cliniko_SMS_Opt_In__c {
                    value
                  }
                  Salesforce_SMS_Opt_In__c {
                    value
                  }
                }
              }
            }
            Audit_Verification__c(orderBy: { Verified_At__c: { order: DESC } }, first: 1) {
              edges {
                node {
                  Id
                  Verified_At__c {
                    value
                  }
                  Result__c {
                    value
                  }
                  First_Failing_Sequence__c {
                    value
                  }
                  Entries_Checked__c {
                    value
                  }
                  Anchors_Checked__c {
                    value
                  }
                  Detail__c {
                    value
                  }
                }
              }
            }
            Quarter_Summary__c(orderBy: { Quarter__c: { order: DESC } }, first: 1) {
              edges {
                node {
                  Id
                  Quarter__c {
                    value
                  }
                  Computed_At__c {
                    value
                  }
                  Counts__c {
                    value
                  }
                  Write_Backs__c {
                    value
                  }
                  Sign_Offs__c {
                    value
                  }
                  Dead_Letters__c {
                    value
                  }
                  Quarantines__c {
                    value
                  }
                }
              }
            }
            Sync_Run__c(
              where: { Started_At__c: { gte: { value: $since } } }
              orderBy: { Started_At__c: { order: DESC } }
              first: 200
            ) {
              edges {
                node {
                  Id
                  Run_Id__c {
                    value
                  }
                  Started_At__c {
                    value
                    displayValue
                  }
                  Data_Map_Hash__c {
                    value
                  }
                }
              }
            }
            Contact(
              where: { Last_Synced_At__c: { gte: { value: $since } } }
              orderBy: { Last_Synced_At__c: { order: DESC } }
              first: 200
            ) {
              edges {
                node {
                  Id
                  Name {
                    value
                  }
                  Cliniko_Patient_Id__c {
                    value
                  }
                }
              }
            }
          }
        }
      }
    `,
    variables: '$variables',
    operationName: 'governanceReviewData',
  })
  handleData(result: GraphqlResult<unknown>): void {
    this.refreshData = result.refresh;
    if (result.errors) {
      this.errors = result.errors;
      this.loaded = true;
      return;
    }
    if (!result.data) return;
    const data = result.data;
    this.errors = undefined;
    this.reviews = gqlNodes(data, REVIEW_OBJECT.objectApiName).map((node) => ({
      id: String(node.Id),
      label: gqlDisplay(node, REVIEW_NAME_FIELD) || String(node.Id),
      quarter: gqlValue<string>(node, QUARTER_FIELD) ?? '',
      reviewStatus: gqlValue<string>(node, STATUS_FIELD) ?? STATUS_DRAFT,
      dataMapHash: gqlValue<string>(node, DATA_MAP_HASH_FIELD) ?? null,
      signedAt: gqlValue<string>(node, SIGNED_AT_FIELD) ?? null,
      signedAtLabel: formatDateTime(gqlValue<string>(node, SIGNED_AT_FIELD)),
      signedByName: gqlValue<string>(node, SIGNED_BY_NAME_FIELD) || '—',
      attendees: gqlValue<string>(node, ATTENDEES_FIELD) ?? '',
      node,
    }));
    this.accessChanges = gqlNodes(data, ACCESS_CHANGE_OBJECT.objectApiName);
    this.syncRuns = gqlNodes(data, SYNC_RUN_OBJECT.objectApiName);
    this.verification = gqlNodes(data, VERIFICATION_OBJECT.objectApiName)[0];
    this.quarterSummary = gqlNodes(data, QUARTER_SUMMARY_OBJECT.objectApiName)[0];
    this.consent = gqlNodes(data, RECONCILIATION_OBJECT.objectApiName)[0];
    this.candidates = gqlNodes(data, CONTACT_OBJECT.objectApiName).map((node) => ({
      id: String(node.Id),
      label: gqlDisplay(node, 'Name') || String(node.Id),
      clinikoPatientId: gqlValue<string>(node, 'Cliniko_Patient_Id__c') ?? null,
    }));
    // Load the form once; a later refresh (after saving) must not overwrite what is on screen, but
    // takes the signer and time Salesforce set when the review was signed.
    if (!this.loaded) {
      this.loadCurrentReview();
      this.drawSample();
    } else {
      const saved = this.reviews.find((r) => r.id === this.reviewId);
      if (saved && saved.reviewStatus === STATUS_SIGNED) {
        this.signedByName = saved.signedByName;
        this.signedAtLabel = saved.signedAtLabel;
      }
    }
    this.loaded = true;
  }

  /** Resumes this quarter's review when one exists (a draft to finish, or a signed one to read). */
  loadCurrentReview(): void {
    const current = this.reviews.find((r) => r.quarter === this.quarter);
    if (!current) return;
    const node = current.node;
    this.reviewId = current.id;
    this.reviewName = current.label;
    this.status = current.reviewStatus;
    this.signedAtLabel = current.signedAtLabel;
    this.signedByName = current.signedByName;
    this.dataMapUnchanged = gqlValue<boolean>(node, DATA_MAP_UNCHANGED_FIELD) === true;
    this.dataMapNotes = gqlValue<string>(node, DATA_MAP_NOTES_FIELD) ?? '';
    this.accessReviewed = gqlValue<boolean>(node, ACCESS_REVIEWED_FIELD) === true;
    this.accessNotes = gqlValue<string>(node, ACCESS_NOTES_FIELD) ?? '';
    this.consentReviewed = gqlValue<boolean>(node, CONSENT_REVIEWED_FIELD) === true;
    this.consentGapExplanation = gqlValue<string>(node, CONSENT_GAP_FIELD) ?? '';
    this.attendees = gqlValue<string>(node, ATTENDEES_FIELD) ?? '';
    this.notes = gqlValue<string>(node, NOTES_FIELD) ?? '';
    const sample = parseSpotCheckSample(gqlValue<string>(node, SPOT_CHECK_SAMPLE_FIELD));
    if (sample) {
      this.spotChecks = sample;
      this.sampleDrawn = true;
    }
  }

  /** Draws the spot-check sample (unless resumed from a saved review) and loads its field history. */
  drawSample(): void {
    if (!this.sampleDrawn) {
      this.spotChecks = drawSpotCheckSample(this.candidates);
      this.sampleDrawn = true;
    }
    const ids = this.spotChecks.map((s) => s.recordId);
    if (ids.length === 0) return;
    getFieldHistory({ contactIds: ids })
      .then((rows) => {
        this.history = (rows as HistoryRow[] | null) ?? [];
      })
      .catch((error: unknown) => {
        this.historyErrors = error;
      });
  }

  // ---------------------------------------------------------------- state
  get isLoading(): boolean {
    return !this.loaded;
  }

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get showReview(): boolean {
    return this.loaded && !this.hasError;
  }

  get isLocked(): boolean {
    return this.status === STATUS_SIGNED;
  }

  get isEditable(): boolean {
    return !this.isLocked;
  }

  get controlsDisabled(): boolean {
    return this.isLocked || this.saving;
  }

  get heading(): string {
    return `Quarterly governance review ${this.quarter}`;
  }

  get lockedMessage(): string {
    return `Signed by ${this.signedByName} on ${this.signedAtLabel}. This review is locked.`;
  }

  /** The most recent signed review of an earlier quarter: the baseline for "since the last review". */
  get lastSignedReview(): ReviewNode | undefined {
    return this.reviews.find((r) => r.quarter !== this.quarter && r.reviewStatus === STATUS_SIGNED);
  }

  get previousReviews(): Array<ReviewNode & { statusClass: string }> {
    return this.reviews
      .filter((r) => r.id !== this.reviewId)
      .map((r) => ({
        ...r,
        statusClass: r.reviewStatus === STATUS_SIGNED ? 'slds-badge slds-theme_success' : 'slds-badge',
      }));
  }

  get hasPreviousReviews(): boolean {
    return this.previousReviews.length > 0;
  }

  // ---------------------------------------------------------------- what the items are given
  get lastReviewHash(): string | null {
    return this.lastSignedReview?.dataMapHash ?? null;
  }

  get dataMapFacts(): DataMapFacts {
    return {
      currentHash: this.currentHash,
      signedHash: this.signedHash,
      lastReviewHash: this.lastReviewHash,
      syncRuns: this.syncRuns,
    };
  }

  get reviewBaseline(): ReviewBaseline | undefined {
    const last = this.lastSignedReview;
    return last ? { label: last.label, signedAt: last.signedAt } : undefined;
  }

  // ---------------------------------------------------------------- audit verification and the quarter
  /** The last `audit verify` recorded in Salesforce (Audit_Verification__c), for the agenda. */
  get verificationView(): {
    present: boolean;
    text: string;
    result: string;
    resultClass: string;
    thisQuarter: boolean;
  } {
    const v = this.verification;
    if (!v) {
      return {
        present: false,
        text: 'The audit trail has never been verified. Run `npm run sync -- audit verify` (the nightly job also runs it).',
        result: 'Not verified',
        resultClass: 'slds-badge slds-theme_warning verification-result',
        thisQuarter: false,
      };
    }
    const at = gqlValue<string>(v, 'Verified_At__c');
    const result = gqlValue<string>(v, 'Result__c') ?? 'Unknown';
    const failing = gqlValue<number>(v, 'First_Failing_Sequence__c');
    const parts = [
      `Last verified ${formatDateTime(at)}`,
      `${formatCount(gqlValue<number>(v, 'Entries_Checked__c'))} entries`,
      `${formatCount(gqlValue<number>(v, 'Anchors_Checked__c'))} Salesforce anchors`,
    ];
    if (typeof failing === 'number') parts.push(`first failing sequence ${formatCount(failing)}`);
    return {
      present: true,
      text: `${parts.join(', ')}.`,
      result,
      resultClass:
        result === 'Intact'
          ? 'slds-badge slds-theme_success verification-result'
          : 'slds-badge slds-theme_error verification-result',
      thisQuarter: at !== undefined && at !== null && quarterOf(new Date(at)) === this.quarter,
    };
  }

  /** Records created and updated per object and source this quarter (Quarter_Summary__c), for the agenda. */
  get quarterRows(): Array<{
    key: string;
    object: string;
    source: string;
    created: string;
    updated: string;
  }> {
    const q = this.quarterSummary;
    if (!q || gqlValue<string>(q, 'Quarter__c') !== this.quarter) return [];
    let counts: unknown;
    try {
      counts = JSON.parse(gqlValue<string>(q, 'Counts__c') ?? '[]');
    } catch {
      return [];
    }
    if (!Array.isArray(counts)) return [];
    return counts.map((c: Record<string, unknown>) => ({
      key: `${String(c.object)}|${String(c.source)}`,
      object: String(c.object),
      source: String(c.source),
      created: formatCount(c.created),
      updated: formatCount(c.updated),
    }));
  }

  get hasQuarterSummary(): boolean {
    return (
      this.quarterSummary !== undefined &&
      gqlValue<string>(this.quarterSummary, 'Quarter__c') === this.quarter
    );
  }

  get quarterTotals(): string {
    const q = this.quarterSummary;
    if (!q || !this.hasQuarterSummary) return '';
    return [
      `Write-backs: ${formatCount(gqlValue<number>(q, 'Write_Backs__c'))}`,
      `sign-offs: ${formatCount(gqlValue<number>(q, 'Sign_Offs__c'))}`,
      `dead letters: ${formatCount(gqlValue<number>(q, 'Dead_Letters__c'))}`,
      `quarantines: ${formatCount(gqlValue<number>(q, 'Quarantines__c'))}`,
      `computed ${formatDateTime(gqlValue<string>(q, 'Computed_At__c'))}`,
    ].join('; ');
  }

  // ---------------------------------------------------------------- progress
  get steps(): Array<{
    key: string;
    label: string;
    complete: boolean;
    stateLabel: string;
    stateClass: string;
  }> {
    const item1 = dataMapItemComplete(this.dataMapFacts, {
      loaded: this.dataMapLoaded,
      errors: this.dataMapErrors,
      unchanged: this.dataMapUnchanged,
      notes: this.dataMapNotes,
    });
    const item4 = consentItemComplete(this.consent, this.consentReviewed, this.consentGapExplanation);
    const verification = this.verificationView;
    return [
      ['1', 'Data map unchanged without sign-off', item1],
      ['2', 'Access changes reviewed', this.accessReviewed],
      ['3', 'Audit trail verified this quarter', verificationComplete(verification)],
      ['4', 'Change-log spot check', spotCheckComplete(this.spotChecks)],
      ['5', 'Consent counts compared', item4],
      ['6', 'Attendees and notes', signItemComplete(this.attendees)],
    ].map(([key, label, complete]) => ({
      key: key as string,
      label: `${key as string}. ${label as string}`,
      complete: complete as boolean,
      stateLabel: complete ? 'Done' : 'To do',
      stateClass: complete ? 'slds-badge slds-theme_success step-state' : 'slds-badge step-state',
    }));
  }

  get allComplete(): boolean {
    return this.steps.every((s) => s.complete);
  }

  get signDisabled(): boolean {
    return !this.allComplete || this.controlsDisabled;
  }

  get signHint(): string {
    const missing = this.steps.filter((s) => !s.complete).map((s) => s.label);
    return missing.length === 0 ? 'Every item is complete.' : `Still to do: ${missing.join('; ')}.`;
  }

  // ---------------------------------------------------------------- summary
  get summaryItems(): Array<{ key: string; text: string }> {
    const yes = (b: boolean): string => (b ? 'yes' : 'no');
    const accessSummary = accessSummaryOf(this.accessChanges, this.reviewBaseline);
    return [
      {
        key: 'hash',
        text: `Data map hash: ${currentHashLabel(this.currentHash)} (signed: ${signedHashLabel(this.signedHash)})`,
      },
      {
        key: 'map',
        text: `Data map unchanged without sign-off: ${yes(this.dataMapUnchanged)}. ${this.dataMapNotes}`,
      },
      {
        key: 'access',
        text: `Access changes reviewed: ${yes(this.accessReviewed)} (${accessSummary}) ${this.accessNotes}`,
      },
      {
        key: 'verification',
        text: `Audit trail verification: ${this.verificationView.result}. ${this.verificationView.text}`,
      },
      {
        key: 'spot',
        text: `Spot check: ${this.spotChecks.filter((s) => s.checked).length} of ${this.spotChecks.length} records checked; no clinical content found: ${yes(noClinicalContentFound(this.spotChecks))}.`,
      },
      {
        key: 'consent',
        text: `Consent counts reviewed: ${yes(this.consentReviewed)}. ${this.consentGapExplanation}`,
      },
      { key: 'attendees', text: `Attendees: ${this.attendees || '—'}` },
      { key: 'notes', text: `Notes: ${this.notes || '—'}` },
      {
        key: 'status',
        text: this.isLocked ? `Signed by ${this.signedByName} on ${this.signedAtLabel}.` : 'Not signed yet.',
      },
    ].map((item) => ({ ...item, text: item.text.trim() }));
  }

  // ---------------------------------------------------------------- events
  /** One answer from an agenda item. A signed review ignores them (e.g. an event fired from devtools). */
  handleItemChange(event: CustomEvent<ItemChange>): void {
    if (this.isLocked) return;
    const { field, value } = event.detail;
    const text = typeof value === 'string' ? value : '';
    switch (field) {
      case 'dataMapUnchanged':
        this.dataMapUnchanged = value === true;
        break;
      case 'dataMapNotes':
        this.dataMapNotes = text;
        break;
      case 'accessReviewed':
        this.accessReviewed = value === true;
        break;
      case 'accessNotes':
        this.accessNotes = text;
        break;
      case 'spotCheck': {
        // A record with nothing to check cannot be ticked, whatever the event says.
        const toggle = value as SpotCheckToggle;
        if (toggle.value && !hasSomethingToCheck(this.spotFields[toggle.recordId] ?? [])) break;
        this.spotChecks = applySpotCheckToggle(this.spotChecks, toggle);
        break;
      }
      case 'consentReviewed':
        this.consentReviewed = value === true;
        break;
      case 'consentGapExplanation':
        this.consentGapExplanation = text;
        break;
      case 'attendees':
        this.attendees = text;
        break;
      case 'notes':
        this.notes = text;
        break;
      default:
        break;
    }
  }

  handleSaveDraft(): void {
    this.save(STATUS_DRAFT).catch(() => undefined);
  }

  handleSign(): void {
    if (!this.allComplete) return;
    this.save(STATUS_SIGNED).catch(() => undefined);
  }

  handlePrint(): void {
    window.print();
  }

  /** The Governance_Review__c field values for the current state of the checklist. */
  reviewFields(status: string): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      [QUARTER_FIELD.fieldApiName]: this.quarter,
      [STATUS_FIELD.fieldApiName]: status,
      [DATA_MAP_HASH_FIELD.fieldApiName]: this.currentHash,
      [DATA_MAP_UNCHANGED_FIELD.fieldApiName]: this.dataMapUnchanged,
      [DATA_MAP_NOTES_FIELD.fieldApiName]: this.dataMapNotes,
      [ACCESS_REVIEWED_FIELD.fieldApiName]: this.accessReviewed,
      [ACCESS_NOTES_FIELD.fieldApiName]: this.accessNotes,
      [SPOT_CHECK_COMPLETE_FIELD.fieldApiName]: spotCheckComplete(this.spotChecks),
      [NO_CLINICAL_FIELD.fieldApiName]: noClinicalContentFound(this.spotChecks),
      [SPOT_CHECK_SAMPLE_FIELD.fieldApiName]: JSON.stringify(this.spotChecks),
      [CONSENT_REVIEWED_FIELD.fieldApiName]: this.consentReviewed,
      [CONSENT_GAP_FIELD.fieldApiName]: this.consentGapExplanation,
      [ATTENDEES_FIELD.fieldApiName]: this.attendees,
      [NOTES_FIELD.fieldApiName]: this.notes,
    };
    // Who signed and when are never sent: Salesforce sets them (formula fields over the signing save).
    return fields;
  }

  async save(status: string): Promise<void> {
    if (this.isLocked || this.saving) return;
    this.saving = true;
    this.saveErrors = undefined;
    this.statusMessage = '';
    const fields = this.reviewFields(status);
    try {
      let createdNow = false;
      if (!this.reviewId) {
        // A review is never created signed (validation rule Signed_Only_From_Draft): save the draft first.
        const draft = { ...fields, [STATUS_FIELD.fieldApiName]: STATUS_DRAFT };
        const created = await createRecord({ apiName: REVIEW_OBJECT.objectApiName, fields: draft });
        this.reviewId = created.id;
        createdNow = true;
      }
      if (!createdNow || status === STATUS_SIGNED) {
        await updateRecord({ fields: { [REVIEW_ID_FIELD.fieldApiName]: this.reviewId, ...fields } });
      }
      this.status = status;
      if (status === STATUS_SIGNED) {
        this.signedByName = 'you';
        this.signedAtLabel = formatDateTime(new Date(Date.now()).toISOString());
        this.statusMessage = 'Review signed and locked.';
      } else {
        this.statusMessage = 'Draft saved.';
      }
      if (this.refreshData) await this.refreshData();
    } catch (error) {
      this.saveErrors = error;
      this.statusMessage = `Not saved: ${reduceErrors(error).join(' ') || 'unknown error'}`;
      throw error;
    } finally {
      this.saving = false;
    }
  }
}
