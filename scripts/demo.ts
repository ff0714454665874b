/**
 * `npm run demo`: the product's main job on one machine with no accounts.
 *
 * Starts the Cliniko emulator (the default synthetic chiropractic group) and the Salesforce emulator
 * (empty, with its fault controls on; the package is then installed into it with the real `sf` CLI, as
 * an admin would: force-app, then force-app-org-setup, then the integration permission sets), wires the real sync service to
 * them on an embedded SQLite store, runs a full backfill and a few incremental cycles with live changes in
 * the clinic (a new booking, an arrival, a corrected email), and two things an operator must be able to
 * see: a write Salesforce keeps refusing (a locked row: dead-lettered, replayable) and a record Cliniko
 * serves that fails validation (quarantined). It prints what happened, writes the environment of what it
 * started to an env file (git-ignored) so that every `npm run sync -- <command>` runs against it, and
 * keeps the emulators and the admin API up until Ctrl-C. `--once` exits after the summary.
 *
 * The service's own log lines go to `service.log` beside the store, so the console is the report alone.
 *
 * Options: --patients N (default 300), --seed S, --once, --keep-db (SQLite file under ./data instead of a
 * temp dir), --env-out PATH (where to write the env file; default .demo.env; tsx itself takes --env-file).
 */
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startClinikoEmulator, recordId } from '../test/emulators/cliniko/index.js';
import { startSalesforceEmulator } from '../test/emulators/salesforce/server.js';
import { installPackage } from '../test/support/sf-cli.js';
import { loadConfig } from '../sync-service/src/config/index.js';
import { createLogger } from '../sync-service/src/logger.js';
import { printSummary } from '../sync-service/src/cli/commands/run-once.js';
import { startService } from '../sync-service/src/runtime/start.js';

type RunSummary = Parameters<typeof printSummary>[0];

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    once: { type: 'boolean', default: false },
    'keep-db': { type: 'boolean', default: false },
    'env-out': { type: 'string', default: '.demo.env' },
  },
});

const ctx = { print: (line: string) => console.log(line) };

function heading(text: string): void {
  console.log(`\n== ${text}`);
}

/** One `KEY=value` line per variable; values are single-quoted when they hold anything unusual. */
function envFileText(vars: Record<string, string>, header: string): string {
  const line = ([k, v]: [string, string]) => `${k}=${/^[\w@:/.,+=-]*$/.test(v) ? v : `'${v}'`}`;
  return `${header}\n${Object.entries(vars).map(line).join('\n')}\n`;
}

