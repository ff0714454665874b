import { isDeepStrictEqual } from 'node:util';
import { ClinikoValidationError } from '../../cliniko/index.js';
import { buildAuditEntry, type ChainHead } from '../../governance/audit.js';
import { projectInbound, projectRecord, type ProjectionProblem } from '../../governance/project.js';
import type { AuditHead, AuditRow, QuarantineInput } from '../../store/index.js';
import { INACTIVE_FIELDS, timeOf, type Contact, type Outcome, type PollerContext } from './types.js';

/** Absent, null and empty text are the same "no value" on both sides. */
function normalised(value: unknown): unknown {
  return value === undefined || value === '' ? null : value;
}

/** What Cliniko already has for a patch key (`unsubscribe_sms_marketing` is write-only). */
function alreadyInCliniko(patient: Record<string, unknown>, key: string, value: unknown): boolean {
  if (key === 'unsubscribe_sms_marketing') return patient.accepted_sms_marketing === false;
  if (key === 'patient_phone_numbers') {
    const strip = (list: unknown) =>
      Array.isArray(list)
        ? list.map((p: { number?: unknown; phone_type?: unknown }) => ({
            number: p.number,
            phone_type: p.phone_type,
          }))
        : [];
    return isDeepStrictEqual(strip(patient[key]), strip(value));
  }
  return isDeepStrictEqual(normalised(patient[key]), normalised(value));
}

/** One Contact: decides whether its edit goes back to Cliniko, and writes and audits it if so. */
export async function processContact(
  ctx: PollerContext,
  contact: Contact,
  humanConsent: ReadonlySet<string>,
  runId: string,
  quarantine: QuarantineInput[],
  forwardCursor: number | undefined,
): Promise<Outcome> {
  const patientId = contact.Cliniko_Patient_Id__c;
  if (typeof patientId !== 'string' || patientId === '') return { kind: 'unchanged' };
  const patient = (await ctx.deps.cliniko.getPatient(patientId)) as unknown as Record<string, unknown>;
  const skip = skipReason(patient, contact, forwardCursor);
  if (skip) return { kind: skip };
  const projection = projectRecord('patients', patient, ctx.deps.dataMap);
  if (!projection.ok) {
    quarantine.push(...quarantineFor(projection.problems, contact, patientId, runId));
    return { kind: 'quarantined' };
  }
  const current = projection.payloads.find((p) => p.object === 'Contact')?.fields ?? {};
  const inbound = inboundPatch(ctx, contact, patient, current, humanConsent);
  if (inbound.problems.length > 0)
    quarantine.push(...quarantineFor(inbound.problems, contact, patientId, runId));
  if (Object.keys(inbound.patch).length === 0) {
    return { kind: inbound.problems.length > 0 ? 'quarantined' : 'unchanged' };
  }
  const rejected = await patchPatient(ctx, contact, patientId, inbound.patch, runId);
  if (rejected) {
    quarantine.push(rejected);
    return { kind: 'quarantined' };
  }
  await audit(ctx, contact, patientId, inbound.patch, runId);
  const fields = Object.keys(inbound.patch).sort();
  ctx.log.info(
    { patientId, contactId: contact.Id, fields, actor: contact.LastModifiedById },
    'written back to cliniko',
  );
  // Count an opt-out only if it was written (Cliniko may have had it already).
  const optOuts = inbound.consentOptOuts.filter((c) =>
    Object.hasOwn(inbound.patch, c === 'email' ? 'accepted_email_marketing' : 'unsubscribe_sms_marketing'),
  );
  return { kind: 'written', optOuts };
}

/** Why nothing is written for this patient now, if there is a reason. */
function skipReason(
  patient: Record<string, unknown>,
  contact: Contact,
  forwardCursor: number | undefined,
): 'inactive' | 'cliniko-newer' | 'deferred' | undefined {
  if (INACTIVE_FIELDS.some((f) => patient[f] !== null && patient[f] !== undefined)) return 'inactive';
  // Cliniko is the source of truth: a later change there wins over this (older) Salesforce edit.
  const clinikoAt = timeOf(patient.updated_at);
  const salesforceAt = timeOf(contact.LastModifiedDate);
  if (!Number.isNaN(clinikoAt) && !Number.isNaN(salesforceAt) && clinikoAt >= salesforceAt)
    return 'cliniko-newer';
  // The Salesforce edit is newer, but a Cliniko change the forward sync has not yet carried across
  // means the Contact's other fields are stale: writing them back would undo that change.
  if (forwardCursor === undefined || Number.isNaN(clinikoAt) || clinikoAt > forwardCursor) return 'deferred';
  return undefined;
}

