// The integration owner's console in headless Chromium, against the real service (scheduler, admin
// API, console) over both emulators on 127.0.0.1 ephemeral ports: sign in, watch a backfill progress
// to completion, replay a dead letter and see it written, pause and resume, sign in as a viewer, and
// check the page with axe-core. Each screenshot is paired with the text the page showed when it was
// taken, and that text is asserted. PNGs go to test/browser/screenshots/ (not committed), with the
// service's own log (service.log, debug level: the level the zero-leak test proves free of PHI).
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { startService, type RunningService } from '../../sync-service/src/runtime/start.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv, FAST_RETRIES } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

const OPERATOR = 'operator-token-for-the-console-test';
const VIEWER = 'viewer-token-for-the-console-test';

let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let running: RunningService;
let dir: string;
let context: BrowserContext;
let userDataDir: string;
let page: Page;
let lockedPatient: string;
let serviceLog: WriteStream | undefined;
const pageErrors: string[] = [];

/** Saves a screenshot and returns the page's visible text at that moment (what the image shows). */
async function shoot(name: string): Promise<string> {
  const text = await page.evaluate(() => document.body.innerText);
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  await writeFile(path.join(screenshots, `${name}.txt`), text);
  return text;
}

/** HH:MM in the clinic's zone twelve hours from now: a nightly reconciliation that never falls in a run. */
function twelveHoursAway(timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(Date.now() + 12 * 3_600_000);
}

