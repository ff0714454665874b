import type { ReconcileContext } from './context.js';
import type { ClinikoSide } from './read-cliniko.js';
import { SAMPLE, type ConsentMismatch, type ConsentSnapshot, type Row } from './types.js';

/**
 * The consent snapshot (Consent_Reconciliation__c): opt-in counts on both sides and the patients whose
 * consent differs, by id and boolean only.
 */
export interface ConsentCounts {
  readonly clinikoEmail: number;
  readonly clinikoSms: number;
  readonly salesforceEmail: number;
  readonly salesforceSms: number;
  readonly compared: number;
  readonly mismatches: number;
  readonly sample: readonly ConsentMismatch[];
}

/** A consent field on the Contact; `optOut` when it says the opposite (HasOptedOutOfEmail, DoNotCall). */
interface ConsentField {
  readonly name: string;
  readonly optOut: boolean;
}

function consentFields(ctx: ReconcileContext): { email?: ConsentField; sms?: ConsentField } {
  const pick = (optIn: string, optOut: string): ConsentField | undefined =>
    ctx.isMapped('Contact', optIn)
      ? { name: optIn, optOut: false }
      : ctx.isMapped('Contact', optOut)
        ? { name: optOut, optOut: true }
        : undefined;
  const email = pick('Email_Marketing_Consent__c', 'HasOptedOutOfEmail');
  const sms = pick('SMS_Marketing_Consent__c', 'DoNotCall');
  return { ...(email ? { email } : {}), ...(sms ? { sms } : {}) };
}

const optedIn = (row: Row, f: ConsentField | undefined): boolean =>
  f === undefined ? false : f.optOut ? row[f.name] !== true : row[f.name] === true;

/** Counts what the pass found, before repairs: the evidence of any drift. */
export function consentFrom(
  ctx: ReconcileContext,
  side: ClinikoSide,
  contactRows: readonly Row[],
): ConsentCounts {
  const fields = consentFields(ctx);
  const counts = {
    clinikoEmail: 0,
    clinikoSms: 0,
    salesforceEmail: 0,
    salesforceSms: 0,
    compared: 0,
    mismatches: 0,
  };
  for (const c of side.consent.values()) {
    if (c.email) counts.clinikoEmail += 1;
    if (c.sms) counts.clinikoSms += 1;
  }
  const sample: ConsentMismatch[] = [];
  const sorted = [...contactRows].sort((a, b) =>
    String(a.Cliniko_Patient_Id__c).localeCompare(String(b.Cliniko_Patient_Id__c)),
  );
  for (const row of sorted) {
    const email = optedIn(row, fields.email);
    const sms = optedIn(row, fields.sms);
    if (email) counts.salesforceEmail += 1;
    if (sms) counts.salesforceSms += 1;
    const id = String(row.Cliniko_Patient_Id__c);
    const cliniko = side.consent.get(id);
    if (!cliniko) continue;
    counts.compared += 1;
    const checks: Array<[ConsentMismatch['channel'], boolean, boolean, boolean]> = [
      ['email', cliniko.email, email, fields.email !== undefined],
      ['sms', cliniko.sms, sms, fields.sms !== undefined],
    ];
    for (const [channel, c, s, present] of checks) {
      if (!present || c === s) continue;
      counts.mismatches += 1;
      if (sample.length < SAMPLE) sample.push({ clinikoPatientId: id, channel, cliniko: c, salesforce: s });
    }
  }
  return { ...counts, sample };
}

/** Writes the night's Consent_Reconciliation__c; a failed write is reported, not thrown. */
export async function writeConsent(
  ctx: ReconcileContext,
  counts: ConsentCounts,
  runId: string,
): Promise<ConsentSnapshot> {
  const record = {
    Snapshot_At__c: new Date(ctx.deps.now()).toISOString(),
    Cliniko_Email_Opt_In__c: counts.clinikoEmail,
    Salesforce_Email_Opt_In__c: counts.salesforceEmail,
    Cliniko_SMS_Opt_In__c: counts.clinikoSms,
    Salesforce_SMS_Opt_In__c: counts.salesforceSms,
    Patients_Compared__c: counts.compared,
    // Ids and booleans only: never a name, address or any other patient detail.
    Mismatch_Sample__c: JSON.stringify(counts.sample),
    Run_Id__c: runId,
  };
  let recordId: string | null = null;
  let error: string | null = null;
  try {
    // A new record each night: the object has no external id to upsert on (its name is an
    // auto-number), and the writer only upserts, so this one insert goes through jsforce directly.
    const result = await ctx.deps.connection.sobject('Consent_Reconciliation__c').create(record);
    if (result.success) recordId = result.id;
    else
      error = `Consent_Reconciliation__c: ${result.errors.map((e) => `${e.errorCode}: ${e.message}`).join('; ')}`;
  } catch (err) {
    error = `Consent_Reconciliation__c: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (error) ctx.log.warn({ runId, error }, 'consent snapshot not written');
  return {
    clinikoEmailOptIn: counts.clinikoEmail,
    salesforceEmailOptIn: counts.salesforceEmail,
    clinikoSmsOptIn: counts.clinikoSms,
    salesforceSmsOptIn: counts.salesforceSms,
    patientsCompared: counts.compared,
    mismatches: counts.mismatches,
    sample: counts.sample,
    recordId,
    error,
  };
}
