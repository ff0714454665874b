/**
 * The result of one `audit verify`, as recorded in Salesforce (Audit_Verification__c, insert-only) so
 * that the quarterly governance review shows when the audit trail was last verified and what was found
 * (issue #17, item 3). Pure: the CLI passes the outcome, the time and a fresh key. Only sequences,
 * counts and words: never an entry's content.
 */

export const VERIFICATION_OBJECT = 'Audit_Verification__c';
export const VERIFICATION_KEY_FIELD = 'Verification_Key__c';

export type VerificationResult = 'Intact' | 'Broken' | 'Local Only';

export interface VerificationOutcome {
  readonly result: VerificationResult;
  /** The first sequence that failed (Broken only, when known). */
  readonly firstFailingSeq: number | null;
  readonly entriesChecked: number;
  readonly anchorsChecked: number;
  readonly headSeq: number | null;
  /** What failed or why anchors were not checked, in words; at most 255 characters are kept. */
  readonly detail: string;
}

/** The Audit_Verification__c record of one verification. */
export function verificationRecord(
  outcome: VerificationOutcome,
  verifiedAt: Date,
  key: string,
  source: 'cli' | 'nightly',
): Record<string, unknown> {
  return {
    [VERIFICATION_KEY_FIELD]: key,
    Verified_At__c: verifiedAt.toISOString(),
    Result__c: outcome.result,
    First_Failing_Sequence__c: outcome.firstFailingSeq,
    Entries_Checked__c: outcome.entriesChecked,
    Anchors_Checked__c: outcome.anchorsChecked,
    Head_Sequence__c: outcome.headSeq,
    Source__c: source,
    Detail__c: outcome.detail.length > 255 ? `${outcome.detail.slice(0, 254)}…` : outcome.detail,
  };
}