async function axeViolations(): Promise<Array<{ id: string; impact: string | null; nodes: number }>> {
  // evaluate() is not subject to the page's Content-Security-Policy, which forbids inline script.
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (
            o: unknown,
          ) => Promise<{ violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> }>;
        };
      }
    ).axe;
    const result = await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  cliniko = await startClinikoEmulator({
    patients: 120,
    seed: 7,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({ controls: true });
  dir = await mkdtemp(path.join(tmpdir(), 'console-test-'));
  // A patient whose Contact write always meets a row lock: it is dead-lettered after its retries.
  lockedPatient = String(
    (cliniko.controls.createPatient({ first_name: 'Lock', last_name: 'Test' }) as { id: string }).id,
  );
  salesforce.org.lockFaults.push({
    object: 'Contact',
    field: 'Cliniko_Patient_Id__c',
    value: lockedPatient,
    times: 1_000,
  });
  // Slow appointment pages so the backfill takes a few seconds and its progress can be watched.
  cliniko.controls.injectFault({
    path: '/v1/individual_appointments*',
    kind: 'slow',
    delayMs: 250,
    count: 40,
  });
  // No timed job runs during the test: only the runs it starts are shown, and its clicks are never
  // refused because one is in progress. The adaptive poll plans the next poll one paced interval (about
  // 13 s) after a cycle began, whatever SYNC_POLL_INTERVAL_SECONDS says, unless its floor is as long:
  // without SYNC_POLL_MIN_SECONDS a backfill slowed past 13 s by a loaded machine was followed at once
  // by a poll, whose "Last incremental run" replaced the backfill's outcome before the page showed it.
  const env = emulatorEnv(cliniko, salesforce, dir);
  const config = loadConfig({
    ...env,
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_TOKENS: `operator:${OPERATOR},viewer:${VIEWER}`,
    SYNC_POLL_INTERVAL_SECONDS: '3600',
    SYNC_POLL_MIN_SECONDS: '3600',
    SYNC_RECONCILE_AT: twelveHoursAway(env.CLINIC_TIMEZONE!),
  });
  serviceLog = createWriteStream(path.join(screenshots, 'service.log'));
  running = await startService(config, createLogger({ level: 'debug', destination: serviceLog }), {
    service: { worker: FAST_RETRIES, rootDir: ROOT, now: () => Date.parse(cliniko.controls.now()) },
    scheduler: { runAtStart: false, journeyDailyAt: null, remindersIntervalSeconds: null },
    processMetrics: false,
    operations: { usageEveryMs: 1_000 },
  });
  userDataDir = await mkdtemp(path.join(tmpdir(), 'console-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await context?.close();
  await running?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => (serviceLog ? serviceLog.end(resolve) : resolve()));
});

describe('the web console in headless Chromium', () => {
  it('refuses a wrong token and signs in with an operator token into an HTTP-only cookie', async () => {
    await page.goto(`${running.url}/console`);
    await page.getByLabel('Admin token').waitFor();
    expect(await axeViolations()).toEqual([]);
    await page.getByLabel('Admin token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#sign-in-error').innerText()).toBe('That token is not valid.');

    await page.getByLabel('Admin token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#role').innerText()).toBe('signed in as operator');
    const cookies = await context.cookies(running.url);
    const session = cookies.find((c) => c.name === 'sync_console');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    // The script cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    // Control: without the console header the cookie alone does not authenticate (cross-site forms).
    const bare = await page.evaluate(
      async () => (await fetch('/runs', { credentials: 'same-origin' })).status,
    );
    expect(bare).toBe(401);
  });

  it('watches a backfill progress to completion', async () => {
    await page.getByRole('button', { name: 'Run a backfill' }).click();
    const fractions: number[] = [];
    const seen: string[] = [];
    let midRun = '';
    // Generous on a loaded machine (the backfill reads slowed pages, then writes about 2,300 records).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const state = await page.locator('#run-state').innerText();
      const value = await page.locator('#run-progress').evaluate((p) => (p as HTMLProgressElement).value);
      if (seen[seen.length - 1] !== state) seen.push(state);
      const notice = await page.locator('#notice').innerText();
      const history = `states seen: ${seen.slice(-12).join(' | ')}; notice: ${notice}`;
      if (notice.startsWith('Refused')) throw new Error(`the backfill was refused; ${history}`);
      if (state.startsWith('A backfill run started')) {
        fractions.push(value);
        if (!midRun && value > 0 && value < 1) midRun = await shoot('console-backfill-running');
      }
      if (state.startsWith('Last backfill run')) break;
      // Any other run shown means the backfill's outcome can no longer appear: fail now, and say why.
      if (/^(A|Last) /.test(state) && !/^(A|Last) backfill run/.test(state))
        throw new Error(`another run replaced the backfill in the progress view; ${history}`);
      if (Date.now() > deadline) throw new Error(`backfill did not finish in 120 s; ${history}`);
      await page.waitForTimeout(150);
    }
    // No poll follows the backfill within the test (beforeAll): its outcome stays the one shown, and the
    // manual runs of the next tests are not refused. The paced default would poll 13 s after it began.
    expect(running.scheduler.nextRun()! - Date.now()).toBeGreaterThan(30 * 60_000);
    // Seen in flight, part-way, and rising.
    expect(fractions.some((f) => f > 0 && f < 1)).toBe(true);
    expect(fractions[fractions.length - 1]).toBeGreaterThanOrEqual(fractions[0]!);
    expect(midRun).toContain('A backfill run started');
    expect(midRun).toMatch(/ETA for reading \(.*patients.*\) at the Cliniko budget's pace/);

    // Finished: the bar is full, the status is partial (the locked Contact was dead-lettered).
    await expect
      .poll(() => page.locator('#run-progress').evaluate((p) => (p as HTMLProgressElement).value))
      .toBe(1);
    const done = await shoot('console-backfill-done');
    expect(done).toMatch(/Last backfill run partial at .*: \d+ records read, \d+ written\./);
    const read = Number(/: (\d+) records read/.exec(done)?.[1]);
    expect(read).toBeGreaterThan(120);
    expect(done).toContain(`Contact\t${lockedPatient}`);
    expect(done).toContain('UNABLE_TO_LOCK_ROW');
    expect(done).toMatch(/Records read: 100 %/);
  }, 150_000);

  it('replays a dead letter and sees it written', async () => {
    expect(activeRecords(salesforce, 'Contact').some((r) => r.Cliniko_Patient_Id__c === lockedPatient)).toBe(
      false,
    );
    salesforce.org.lockFaults.length = 0; // the cause is fixed
    await page.getByRole('button', { name: `Replay Contact ${lockedPatient}`, exact: true }).click();
    await expect
      .poll(() => page.locator('#notice').innerText())
      .toBe(`Dead letter Contact ${lockedPatient} is back in the outbox; the next run writes it.`);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect
      .poll(() => page.locator('#run-state').innerText(), { timeout: 60_000 })
      .toMatch(/^Last incremental run/);
    const text = await shoot('console-after-replay');
    expect(text).not.toContain(`Contact\t${lockedPatient}\t`);
    expect(activeRecords(salesforce, 'Contact').some((r) => r.Cliniko_Patient_Id__c === lockedPatient)).toBe(
      true,
    );
    expect(text).toMatch(/Written per Salesforce object\s+Object\tWritten\s+Contact\t\d+/);
  });

  it('pauses and resumes automatic sync, shown on /health and in the audit log', async () => {
    await page.getByRole('button', { name: 'Pause automatic sync' }).click();
    await expect
      .poll(() => page.locator('#pause-state').innerText())
      .toMatch(/^Paused since .* by console:operator:[0-9a-f]{12}\./);
    const health = (await (await fetch(`${running.url}/health`)).json()) as {
      services: { scheduler: { paused?: boolean; status: string } };
    };
    expect(health.services.scheduler).toMatchObject({ paused: true, status: 'degraded' });
    const paused = await shoot('console-paused');
    expect(paused).toContain('paused by an operator');
    await page.getByRole('button', { name: 'Resume automatic sync' }).click();
    await expect
      .poll(() => page.locator('#pause-state').innerText())
      .toMatch(/^Running: a poll every 3600 s\./);
    const entries = await running.service.store.listAudit({ externalId: 'automatic-sync' });
    expect(entries.map((e) => (JSON.parse(e.entry) as { operation: string }).operation)).toEqual([
      'sync-pause',
      'sync-resume',
    ]);
  });

  it('shows governance, budgets and the quarantine panel, and passes axe-core', async () => {
    await page.reload();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#audit').innerText()).toMatch(/^Intact: \d+ entries, verified /);
    await expect
      .poll(() => page.locator('#chart-cliniko-text').innerText())
      .toMatch(/^Now \d+ of \d+ requests per minute; peak \d+ %/);
    await expect
      .poll(() => page.locator('#chart-salesforce-text').innerText())
      .toMatch(/^Now \d+ of \d+ requests today/);
    // The service serves GET /quarantine, so the panel lists (the "not available" panel is for an older
    // service without the route, and must not show here). It fills in when its own request answers.
    await expect
      .poll(() => page.locator('#quarantine-state').innerText())
      .toMatch(/^(No quarantined records\.|\d+ quarantined records?\.)$/);
    const text = await shoot('console-overview');
    expect(text).toMatch(/Data map\s+Signed by .+ on \d{4}-\d{2}-\d{2}/);
    expect(text).toContain('Overall:');
    expect(await axeViolations()).toEqual([]);
  });

  it('a viewer sees no operator actions and cannot pause', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').fill(VIEWER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#role').innerText()).toBe('signed in as viewer');
    expect(await page.getByRole('button', { name: 'Pause automatic sync' }).isVisible()).toBe(false);
    const status = await page.evaluate(
      async () => (await fetch('/sync/pause', { method: 'POST', headers: { 'x-console': '1' } })).status,
    );
    expect(status).toBe(403);
    expect(pageErrors).toEqual([]);
  });
});
