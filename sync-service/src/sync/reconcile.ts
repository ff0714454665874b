import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import type { ClinikoClient, StreamEvent } from '../cliniko/index.js';
import { createPayloadRules, MERGED_FACT, patientRefOf, survivorOf } from './payloads.js';
import type { DataMap } from '../governance/data-map.js';
import { EXTERNAL_ID_FIELDS } from '../governance/project.js';
import { payloadSha256 } from '../governance/stable-json.js';
import { suppressInactiveMarketing } from '../governance/suppression.js';
import { buildSyncRunPayload, RunCounter } from '../governance/sync-run.js';
import type { JourneyConfig } from '../journey/index.js';
import type { Logger } from '../logger.js';
import type { SalesforceWriter } from '../salesforce/writer.js';
import type { OutboxInput, Store } from '../store/index.js';
import { PRIORITY } from './objects.js';
import { REVERSE_STREAM } from './reverse.js';
import type { DrainResult, OutboxWorker } from './outbox-worker.js';
import type { SyncService } from './service.js';
import { loadReferences, type References } from './references.js';

/**
 * The nightly reconciliation (issue 6): Cliniko is the source of truth, so every synced Salesforce record
 * is compared, field by field, with the payload the runner would write for the current Cliniko record.
 * Anything that differs (a synced field edited by hand in Salesforce, a write that was lost, a record
 * deleted in Salesforce) is written again through the outbox, so the repair is audited like any other
 * write. Records whose Cliniko record no longer exists are reported, never deleted.
 *
 * Two compliance snapshots ride on the same pass: consent counts (Consent_Reconciliation__c) and
 * changes to who holds the Cliniko_Sync_* permission sets (Access_Change__c).
 */
