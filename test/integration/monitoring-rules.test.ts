import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { startService, type RunningService } from '../../sync-service/src/runtime/start.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv, FAST_RETRIES } from '../support/harness.js';

/**
 * Every Prometheus rule in monitoring/ evaluated by promtool against the service's own /metrics.
 * The real service (over both emulators) is scraped three times: A quiet after a good backfill;
 * B after real faults (dead letters from Salesforce row locks, a replayed item left pending, Cliniko
 * 429s, the Salesforce allowance at 85 %, the clock two hours on); C as B plus an operator's pause.
 * The scrapes become promtool input series (A for 30 min, B for 60, C for 310; `up` is Prometheus'
 * own series, given as 1 then 0), and `promtool test rules` checks which alerts fire when, including
 * controls: nothing fires on A, and the pause silences the no-success alert.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = path.join(ROOT, 'monitoring/prometheus/cliniko-sync.rules.yml');
const TOKEN = 'viewer:monitoring-rules-test-token-000';

let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let running: RunningService;
let dir: string;

interface Sample {
  readonly series: string;
  readonly name: string;
  readonly value: number;
}

function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unexpected exposition line: ${line}`);
    const value = Number(match[3]);
    if (Number.isFinite(value)) out.push({ series: `${match[1]}${match[2] ?? ''}`, name: match[1]!, value });
  }
  return out;
}

async function scrape(): Promise<{ samples: Sample[]; at: number }> {
  const response = await fetch(`${running.url}/metrics`, {
    headers: { authorization: `Bearer ${TOKEN.slice('viewer:'.length)}` },
  });
  expect(response.status).toBe(200);
  return { samples: parseExposition(await response.text()), at: Date.parse(cliniko.controls.now()) / 1000 };
}

async function trigger(mode: 'backfill' | 'incremental'): Promise<void> {
  const result = await running.scheduler.trigger(mode);
  if (!result.accepted) throw new Error(`run refused: ${result.reason}`);
  await result.done;
}

const scrapes: Array<{ samples: Sample[]; at: number }> = [];

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 6,
    seed: 4,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({ controls: true });
  dir = await mkdtemp(path.join(tmpdir(), 'monitoring-rules-'));
  const clock = () => Date.parse(cliniko.controls.now());
  const config = loadConfig({
    ...emulatorEnv(cliniko, salesforce, dir),
    PORT: '0',
    ADMIN_TOKENS: TOKEN,
    SYNC_POLL_INTERVAL_SECONDS: '3600',
  });
  running = await startService(config, createLogger({ level: 'silent' }), {
    service: { worker: FAST_RETRIES, rootDir: ROOT, now: clock },
    scheduler: { runAtStart: false, journeyDailyAt: null },
    processMetrics: false,
    now: clock,
  });
  // A: a good backfill.
  await trigger('backfill');
  scrapes.push(await scrape());
  // B: two patients' Contacts dead-lettered, one replayed and left pending, Cliniko 429s, the
  // Salesforce allowance at 85 %, and two hours without a poll.
  const locked = ['Ada', 'Bea'].map((first) =>
    String((cliniko.controls.createPatient({ first_name: first, last_name: 'Lock' }) as { id: string }).id),
  );
  for (const value of locked)
    salesforce.org.lockFaults.push({
      object: 'Contact',
      field: 'Cliniko_Patient_Id__c',
      value,
      times: 1_000,
    });
  await trigger('incremental');
  const letters = await running.service.store.listDeadLetters();
  expect(letters.length).toBeGreaterThanOrEqual(2);
  expect(await running.service.store.replayDeadLetter(letters[0]!.id, clock(), 'replay-test')).toBe(true);
  cliniko.controls.injectFault({ path: '*', kind: '429', count: 2, resetSeconds: 1 });
  await running.service.cliniko.checkConnection();
  expect(running.service.cliniko.stats().rateLimited).toBeGreaterThanOrEqual(1);
  await fetch(`${salesforce.loginUrl}/__emulator/limits`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ used: 85_000, max: 100_000 }),
  });
  await running.service.salesforce.connection.limits();
  cliniko.controls.setClock({ advanceSeconds: 2 * 3600 });
  scrapes.push(await scrape());
  // C: and an operator's pause.
  await running.operations.control.pause('test:operator');
  scrapes.push(await scrape());
}, 180_000);

afterAll(async () => {
  await running?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Phases in promtool minutes: [first, last] sample of each scrape's constant series. */
const PHASES = [
  [0, 30],
  [31, 90],
  [91, 400],
] as const;

function inputSeries(): Array<{ series: string; values: string }> {
  const all = new Set(scrapes.flatMap((s) => s.samples.map((x) => x.series)));
  const out: Array<{ series: string; values: string }> = [];
  for (const series of all) {
    const parts = scrapes.map((scrapeAt, i) => {
      const [first, last] = PHASES[i]!;
      const count = last - first;
      const sample = scrapeAt.samples.find((x) => x.series === series);
      if (!sample) return `_x${count + 1}`;
      // Timestamps move onto promtool's clock: the scrape instant becomes the phase's first minute.
      const value = sample.name.endsWith('_timestamp_seconds')
        ? sample.value - scrapeAt.at + first * 60
        : sample.value;
      return `${value}+0x${count}`;
    });
    out.push({ series, values: parts.join(' ') });
  }
  out.push({
    series: '{__name__="up", job="cliniko-sync", instance="sync-a:3000"}',
    values: '1+0x30 0+0x369',
  });
  return out;
}

