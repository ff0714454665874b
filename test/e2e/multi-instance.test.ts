import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { verifyAuditChain, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { PostgresStore } from '../../sync-service/src/store/index.js';
import { createSyncService, type SyncService } from '../../sync-service/src/runtime/wiring.js';
import { startClinikoEmulator, recordId, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { activeRecords, expectOrgMatchesProjection } from '../support/org-state.js';

/**
 * Two service instances share one PostgreSQL database and run at the same time. Stream leases keep
 * them from reading the same stream at once and outbox leases (FOR UPDATE SKIP LOCKED) from writing the
 * same item twice: every record is written exactly once, the org ends exact, and the audit chain is one
 * unbroken line.
 */
let pgServer: TestPostgres;
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
const services: SyncService[] = [];

beforeAll(async () => {
  pgServer = await startTestPostgres();
  const { poolConfig } = await pgServer.newSchema();
  cliniko = await startClinikoEmulator({
    patients: 60,
    seed: 31,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({});
  const key = randomBytes(32).toString('base64');
  const schemaUrl = `${pgServer.url}?options=${encodeURIComponent(String(poolConfig.options))}`;
  for (let i = 0; i < 2; i++) {
    const config = loadConfig({
      SYNC_MODE: 'test',
      CLINIKO_API_KEY: cliniko.apiKey,
      CLINIKO_BASE_URL: cliniko.baseUrl,
      CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
      SALESFORCE_LOGIN_URL: salesforce.loginUrl,
      SALESFORCE_CLIENT_ID: salesforce.clientId,
      SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
      DATABASE_URL: schemaUrl,
      SYNC_ENCRYPTION_KEY: key,
      CLINIC_TIMEZONE: 'Australia/Sydney',
    });
    services.push(
      await createSyncService(config, createLogger({ level: 'silent' }), {
        worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 10_000, claimLimit: 50 },
        now: () => Date.parse(cliniko.controls.now()),
      }),
    );
  }
});

afterAll(async () => {
  for (const s of services) await s.close();
  await cliniko?.close();
  await salesforce?.close();
  await pgServer?.stop();
});

describe('two instances on one PostgreSQL store', () => {
  it('write every record exactly once and end exact', async () => {
    expect(services[0]!.store).toBeInstanceOf(PostgresStore);
    const [a, b] = await Promise.all(services.map((s) => s.runner.runCycle('incremental')));
    for (const run of [a!, b!]) expect(run.error).toBeNull();
    // Let both drain whatever the other enqueued, concurrently.
    await Promise.all(services.map((s) => s.worker.drain()));

    const audit = (await services[0]!.store.listAudit({ limit: 1_000_000 })).map(
      (r) => JSON.parse(r.entry) as AuditEntry,
    );
    expect(verifyAuditChain(audit)).toMatchObject({ ok: true });
    const writes = audit.filter((e) => e.operation === 'create' || e.operation === 'update');
    const keys = writes.map((e) => `${e.object}|${e.externalId}|${e.payloadSha256}`);
    expect(new Set(keys).size, 'no payload written twice').toBe(keys.length);
    expect((await services[0]!.store.outboxStats(Date.now())).pending).toBe(0);
    expect(activeRecords(salesforce, 'Contact')).toHaveLength(cliniko.practice.patients.length);
    await expectOrgMatchesProjection(services[0]!, salesforce);
  });

  it('share later changes without double writes', async () => {
    for (let i = 0; i < 10; i++)
      cliniko.controls.updatePatient(recordId('patient', i), { email: `multi${i}@example.com` });
    const before = (await services[0]!.store.listAudit({ limit: 1_000_000 })).length;
    await Promise.all(services.map((s) => s.runner.runCycle('incremental')));
    const after = (await services[0]!.store.listAudit({ limit: 1_000_000 })).map(
      (r) => JSON.parse(r.entry) as AuditEntry,
    );
    const contactWrites = after
      .slice(before)
      .filter((e) => e.object === 'Contact' && !e.externalId.includes('#'));
    expect(contactWrites.map((e) => e.externalId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => recordId('patient', i)).sort(),
    );
    expect(verifyAuditChain(after)).toMatchObject({ ok: true });
  });
});
