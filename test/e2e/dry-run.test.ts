import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { dryRunCommand } from '../../sync-service/src/cli/commands/dry-run.js';
import type { CliContext } from '../../sync-service/src/cli/types.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { runDryRun, type RecordPreview } from '../../sync-service/src/sync/dry-run/index.js';
import { createSyncService, type SyncServiceOptions } from '../../sync-service/src/runtime/wiring.js';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';

/**
 * `sync dry-run` against both emulators: what it reports before any sync (everything is a create),
 * after a backfill (nothing), after one edit in Cliniko (exactly that field), and that it writes
 * nothing anywhere: no Salesforce write requests, the org's records unchanged, no outbox rows, no
 * watermark moves, only GETs to Cliniko.
 */
let h: SyncHarness;
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 15, seed: 5 }, salesforce: { controls: true } });
});

afterAll(async () => {
  await h?.close();
});

const OBJECTS = ['Contact', 'Care_Plan__c', 'Cliniko_Appointment__c', 'Cliniko_Invoice__c', 'Sync_Run__c'];

/** Everything a dry run must leave alone, as one comparable value. */
async function state() {
  const stats = await h.service.store.outboxStats(Date.now());
  return {
    org: Object.fromEntries(OBJECTS.map((o) => [o, JSON.stringify([...h.salesforce.org.records(o)])])),
    watermarks: await h.service.store.listWatermarks(),
    outbox: { pending: stats.pending, deadLettered: stats.deadLettered, quarantined: stats.quarantined },
    runs: (await h.service.store.listRuns({ limit: 100 })).length,
    writerCalls: h.service.writer.calls(),
  };
}

async function salesforceRequests(): Promise<Array<{ method: string; url: string }>> {
  const res = await fetch(`${h.salesforce.instanceUrl}/__emulator/requests`);
  return (await res.json()) as Array<{ method: string; url: string }>;
}

async function clearSalesforceRequests(): Promise<void> {
  await fetch(`${h.salesforce.instanceUrl}/__emulator/requests`, { method: 'DELETE' });
}

/** Salesforce requests other than reads (OAuth token requests are POSTs but write no data). */
async function salesforceWrites() {
  return (await salesforceRequests()).filter(
    (r) => r.method !== 'GET' && !r.url.startsWith('/services/oauth2/token'),
  );
}

async function preview(full: boolean): Promise<RecordPreview[]> {
  const out: RecordPreview[] = [];
  await runDryRun(
    {
      cliniko: h.service.cliniko,
      store: h.service.store,
      dataMap: h.service.dataMap,
      journeyConfig: h.service.journeyConfig,
      clinicTimezone: h.config.clinicTimezone,
      now: () => Date.parse(h.cliniko.controls.now()),
      query: async (soql) =>
        (await h.service.salesforce.connection.query<Record<string, unknown>>(soql)).records,
    },
    { full, onRecord: (p) => out.push(p) },
  );
  return out;
}

/** Runs the CLI command with the harness's service (and its options) and captures stdout. */
async function cli(args: string[], service?: (options?: SyncServiceOptions) => Promise<typeof h.service>) {
  const lines: string[] = [];
  const ctx: CliContext = {
    env: {},
    config: () => h.config,
    logger: () => logger,
    service:
      service ??
      ((options) =>
        createSyncService(h.config, logger, {
          now: () => Date.parse(h.cliniko.controls.now()),
          ...options,
        })),
    print: (line) => lines.push(line),
    tty: false,
    rootDir: process.cwd(),
  };
  const code = await dryRunCommand.run(args, ctx);
  return { code, output: lines.join('\n') };
}

