import type { JourneyConfig } from './config.js';
import { compareIds, standsAt, type Visit } from './history.js';
import { formatCents, toCents } from './money.js';
import { isInitialConsultType } from './replay.js';
import { dayNumber } from './time.js';
import type { CarePlanFields, FundingSource, Invoice, PatientCase } from './types.js';

/**
 * Contact aggregates and care-plan progress: plain folds over the history at `now`.
 * A "visit" is an appointment the patient arrived at; no-shows, cancellations and unmarked past
 * appointments are not visits.
 */

export interface VisitAggregates {
  attended: number;
  firstDate: string | null;
  lastDate: string | null;
  nextDate: string | null;
  /** Mean days between consecutive visits, one decimal (Number(5,1)), or null under two visits. */
  averageIntervalDays: number | null;
  lastType: string | null;
}

export function visitAggregates(visits: readonly Visit[], nowMs: number): VisitAggregates {
  const attended = visits.filter((v) => v.outcome === 'arrived' && v.startMs <= nowMs);
  const first = attended[0];
  const last = attended.at(-1);
  const next = visits.find((v) => v.startMs > nowMs && standsAt(v, nowMs));
  let average: number | null = null;
  if (first && last && attended.length >= 2) {
    const span = dayNumber(last.localDate) - dayNumber(first.localDate);
    const gaps = attended.length - 1;
    // round half up to one decimal without floating-point drift: floor((20*span + gaps) / (2*gaps)) / 10
    average = Math.floor((20 * span + gaps) / (2 * gaps)) / 10;
  }
  return {
    attended: attended.length,
    firstDate: first?.localDate ?? null,
    lastDate: last?.localDate ?? null,
    nextDate: next?.localDate ?? null,
    averageIntervalDays: average,
    lastType: last?.typeName ?? null,
  };
}

/** A case referral_type as a Funding_Source__c: the configured mapping, else Other; null if empty. */
export function fundingFromReferral(
  referralType: string | null | undefined,
  config: JourneyConfig,
): FundingSource | null {
  const key = referralType?.trim().toLowerCase();
  if (!key) return null;
  for (const [name, source] of Object.entries(config.referralTypeFunding)) {
    if (name.trim().toLowerCase() === key) return source;
  }
  return 'Other';
}

/** The funding tag of an appointment type name (own keys only: a type called "constructor" has none). */
export function fundingTag(typeName: string | null, config: JourneyConfig): FundingSource | null {
  if (typeName === null || !Object.hasOwn(config.fundingTags, typeName)) return null;
  return config.fundingTags[typeName] ?? null;
}

export type CaseStatus = CarePlanFields['Status__c'];

export function caseStatus(c: PatientCase, today: string): CaseStatus {
  if (c.archived_at || c.archived || c.closed_at || c.closed) return 'Closed';
  if (c.expiry_date && dayNumber(c.expiry_date) < dayNumber(today)) return 'Expired';
  return 'Open';
}

/**
 * Contact Funding_Source__c, most specific first:
 * 1. the referral type of the open case issued last;
 * 2. the funding tag of the patient's latest initial-consult or tagged appointment (not cancelled);
 *    an untagged initial consult means the latest episode is privately funded (the default);
 * 3. config.defaultFundingSource.
 */
export function contactFundingSource(
  visits: readonly Visit[],
  cases: readonly PatientCase[],
  config: JourneyConfig,
  today: string,
): FundingSource | null {
  const openCases = cases
    .filter((c) => caseStatus(c, today) === 'Open' && fundingFromReferral(c.referral_type, config) !== null)
    .sort((a, b) => (a.issue_date ?? '').localeCompare(b.issue_date ?? '') || compareIds(a.id, b.id));
  const latestCase = openCases.at(-1);
  if (latestCase) return fundingFromReferral(latestCase.referral_type, config);
  const episodes = visits.filter(
    (v) =>
      v.outcome !== 'cancelled' &&
      v.typeName !== null &&
      (isInitialConsultType(v.typeName, config) || fundingTag(v.typeName, config) !== null),
  );
  const latest = episodes.at(-1);
  if (latest) return fundingTag(latest.typeName, config) ?? config.defaultFundingSource;
  return config.defaultFundingSource;
}

