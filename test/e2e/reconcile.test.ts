import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand } from '../../sync-service/src/cli/commands/reconcile.js';
import type { CliContext } from '../../sync-service/src/cli/types.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { recordId } from '../emulators/cliniko/index.js';
import {
  ACCESS_SNAPSHOT_KEY,
  reconcilerForService,
  type Reconciler,
  type ReconcileReport,
} from '../../sync-service/src/sync/reconcile/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * The nightly reconciliation against both emulators: hand edits and deletions in Salesforce are
 * repaired from Cliniko, a record Cliniko never had is reported (not deleted), a second pass is quiet,
 * and the consent and access snapshots say what an independent count of the practice and org says.
 */
let h: SyncHarness;
let reconciler: Reconciler;

const adminId = () => h.salesforce.org.adminUser.id;

function objectDef(name: string) {
  const def = h.salesforce.org.schema.objects.get(name.toLowerCase());
  if (!def) throw new Error(`no ${name} in the emulated org`);
  return def;
}

/** A change made by a person in Salesforce (the org's administrator, not the integration user). */
function editByHand(object: string, id: string, values: Record<string, unknown>): void {
  const [result] = h.salesforce.org.saveBatch(
    adminId(),
    [{ operation: 'update', object: objectDef(object), id, values }],
    false,
  );
  expect(result?.success, JSON.stringify(result)).toBe(true);
}

/** The permission-set assignment rows (the access picture's findings live in the same object). */
const assignmentRows = () =>
  activeRecords(h.salesforce, 'Access_Change__c').filter((r) =>
    ['Assigned', 'Removed'].includes(String(r.Change_Type__c)),
  );

function writtenByDrain(report: ReconcileReport): number {
  return report.drain?.written ?? 0;
}

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 24, seed: 5 } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
  const s = h.service;
  reconciler = reconcilerForService(s, createLogger({ level: 'silent' }), () =>
    Date.parse(h.cliniko.controls.now()),
  );
});

afterAll(async () => {
  await h?.close();
});