describe('sync dry-run', () => {
  it('before any sync, reports every record as a create and writes nothing', async () => {
    await clearSalesforceRequests();
    const clinikoLogBefore = h.cliniko.controls.requestLog().length;
    const before = await state();
    const previews = await preview(false);
    expect(await state()).toEqual(before);
    expect(await salesforceWrites()).toEqual([]);
    const clinikoMethods = new Set(
      h.cliniko.controls
        .requestLog()
        .slice(clinikoLogBefore)
        .map((r) => r.method),
    );
    expect([...clinikoMethods]).toEqual(['GET']);

    expect(previews.length).toBeGreaterThan(15);
    expect(previews.every((p) => p.action === 'create')).toBe(true);
    const contacts = previews.filter((p) => p.object === 'Contact');
    expect(contacts).toHaveLength(h.cliniko.practice.patients.length);
    const fields = new Set(contacts.flatMap((c) => c.changes.map((x) => x.field)));
    expect(fields).toContain('LastName');
    expect(fields).toContain('Email');
    const appointment = previews.find((p) => p.object === 'Cliniko_Appointment__c');
    expect(appointment?.changes.map((c) => c.field)).toContain('Contact__r.Cliniko_Patient_Id__c');
  });

  it('after a backfill, reports nothing to do, and the command prints no patient values', async () => {
    expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
    await clearSalesforceRequests();
    const before = await state();
    const previews = await preview(true);
    expect(await state()).toEqual(before);
    expect(await salesforceWrites()).toEqual([]);
    const notUnchanged = previews.filter((p) => p.action !== 'unchanged');
    expect(notUnchanged).toEqual([]);
    expect(previews.length).toBeGreaterThan(15);

    const { code, output } = await cli(['--full']);
    expect(code).toBe(0);
    expect(output).toContain('(signed)');
    expect(output).not.toMatch(/^(CREATE|UPDATE) /m);
    expect(output).toMatch(new RegExp(`Contact\\s+0\\s+0\\s+0\\s+${h.cliniko.practice.patients.length}\\n`));
    expect(output).toContain('Salesforce writes: 0');
    expect(await state()).toEqual(before);
  });

  it('after one edit in Cliniko, reports exactly that field, values only when asked', async () => {
    const patient = h.cliniko.practice.patients.find((p) => p.archivedAt === null && p.f.email)!;
    const patientId = recordId('patient', patient.idx);
    const oldEmail = patient.f.email!;
    h.cliniko.controls.updatePatient(patientId, { email: 'dry.run.preview@example.com' });
    await clearSalesforceRequests();
    const before = await state();

    const previews = (await preview(false)).filter((p) => p.action !== 'unchanged');
    expect(previews).toHaveLength(1);
    expect(previews[0]).toMatchObject({ object: 'Contact', externalId: patientId, action: 'update' });
    expect(previews[0]!.changes.map((c) => [c.field, c.kind])).toEqual([['Email', 'changed']]);

    const plain = await cli([]);
    expect(plain.code).toBe(0);
    expect(plain.output).toContain(`UPDATE Contact ${patientId}: Email: changed`);
    expect(plain.output).not.toContain('dry.run.preview@example.com');
    expect(plain.output).not.toContain(oldEmail);

    const shown = await cli(['--show-values']);
    expect(shown.output).toContain('WARNING: --show-values prints patient data');
    expect(shown.output).toContain(
      `UPDATE Contact ${patientId}: Email: changed "${oldEmail}" -> "dry.run.preview@example.com"`,
    );
    expect(await state()).toEqual(before);
    expect(await salesforceWrites()).toEqual([]);

    // The next real cycle writes exactly what the dry run announced.
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    expect((await preview(false)).filter((p) => p.action !== 'unchanged')).toEqual([]);
  });

  it('reports a hand edit in Salesforce as drift, which a sync would skip', async () => {
    const contact = [...h.salesforce.org.records('Contact')].find((c) => typeof c.FirstName === 'string')!;
    const patientId = String(contact.Cliniko_Patient_Id__c);
    await h.service.salesforce.connection
      .sobject('Contact')
      .update({ Id: String(contact.Id), FirstName: 'Handedited' });
    await clearSalesforceRequests();
    const before = await state();

    const previews = (await preview(true)).filter((p) => p.action !== 'unchanged');
    expect(previews.map((p) => [p.object, p.externalId, p.action])).toEqual([
      ['Contact', patientId, 'drift'],
    ]);
    expect(previews[0]!.changes.map((c) => [c.field, c.kind])).toEqual([['FirstName', 'changed']]);
    const { output } = await cli(['--full']);
    expect(output).toContain(`DRIFT Contact ${patientId}: FirstName: changed (unchanged in Cliniko`);
    expect(output).not.toContain('Handedited');
    expect(await state()).toEqual(before);
    expect(await salesforceWrites()).toEqual([]);

    // And indeed a sync leaves it alone.
    expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
    expect([...h.salesforce.org.records('Contact')].find((c) => c.Id === contact.Id)?.FirstName).toBe(
      'Handedited',
    );
  });

  it('previews an unsigned map and says so; --limit bounds the read', async () => {
    const text = readFileSync(join(process.cwd(), h.config.files.dataMap), 'utf8');
    const doc = parseYaml(text) as Record<string, unknown>;
    delete doc.signoff;
    const unsignedPath = join(h.dir, 'unsigned-map.yaml');
    writeFileSync(unsignedPath, stringifyYaml(doc));
    const config = { ...h.config, files: { ...h.config.files, dataMap: unsignedPath } };
    await expect(createSyncService(config, logger)).rejects.toThrow(/never been signed/);

    const before = await state();
    const { code, output } = await cli(['--full', '--limit', '3'], (options) =>
      createSyncService(config, logger, { now: () => Date.parse(h.cliniko.controls.now()), ...options }),
    );
    expect(code).toBe(0);
    expect(output).toContain('NOT SIGNED');
    expect(output).toMatch(/patients\s+from the beginning: 3 read \(limit reached\)/);
    expect(output.match(/^(CREATE|UPDATE) /gm) ?? []).toHaveLength(0);
    expect(await state()).toEqual(before);
  });

  it('refuses a bad --limit naming the option', async () => {
    await expect(cli(['--limit', 'lots'])).rejects.toThrow(/--limit must be a positive integer/);
  });
});