export function invoiceIsLive(inv: Invoice): boolean {
  if (inv.deleted_at || inv.archived_at) return false;
  const status = inv.status?.trim().toLowerCase();
  return status !== 'cancelled' && status !== 'draft';
}

/** Amount still owed on an invoice: amount_outstanding when given, else the total of an open invoice. */
export function outstandingCents(inv: Invoice): bigint {
  if (inv.amount_outstanding != null) return toCents(inv.amount_outstanding);
  const status = inv.status?.trim().toLowerCase();
  if ((status === 'open' || status === 'awaiting payment') && inv.total_amount != null) {
    return toCents(inv.total_amount);
  }
  return 0n;
}

export function billingTotals(invoices: readonly Invoice[]): { lifetime: string; unpaid: string } {
  let lifetime = 0n;
  let unpaid = 0n;
  for (const inv of invoices.filter(invoiceIsLive)) {
    if (inv.total_amount != null) lifetime += toCents(inv.total_amount);
    unpaid += outstandingCents(inv);
  }
  return { lifetime: formatCents(lifetime), unpaid: formatCents(unpaid) };
}

/**
 * Care_Plan__c progress for one Cliniko patient case. Sessions used counts the appointments booked
 * against the case as Cliniko does (past and future, arrived or not yet marked), plus cancelled ones
 * when include_cancelled_attendees and no-shows when include_dna_attendees. Never the case name or notes.
 */
export function carePlanProgress(
  patientId: string,
  c: PatientCase,
  visits: readonly Visit[],
  invoices: readonly Invoice[],
  config: JourneyConfig,
  today: string,
): CarePlanFields {
  const onCase = visits.filter((v) => v.caseId === c.id);
  const used = onCase.filter((v) => {
    if (v.outcome === 'cancelled') return c.include_cancelled_attendees === true;
    if (v.outcome === 'dna') return c.include_dna_attendees === true;
    return true;
  }).length;
  const allowed = c.max_sessions ?? null;
  const remaining = allowed === null ? null : Math.max(0, allowed - used);
  // Percent(5,2), capped at 100: round half up to hundredths of a percent in integers.
  const progress =
    allowed === null || allowed === 0
      ? null
      : Math.min(10_000, Math.floor((2 * 10_000 * used + allowed) / (2 * allowed))) / 100;
  const appointmentIds = new Set(onCase.map((v) => v.id));
  let invoiced = 0n;
  for (const inv of invoices) {
    if (
      invoiceIsLive(inv) &&
      inv.appointment_id &&
      appointmentIds.has(inv.appointment_id) &&
      inv.total_amount
    ) {
      invoiced += toCents(inv.total_amount);
    }
  }
  const tagged = onCase.find((v) => v.outcome !== 'cancelled' && fundingTag(v.typeName, config) !== null);
  const funding =
    fundingFromReferral(c.referral_type, config) ??
    (tagged ? fundingTag(tagged.typeName, config) : null) ??
    config.defaultFundingSource;
  return {
    Cliniko_Case_Id__c: c.id,
    Contact__r: { Cliniko_Patient_Id__c: patientId },
    Status__c: caseStatus(c, today),
    Sessions_Allowed__c: allowed,
    Sessions_Used__c: used,
    Sessions_Remaining__c: remaining,
    Progress_Percent__c: progress,
    Issue_Date__c: c.issue_date ?? null,
    Expiry_Date__c: c.expiry_date ?? null,
    Referral_Type__c: c.referral_type ?? null,
    Funding_Source__c: funding,
    Billing_Limit__c:
      c.max_invoiceable_amount != null ? formatCents(toCents(c.max_invoiceable_amount)) : null,
    Amount_Invoiced__c: formatCents(invoiced),
  };
}
