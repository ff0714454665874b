import type { Connection } from 'jsforce';
import type { ClinikoClient } from '../../cliniko/index.js';
import type { AccessPicture } from '../../governance/access-picture.js';
import type { DataMap } from '../../governance/data-map.js';
import type { JourneyConfig } from '../../journey/index.js';
import type { Logger } from '../../logger.js';
import type { SalesforceWriter } from '../../salesforce/writer.js';
import type { Store } from '../../store/index.js';
import type { DrainResult, OutboxWorker } from '../outbox/worker.js';
import type { NightlyQuarter, NightlyVerification } from './review-records.js';

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
  /** Contact only (issue #19): missing Contacts found deleted in Salesforce tonight; not re-created. */
  readonly deletedInSalesforce?: number;
  /** Contact only: missing Contacts not re-sent because the patient is held (deleted, or in match review). */
  readonly heldContacts?: number;
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

/** The access picture step (access-picture.ts): readers of synced fields against the last signed review. */
export interface AccessPictureReport {
  /** The baseline's review (its Name), or `first picture (<time>)`. */
  readonly baseline: string;
  /** Active users who read at least one synced field. */
  readonly users: number;
  readonly fields: number;
  readonly gained: number;
  readonly lost: number;
  readonly outsideAudience: number;
  /** Each finding, without values: kind, user, class, how many fields, the grants. */
  readonly findings: ReadonlyArray<{
    readonly kind: string;
    readonly username: string;
    readonly classification: string;
    readonly fields: number;
    readonly grants: readonly string[];
  }>;
  /** Access_Change__c rows upserted tonight (new, changed or resolved findings). */
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
  readonly accessPicture: AccessPictureReport | null;
  /** The nightly audit verification (Audit_Verification__c, Source nightly); null when skipped. */
  readonly verification: NightlyVerification | null;
  /** The current quarter's counts (Quarter_Summary__c); null when skipped. */
  readonly quarter: NightlyQuarter | null;
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

/** The access picture's state between nights (journey-state table, like the snapshot above). */
export const ACCESS_PICTURE_KEY = 'reconcile:access-picture';

export interface StoredAccessPicture {
  /** The picture current when the last signed review was signed (or the first picture taken). */
  readonly baseline: {
    readonly reviewId: string | null;
    readonly reviewName: string | null;
    readonly picture: AccessPicture;
  };
  /** The last night's picture (the next baseline when a newer review is signed). */
  readonly latest: AccessPicture;
  /** The Access_Change__c rows of this review period, by key. */
  readonly written: Readonly<
    Record<
      string,
      { readonly detectedAt: string; readonly resolvedAt: string | null; readonly digest: string }
    >
  >;
}

/** How many external ids a report lists per object, for an operator to look at. */
export const SAMPLE = 20;

/** The access snapshot as stored between nights. */
export interface StoredAccessSnapshot {
  readonly takenAt: string;
  readonly assignments: ReadonlyArray<StoredAssignment>;
}

export interface StoredAssignment {
  readonly assignmentId: string;
  readonly userId: string;
  readonly username: string;
  readonly permissionSet: string;
}

/** A record as a payload holds it or a SOQL query answers it. */
export type Row = Record<string, unknown>;
