/**
 * `npm run demo`: the product's main job on one machine with no accounts.
 *
 * Starts the Cliniko emulator (the default synthetic chiropractic group) and the Salesforce emulator
 * (loaded from this repository's force-app), wires the real sync service to them on an embedded SQLite
 * store, runs a full backfill and a few incremental cycles with live changes in the clinic (a new
 * booking, an arrival, a no-show, a cancellation, a corrected email), prints what happened, then keeps
 * the emulators and the admin API up until Ctrl-C. `--once` exits after the summary.
 *
 * Options: --patients N (default 300), --seed S, --once, --keep-db (SQLite file under ./data instead of a
 * temp dir).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startClinikoEmulator, recordId } from '../test/emulators/cliniko/index.js';
import { startSalesforceEmulator } from '../test/emulators/salesforce/server.js';
import { loadConfig } from '../sync-service/src/config/index.js';
import { createLogger } from '../sync-service/src/logger.js';
import type { RunSummary } from '../sync-service/src/sync/runner.js';
import { printSummary } from '../sync-service/src/cli/commands/run-once.js';
import { startService } from '../sync-service/src/server.js';
import { randomBytes } from 'node:crypto';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    once: { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
  },
});

const ctx = { print: (line: string) => console.log(line), tty: process.stdout.isTTY === true };

function heading(text: string): void {
  console.log(`\n== ${text}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const adminToken = randomBytes(24).toString('base64url');
  const patients = Number(values.patients);
  if (!Number.isInteger(patients) || patients < 1)
    throw new Error('--patients must be a positive whole number');
  heading('Starting the emulators');
  // The clinic's clock runs with wall time, so journey day counts and Cliniko's Date header agree.
  const cliniko = await startClinikoEmulator({
    patients,
    seed: Number(values.seed),
    controls: true,
    now: new Date().toISOString(),
  });
  const salesforce = await startSalesforceEmulator({});
  console.log(
    `Cliniko emulator:    ${cliniko.baseUrl}  (${cliniko.practice.patients.length} patients, ${cliniko.practice.appointments.length} appointments)`,
  );
  console.log(`Salesforce emulator: ${salesforce.loginUrl}  (integration user ${salesforce.username})`);

  const dbPath = values['keep-db']
    ? './data/demo.db'
    : join(mkdtempSync(join(tmpdir(), 'cliniko-sync-demo-')), 'sync.db');
  const config = loadConfig({
    ...process.env,
    // The demo runs the repository's map, signed with the published demo key: demo mode accepts it.
    SYNC_MODE: 'demo',
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'demo@clinic.example',
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SALESFORCE_USERNAME: '',
    SALESFORCE_PRIVATE_KEY_FILE: '',
    DATABASE_URL: '',
    SYNC_DB_PATH: dbPath,
    PORT: process.env.PORT ?? '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ADMIN_TOKENS: `operator:${adminToken}`,
  });
  const logger = createLogger({ level: config.logLevel, pretty: ctx.tty });
  // The real service process: sync service, scheduler (first poll a minute from now; the demo's own
  // cycles go through the scheduler too, so two never overlap) and the admin API.
  const running = await startService(config, logger, {
    service: { allowEphemeralKey: true, now: () => Date.parse(cliniko.controls.now()) },
    scheduler: { runAtStart: false },
    processMetrics: false,
  });
  const service = running.service;
  const cycle = async (mode: 'incremental' | 'backfill'): Promise<RunSummary> => {
    const started = await running.scheduler.trigger(mode);
    if (!started.accepted) throw new Error(`the scheduler refused a ${mode} run: ${started.reason}`);
    const outcome = await started.done;
    if (!outcome.summary) throw new Error(`the ${mode} run failed: ${outcome.error ?? 'no summary'}`);
    return outcome.summary;
  };
  if (service.ephemeralKey) {
    console.log(
      'Encryption: no SYNC_ENCRYPTION_KEY set, so the demo encrypts its store with a throwaway key.',
    );
  }
  console.log(`Store:               SQLite at ${dbPath}`);
  console.log(`Data map:            signed, sha256 ${service.dataMapHash.slice(0, 16)}…`);

  const runs: RunSummary[] = [];
  heading('Backfill');
  runs.push(await cycle('backfill'));
  printSummary(runs[runs.length - 1]!, ctx);

  heading('Live changes in the clinic, then incremental cycles');
  const practice = cliniko.practice;
  const active = practice.patients.filter((p) => p.archivedAt === null && p.mergedAt === null);
  const someone = active[0]!;
  const someoneId = recordId('patient', someone.idx);
  cliniko.controls.updatePatient(someoneId, { email: 'corrected.email@example.com' });
  console.log(`- patient ${someoneId}: email corrected at the front desk`);
  const newcomer = cliniko.controls.createPatient({
    first_name: 'Aroha',
    last_name: 'Ngata',
    email: 'aroha@example.com',
  });
  const newcomerId = String(newcomer.id);
  const initialType = practice.appointmentTypes.find((t) => t.name === 'Initial Appointment');
  const inTwoDays = new Date(Date.parse(cliniko.controls.now()) + 2 * 86_400_000);
  inTwoDays.setUTCHours(0, 0, 0, 0);
  const booking = cliniko.controls.book({
    patient_id: newcomerId,
    starts_at: new Date(inTwoDays.getTime() + 23 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(initialType ? { appointment_type_id: recordId('appointmentType', initialType.idx) } : {}),
  });
  console.log(`- new patient ${newcomerId} booked an Initial Appointment (${String(booking.id)})`);
  runs.push(await cycle('incremental'));
  printSummary(runs[runs.length - 1]!, ctx);

  cliniko.controls.setClock({ advanceSeconds: 3 * 86_400 });
  cliniko.controls.markArrived(String(booking.id));
  console.log(`- three days later: patient ${newcomerId} arrived for the first visit`);
  runs.push(await cycle('incremental'));
  printSummary(runs[runs.length - 1]!, ctx);

  heading('Idle cycle (nothing changed in Cliniko)');
  runs.push(await cycle('incremental'));
  printSummary(runs[runs.length - 1]!, ctx);

  heading('Salesforce now holds');
  for (const object of [
    'Contact',
    'Care_Plan__c',
    'Cliniko_Appointment__c',
    'Cliniko_Invoice__c',
    'Journey_Transition__c',
    'Sync_Run__c',
  ]) {
    const count = [...salesforce.org.records(object)].filter((r) => r.IsDeleted !== true).length;
    console.log(`  ${object.padEnd(26)} ${String(count).padStart(7)}`);
  }
  const newcomerContact = [...salesforce.org.records('Contact')].find(
    (c) => c.Cliniko_Patient_Id__c === newcomerId,
  );
  console.log(
    `  new patient's journey stage: ${typeof newcomerContact?.Journey_Stage__c === 'string' ? newcomerContact.Journey_Stage__c : '(none)'}`,
  );
  const usage = service.writer.apiUsage();
  const stats = await service.store.outboxStats(Date.now());
  console.log(
    `  Cliniko requests: ${runs.reduce((n, r) => n + r.clinikoRequests, 0)}   Salesforce API calls: ${usage ? `${usage.used} of ${usage.max} daily` : service.writer.calls()}`,
  );
  console.log(
    `  queue: ${stats.pending} pending, ${stats.deadLettered} dead letters, ${stats.quarantined} quarantined`,
  );
  for (const w of await service.store.listWatermarks()) {
    console.log(
      `  lag ${w.stream.padEnd(24)} ${Math.max(0, Math.round((Date.parse(cliniko.controls.now()) - Date.parse(w.cursor)) / 1000))} s behind Cliniko`,
    );
  }
  console.log(`  total time: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  console.log(`\nAdmin API: ${running.url}  (GET /health is open; the rest need the operator token below)`);
  console.log(`  curl ${running.url}/health`);
  console.log(`  curl -H 'Authorization: Bearer ${adminToken}' ${running.url}/metrics`);
  console.log(`  curl -H 'Authorization: Bearer ${adminToken}' ${running.url}/runs`);

  const failed = runs.some((r) => r.status === 'failed');
  if (values.once) {
    await running.close();
    await cliniko.close();
    await salesforce.close();
    if (failed) process.exitCode = 1;
    return;
  }
  console.log('Emulators, scheduler (a cycle every minute) and admin API running; press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  await cliniko.close();
  await salesforce.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
