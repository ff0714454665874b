import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ClinikoValidationError, type ClinikoClient } from '../cliniko/index.js';
import { SyncError } from '../errors.js';
import { buildAuditEntry, type ChainHead } from '../governance/audit.js';
import type { DataMap } from '../governance/data-map.js';
import { projectInbound, projectRecord, type ProjectionProblem } from '../governance/project.js';
import type { Logger } from '../logger.js';
import type { AuditHead, AuditRow, QuarantineInput, Store } from '../store/index.js';

/**
 * The reverse direction: Contacts changed in Salesforce by anyone but the integration user are read
 * with SOQL, and the fields the signed data map marks `direction: both` are PATCHed onto the Cliniko
 * patient. Nothing else flows back:
 * - consent travels only as an opt-out, only when ContactHistory records a person (not the integration
 *   user) changing a consent field, through governance's consentOptOutPatch; an opt-in never does;
 * - Salesforce never creates or deletes Cliniko patients (only Contacts already linked by
 *   Cliniko_Patient_Id__c are read, and the only call made is a PATCH);
 * - Cliniko stays the source of truth: a patient changed in Cliniko after the Salesforce edit is left
 *   alone (the forward sync overwrites Salesforce), and a field is written only when the Contact's
 *   value differs from what Cliniko's current values project to, so an echo of the forward sync's own
 *   write is never written back.
 *
 * Loop safety: the forward cycle that follows a write-back re-reads the patient (Cliniko bumps
 * updated_at) and projects the values Salesforce already holds; it writes at most once (as the
 * integration user, whose changes this poller never reads), and the cycle after that is quiet.
 */

export const REVERSE_STREAM = 'salesforce:Contact';
/** The forward runner's watermark stream for patients (its stream name is the Cliniko resource). */
const FORWARD_PATIENT_STREAM = 'patients';
const DEFAULT_OVERLAP_SECONDS = 5;
const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;
/** Cliniko consent fields whose Contact targets may carry an opt-out back (see consentOptOutPatch). */
const CONSENT_SOURCES = new Set(['accepted_email_marketing', 'accepted_sms_marketing']);
const INACTIVE_FIELDS = ['archived_at', 'deleted_at', 'merged_at'] as const;
/**
 * Failures that belong to one record and that no retry cures. Anything else (an outage, a rejected API
 * key, a bug) holds the watermark so the record is retried once the cause is gone.
 */
const RECORD_FAILURES: ReadonlySet<string> = new Set([
  'CLINIKO_NOT_FOUND',
  'CLINIKO_INVALID_RECORD',
  'CLINIKO_BAD_REQUEST',
  'CLINIKO_VALIDATION_FAILED',
]);

export interface QueryPage {
  readonly records: readonly Record<string, unknown>[];
  readonly done: boolean;
  readonly nextRecordsUrl?: string | undefined;
}

/** The slice of a jsforce Connection the poller uses (a fake in unit tests). */
export interface SoqlConnection {
  query(soql: string): PromiseLike<QueryPage>;
  queryMore(locator: string): PromiseLike<QueryPage>;
}

export interface ReverseDeps {
  readonly store: Store;
  readonly cliniko: Pick<ClinikoClient, 'getPatient' | 'patchPatient'>;
  readonly connection: SoqlConnection;
  readonly dataMap: DataMap;
  /** Changes made by this user are the sync's own and are never read back. */
  readonly integrationUserId: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Each poll re-reads this many seconds before the watermark (Salesforce commits are not ordered). */
  readonly overlapSeconds?: number;
}

export interface ReverseResult {
  readonly runId: string;
  /** Contacts the query returned (after de-duplication). */
  readonly read: number;
  /** Patients PATCHed in Cliniko. */
  readonly writtenBack: number;
  /** Contacts whose `both` fields already match Cliniko (echoes, non-`both` edits, opt-ins). */
  readonly unchanged: number;
  /** Patients changed in Cliniko after the Salesforce edit: Cliniko wins, nothing written. */
  readonly clinikoNewer: number;
  /**
   * Patients changed in Cliniko that the forward sync has not read yet: the Contact may still hold
   * older values, so the record waits (the watermark stays before it) until a forward cycle has run.
   */
  readonly deferred: number;
  /** Archived, merged or deleted patients: never written. */
  readonly inactive: number;
  /** Records or fields quarantined (Cliniko 422, a value no inverse transform can write). */
  readonly quarantined: number;
  /** Records that failed for a passing reason (network, Cliniko 5xx); retried next poll. */
  readonly failed: number;
  /** Opt-outs carried back, by channel. */
  readonly consentOptOuts: { readonly email: number; readonly sms: number };
  /** The watermark after the poll (a Salesforce LastModifiedDate, ISO), if any. */
  readonly watermark: string | null;
}

