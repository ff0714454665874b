import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { loadDataMap } from '../../sync-service/src/governance/data-map.js';
import { readPackageFields } from '../../sync-service/src/governance-io/lookups.js';
import { createLogger } from '../../sync-service/src/logger.js';
import type { RunSummary } from '../../sync-service/src/sync/cycle/runner.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { startService, type RunningService } from '../../sync-service/src/runtime/start.js';
import { loadClinikoFieldCatalogue, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { editMap, readMap, REPO_ROOT, tempRepoRoot } from '../support/governance.js';
import {
  captureStream,
  dumpSqliteStore,
  findCanaries,
  findNeedles,
  type Finding,
} from '../support/leak-scan.js';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.js';

/**
 * The zero-leak proof. The emulated practice's clinical free text (patient notes, appointment notes,
 * cancellation notes, attendee notes, ...) carries canary tokens. A full backfill and a few incremental
 * cycles (with new clinical notes written between them) run through the real service into the
 * Salesforce emulator; then every byte Salesforce received (recorded by a proxy in front of it), every
 * log line at trace level, the store's files and every table cell (decrypted where encrypted) are
 * scanned. No canary may appear anywhere, and no patient value or secret may appear in any log line.
 *
 * The second part shows that a map sending patients' notes to a Contact field is refused by the
 * clinical deny-list (no signature can open it), and that the same scanner does find a canary that
 * reaches Salesforce through a field the map sends: the proof can fail.
 */

interface Harness {
  cliniko: ClinikoEmulator;
  salesforce: SalesforceEmulator;
  proxy: RecordingProxy;
  running: RunningService;
  service: SyncService;
  logLines: string[];
  dir: string;
  dbPath: string;
  encryptionKey: string;
  adminToken: string;
  /** One cycle through the scheduler, as the admin API would start it (so /metrics counts it). */
  cycle(mode: 'backfill' | 'incremental'): Promise<RunSummary>;
  /** Stops the service process (scheduler, admin API, store) once; later calls do nothing. */
  closeService(): Promise<void>;
  close(): Promise<void>;
}

/** The whole service process (startService: sync service, scheduler, admin API) against both emulators. */
async function startHarness(options: { patients: number; seed: number; rootDir?: string }): Promise<Harness> {
  const cliniko = await startClinikoEmulator({
    patients: options.patients,
    seed: options.seed,
    controls: true,
    now: new Date().toISOString(),
  });
  const salesforce = await startSalesforceEmulator({});
  const proxy = await startRecordingProxy(salesforce.loginUrl);
  const dir = mkdtempSync(join(tmpdir(), 'zero-leak-'));
  const dbPath = join(dir, 'sync.db');
  const encryptionKey = randomBytes(32).toString('base64');
  const adminToken = randomBytes(24).toString('hex');
  const config = loadConfig({
    SYNC_MODE: 'test',
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
    SALESFORCE_LOGIN_URL: proxy.url,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SYNC_DB_PATH: dbPath,
    SYNC_ENCRYPTION_KEY: encryptionKey,
    CLINIC_TIMEZONE: 'Australia/Sydney',
    LOG_LEVEL: 'trace',
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_TOKENS: `viewer:${adminToken}`,
  });
  const capture = captureStream();
  const logger = createLogger({ level: config.logLevel, destination: capture.stream });
  const running = await startService(config, logger, {
    service: {
      ...(options.rootDir !== undefined ? { rootDir: options.rootDir } : {}),
      worker: { retryDelaysMs: [10, 20], jitterMs: 5, maxWaitMs: 2_000 },
      now: () => Date.parse(cliniko.controls.now()),
    },
    // Runs are started by the test only.
    scheduler: { runAtStart: false, journeyDailyAt: null },
  });
  let closed = false;
  const closeService = async () => {
    if (!closed) await running.close();
    closed = true;
  };
  return {
    cliniko,
    salesforce,
    proxy,
    running,
    service: running.service,
    logLines: capture.lines,
    dir,
    dbPath,
    encryptionKey,
    adminToken,
    async cycle(mode) {
      const started = await running.scheduler.trigger(mode);
      if (!started.accepted)
        throw new Error(`the scheduler did not start a ${mode} cycle: ${started.reason}`);
      const outcome = await started.done;
      if (outcome.summary === undefined)
        throw new Error(`${mode} cycle failed: ${outcome.error ?? 'no summary'}`);
      return outcome.summary;
    },
    closeService,
    async close() {
      await closeService();
      await proxy.close();
      await cliniko.close();
      await salesforce.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function fetchMetrics(h: Harness): Promise<string> {
  const response = await fetch(`${h.running.url}/metrics`, {
    headers: { authorization: `Bearer ${h.adminToken}` },
  });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return response.text();
}

/** Everything the zero-leak proof scans, gathered in one place so both cases scan the same way. */
function scanForCanaries(
  h: Harness,
  storeDump: ReturnType<typeof dumpSqliteStore>,
  metrics: string,
): Finding[] {
  return [
    ...findCanaries('/metrics', metrics),
    ...findCanaries('salesforce: received bytes', h.proxy.allText()),
    ...h.logLines.flatMap((line, i) => findCanaries(`log line ${i + 1}`, line)),
    ...storeDump.files.flatMap((f) => findCanaries(`store file ${f.path}`, f.text)),
    ...storeDump.cells.flatMap((c) => findCanaries(`store ${c.where}`, c.text)),
  ];
}

function storeDump(h: Harness) {
  return dumpSqliteStore(h.dbPath, keyringCipher(createKeyring(Buffer.from(h.encryptionKey, 'base64'))));
}

// A canary of our own, written into clinical fields between cycles (the emulator's own ones are
// generated from the seed): an edit must not leak either.
const NEW_NOTE_CANARY = 'CANARY-00c0ffee00000001';
const BOOKING_NOTE_CANARY = 'CANARY-00c0ffee00000002';
const CANCEL_NOTE_CANARY = 'CANARY-00c0ffee00000003';

describe('zero leak: a full sync of the canary practice', () => {
  let h: Harness;
  const summaries: RunSummary[] = [];
  let dumpWhileOpen: ReturnType<typeof dumpSqliteStore>;
  let metricsText: string;

  beforeAll(async () => {
    h = await startHarness({ patients: 30, seed: 23 });
    const { cliniko, service } = h;
    summaries.push(await h.cycle('backfill'));

    // Cycle 1: a contact detail and a clinical note change; a booking with a note.
    const patients = cliniko.practice.patients.filter((p) => p.archivedAt === null);
    const [first, second, third] = patients;
    if (!first || !second || !third) throw new Error('the practice has too few active patients');
    cliniko.controls.updatePatient(recordId('patient', first.idx), {
      email: 'zero.leak.changed@example.com',
      notes: `Reports new symptoms. ${NEW_NOTE_CANARY}`,
    });
    const later = (days: number) =>
      new Date(Date.parse(cliniko.controls.now()) + days * 86_400_000).toISOString();
    const booked = cliniko.controls.book({
      patient_id: recordId('patient', second.idx),
      starts_at: later(3),
      notes: `Bring scans. ${BOOKING_NOTE_CANARY}`,
    }) as { id: string };
    const toCancel = cliniko.controls.book({
      patient_id: recordId('patient', third.idx),
      starts_at: later(4),
    }) as {
      id: string;
    };
    cliniko.controls.setClock({ advanceSeconds: 60 });
    summaries.push(await h.cycle('incremental'));

    // Cycle 2: arrival and a cancellation with a note.
    cliniko.controls.markArrived(booked.id);
    cliniko.controls.cancel(toCancel.id, 50, `Flare-up. ${CANCEL_NOTE_CANARY}`);
    cliniko.controls.setClock({ advanceSeconds: 60 });
    summaries.push(await h.cycle('incremental'));

    // Cycle 3: nothing changed; then the daily journey pass.
    summaries.push(await h.cycle('incremental'));
    summaries.push(await service.runner.runJourneyDaily());
    dumpWhileOpen = storeDump(h);
    metricsText = await fetchMetrics(h);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('every run succeeded and wrote to Salesforce through the recording proxy', () => {
    for (const s of summaries) expect(s.error, `${s.mode} ${s.runId}`).toBeNull();
    expect(summaries[0]?.status).toBe('succeeded');
    const writes = h.proxy.requests.filter((r) => r.method !== 'GET' && r.url.includes('/services/data/'));
    expect(writes.length).toBeGreaterThan(3);
    // Positive control: the scan sees real payloads (a synced email is in the recorded bytes).
    expect(h.proxy.allText()).toContain('zero.leak.changed@example.com');
  });

  it('the practice really carries canaries in its clinical fields', () => {
    expect(h.cliniko.canaries.length).toBeGreaterThan(30);
    expect(h.cliniko.canaries.every((c) => /^CANARY-[0-9a-f]{16}$/.test(c))).toBe(true);
  });

  it('no canary in anything Salesforce received, any log line, the store files or any store table', async () => {
    expect(dumpWhileOpen.decrypted, 'the scan decrypted stored payloads').toBeGreaterThan(0);
    expect(h.logLines.length, 'the service logged at trace level').toBeGreaterThan(0);
    // /metrics is populated by the runs (positive control), then scanned like everything else.
    expect(metricsText).toMatch(/cliniko_sync_records_total\{object="Contact",outcome="written"\} [1-9]/);
    const whileOpen = scanForCanaries(h, dumpWhileOpen, metricsText);
    await h.closeService();
    const afterClose = scanForCanaries(h, storeDump(h), metricsText);
    expect([...whileOpen, ...afterClose]).toEqual([]);
  });

  it('no patient value and no secret in any log line (trace level) or in /metrics', () => {
    const values: string[] = [];
    for (const p of h.cliniko.practice.patients) {
      values.push(`${p.f.first_name} ${p.f.last_name}`);
      if (p.f.email) values.push(p.f.email);
      for (const phone of p.f.patient_phone_numbers) {
        values.push(phone.number);
        const digits = phone.number.replace(/\D/g, '');
        if (digits.startsWith('0')) values.push(`+61${digits.slice(1)}`);
      }
    }
    values.push('zero.leak.changed@example.com');
    const tokens = new Set<string>();
    for (const r of h.proxy.requests) {
      const auth = r.headers.authorization;
      if (typeof auth === 'string' && auth.startsWith('Bearer ')) tokens.add(auth.slice(7));
    }
    expect(tokens.size, 'access tokens were observed').toBeGreaterThan(0);
    const secrets = [h.cliniko.apiKey, h.salesforce.clientSecret, h.encryptionKey, h.adminToken, ...tokens];
    const sources = [
      ...h.logLines.map((line, i) => [`log line ${i + 1}`, line] as const),
      ['/metrics', metricsText] as const,
    ];
    const findings = sources.flatMap(([where, text]) => [
      ...findNeedles(where, text, values),
      ...findNeedles(where, text, secrets).map((f) => ({ ...f, needle: '(a secret)' })),
    ]);
    expect(findings).toEqual([]);
  });

  it('each run that changed something wrote its Sync_Run__c summary with counts and the data-map hash', () => {
    const runs = [...h.salesforce.org.records('Sync_Run__c')];
    const backfill = summaries[0]!;
    const record = runs.find((r) => r.Run_Id__c === backfill.runId);
    expect(record).toBeDefined();
    const total = (k: 'read' | 'written' | 'skipped' | 'quarantined' | 'deadLettered') =>
      Object.values(backfill.counts).reduce((sum, c) => sum + c[k], 0);
    expect(record).toMatchObject({
      Mode__c: 'Backfill',
      Status__c: 'Succeeded',
      Data_Map_Hash__c: h.service.dataMapHash,
    });
    expect(Number(record?.Records_Read__c)).toBe(total('read'));
    expect(Number(record?.Records_Written__c)).toBe(total('written'));
    expect(Number(record?.Records_Quarantined__c)).toBe(0);
    expect(total('read')).toBeGreaterThan(30);
    expect(JSON.parse(String(record?.Counts_By_Object__c))).toEqual(
      JSON.parse(JSON.stringify(backfill.counts)) as unknown,
    );
    expect(record?.Finished_At__c).toBeTruthy();
    // The cycle that changed a patient has its own summary.
    expect(runs.some((r) => r.Run_Id__c === summaries[1]?.runId)).toBe(true);
  });
});

describe('zero leak: a clinical field cannot be mapped, and the scanner fails when a canary does reach Salesforce', () => {
  let h: Harness | undefined;
  let root: string;
  // Planted in a field the signed map does send (address line 2 -> MailingStreet), as a leak would be.
  const PLANTED = 'CANARY-00c0ffee000000aa';

  beforeAll(() => {
    // The attack of issue #17: patients' notes sent to Contact.MailingCity.
    root = tempRepoRoot('zero-leak-mismap-');
    editMap(root, '    source: city\n', '    source: notes\n');
  });

  afterAll(async () => {
    await h?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('a map that sends patients.notes anywhere is refused before anything is read (clinical deny-list)', async () => {
    const lookups = {
      clinikoSpecFields: await loadClinikoFieldCatalogue(root),
      packageFields: await readPackageFields(join(root, 'config/salesforce-fields.json')),
    };
    expect(() => loadDataMap(readMap(root), lookups)).toThrow(
      /patients\.notes -> Contact\.MailingCity\) source: patients\.notes is on the clinical deny-list/,
    );
    // Control: the repository's own map loads with the same lookups.
    expect(() =>
      loadDataMap(readFileSync(join(REPO_ROOT, 'config/data-map.yaml'), 'utf8'), lookups),
    ).not.toThrow();
  });

  it('finds a canary planted in a field the map sends, in what Salesforce received', async () => {
    h = await startHarness({ patients: 8, seed: 5 });
    const harness = h;
    const patient = harness.cliniko.practice.patients.find((p) => p.archivedAt === null);
    if (!patient) throw new Error('the practice has no active patient');
    harness.cliniko.controls.updatePatient(recordId('patient', patient.idx), { address_2: PLANTED });
    await harness.cycle('backfill');
    const metrics = await fetchMetrics(harness);
    await harness.closeService();
    const findings = scanForCanaries(harness, storeDump(harness), metrics);
    const received = findings.filter((f) => f.where === 'salesforce: received bytes');
    expect(received.map((f) => f.needle)).toContain(PLANTED);
    // And still none of the practice's own clinical canaries.
    expect(received.filter((f) => harness.cliniko.canaries.includes(f.needle))).toEqual([]);
  });
});