export interface ReconcilerDeps {
  readonly store: Store;
  readonly cliniko: ClinikoClient;
  readonly connection: Connection;
  readonly writer: SalesforceWriter;
  readonly worker: OutboxWorker;
  readonly dataMap: DataMap;
  readonly journeyConfig: JourneyConfig;
  readonly clinicTimezone: string;
  readonly dataMapHash: string;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface ObjectReconciliation {
  /** Cliniko records whose projection was compared with a Salesforce record. */
  readonly compared: number;
  /** Compared records with at least one differing field. */
  readonly drifted: number;
  /** Projections with no Salesforce record (re-sent). */
  readonly missingInSalesforce: number;
  /** Drifted and missing records written again successfully. */
  readonly repaired: number;
  /** Salesforce records whose external id no longer exists in Cliniko (left in place). */
  readonly orphaned: number;
  /** How often each field differed (field names only, never values). */
  readonly driftedFields: Readonly<Record<string, number>>;
  /** Up to 20 drifted or missing external ids, for an operator to look at. */
  readonly sample: readonly string[];
  /** Up to 20 orphaned external ids. */
  readonly orphanSample: readonly string[];
  /**
   * Contacts edited in Salesforce, in fields the write-back carries to Cliniko, that the write-back
   * poller has not looked at yet: left alone tonight so the edit reaches Cliniko instead of being undone.
   */
  readonly heldForWriteBack: number;
  /** False when Cliniko's list could not be read completely: orphans were not looked for. */
  readonly orphansKnown: boolean;
}

export interface ConsentMismatch {
  readonly clinikoPatientId: string;
  readonly channel: 'email' | 'sms';
  readonly cliniko: boolean;
  readonly salesforce: boolean;
}

export interface ConsentSnapshot {
  readonly clinikoEmailOptIn: number;
  readonly salesforceEmailOptIn: number;
  readonly clinikoSmsOptIn: number;
  readonly salesforceSmsOptIn: number;
  readonly patientsCompared: number;
  readonly mismatches: number;
  readonly sample: readonly ConsentMismatch[];
  /** Salesforce id of the Consent_Reconciliation__c written, or null when the write failed. */
  readonly recordId: string | null;
  readonly error: string | null;
}

export interface AccessChange {
  readonly changeKey: string;
  readonly changeType: 'Assigned' | 'Removed';
  readonly userId: string;
  readonly username: string;
  readonly permissionSet: string;
}

export interface AccessSnapshot {
  /** True when no earlier snapshot existed: every current assignment is recorded as the baseline. */
  readonly baseline: boolean;
  readonly assignments: number;
  readonly changes: readonly AccessChange[];
  readonly written: number;
  readonly error: string | null;
}

export interface ReconcileReport {
  readonly runId: string;
  readonly status: 'succeeded' | 'partial' | 'failed' | 'skipped';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly objects: Readonly<Record<string, ObjectReconciliation>>;
  /** Cliniko records that do not project (the runner quarantines them; reconciliation only counts). */
  readonly unprojectable: number;
  /** Drifted or missing records not repaired (dead-lettered or still queued), plus orphan updates not written. */
  readonly unrepaired: number;
  readonly drain: DrainResult | null;
  readonly consent: ConsentSnapshot | null;
  readonly access: AccessSnapshot | null;
  readonly error: string | null;
}

/** The synced objects, in write order, with the Cliniko resource each comes from. */
export const RECONCILED_OBJECTS = [
  { object: 'Contact', resource: 'patients', stream: 'patients' },
  { object: 'Care_Plan__c', resource: 'patient_cases', stream: 'patientCases' },
  { object: 'Cliniko_Appointment__c', resource: 'individual_appointments', stream: 'individualAppointments' },
  { object: 'Cliniko_Invoice__c', resource: 'invoices', stream: 'invoices' },
] as const;

/** The generated permission sets (docs/data-model.md) whose assignments the access snapshot follows. */
export const MONITORED_PERMISSION_SETS = [
  'Cliniko_Sync_Integration',
  'Cliniko_Sync_Marketing',
  'Cliniko_Sync_Operations',
  'Cliniko_Sync_Billing',
  'Cliniko_Sync_Compliance',
] as const;

/**
 * The previous access snapshot lives in the store's journey-state table under this key (the store has
 * no general key-value table; journey states are JSON rows written atomically by commitBatch, and no
 * Cliniko patient id can look like this).
 */
export const ACCESS_SNAPSHOT_KEY = 'reconcile:access-snapshot';

/** The runner's cycle lease (runner.ts CYCLE_LEASE): a reconciliation never overlaps a cycle. */
const CYCLE_LEASE = 'sync-cycle';
const LEASE_MS = 10 * 60_000;
const SAMPLE = 20;
/** The runner's fact kind for a known merge (runner.ts MERGED). */

interface StoredAccessSnapshot {
  readonly takenAt: string;
  readonly assignments: ReadonlyArray<{
    readonly assignmentId: string;
    readonly userId: string;
    readonly username: string;
    readonly permissionSet: string;
  }>;
}

type Row = Record<string, unknown>;

export function createReconciler(deps: ReconcilerDeps) {
  const log = deps.logger.child({ module: 'reconcile' });
  // The same payloads and hashes as the runner (payloads.ts), so a repaired record is one the next
  // cycle finds unchanged.
  const rules = createPayloadRules(deps);
  const mappedTargets = new Set(
    deps.dataMap.entries.flatMap((e) =>
      e.target && e.classification !== 'clinician-only' ? [e.target.path] : [],
    ),
  );
  const isMapped = (object: string, field: string): boolean => mappedTargets.has(`${object}.${field}`);
  /** Contact fields a Salesforce edit of which the write-back may carry to Cliniko: `both` and consent. */
  const writeBackFields = new Set(
    deps.dataMap.entries.flatMap((e) =>
      e.resource === 'patients' &&
      e.target?.object === 'Contact' &&
      (e.direction === 'both' ||
        e.sources.some((f) => f === 'accepted_email_marketing' || f === 'accepted_sms_marketing'))
        ? [e.target.field]
        : [],
    ),
  );

  const outboxItem = (object: string, key: string, fields: Row, runId: string): OutboxInput =>
    rules.outboxItem({ object, key, fields, operation: 'upsert' }, runId);

  interface ClinikoSide {
    /** object -> external id -> expected fields (external id included). */
    readonly expected: Map<string, Map<string, Row>>;
    readonly consent: Map<string, { email: boolean; sms: boolean }>;
    /** resource -> ids read but not projectable (quarantined): in Cliniko, so never orphans. */
    readonly unprojectableIds: Map<string, Set<string>>;
    /** Resources whose read did not finish cleanly: orphans cannot be told from records not read. */
    readonly incomplete: Set<string>;
    unprojectable: number;
  }

  async function readCliniko(refs: References): Promise<ClinikoSide> {
    const side: ClinikoSide = {
      expected: new Map(RECONCILED_OBJECTS.map((o) => [o.object, new Map<string, Row>()])),
      consent: new Map(),
      unprojectableIds: new Map(RECONCILED_OBJECTS.map((o) => [o.resource, new Set<string>()])),
      incomplete: new Set(),
      unprojectable: 0,
    };
    /** Merged-away patient -> survivor, as Cliniko says now (patients are read first). */
    const survivors = new Map<string, string>();
    for (const { resource, stream } of RECONCILED_OBJECTS) {
      const events = deps.cliniko.streams[stream].read() as AsyncGenerator<StreamEvent<Row>>;
      for await (const ev of events) {
        if (ev.kind === 'quarantine') {
          side.unprojectable += 1;
          side.unprojectableIds.get(resource)?.add(ev.item.id);
          if (ev.item.id === '(unknown)') side.incomplete.add(resource);
        }
        if (ev.kind === 'end' && !ev.complete) side.incomplete.add(resource);
        if (ev.kind === 'page') await renewLease();
        if (ev.kind !== 'record') continue;
        if (resource === 'patients') {
          // Consent is read from Cliniko's own fields: no answer counts as no.
          side.consent.set(ev.id, {
            email: ev.raw.accepted_email_marketing === true,
            sms: ev.raw.accepted_sms_marketing === true,
          });
          const survivor = survivorOf(ev.raw, ev.id);
          if (survivor) survivors.set(ev.id, survivor);
        }
        const built = rules.recordPayloads(resource, ev.raw, ev.record, refs);
        if (!built.ok) {
          side.unprojectable += 1;
          side.unprojectableIds.get(resource)?.add(ev.id);
          continue;
        }
        for (const payload of built.payloads) {
          let byKey = side.expected.get(payload.object);
          if (!byKey) side.expected.set(payload.object, (byKey = new Map<string, Row>()));
          byKey.set(payload.key, payload.fields);
        }
      }
    }
    await reparentToSurvivors(side, survivors);
    return side;
  }

  /**
   * As the runner does (runner.ts, merged patients): a child that still points at a merged-away patient
   * is written against the survivor. Merges come from Cliniko's patient list and, like the runner, from
   * the `merged-patient` facts it stored, so reconciliation never points a child back at the old Contact.
   */
  async function reparentToSurvivors(side: ClinikoSide, survivors: Map<string, string>): Promise<void> {
    const children = RECONCILED_OBJECTS.filter((o) => o.object !== 'Contact').flatMap((o) => [
      ...(side.expected.get(o.object)?.values() ?? []),
    ]);
    const refs = new Set(children.map(patientRefOf).filter((id): id is string => id !== undefined));
    const unknown = [...refs].filter((id) => !survivors.has(id)).sort();
    for (let i = 0; i < unknown.length; i += 500) {
      for (const fact of await deps.store.listFacts(unknown.slice(i, i + 500))) {
        if (fact.resource !== MERGED_FACT || survivors.has(fact.id)) continue;
        const survivor = (JSON.parse(fact.data) as { survivor?: unknown }).survivor;
        if (typeof survivor === 'string') survivors.set(fact.id, survivor);
      }
    }
    for (const fields of children) {
      const survivor = survivors.get(patientRefOf(fields) ?? '');
      if (survivor) fields.Contact__r = { Cliniko_Patient_Id__c: survivor };
    }
  }

  /**
   * The SOQL columns for an object: its external id and every field any expected payload carries (a
   * lookup written by external id, `Contact__r: {Cliniko_Patient_Id__c}`, is read back through the
   * same relationship). Fields the journey engine owns are never in these payloads, so never compared.
   */
  function columnsFor(
    object: string,
    extField: string,
    expected: Map<string, Row>,
    extra: string[],
  ): string[] {
    const columns = new Set<string>([extField, ...extra]);
    for (const fields of expected.values()) {
      for (const [field, value] of Object.entries(fields)) {
        if (isPlainObject(value)) {
          for (const sub of Object.keys(value)) columns.add(`${field}.${sub}`);
        } else {
          columns.add(field);
        }
      }
    }
    return [...columns];
  }

  async function querySalesforce(
    object: string,
    columns: readonly string[],
    extField: string,
  ): Promise<Row[]> {
    const soql = `SELECT Id, ${columns.join(', ')} FROM ${object} WHERE ${extField} != null`;
    const result = await deps.connection.query<Row>(soql, { autoFetch: true, maxFetch: 10_000_000 });
    return result.records;
  }

  async function renewLease(): Promise<void> {
    if (deps.store.kind !== 'postgres') return;
    if (!(await deps.store.acquireLease(CYCLE_LEASE, deps.worker.owner, LEASE_MS, Date.now())))
      throw new Error(`lost the ${CYCLE_LEASE} lease to another instance`);
  }

  async function reconcileObjects(side: ClinikoSide, runId: string) {
    const objects: Record<string, ObjectReconciliation> = {};
    const enqueued = new Map<string, Map<string, string>>(); // object -> key -> payload hash
    const orphanUpdates = new Set<string>(); // `${object}:${key}` of orphan status updates
    let contactRows: Row[] = [];
    const writeBackMark = await deps.store.getWatermark(REVERSE_STREAM);
    const writeBackSeen = writeBackMark ? Date.parse(writeBackMark.cursor) : Number.NaN;
    /** Edited after the write-back poller last read Contacts (never, when it does not run: no watermark). */
    const unseenByWriteBack = (row: Row): boolean =>
      Number.isFinite(writeBackSeen) &&
      typeof row.LastModifiedDate === 'string' &&
      Date.parse(row.LastModifiedDate.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) > writeBackSeen;
    for (const { object, resource } of RECONCILED_OBJECTS) {
      await renewLease();
      const extField = EXTERNAL_ID_FIELDS[object];
      if (!extField) throw new Error(`${object}: no external id field in the data map contract`);
      const expected = side.expected.get(object) ?? new Map<string, Row>();
      const extra =
        object === 'Contact'
          ? [
              'LastModifiedDate',
              'Email_Marketing_Consent__c',
              'SMS_Marketing_Consent__c',
              'HasOptedOutOfEmail',
              'DoNotCall',
              'Cliniko_Status__c',
            ].filter((f) => f === 'LastModifiedDate' || isMapped('Contact', f))
          : [];
      const rows = await querySalesforce(object, columnsFor(object, extField, expected, extra), extField);
      if (object === 'Contact') contactRows = rows;
      const actual = new Map<string, Row>();
      for (const row of rows) actual.set(String(row[extField]), row);

      const driftedFields: Record<string, number> = {};
      const repairs: OutboxInput[] = [];
      const sample: string[] = [];
      let compared = 0;
      let drifted = 0;
      let missing = 0;
      let held = 0;
      for (const [key, fields] of expected) {
        const row = actual.get(key);
        if (!row) {
          missing += 1;
        } else {
          compared += 1;
          const differing = Object.entries(fields).filter(([field, value]) => !sameValue(value, row, field));
          if (differing.length === 0) continue;
          drifted += 1;
          for (const [field] of differing) driftedFields[field] = (driftedFields[field] ?? 0) + 1;
          if (
            object === 'Contact' &&
            unseenByWriteBack(row) &&
            differing.some(([field]) => writeBackFields.has(field))
          ) {
            held += 1;
            continue;
          }
        }
        if (sample.length < SAMPLE) sample.push(key);
        repairs.push(outboxItem(object, key, fields, runId));
      }
      // Every synced object is keyed on its Cliniko record's id, so a key Cliniko did not list (and did
      // not list as unprojectable) is a record Cliniko no longer has. After an incomplete read nothing
      // can be concluded, so nothing is reported or marked.
      const orphansKnown = !side.incomplete.has(resource);
      const unprojectableIds = side.unprojectableIds.get(resource) ?? new Set<string>();
      const orphans = orphansKnown
        ? [...actual.keys()].filter((key) => !expected.has(key) && !unprojectableIds.has(key)).sort()
        : [];
      if (object === 'Contact' && isMapped('Contact', 'Cliniko_Status__c')) {
        for (const key of orphans) {
          if (actual.get(key)?.Cliniko_Status__c === 'Deleted') continue;
          // Gone from Cliniko: mark it, and take it out of marketing as the runner does for deleted patients.
          const fields = suppressInactiveMarketing('Contact', {
            Cliniko_Patient_Id__c: key,
            Cliniko_Status__c: 'Deleted',
            ...(isMapped('Contact', 'HasOptedOutOfEmail') ? { HasOptedOutOfEmail: true } : {}),
            ...(isMapped('Contact', 'DoNotCall') ? { DoNotCall: true } : {}),
          });
          repairs.push(outboxItem(object, key, fields, runId));
          orphanUpdates.add(`${object}:${key}`);
        }
      }
      if (repairs.length > 0) {
        // Forget the last written hash first: if a repair write fails, the next cycle writes it again.
        await deps.store.forgetRecordStates(
          object,
          repairs.map((r) => r.externalId),
        );
        await deps.store.commitBatch({ stream: 'reconcile', outbox: repairs, now: deps.now() });
        enqueued.set(object, new Map(repairs.map((r) => [r.externalId, r.payloadHash])));
      }
      objects[object] = {
        compared,
        drifted,
        missingInSalesforce: missing,
        repaired: 0,
        orphaned: orphans.length,
        driftedFields,
        sample,
        orphanSample: orphans.slice(0, SAMPLE),
        heldForWriteBack: held,
        orphansKnown,
      };
      log.info({ object, compared, drifted, missing, orphaned: orphans.length }, 'compared');
    }
    return { objects, enqueued, orphanUpdates, contactRows };
  }

  function consentFrom(side: ClinikoSide, contactRows: readonly Row[]) {
    const emailField = isMapped('Contact', 'Email_Marketing_Consent__c')
      ? { name: 'Email_Marketing_Consent__c', optOut: false }
      : isMapped('Contact', 'HasOptedOutOfEmail')
        ? { name: 'HasOptedOutOfEmail', optOut: true }
        : undefined;
    const smsField = isMapped('Contact', 'SMS_Marketing_Consent__c')
      ? { name: 'SMS_Marketing_Consent__c', optOut: false }
      : isMapped('Contact', 'DoNotCall')
        ? { name: 'DoNotCall', optOut: true }
        : undefined;
    const optedIn = (row: Row, f: { name: string; optOut: boolean } | undefined): boolean =>
      f === undefined ? false : f.optOut ? row[f.name] !== true : row[f.name] === true;
    let clinikoEmail = 0;
    let clinikoSms = 0;
    for (const c of side.consent.values()) {
      if (c.email) clinikoEmail += 1;
      if (c.sms) clinikoSms += 1;
    }
    let salesforceEmail = 0;
    let salesforceSms = 0;
    let compared = 0;
    let mismatches = 0;
    const sample: ConsentMismatch[] = [];
    const sorted = [...contactRows].sort((a, b) =>
      String(a.Cliniko_Patient_Id__c).localeCompare(String(b.Cliniko_Patient_Id__c)),
    );
    for (const row of sorted) {
      const email = optedIn(row, emailField);
      const sms = optedIn(row, smsField);
      if (email) salesforceEmail += 1;
      if (sms) salesforceSms += 1;
      const id = String(row.Cliniko_Patient_Id__c);
      const cliniko = side.consent.get(id);
      if (!cliniko) continue;
      compared += 1;
      const checks: Array<[ConsentMismatch['channel'], boolean, boolean, boolean]> = [
        ['email', cliniko.email, email, emailField !== undefined],
        ['sms', cliniko.sms, sms, smsField !== undefined],
      ];
      for (const [channel, c, s, present] of checks) {
        if (!present || c === s) continue;
        mismatches += 1;
        if (sample.length < SAMPLE) sample.push({ clinikoPatientId: id, channel, cliniko: c, salesforce: s });
      }
    }
    return { clinikoEmail, clinikoSms, salesforceEmail, salesforceSms, compared, mismatches, sample };
  }

  async function writeConsent(
    counts: ReturnType<typeof consentFrom>,
    runId: string,
  ): Promise<ConsentSnapshot> {
    const record = {
      Snapshot_At__c: new Date(deps.now()).toISOString(),
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
      const result = await deps.connection.sobject('Consent_Reconciliation__c').create(record);
      if (result.success) recordId = result.id;
      else
        error = `Consent_Reconciliation__c: ${result.errors
          .map((e) => `${e.errorCode}: ${e.message}`)
          .join('; ')}`;
    } catch (err) {
      error = `Consent_Reconciliation__c: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (error) log.warn({ runId, error }, 'consent snapshot not written');
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

  async function accessSnapshot(runId: string): Promise<AccessSnapshot> {
    const names = MONITORED_PERMISSION_SETS.map((n) => `'${n}'`).join(', ');
    const sets = await deps.connection.query<{ Id: string; Name: string }>(
      `SELECT Id, Name FROM PermissionSet WHERE Name IN (${names})`,
      { autoFetch: true },
    );
    const setName = new Map(sets.records.map((s) => [s.Id, s.Name]));
    const current: Array<StoredAccessSnapshot['assignments'][number]> = [];
    if (setName.size > 0) {
      const ids = [...setName.keys()].map((id) => `'${id}'`).join(', ');
      const assignments = await deps.connection.query<{
        Id: string;
        AssigneeId: string;
        PermissionSetId: string;
        Assignee: { Username?: string } | null;
      }>(
        `SELECT Id, AssigneeId, PermissionSetId, Assignee.Username FROM PermissionSetAssignment WHERE PermissionSetId IN (${ids})`,
        { autoFetch: true, maxFetch: 1_000_000 },
      );
      for (const a of assignments.records) {
        current.push({
          assignmentId: a.Id,
          userId: a.AssigneeId,
          username: a.Assignee?.Username ?? '',
          permissionSet: setName.get(a.PermissionSetId) ?? a.PermissionSetId,
        });
      }
    }
    current.sort((a, b) => `${a.userId}|${a.permissionSet}`.localeCompare(`${b.userId}|${b.permissionSet}`));
    const stored = await deps.store.getJourneyState(ACCESS_SNAPSHOT_KEY);
    const previous = stored ? (JSON.parse(stored.state) as StoredAccessSnapshot) : undefined;
    const identity = (a: { userId: string; permissionSet: string }): string =>
      `${a.userId}|${a.permissionSet}`;
    const before = new Map((previous?.assignments ?? []).map((a) => [identity(a), a]));
    const now = new Map(current.map((a) => [identity(a), a]));
    const changes: AccessChange[] = [];
    for (const [k, a] of now) {
      if (before.has(k)) continue;
      changes.push({
        changeKey: `${a.userId}:${a.permissionSet}:assigned:${a.assignmentId}`,
        changeType: 'Assigned',
        userId: a.userId,
        username: a.username,
        permissionSet: a.permissionSet,
      });
    }
    for (const [k, a] of before) {
      if (now.has(k)) continue;
      changes.push({
        changeKey: `${a.userId}:${a.permissionSet}:removed:${a.assignmentId}`,
        changeType: 'Removed',
        userId: a.userId,
        username: a.username,
        permissionSet: a.permissionSet,
      });
    }
    const detectedAt = new Date(deps.now()).toISOString();
    const details = (c: AccessChange): string =>
      previous === undefined
        ? `Held when access monitoring began (baseline taken by ${runId}), not necessarily a new assignment.`
        : c.changeType === 'Assigned'
          ? `Assigned since the snapshot of ${previous.takenAt}; detected by ${runId}.`
          : `Removed since the snapshot of ${previous.takenAt}; detected by ${runId}.`;
    let written = 0;
    const failures: string[] = [];
    if (changes.length > 0) {
      const results = await deps.writer.upsert(
        'Access_Change__c',
        'Change_Key__c',
        changes.map((c) => ({
          Change_Key__c: c.changeKey,
          Detected_At__c: detectedAt,
          User__c: c.userId,
          Username__c: c.username,
          Permission_Set__c: c.permissionSet,
          Change_Type__c: c.changeType,
          Details__c: details(c),
        })),
      );
      for (const r of results) {
        if (r.success) written += 1;
        else failures.push(`${r.key}: ${r.error?.code ?? 'failed'}`);
      }
    }
    // The snapshot moves only once every change is recorded, so a failed write is detected again next time.
    if (failures.length === 0) {
      const state: StoredAccessSnapshot = { takenAt: detectedAt, assignments: current };
      await deps.store.commitBatch({
        stream: 'reconcile',
        journeyStates: [{ patientId: ACCESS_SNAPSHOT_KEY, state: JSON.stringify(state) }],
        now: deps.now(),
      });
    }
    return {
      baseline: previous === undefined,
      assignments: current.length,
      changes,
      written,
      error: failures.length > 0 ? `Access_Change__c not written: ${failures.join('; ')}` : null,
    };
  }

  /** Which enqueued repairs were written: the record's state now holds the repair's payload hash. */
  async function countRepaired(
    objects: Record<string, ObjectReconciliation>,
    enqueued: Map<string, Map<string, string>>,
    orphanUpdates: ReadonlySet<string>,
  ): Promise<number> {
    let unrepaired = 0;
    for (const [object, keys] of enqueued) {
      const states = await deps.store.getRecordStates(object, [...keys.keys()]);
      let repaired = 0;
      for (const [key, hash] of keys) {
        const done = states.get(key)?.payloadHash === hash;
        if (orphanUpdates.has(`${object}:${key}`)) {
          if (!done) unrepaired += 1;
          continue;
        }
        if (done) repaired += 1;
        else unrepaired += 1;
      }
      const current = objects[object];
      if (current) objects[object] = { ...current, repaired };
    }
    return unrepaired;
  }

  async function reconcileOnce(runId: string): Promise<ReconcileReport> {
    const started = deps.now();
    await deps.store.startRun({
      id: runId,
      mode: 'reconcile',
      startedAt: started,
      dataMapHash: deps.dataMapHash,
    });
    let objects: Record<string, ObjectReconciliation> = {};
    let drain: DrainResult | null = null;
    let consent: ConsentSnapshot | null = null;
    let access: AccessSnapshot | null = null;
    let unprojectable = 0;
    let unrepaired = 0;
    let error: string | null = null;
    try {
      const refs = await loadReferences(deps.cliniko, deps.clinicTimezone, deps.now());
      const side = await readCliniko(refs);
      unprojectable = side.unprojectable;
      const found = await reconcileObjects(side, runId);
      objects = found.objects;
      // The consent snapshot records what the pass found, before repairs: evidence of the drift.
      const counts = consentFrom(side, found.contactRows);
      if (found.enqueued.size > 0) drain = await deps.worker.drain();
      unrepaired = await countRepaired(objects, found.enqueued, found.orphanUpdates);
      consent = await writeConsent(counts, runId);
      try {
        access = await accessSnapshot(runId);
      } catch (err) {
        access = {
          baseline: false,
          assignments: 0,
          changes: [],
          written: 0,
          error: err instanceof Error ? err.message : String(err),
        };
      }
    } catch (err) {
      error = err instanceof Error ? err.message : 'unknown error';
      log.error({ runId, err }, 'reconciliation failed');
    }
    const status: ReconcileReport['status'] =
      error !== null ? 'failed' : unrepaired > 0 || consent?.error || access?.error ? 'partial' : 'succeeded';
    const finished = deps.now();
    const counts = Object.fromEntries(
      Object.entries(objects).map(([object, o]) => [
        object,
        {
          compared: o.compared,
          drifted: o.drifted,
          missingInSalesforce: o.missingInSalesforce,
          repaired: o.repaired,
          orphaned: o.orphaned,
        },
      ]),
    );
    await recordSyncRun(runId, started, finished, objects, drain, unprojectable, error);
    await deps.store.finishRun({
      id: runId,
      status,
      finishedAt: finished,
      counts: JSON.stringify(counts),
      error,
    });
    const report: ReconcileReport = {
      runId,
      status,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      objects,
      unprojectable,
      unrepaired,
      drain,
      consent,
      access,
      error,
    };
    log.info({ runId, status, counts, unrepaired }, 'reconciliation finished');
    return report;
  }

  /**
   * A pass that repaired something (or failed) leaves a Sync_Run__c (mode Reconcile) like any run that
   * wrote, so the governance review sees it; a quiet pass stays in the local run history only.
   */
  async function recordSyncRun(
    runId: string,
    started: number,
    finished: number,
    objects: Readonly<Record<string, ObjectReconciliation>>,
    drain: DrainResult | null,
    unprojectable: number,
    error: string | null,
  ): Promise<void> {
    const counter = new RunCounter();
    for (const [object, o] of Object.entries(objects)) {
      counter.add(object, 'read', o.compared + o.missingInSalesforce);
      counter.add(object, 'skipped', o.compared - o.drifted);
      counter.add(object, 'written', o.repaired);
      counter.add(object, 'deadLettered', drain?.deadLetteredByObject[object] ?? 0);
    }
    if (unprojectable > 0) counter.add('cliniko', 'quarantined', unprojectable);
    const counts = counter.byObject();
    const wrote = Object.values(counts).some((c) => c.written + c.deadLettered > 0);
    if (!wrote && error === null) return;
    const payload = buildSyncRunPayload({
      runId,
      mode: 'reconcile',
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      failed: error !== null,
      counts,
      dataMapSha256: deps.dataMapHash,
    });
    try {
      await deps.store.commitBatch({
        stream: 'runs',
        outbox: [
          {
            object: 'Sync_Run__c',
            externalId: runId,
            operation: 'upsert',
            payload: JSON.stringify(payload),
            payloadHash: payloadSha256(payload),
            runId,
            priority: PRIORITY.Sync_Run__c ?? 90,
          },
        ],
        now: finished,
      });
      await deps.worker.drain();
    } catch (err) {
      log.warn({ runId, err }, 'run summary not written yet');
    }
  }

  /** One reconciliation pass. On a shared PostgreSQL store it takes the cycle lease, or is skipped. */
  async function reconcile(): Promise<ReconcileReport> {
    const runId = `reconcile-${new Date(deps.now())
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
    if (deps.store.kind !== 'postgres') return reconcileOnce(runId);
    if (!(await deps.store.acquireLease(CYCLE_LEASE, deps.worker.owner, LEASE_MS, Date.now()))) {
      const at = new Date(deps.now()).toISOString();
      log.info({}, 'another instance is running a cycle; reconciliation waits for the next night');
      return {
        runId: '-',
        status: 'skipped',
        startedAt: at,
        finishedAt: at,
        objects: {},
        unprojectable: 0,
        unrepaired: 0,
        drain: null,
        consent: null,
        access: null,
        error: null,
      };
    }
    try {
      return await reconcileOnce(runId);
    } finally {
      await deps.store.releaseLease(CYCLE_LEASE, deps.worker.owner);
    }
  }

  return { reconcile };
}

export type Reconciler = ReturnType<typeof createReconciler>;

/** A reconciler over a wired service (the CLI and the server's nightly schedule use this). */
export function reconcilerForService(
  service: SyncService,
  logger: Logger,
  now: () => number = Date.now,
): Reconciler {
  return createReconciler({
    store: service.store,
    cliniko: service.cliniko,
    connection: service.salesforce.connection,
    writer: service.writer,
    worker: service.worker,
    dataMap: service.dataMap,
    dataMapHash: service.dataMapHash,
    journeyConfig: service.journeyConfig,
    clinicTimezone: service.config.clinicTimezone,
    logger,
    now,
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether Salesforce holds the value the projection expects. Salesforce spells values its own way
 * (numbers as numbers, datetimes with `+0000`, empty text as null, an unticked checkbox as false), so
 * meaning is compared, not spelling. A lookup written by external id is compared through the
 * relationship's external id; a cleared lookup (`Contact__c: null`) through the id field.
 */
export function sameValue(expected: unknown, row: Record<string, unknown>, field: string): boolean {
  const actual = row[field];
  if (isPlainObject(expected)) {
    const related = row[field];
    return Object.entries(expected).every(([sub, value]) =>
      sameScalar(value, isPlainObject(related) ? related[sub] : null),
    );
  }
  return sameScalar(expected, actual);
}

export function sameScalar(expected: unknown, actual: unknown): boolean {
  const empty = (v: unknown): boolean => v === null || v === undefined || v === '';
  if (empty(expected)) return empty(actual) || actual === false;
  if (empty(actual)) return false;
  if (typeof expected === 'boolean' || typeof actual === 'boolean') return expected === actual;
  if (typeof actual === 'number') return Number(expected) === actual;
  if (typeof expected === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expected) && typeof actual === 'string') {
    return Date.parse(expected) === Date.parse(actual.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  }
  return expected === actual;
}