type Outcome =
  | { kind: 'written'; optOuts: readonly ('email' | 'sms')[] }
  | { kind: 'unchanged' | 'cliniko-newer' | 'inactive' }
  | { kind: 'quarantined' }
  | { kind: 'failed' | 'deferred' };

export interface ReversePoller {
  poll(): Promise<ReverseResult>;
}

/** The integration user's id: from the session when jsforce knows it, else from the identity URL. */
export async function resolveIntegrationUserId(connection: {
  userInfo?: { id?: string } | null | undefined;
  identity(): Promise<{ user_id: string }>;
}): Promise<string> {
  const known = connection.userInfo?.id;
  if (typeof known === 'string' && known !== '') return known;
  const identity = await connection.identity();
  return identity.user_id;
}

/** The fields the poller reads and why (exported for tests and the docs). */
export function reverseFields(map: DataMap): { both: string[]; consent: string[] } {
  const both = new Set<string>();
  const consent = new Set<string>();
  for (const e of map.entries) {
    if (e.resource !== 'patients' || e.target?.object !== 'Contact') continue;
    if (e.direction === 'both') both.add(e.target.field);
    const source = e.sources.length === 1 ? e.sources[0] : undefined;
    if (source !== undefined && CONSENT_SOURCES.has(source)) consent.add(e.target.field);
  }
  return { both: [...both].sort(), consent: [...consent].sort() };
}

/** Salesforce datetime literal, whole seconds (SOQL takes no fractions), rounded down. */
function soqlDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Absent, null and empty text are the same "no value" on both sides. */
function normalised(value: unknown): unknown {
  return value === undefined || value === '' ? null : value;
}