describe('Prometheus rules against the service /metrics', () => {
  it('promtool check rules accepts the file', () => {
    const result = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(result.error, 'promtool is missing: apt-get install prometheus (.ci/run does)').toBeUndefined();
    expect(result.stdout).toContain('SUCCESS: 8 rules found');
  });

  it('every metric a rule or the Grafana dashboard names is in the /metrics output', async () => {
    const names = new Set(
      scrapes.flatMap((s) => s.samples.map((x) => x.name.replace(/_(bucket|sum|count)$/, ''))),
    );
    for (const s of scrapes[1]!.samples) names.add(s.name);
    const texts = [
      await readFile(RULES, 'utf8'),
      await readFile(path.join(ROOT, 'monitoring/grafana/cliniko-sync.json'), 'utf8'),
    ];
    const used = new Set(
      texts.flatMap((t) => [...t.matchAll(/\bcliniko_sync_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    expect(used.size).toBeGreaterThan(10);
    const missing = [...used].filter(
      (n) => !names.has(n) && !names.has(n.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(missing).toEqual([]);
  });

  it('promtool test rules: which alerts fire when', async () => {
    const doc = parseYaml(await readFile(RULES, 'utf8')) as {
      groups: Array<{
        rules: Array<{ alert: string; labels: Record<string, string>; annotations: Record<string, string> }>;
      }>;
    };
    const rules = new Map(doc.groups[0]!.rules.map((r) => [r.alert, r]));
    const lagging = scrapes[1]!.samples
      .filter((s) => s.name === 'cliniko_sync_stream_lag_seconds' && s.value > 1800)
      .map((s) => /stream="([^"]+)"/.exec(s.series)![1]!);
    expect(lagging.length).toBeGreaterThanOrEqual(4);
    const firing: Record<string, string[]> = {
      '25m': [],
      '38m': [
        'ClinikoSyncDown',
        'ClinikoSyncDeadLetters',
        'ClinikoSyncNoRecentSuccess',
        'ClinikoRateLimited',
        'SalesforceApiAllowanceNearlyUsed',
      ],
      '80m': [
        'ClinikoSyncDown',
        'ClinikoSyncDeadLetters',
        'ClinikoSyncNoRecentSuccess',
        'ClinikoSyncOutboxBacklog',
        'ClinikoSyncStreamLag',
        'SalesforceApiAllowanceNearlyUsed',
      ],
      // Paused since 91m: the pause alert after 4 h, and no "no success" alert while paused.
      '380m': [
        'ClinikoSyncDown',
        'ClinikoSyncDeadLetters',
        'ClinikoSyncOutboxBacklog',
        'ClinikoSyncStreamLag',
        'SalesforceApiAllowanceNearlyUsed',
        'ClinikoSyncPaused',
      ],
    };
    const tests = [];
    for (const [evalTime, names] of Object.entries(firing)) {
      for (const [alertname, rule] of rules) {
        const instances: Array<Record<string, string>> = !names.includes(alertname)
          ? []
          : alertname === 'ClinikoSyncStreamLag'
            ? lagging.map((stream) => ({ stream }))
            : alertname === 'ClinikoSyncDown'
              ? [{ job: 'cliniko-sync', instance: 'sync-a:3000' }]
              : [{}];
        tests.push({
          eval_time: evalTime,
          alertname,
          exp_alerts: instances.map((labels) => ({
            exp_labels: { ...rule.labels, ...labels },
            exp_annotations: Object.fromEntries(
              Object.entries(rule.annotations).map(([k, v]) => [
                k,
                v.replace('{{ $labels.stream }}', labels.stream ?? ''),
              ]),
            ),
          })),
        });
      }
    }
    const file = path.join(dir, 'rules.test.yml');
    await writeFile(
      file,
      toYaml({
        rule_files: [RULES],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: inputSeries(), alert_rule_test: tests }],
      }),
    );
    const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS');
    expect(result.status).toBe(0);

    // Control: the same series with the dead letters gone must fail the expectation that they alert.
    const quiet = inputSeries().map((s) =>
      s.series === 'cliniko_sync_outbox_items{state="dead_lettered"}' ? { ...s, values: '0+0x400' } : s,
    );
    await writeFile(
      file,
      toYaml({
        rule_files: [RULES],
        evaluation_interval: '1m',
        tests: [{ interval: '1m', input_series: quiet, alert_rule_test: tests }],
      }),
    );
    const control = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    expect(control.status).not.toBe(0);
    expect(`${control.stdout}${control.stderr}`).toContain('ClinikoSyncDeadLetters');
  });
});