/** The patch the changed `both` fields (and recorded consent opt-outs) make, minus what Cliniko has. */
function inboundPatch(
  ctx: PollerContext,
  contact: Contact,
  patient: Record<string, unknown>,
  current: Record<string, unknown>,
  humanConsent: ReadonlySet<string>,
) {
  const changed = ctx.fields.both.filter(
    (f) => Object.hasOwn(contact, f) && !isDeepStrictEqual(normalised(contact[f]), normalised(current[f])),
  );
  // Consent fields nobody (but the sync) recorded changing are shown to governance as unchanged.
  const after: Record<string, unknown> = { ...contact };
  for (const f of ctx.fields.consent) if (!humanConsent.has(f)) after[f] = current[f];
  const inbound = projectInbound(after, patient, ctx.deps.dataMap, changed, { before: current });
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inbound.patch)) {
    if (!alreadyInCliniko(patient, key, value)) patch[key] = value;
  }
  return { patch, problems: inbound.problems, consentOptOuts: inbound.consentOptOuts };
}

/** PATCHes the patient; a Cliniko validation refusal comes back as its quarantine row. */
async function patchPatient(
  ctx: PollerContext,
  contact: Contact,
  patientId: string,
  patch: Record<string, unknown>,
  runId: string,
): Promise<QuarantineInput | undefined> {
  try {
    await ctx.deps.cliniko.patchPatient(patientId, patch);
  } catch (err) {
    if (!(err instanceof ClinikoValidationError)) throw err;
    ctx.log.warn({ patientId, contactId: contact.Id, fields: err.fields }, 'write-back rejected by Cliniko');
    return {
      resource: 'salesforce:Contact',
      recordId: patientId,
      field: err.fields.length > 0 ? err.fields.join(', ') : '(none named)',
      reason: `write-back of Contact ${String(contact.Id)}: ${err.message}`,
      payload: JSON.stringify({ contact, patch }),
      runId,
    };
  }
  return undefined;
}

function quarantineFor(
  problems: readonly ProjectionProblem[],
  contact: Contact,
  patientId: string,
  runId: string,
): QuarantineInput[] {
  return problems.map((p) => ({
    resource: 'salesforce:Contact',
    recordId: patientId,
    field: p.field ?? p.entry ?? '(record)',
    reason: `write-back of Contact ${String(contact.Id)} to patient ${patientId}: ${p.message}`,
    payload: JSON.stringify({ contact, entry: p.entry ?? null }),
    runId,
  }));
}

/** One audit-chain entry per write-back, linked to the chain head in the same transaction. */
async function audit(
  ctx: PollerContext,
  contact: Contact,
  patientId: string,
  patch: Record<string, unknown>,
  runId: string,
): Promise<void> {
  const { now } = ctx.deps;
  const build = (previous: AuditHead | null): AuditRow[] => {
    const head: ChainHead | undefined = previous
      ? { seq: (JSON.parse(previous.entry) as { seq?: number }).seq ?? 0, hash: previous.hash }
      : undefined;
    const entry = buildAuditEntry(
      {
        timestamp: new Date(now()).toISOString(),
        actor: String(contact.LastModifiedById),
        sourceSystem: 'salesforce',
        object: 'patients',
        externalId: patientId,
        salesforceId: typeof contact.Id === 'string' ? contact.Id : null,
        patientId,
        operation: 'write-back',
        changedFields: Object.keys(patch).sort(),
        payload: patch,
        runId,
      },
      head,
    );
    const row = { hash: entry.hash, prevHash: entry.previousHash, object: 'patients', externalId: patientId };
    return [{ ...row, createdAt: now(), entry: JSON.stringify(entry) }];
  };
  await ctx.deps.store.completeWrites([], build, now());
}