async function salesforceFault(baseUrl: string, method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  const response = await fetch(`${baseUrl}/__emulator/faults`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`the Salesforce emulator refused the fault control (${response.status})`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const adminToken = randomBytes(24).toString('base64url');
  const encryptionKey = randomBytes(32).toString('base64');
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
  // The org starts empty and the package goes in as an admin installs it: the real `sf` CLI deploys
  // force-app and the org setup through the Metadata API and assigns the integration permission sets.
  const salesforce = await startSalesforceEmulator({ controls: true, emptyOrg: true });
  const install = await installPackage(salesforce);
  console.log(
    `Salesforce emulator: started empty; package installed with the sf CLI (sf project deploy start) in ${install.seconds.toFixed(1)} s`,
  );
  console.log(
    `Cliniko emulator:    ${cliniko.practice.patients.length} patients, ${cliniko.practice.appointments.length} appointments`,
  );
  console.log(`Salesforce emulator: integration user ${salesforce.username}, fault controls on`);

  const demoDir = values['keep-db'] ? resolve('data') : mkdtempSync(join(tmpdir(), 'cliniko-sync-demo-'));
  mkdirSync(demoDir, { recursive: true });
  const dbPath = join(demoDir, values['keep-db'] ? 'demo.db' : 'sync.db');
  // The demo signs nothing in the repository: `data-map sign` against the demo signs this copy.
  const dataMapPath = join(demoDir, 'data-map.yaml');
  copyFileSync('config/data-map.yaml', dataMapPath);
  // Likewise the journey configuration and the approver registry (sign-journey, approvers add).
  const journeyPath = join(demoDir, 'journey.yaml');
  copyFileSync('config/journey.yaml', journeyPath);
  const approversPath = join(demoDir, 'approvers.yaml');
  copyFileSync('config/approvers.yaml', approversPath);
  const logPath = join(demoDir, 'service.log');
  const env: Record<string, string> = {
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
    SYNC_ENCRYPTION_KEY: encryptionKey,
    SYNC_ENCRYPTION_KEYS_RETIRED: '',
    DATA_MAP_PATH: dataMapPath,
    JOURNEY_CONFIG_PATH: journeyPath,
    APPROVERS_PATH: approversPath,
    ADMIN_TOKENS: `operator:${adminToken}`,
  };
  const config = loadConfig({
    ...process.env,
    ...env,
    PORT: process.env.PORT ?? '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  const logFile = createWriteStream(logPath, { flags: 'a' });
  const logger = createLogger({ level: config.logLevel, destination: logFile });
  // The real service process: sync service, scheduler (first poll a minute from now; the demo's own
  // cycles go through the scheduler too, so two never overlap) and the admin API. Retries are shortened
  // from the production 1-2-4-8-16 s so that the locked row below is dead-lettered within the cycle.
  const running = await startService(config, logger, {
    service: { now: () => Date.parse(cliniko.controls.now()), worker: { retryDelaysMs: [200, 400] } },
    scheduler: { runAtStart: false },
    processMetrics: false,
  });
  const service = running.service;
  const cycle = async (mode: 'incremental' | 'backfill'): Promise<RunSummary> => {
    // The scheduler's own jobs (the minute's reminder job) may hold it for a moment: wait for it, never
    // for longer than a minute, and refuse on any other reason.
    let started = await running.scheduler.trigger(mode);
    for (
      let waited = 0;
      !started.accepted && started.reason === 'running' && waited < 60_000;
      waited += 250
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      started = await running.scheduler.trigger(mode);
    }
    if (!started.accepted) throw new Error(`the scheduler refused a ${mode} run: ${started.reason}`);
    const outcome = await started.done;
    if (!outcome.summary) throw new Error(`the ${mode} run failed: ${outcome.error ?? 'no summary'}`);
    return outcome.summary;
  };
  console.log(`Store:               SQLite at ${dbPath}, encrypted with a throwaway key`);
  console.log(
    `Data map:            signed, sha256 ${service.dataMapHash.slice(0, 16)}… (a copy in ${demoDir})`,
  );
  console.log(`Service log:         ${logPath}`);

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
  // Salesforce keeps this patient's Contact locked for the whole cycle: the write is retried, then
  // dead-lettered. The lock is lifted afterwards: a later cycle writes the record, and a replay of the
  // now stale letter is dropped with its reason.
  await salesforceFault(salesforce.loginUrl, 'POST', {
    kind: 'lockRow',
    object: 'Contact',
    field: 'Cliniko_Patient_Id__c',
    value: someoneId,
  });
  console.log(`  (Salesforce keeps that Contact locked during this cycle: the write will be dead-lettered)`);
  // A record Cliniko serves that the sync's schema rejects: a date of birth typed day-first by an old
  // import. The API would never accept it through a write, so it is planted straight in the emulator.
  const broken = active[1]!;
  const brokenId = recordId('patient', broken.idx);
  broken.f.date_of_birth = '30/02/1985';
  cliniko.controls.touch('patients', [brokenId]);
  console.log(`- patient ${brokenId}: a date of birth in the wrong format (it will be quarantined)`);
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
  await salesforceFault(salesforce.loginUrl, 'DELETE');

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
    `  queue: ${stats.pending} pending, ${stats.deadLettered} dead letter(s), ${stats.quarantined} quarantined record field(s)`,
  );
  for (const d of await service.store.listDeadLetters())
    console.log(`    dead letter ${d.id}: ${d.object} ${d.externalId} ${d.upstreamCode ?? d.errorCode}`);
  for (const q of (await service.store.listQuarantine()).items)
    console.log(`    quarantined: ${q.resource} ${q.id} ${q.field} (${q.reason})`);
  for (const w of await service.store.listWatermarks()) {
    console.log(
      `  lag ${w.stream.padEnd(24)} ${Math.max(0, Math.round((Date.parse(cliniko.controls.now()) - Date.parse(w.cursor)) / 1000))} s behind Cliniko`,
    );
  }
  console.log(`  total time: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const failed = runs.some((r) => r.status === 'failed');
  const stop = async (): Promise<void> => {
    await running.close();
    await cliniko.close();
    await salesforce.close();
    await new Promise<void>((done) => logFile.end(done));
  };
  if (values.once) {
    await stop();
    console.log(
      '\n--once: the emulators and the admin API are stopped. Run `npm run demo` (without --once) to try the',
    );
    console.log('operator commands and the admin API against a running demo.');
    if (failed) process.exitCode = 1;
    return;
  }

  const envFile = resolve(values['env-out']);
  const text = envFileText(
    {
      ...env,
      DEMO_DIR: demoDir,
      DEMO_ADMIN_URL: running.url,
      DEMO_ADMIN_TOKEN: adminToken,
      DEMO_CLINIKO_CONTROLS: `${cliniko.baseUrl.replace(/\/v1$/, '')}/__control`,
      DEMO_SALESFORCE_CONTROLS: `${salesforce.loginUrl}/__emulator`,
      // Which patients the demo picked (the practice's first two active ones, which depends on the day).
      DEMO_LOCKED_PATIENT: someoneId,
      DEMO_QUARANTINED_PATIENT: brokenId,
    },
    `# Written by \`npm run demo\` (pid ${process.pid}) at ${new Date().toISOString()}; valid while it runs.\n` +
      '# Throwaway emulator credentials and keys: never reuse them. Deleted when the demo stops.',
  );
  writeFileSync(envFile, text, { mode: 0o600 });

  heading('Try the operator commands against this demo');
  console.log(`Its environment is in ${values['env-out']} (git-ignored). In another terminal:`);
  const cmd = (rest: string) => console.log(`  npm run sync -- --env-file ${values['env-out']} ${rest}`);
  cmd('status');
  cmd('quarantine');
  cmd('replay --list');
  cmd('replay');
  cmd('audit verify');
  console.log(`  (README.md lists every command; or load the file once: set -a; . ${envFile}; set +a)`);
  console.log(`Admin API: ${running.url}  (GET /health is open; the rest need the operator token)`);
  console.log(`  curl ${running.url}/health`);
  console.log(`  curl -H 'Authorization: Bearer ${adminToken}' ${running.url}/quarantine`);
  console.log(`  curl -H 'Authorization: Bearer ${adminToken}' ${running.url}/dlq`);
  console.log('Emulators, scheduler (a cycle every minute) and admin API running; press Ctrl-C to stop.');
  await new Promise<void>((resolve) => {
    // `on`, not `once`: Ctrl-C signals the whole process group, so the signal can arrive twice (directly
    // and relayed by tsx); a second one with no listener left would kill the demo mid-shutdown (130).
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  // The file's URLs die with the demo; leave it only if another demo has since written its own.
  try {
    if (readFileSync(envFile, 'utf8') === text) rmSync(envFile);
  } catch {
    // already gone
  }
  await stop();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