function timeOf(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
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

export function createReversePoller(deps: ReverseDeps): ReversePoller {
  const log = deps.logger.child({ module: 'reverse' });
  const overlapMs = (deps.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
  const fields = reverseFields(deps.dataMap);
  if (!SALESFORCE_ID.test(deps.integrationUserId)) {
    throw new SyncError('CONFIG_INVALID', 'the integration user id is not a Salesforce id', {
      record: { system: 'salesforce', object: 'User', field: 'Id' },
    });
  }
  /** Contacts handled by this process at their LastModifiedDate: the overlap re-reads them. */
  const seen = new Map<string, number>();

  const selectList = [
    ...new Set([
      'Id',
      'LastModifiedById',
      'LastModifiedDate',
      'Cliniko_Patient_Id__c',
      ...fields.both,
      ...fields.consent,
    ]),
  ];

  function contactQuery(since: number | null): string {
    const where = [
      'Cliniko_Patient_Id__c != null',
      `LastModifiedById != ${soqlString(deps.integrationUserId)}`,
      ...(since === null ? [] : [`LastModifiedDate >= ${soqlDateTime(since)}`]),
    ];
    return `SELECT ${selectList.join(', ')} FROM Contact WHERE ${where.join(' AND ')} ORDER BY LastModifiedDate, Id`;
  }

  /**
   * Consent fields a person changed, per Contact, from ContactHistory (the recorded path): a consent
   * value that merely differs from Cliniko (say, the forward sync has not yet carried a fresh Cliniko
   * opt-in across) must not be read as an opt-out.
   */
  async function consentChanges(contactIds: readonly string[], since: number | null) {
    const byContact = new Map<string, Set<string>>();
    if (fields.consent.length === 0 || contactIds.length === 0) return byContact;
    for (let i = 0; i < contactIds.length; i += 200) {
      const ids = contactIds.slice(i, i + 200);
      const where = [
        `ContactId IN (${ids.map(soqlString).join(', ')})`,
        `Field IN (${fields.consent.map(soqlString).join(', ')})`,
        `CreatedById != ${soqlString(deps.integrationUserId)}`,
        ...(since === null ? [] : [`CreatedDate >= ${soqlDateTime(since)}`]),
      ];
      let page = await deps.connection.query(
        `SELECT ContactId, Field FROM ContactHistory WHERE ${where.join(' AND ')}`,
      );
      for (;;) {
        for (const row of page.records) {
          const id = row.ContactId;
          const field = row.Field;
          if (typeof id !== 'string' || typeof field !== 'string') continue;
          const set = byContact.get(id) ?? new Set<string>();
          set.add(field);
          byContact.set(id, set);
        }
        if (page.done || !page.nextRecordsUrl) break;
        page = await deps.connection.queryMore(page.nextRecordsUrl);
      }
    }
    return byContact;
  }

  async function audit(
    contact: Record<string, unknown>,
    patientId: string,
    patch: Record<string, unknown>,
    runId: string,
  ): Promise<void> {
    const build = (previous: AuditHead | null): AuditRow[] => {
      const head: ChainHead | undefined = previous
        ? {
            seq: (JSON.parse(previous.entry) as { seq?: number }).seq ?? 0,
            hash: previous.hash,
          }
        : undefined;
      const entry = buildAuditEntry(
        {
          timestamp: new Date(deps.now()).toISOString(),
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
      return [
        {
          hash: entry.hash,
          prevHash: entry.previousHash,
          object: 'patients',
          externalId: patientId,
          createdAt: deps.now(),
          entry: JSON.stringify(entry),
        },
      ];
    };
    await deps.store.completeWrites([], build, deps.now());
  }

  function quarantineFor(
    problems: readonly ProjectionProblem[],
    contact: Record<string, unknown>,
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

  async function processContact(
    contact: Record<string, unknown>,
    humanConsent: ReadonlySet<string>,
    runId: string,
    quarantine: QuarantineInput[],
    forwardCursor: number | undefined,
  ): Promise<Outcome> {
    const patientId = contact.Cliniko_Patient_Id__c;
    if (typeof patientId !== 'string' || patientId === '') return { kind: 'unchanged' };
    const patient = (await deps.cliniko.getPatient(patientId)) as unknown as Record<string, unknown>;
    if (INACTIVE_FIELDS.some((f) => patient[f] !== null && patient[f] !== undefined)) {
      return { kind: 'inactive' };
    }
    // Cliniko is the source of truth: a later change there wins over this (older) Salesforce edit.
    const clinikoAt = timeOf(patient.updated_at);
    const salesforceAt = timeOf(contact.LastModifiedDate);
    if (!Number.isNaN(clinikoAt) && !Number.isNaN(salesforceAt) && clinikoAt >= salesforceAt) {
      return { kind: 'cliniko-newer' };
    }
    // The Salesforce edit is newer, but a Cliniko change the forward sync has not yet carried across
    // means the Contact's other fields are stale: writing them back would undo that change.
    if (forwardCursor === undefined || Number.isNaN(clinikoAt) || clinikoAt > forwardCursor) {
      return { kind: 'deferred' };
    }

    const projection = projectRecord('patients', patient, deps.dataMap);
    if (!projection.ok) {
      quarantine.push(...quarantineFor(projection.problems, contact, patientId, runId));
      return { kind: 'quarantined' };
    }
    const current = projection.payloads.find((p) => p.object === 'Contact')?.fields ?? {};
    const changed = fields.both.filter(
      (f) => Object.hasOwn(contact, f) && !isDeepStrictEqual(normalised(contact[f]), normalised(current[f])),
    );
    // Consent fields nobody (but the sync) recorded changing are shown to governance as unchanged.
    const after: Record<string, unknown> = { ...contact };
    for (const f of fields.consent) if (!humanConsent.has(f)) after[f] = current[f];

    const inbound = projectInbound(after, patient, deps.dataMap, changed, { before: current });
    if (inbound.problems.length > 0) {
      quarantine.push(...quarantineFor(inbound.problems, contact, patientId, runId));
    }
    const patch: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(inbound.patch)) {
      if (!alreadyInCliniko(patient, key, value)) patch[key] = value;
    }
    if (Object.keys(patch).length === 0) {
      return { kind: inbound.problems.length > 0 ? 'quarantined' : 'unchanged' };
    }

    try {
      await deps.cliniko.patchPatient(patientId, patch);
    } catch (err) {
      if (err instanceof ClinikoValidationError) {
        const named = err.fields.length > 0 ? err.fields.join(', ') : '(none named)';
        quarantine.push({
          resource: 'salesforce:Contact',
          recordId: patientId,
          field: named,
          reason: `write-back of Contact ${String(contact.Id)}: ${err.message}`,
          payload: JSON.stringify({ contact, patch }),
          runId,
        });
        log.warn({ patientId, contactId: contact.Id, fields: err.fields }, 'write-back rejected by Cliniko');
        return { kind: 'quarantined' };
      }
      throw err;
    }
    await audit(contact, patientId, patch, runId);
    log.info(
      {
        patientId,
        contactId: contact.Id,
        fields: Object.keys(patch).sort(),
        actor: contact.LastModifiedById,
      },
      'written back to cliniko',
    );
    // Count an opt-out only if it was written (Cliniko may have had it already).
    const optOuts = inbound.consentOptOuts.filter((c) =>
      Object.hasOwn(patch, c === 'email' ? 'accepted_email_marketing' : 'unsubscribe_sms_marketing'),
    );
    return { kind: 'written', optOuts };
  }

  /**
   * Contacts a person changed that the main query cannot see because the integration user wrote them
   * afterwards (say, a journey field), found through ContactHistory rows of `both` and consent fields.
   * Their LastModifiedBy/Date are replaced by the person's edit, for the audit actor and the
   * Cliniko-newer check.
   */
  async function overwrittenEdits(
    since: number | null,
    handled: ReadonlySet<string>,
  ): Promise<{ contacts: Map<string, Record<string, unknown>>; fields: Map<string, Set<string>> }> {
    const tracked = [...new Set([...fields.both, ...fields.consent])];
    const where = [
      `Field IN (${tracked.map(soqlString).join(', ')})`,
      `CreatedById != ${soqlString(deps.integrationUserId)}`,
      ...(since === null ? [] : [`CreatedDate >= ${soqlDateTime(since)}`]),
    ];
    const edits = new Map<string, { by: string; at: string; fields: Set<string> }>();
    let page = await deps.connection.query(
      `SELECT ContactId, Field, CreatedById, CreatedDate FROM ContactHistory WHERE ${where.join(' AND ')} ORDER BY CreatedDate`,
    );
    for (;;) {
      for (const row of page.records) {
        const { ContactId: id, Field: field, CreatedById: by, CreatedDate: at } = row;
        if (typeof id !== 'string' || typeof field !== 'string') continue;
        if (typeof by !== 'string' || typeof at !== 'string' || handled.has(id)) continue;
        const edit = edits.get(id) ?? { by, at, fields: new Set<string>() };
        if (timeOf(at) >= timeOf(edit.at)) Object.assign(edit, { by, at });
        edit.fields.add(field);
        edits.set(id, edit);
      }
      if (page.done || !page.nextRecordsUrl) break;
      page = await deps.connection.queryMore(page.nextRecordsUrl);
    }
    const contacts = new Map<string, Record<string, unknown>>();
    const ids = [...edits.keys()];
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      let result = await deps.connection.query(
        `SELECT ${selectList.join(', ')} FROM Contact WHERE Id IN (${chunk.map(soqlString).join(', ')}) AND Cliniko_Patient_Id__c != null`,
      );
      for (;;) {
        for (const record of result.records) {
          const edit = typeof record.Id === 'string' ? edits.get(record.Id) : undefined;
          if (!edit || typeof record.Id !== 'string') continue;
          if (seen.get(record.Id) === timeOf(edit.at)) continue;
          contacts.set(record.Id, { ...record, LastModifiedById: edit.by, LastModifiedDate: edit.at });
        }
        if (result.done || !result.nextRecordsUrl) break;
        result = await deps.connection.queryMore(result.nextRecordsUrl);
      }
    }
    return { contacts, fields: new Map([...edits].map(([id, e]) => [id, e.fields])) };
  }

  async function poll(): Promise<ReverseResult> {
    const runId = `writeback-${randomUUID()}`;
    const tally = {
      read: 0,
      writtenBack: 0,
      unchanged: 0,
      clinikoNewer: 0,
      deferred: 0,
      inactive: 0,
      quarantined: 0,
      failed: 0,
      consentOptOuts: { email: 0, sms: 0 },
    };
    const stored = await deps.store.getWatermark(REVERSE_STREAM);
    let watermark = stored ? timeOf(stored.cursor) : Number.NaN;
    const since = Number.isNaN(watermark) ? null : watermark - overlapMs;
    // Forget what the overlap can no longer return.
    for (const [id, at] of seen) if (since !== null && at < since) seen.delete(id);
    // How far the forward sync has read patients (Cliniko's updated_at); see the `deferred` outcome.
    const forward = await deps.store.getWatermark(FORWARD_PATIENT_STREAM);
    const forwardCursor = forward ? timeOf(forward.cursor) : undefined;
    let blocked = false; // a record failed: the watermark stays before it so the next poll retries it
    const handled = new Set<string>();

    /** Writes one batch back, then records its quarantine and moves the watermark, together. */
    async function processBatch(
      contacts: ReadonlyMap<string, Record<string, unknown>>,
      humanFields: ReadonlyMap<string, ReadonlySet<string>>,
    ): Promise<void> {
      const quarantine: QuarantineInput[] = [];
      let batchMax = Number.NaN;
      const blockedBefore = blocked;
      let blockedHere = false;
      for (const [id, contact] of contacts) {
        tally.read += 1;
        handled.add(id);
        const at = timeOf(contact.LastModifiedDate);
        let outcome: Outcome;
        try {
          outcome = await processContact(
            contact,
            humanFields.get(id) ?? new Set(),
            runId,
            quarantine,
            forwardCursor !== undefined && !Number.isNaN(forwardCursor) ? forwardCursor : undefined,
          );
        } catch (err) {
          const error = err instanceof SyncError ? err : undefined;
          const patientId = contact.Cliniko_Patient_Id__c;
          if (error && RECORD_FAILURES.has(error.code) && typeof patientId === 'string') {
            // A failure that no retry can cure (the patient is gone from Cliniko, fails its schema, the
            // id is not a Cliniko id, the patch is refused locally) would hold the watermark before this
            // Contact forever and block every later write-back: quarantine it and carry on.
            quarantine.push({
              resource: 'salesforce:Contact',
              recordId: patientId,
              field: error.record?.field ?? '(record)',
              reason: `write-back of Contact ${id}: ${error.code}: ${error.message}`,
              payload: JSON.stringify({ contact }),
              runId,
            });
            log.warn({ contactId: id, code: error.code }, 'write-back cannot succeed; quarantined');
            outcome = { kind: 'quarantined' };
          } else {
            log.warn(
              { contactId: id, code: error?.code ?? 'INTERNAL', message: error?.message ?? String(err) },
              'write-back failed; retried next poll',
            );
            outcome = { kind: 'failed' };
          }
        }
        if (outcome.kind === 'failed' || outcome.kind === 'deferred') {
          if (outcome.kind === 'failed') tally.failed += 1;
          else tally.deferred += 1;
          // Always lower the bound: an overwritten edit (second batch) may be older than records the
          // first batch already moved past.
          batchMax = Number.isNaN(batchMax) ? at - 1 : Math.min(batchMax, at - 1);
          blocked = true;
          blockedHere = true;
          continue;
        }
        seen.set(id, at);
        if (!blocked) batchMax = Number.isNaN(batchMax) ? at : Math.max(batchMax, at);
        if (outcome.kind === 'written') {
          tally.writtenBack += 1;
          for (const c of outcome.optOuts) tally.consentOptOuts[c] += 1;
        } else if (outcome.kind === 'unchanged') tally.unchanged += 1;
        else if (outcome.kind === 'cliniko-newer') tally.clinikoNewer += 1;
        else if (outcome.kind === 'inactive') tally.inactive += 1;
        else tally.quarantined += 1;
      }
      // A record that failed here holds the watermark before it, even if that moves it back (re-reading
      // what was handled is harmless: Cliniko already holds those values); never past an earlier hold.
      const target = blockedHere && blockedBefore ? Math.min(watermark, batchMax) : batchMax;
      const advance =
        !Number.isNaN(target) &&
        (Number.isNaN(watermark) || target > watermark || (blockedHere && target < watermark));
      if (advance) watermark = target;
      if (advance || quarantine.length > 0) {
        await deps.store.commitBatch({
          stream: REVERSE_STREAM,
          ...(advance ? { watermark: new Date(watermark).toISOString() } : {}),
          quarantine,
          now: deps.now(),
        });
      }
    }

    let page = await deps.connection.query(contactQuery(since));
    for (;;) {
      const contacts = new Map<string, Record<string, unknown>>();
      for (const record of page.records) {
        const id = record.Id;
        const at = timeOf(record.LastModifiedDate);
        if (typeof id !== 'string' || Number.isNaN(at)) continue;
        if (seen.get(id) === at) continue; // handled by an earlier poll (the overlap)
        const earlier = contacts.get(id);
        if (!earlier || timeOf(earlier.LastModifiedDate) <= at) contacts.set(id, record);
      }
      // Read after the page, so an edit the page shows has its history row by now.
      await processBatch(contacts, await consentChanges([...contacts.keys()], since));
      if (page.done || !page.nextRecordsUrl) break;
      page = await deps.connection.queryMore(page.nextRecordsUrl);
    }
    const overwritten = await overwrittenEdits(since, handled);
    if (overwritten.contacts.size > 0) await processBatch(overwritten.contacts, overwritten.fields);

    const result: ReverseResult = {
      runId,
      ...tally,
      watermark: Number.isNaN(watermark) ? null : new Date(watermark).toISOString(),
    };
    log.info({ ...result }, 'write-back poll finished');
    return result;
  }

  return { poll };
}
