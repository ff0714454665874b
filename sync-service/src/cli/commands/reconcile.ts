import { parseArgs } from 'node:util';
import { reconcilerForService, type ReconcileReport } from '../../sync/reconcile/index.js';
import type { CliContext, Command } from '../types.js';

const USAGE = `npm run sync -- reconcile [--json]

Compares every synced Salesforce record (Contact, Care_Plan__c, Cliniko_Appointment__c,
Cliniko_Invoice__c) with the projection of the current Cliniko record, writes again whatever differs
(hand edits of synced fields, lost writes, records deleted in Salesforce), reports records Cliniko no
longer has (never deleted), and writes the consent (Consent_Reconciliation__c) and access
(Access_Change__c) snapshots, the audit verification (Audit_Verification__c, Source nightly) and the
quarter's counts (Quarter_Summary__c). See docs/reconciliation.md.

  --json   print the report as JSON

Exit code 0 when no drift is left unrepaired, 3 when some repairs were dead-lettered or are still
queued or a snapshot or review record was not written, 1 on failure.`;

export function printReport(report: ReconcileReport, ctx: Pick<CliContext, 'print'>): void {
  ctx.print(`reconciliation ${report.runId}: ${report.status}${report.error ? ` - ${report.error}` : ''}`);
  ctx.print(
    `  ${'object'.padEnd(26)}${'compared'.padStart(9)}${'drifted'.padStart(9)}${'missing'.padStart(9)}${'repaired'.padStart(9)}${'orphaned'.padStart(9)}${'held'.padStart(6)}`,
  );
  for (const [object, o] of Object.entries(report.objects)) {
    ctx.print(
      `  ${object.padEnd(26)}${String(o.compared).padStart(9)}${String(o.drifted).padStart(9)}${String(o.missingInSalesforce).padStart(9)}${String(o.repaired).padStart(9)}${String(o.orphaned).padStart(9)}${String(o.heldForWriteBack).padStart(6)}`,
    );
    const fields = Object.entries(o.driftedFields)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ');
    if (fields) ctx.print(`    drifted fields: ${fields}`);
    if (o.orphanSample.length > 0) ctx.print(`    not in Cliniko: ${o.orphanSample.join(', ')}`);
    if (o.deletedInSalesforce || o.heldContacts)
      ctx.print(
        `    not re-created: ${o.heldContacts ?? 0} held (${o.deletedInSalesforce ?? 0} newly found deleted in Salesforce; see npm run sync -- matches)`,
      );
  }
  if (report.unprojectable > 0)
    ctx.print(`  ${report.unprojectable} Cliniko record(s) do not project (see the quarantine)`);
  if (report.unrepaired > 0)
    ctx.print(`  ${report.unrepaired} repair(s) not written yet (dead letters or queue)`);
  const c = report.consent;
  if (c) {
    ctx.print(
      `consent: email ${c.clinikoEmailOptIn} in Cliniko / ${c.salesforceEmailOptIn} in Salesforce, SMS ${c.clinikoSmsOptIn} / ${c.salesforceSmsOptIn}, ${c.patientsCompared} patients compared, ${c.mismatches} mismatch(es)` +
        (c.error ? ` - not written: ${c.error}` : ` - snapshot ${c.recordId ?? '?'}`),
    );
  }
  const a = report.access;
  if (a) {
    ctx.print(
      `access: ${a.assignments} assignment(s) of the Cliniko_Sync_* permission sets${a.baseline ? ' (baseline)' : ''}, ${a.changes.length} change(s), ${a.written} recorded` +
        (a.error ? ` - ${a.error}` : ''),
    );
    for (const change of a.changes.slice(0, 20))
      ctx.print(`  ${change.changeType.padEnd(9)} ${change.permissionSet.padEnd(26)} ${change.username}`);
  }
  const p = report.accessPicture;
  if (p) {
    ctx.print(
      `access picture: ${p.users} user(s) read ${p.fields} synced field(s); since ${p.baseline}: ${p.gained} gained, ${p.lost} lost; ${p.outsideAudience} reading outside their audience; ${p.written} recorded` +
        (p.error ? ` - ${p.error}` : ''),
    );
    for (const f of p.findings.slice(0, 20))
      ctx.print(
        `  ${f.kind.padEnd(16)} ${f.classification.padEnd(15)} ${f.username} via ${f.grants.join('; ')}`,
      );
  }
  printReview(report, ctx);
}

/** The audit verification and the quarter's counts the governance review reads. */
function printReview(report: ReconcileReport, ctx: Pick<CliContext, 'print'>): void {
  const v = report.verification;
  if (v) {
    ctx.print(
      `audit verification: ${v.result ?? 'not run'}${v.detail ? ` - ${v.detail}` : ''}` +
        (v.error ? ` - not recorded: ${v.error}` : ` - recorded ${v.recordId ?? '?'}`),
    );
  }
  const q = report.quarter;
  if (q?.summary) {
    const s = q.summary;
    const written = s.counts.reduce((n, c) => n + c.created + c.updated, 0);
    ctx.print(
      `quarter ${s.quarter} (UTC): ${written} record write(s), ${s.writeBacks} write-back(s), ${s.signOffs} sign-off(s), ${s.deadLetters} dead letter(s), ${s.quarantines}${s.quarantinesComplete ? '' : '+'} quarantine(s)` +
        (q.error ? ` - not written: ${q.error}` : ''),
    );
  } else if (q?.error) ctx.print(`quarter summary not written: ${q.error}`);
}

export function exitCodeOf(report: ReconcileReport): number {
  if (report.status === 'succeeded' || report.status === 'skipped') return 0;
  return report.status === 'partial' ? 3 : 1;
}

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'Compare Salesforce with Cliniko, repair drift, write the consent and access snapshots.',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({
      args: [...args],
      options: { json: { type: 'boolean', default: false } },
      allowPositionals: false,
    });
    const service = await ctx.service();
    try {
      const report = await reconcilerForService(service, ctx.logger()).reconcile();
      if (values.json) ctx.print(JSON.stringify(report, null, 2));
      else printReport(report, ctx);
      if (report.status === 'skipped') ctx.print('another instance is running a cycle; nothing to do');
      return exitCodeOf(report);
    } finally {
      await service.close();
    }
  },
};