describe('nightly reconciliation', () => {
  let first: ReconcileReport;
  let editedPatient: string;
  let clinikoConsent: boolean;

  it('repairs hand edits and deleted records from Cliniko, and reports what Cliniko never had', async () => {
    const contacts = activeRecords(h.salesforce, 'Contact');
    const contact = contacts.find((c) => typeof c.Cliniko_Patient_Id__c === 'string' && c.FirstName)!;
    editedPatient = String(contact.Cliniko_Patient_Id__c);
    clinikoConsent = contact.Email_Marketing_Consent__c === true;
    // Someone edits two synced fields by hand: the name and the consent flag.
    editByHand('Contact', String(contact.Id), {
      FirstName: 'Edited-By-Hand',
      Email_Marketing_Consent__c: !clinikoConsent,
    });
    // An appointment with an invoice, so that the deletion also clears a lookup.
    const appointmentRecords = activeRecords(h.salesforce, 'Cliniko_Appointment__c');
    const invoices = activeRecords(h.salesforce, 'Cliniko_Invoice__c');
    const deleted = appointmentRecords.find((a) => invoices.some((i) => i.Appointment__c === a.Id))!;
    const changed = appointmentRecords.find((a) => a.Id !== deleted.Id)!;
    const invoicesOfDeleted = invoices.filter((i) => i.Appointment__c === deleted.Id);
    expect(invoicesOfDeleted.length).toBeGreaterThan(0);
    // One appointment is deleted in Salesforce, another has its status changed.
    const removed = h.salesforce.org.deleteBatch(adminId(), [String(deleted.Id)], false);
    expect(removed[0]?.success).toBe(true);
    editByHand('Cliniko_Appointment__c', String(changed.Id), {
      Status__c: changed.Status__c === 'Cancelled' ? 'Booked' : 'Cancelled',
    });
    // A Contact whose patient Cliniko never had (created by hand with a made-up id).
    const [orphan] = h.salesforce.org.saveBatch(
      adminId(),
      [
        {
          operation: 'insert',
          object: objectDef('Contact'),
          values: { LastName: 'Nobody', Cliniko_Patient_Id__c: '999999999999' },
        },
      ],
      false,
    );
    expect(orphan?.success).toBe(true);

    first = await reconciler.reconcile();

    expect(first.error).toBeNull();
    expect(first.status).toBe('succeeded');
    expect(first.unrepaired).toBe(0);
    const contactReport = first.objects.Contact!;
    expect(contactReport.drifted).toBe(1);
    expect(contactReport.repaired).toBe(1);
    expect(contactReport.sample).toEqual([editedPatient]);
    expect(contactReport.driftedFields).toEqual({ FirstName: 1, Email_Marketing_Consent__c: 1 });
    expect(contactReport.orphaned).toBe(1);
    expect(contactReport.orphanSample).toEqual(['999999999999']);
    const appointments = first.objects.Cliniko_Appointment__c!;
    expect(appointments.drifted).toBe(1);
    expect(appointments.missingInSalesforce).toBe(1);
    expect(appointments.repaired).toBe(2);
    expect(appointments.driftedFields).toEqual({ Status__c: 1 });
    expect(first.objects.Care_Plan__c).toMatchObject({ drifted: 0, missingInSalesforce: 0, orphaned: 0 });
    expect(first.objects.Care_Plan__c!.compared).toBeGreaterThan(0);
    // Deleting the appointment cleared its invoices' lookup in Salesforce: that is drift too.
    expect(first.objects.Cliniko_Invoice__c).toMatchObject({
      drifted: invoicesOfDeleted.length,
      repaired: invoicesOfDeleted.length,
      missingInSalesforce: 0,
      orphaned: 0,
    });
    if (invoicesOfDeleted.length > 0)
      expect(first.objects.Cliniko_Invoice__c!.driftedFields).toEqual({
        Appointment__r: invoicesOfDeleted.length,
      });
    expect(contactReport.compared).toBe(h.cliniko.practice.patients.length);

    // The pass wrote, so it left a run record like any run that writes.
    const repairedTotal = Object.values(first.objects).reduce((n, o) => n + o.repaired, 0);
    expect(activeRecords(h.salesforce, 'Sync_Run__c').find((r) => r.Run_Id__c === first.runId)).toMatchObject(
      {
        Mode__c: 'Reconcile',
        Status__c: 'Succeeded',
        Records_Written__c: repairedTotal,
        Data_Map_Hash__c: h.service.dataMapHash,
      },
    );

    // The org again holds exactly the projection of Cliniko; the orphan is kept, marked Deleted.
    const orphanRecord = activeRecords(h.salesforce, 'Contact').find(
      (c) => c.Cliniko_Patient_Id__c === '999999999999',
    );
    expect(orphanRecord).toMatchObject({ Cliniko_Status__c: 'Deleted', HasOptedOutOfEmail: true });
    h.salesforce.org.deleteBatch(adminId(), [String(orphanRecord!.Id)], false);
    await expectOrgMatchesProjection(h.service, h.salesforce);
    h.salesforce.org.saveBatch(
      adminId(),
      [
        {
          operation: 'insert',
          object: objectDef('Contact'),
          values: { LastName: 'Nobody', Cliniko_Patient_Id__c: '999999999999', Cliniko_Status__c: 'Deleted' },
        },
      ],
      false,
    );
  });

  it('writes a consent snapshot whose counts match an independent count of the practice and org', () => {
    const patients = h.cliniko.practice.patients;
    const clinikoEmail = patients.filter((p) => p.f.accepted_email_marketing === true).length;
    const clinikoSms = patients.filter((p) => p.f.accepted_sms_marketing === true).length;
    // The org as the pass found it: the repaired Contact still carried the hand edit.
    const contacts = activeRecords(h.salesforce, 'Contact');
    const sfEmailNow = contacts.filter((c) => c.Email_Marketing_Consent__c === true).length;
    const sfEmailFound = sfEmailNow + (clinikoConsent ? -1 : 1);
    const sfSms = contacts.filter((c) => c.SMS_Marketing_Consent__c === true).length;

    expect(first.consent).toMatchObject({
      clinikoEmailOptIn: clinikoEmail,
      clinikoSmsOptIn: clinikoSms,
      salesforceEmailOptIn: sfEmailFound,
      salesforceSmsOptIn: sfSms,
      patientsCompared: patients.length,
      mismatches: 1,
      sample: [
        {
          clinikoPatientId: editedPatient,
          channel: 'email',
          cliniko: clinikoConsent,
          salesforce: !clinikoConsent,
        },
      ],
      error: null,
    });
    const snapshots = activeRecords(h.salesforce, 'Consent_Reconciliation__c');
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]).toMatchObject({
      Id: first.consent!.recordId,
      Cliniko_Email_Opt_In__c: clinikoEmail,
      Salesforce_Email_Opt_In__c: sfEmailFound,
      Cliniko_SMS_Opt_In__c: clinikoSms,
      Salesforce_SMS_Opt_In__c: sfSms,
      Patients_Compared__c: patients.length,
      Run_Id__c: first.runId,
    });
    expect(JSON.parse(String(snapshots[0]!.Mismatch_Sample__c))).toEqual(first.consent!.sample);
    // Ids and booleans only.
    expect(Object.keys(first.consent!.sample[0]!).sort()).toEqual([
      'channel',
      'cliniko',
      'clinikoPatientId',
      'salesforce',
    ]);
  });

  it('records the access baseline once, then only assignments that change', async () => {
    expect(first.access).toMatchObject({ baseline: true, error: null });
    const baseline = assignmentRows();
    // The integration user holds Cliniko_Sync_Integration in the emulated org.
    expect(baseline.map((r) => [r.Username__c, r.Permission_Set__c, r.Change_Type__c])).toEqual([
      [h.salesforce.username, 'Cliniko_Sync_Integration', 'Assigned'],
    ]);
    expect(await h.service.store.getJourneyState(ACCESS_SNAPSHOT_KEY)).toBeDefined();

    const user = h.salesforce.org.createUser('marketer@clinic.example', 'Mara', 'Keting');
    h.salesforce.org.assignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
    const second = await reconciler.reconcile();

    // Quiet: nothing drifted, nothing written to the synced objects.
    expect(second.status).toBe('succeeded');
    expect(writtenByDrain(second)).toBe(0);
    expect(second.drain).toBeNull();
    for (const o of Object.values(second.objects)) {
      expect(o).toMatchObject({ drifted: 0, missingInSalesforce: 0, repaired: 0 });
    }
    expect(second.objects.Contact!.orphaned).toBe(1);
    // A quiet pass leaves no Sync_Run__c (only the local run history).
    expect(activeRecords(h.salesforce, 'Sync_Run__c').some((r) => r.Run_Id__c === second.runId)).toBe(false);
    expect((await h.service.store.listRuns({ limit: 20 })).find((r) => r.id === second.runId)).toMatchObject({
      mode: 'reconcile',
      status: 'succeeded',
    });
    expect(second.consent).toMatchObject({ mismatches: 0, sample: [] });

    expect(second.access).toMatchObject({ baseline: false, written: 1, error: null });
    const added = assignmentRows().filter((r) => r.Username__c === 'marketer@clinic.example');
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      User__c: user.id,
      Permission_Set__c: 'Cliniko_Sync_Marketing',
      Change_Type__c: 'Assigned',
    });

    h.salesforce.org.unassignPermissionSet(user.id, 'Cliniko_Sync_Marketing');
    const third = await reconciler.reconcile();
    expect(third.access).toMatchObject({ written: 1, error: null });
    expect(
      assignmentRows()
        .filter((r) => r.Username__c === 'marketer@clinic.example')
        .map((r) => r.Change_Type__c)
        .sort(),
    ).toEqual(['Assigned', 'Removed']);
    // Nothing changed since: a fourth pass records no access change.
    expect((await reconciler.reconcile()).access).toMatchObject({ changes: [], written: 0 });
  });

  it('leaves a Salesforce edit the write-back has not read yet for the write-back to carry to Cliniko', async () => {
    // The write-back poller last read Contacts an hour ago; a receptionist corrects an email since.
    const hourAgo = new Date(Date.parse(h.cliniko.controls.now()) - 3_600_000).toISOString();
    await h.service.store.commitBatch({ stream: 'salesforce:Contact', watermark: hourAgo, now: Date.now() });
    const contact = activeRecords(h.salesforce, 'Contact').find(
      (c) => c.Cliniko_Patient_Id__c === recordId('patient', h.cliniko.practice.patients[1]!.idx),
    )!;
    editByHand('Contact', String(contact.Id), { Email: 'corrected@patient.example' });

    const report = await reconciler.reconcile();
    expect(report.objects.Contact).toMatchObject({ drifted: 1, heldForWriteBack: 1, repaired: 0 });
    expect(report.drain).toBeNull();
    expect(activeRecords(h.salesforce, 'Contact').find((c) => c.Id === contact.Id)?.Email).toBe(
      'corrected@patient.example',
    );
  });

  it('runs from `npm run sync -- reconcile`, printing the report and exiting 0 when nothing is left unrepaired', async () => {
    const appointment = activeRecords(h.salesforce, 'Cliniko_Appointment__c')[2]!;
    h.salesforce.org.deleteBatch(adminId(), [String(appointment.Id)], false);
    const lines: string[] = [];
    const ctx: CliContext = {
      env: {},
      config: () => h.config,
      logger: () => createLogger({ level: 'silent' }),
      // The harness owns the service; the command's close() must not shut it for the other tests.
      service: () => Promise.resolve({ ...h.service, close: () => Promise.resolve() }),
      print: (line) => lines.push(line),
      tty: false,
      rootDir: process.cwd(),
    };
    expect(await reconcileCommand.run([], ctx)).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/reconciliation reconcile-\S+: succeeded/);
    expect(text).toMatch(/Cliniko_Appointment__c\s+\d+\s+0\s+1\s+1\s+0\s+0/);
    expect(text).toContain('not in Cliniko: 999999999999');
    expect(text).toMatch(/consent: email \d+ in Cliniko/);
    expect(
      activeRecords(h.salesforce, 'Cliniko_Appointment__c').some(
        (a) => a.Cliniko_Appointment_Id__c === appointment.Cliniko_Appointment_Id__c,
      ),
    ).toBe(true);

    const json: string[] = [];
    expect(await reconcileCommand.run(['--json'], { ...ctx, print: (line) => json.push(line) })).toBe(0);
    const report = JSON.parse(json.join('\n')) as ReconcileReport;
    expect(report.objects.Cliniko_Appointment__c).toMatchObject({ drifted: 0, missingInSalesforce: 0 });
  });

  it('never takes a patient Cliniko lists but cannot project for one Cliniko no longer has', async () => {
    const patient = h.cliniko.practice.patients[3]!;
    const patientId = recordId('patient', patient.idx);
    const statusBefore = activeRecords(h.salesforce, 'Contact').find(
      (c) => c.Cliniko_Patient_Id__c === patientId,
    )?.Cliniko_Status__c;
    expect(statusBefore).toBeDefined();
    h.cliniko.controls.updatePatient(patientId, { email: 'not an email address' });

    const report = await reconciler.reconcile();
    expect(report.unprojectable).toBe(1);
    expect(report.objects.Contact).toMatchObject({
      orphaned: 1,
      orphanSample: ['999999999999'],
      orphansKnown: true,
    });
    expect(
      activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId),
    ).toMatchObject({
      Cliniko_Status__c: 'Active',
    });
  });

  it('never moves the children of a merged patient back to the merged-away Contact', async () => {
    const contactOf = (patientId: string) =>
      activeRecords(h.salesforce, 'Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
    const withInvoices = h.cliniko.practice.patients
      .filter((p) => p.archivedAt === null && p.mergedAt === null)
      .map((p) => recordId('patient', p.idx))
      .filter((id) =>
        activeRecords(h.salesforce, 'Cliniko_Invoice__c').some((i) => i.Contact__c === contactOf(id)?.Id),
      );
    const [fromId, intoId] = withInvoices;
    const from = contactOf(fromId!)!;
    h.cliniko.controls.mergePatient(fromId!, intoId!);
    expect((await h.service.runner.runCycle('incremental')).status).not.toBe('failed');
    // The sync moved everything to the survivor, including invoices the merge did not touch in Cliniko
    // (their patient follows their appointment, so an incremental read does not see them change).
    expect(
      activeRecords(h.salesforce, 'Cliniko_Invoice__c').filter((i) => i.Contact__c === from.Id),
    ).toHaveLength(0);

    const report = await reconciler.reconcile();
    for (const object of ['Care_Plan__c', 'Cliniko_Appointment__c', 'Cliniko_Invoice__c']) {
      expect(report.objects[object], object).toMatchObject({
        drifted: 0,
        missingInSalesforce: 0,
        repaired: 0,
      });
    }
    expect(
      activeRecords(h.salesforce, 'Cliniko_Invoice__c').filter((i) => i.Contact__c === from.Id),
    ).toHaveLength(0);
  });
});
