import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSyncService, type SyncService } from '../../sync-service/src/sync/service.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

/**
 * The product's main job end to end over loopback HTTP: the Cliniko emulator's synthetic practice is
 * synced through the real Cliniko client, the data map, the journey engine, the encrypted SQLite store
 * and jsforce into the Salesforce emulator.
 */
let cliniko: ClinikoEmulator;
let salesforce: SalesforceEmulator;
let service: SyncService;
let dir: string;

function recordsOf(object: string): Array<Record<string, unknown>> {
  return [...salesforce.org.records(object)].filter((r) => r.IsDeleted !== true);
}

beforeAll(async () => {
  cliniko = await startClinikoEmulator({
    patients: 40,
    seed: 11,
    controls: true,
    now: new Date().toISOString(),
  });
  salesforce = await startSalesforceEmulator({});
  dir = mkdtempSync(join(tmpdir(), 'sync-e2e-'));
  const config = loadConfig({
    CLINIKO_API_KEY: cliniko.apiKey,
    CLINIKO_BASE_URL: cliniko.baseUrl,
    CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
    SALESFORCE_LOGIN_URL: salesforce.loginUrl,
    SALESFORCE_CLIENT_ID: salesforce.clientId,
    SALESFORCE_CLIENT_SECRET: salesforce.clientSecret,
    SYNC_DB_PATH: join(dir, 'sync.db'),
    SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CLINIC_TIMEZONE: 'Australia/Sydney',
  });
  service = await createSyncService(config, createLogger({ level: 'silent' }), {
    worker: { retryDelaysMs: [10, 20, 40, 80, 160], jitterMs: 5, maxWaitMs: 5_000 },
    // The practice lives on the emulator's clock; journey day counts must use the same "now".
    now: () => Date.parse(cliniko.controls.now()),
  });
});

afterAll(async () => {
  await service?.close();
  await cliniko?.close();
  await salesforce?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Salesforce returns dates and datetimes in its own forms; compare meaning, not spelling. */
function same(expected: unknown, actual: unknown): boolean {
  if (expected === null || expected === undefined) return actual === null || actual === undefined;
  if (typeof expected === 'number' || (typeof expected === 'string' && /^-?\d+(\.\d+)?$/.test(expected))) {
    return Number(expected) === Number(actual);
  }
  if (typeof expected === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(expected) && typeof actual === 'string') {
    return Date.parse(expected) === Date.parse(actual.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  }
  return expected === actual;
}

/**
 * Re-reads Cliniko through the client, projects every record through the signed map, and checks that
 * the org holds exactly that: one record per projected payload, every mapped field equal. Fields the
 * journey engine also writes (care-plan status and sessions) are checked by the journey tests.
 */
async function expectOrgMatchesProjection(): Promise<void> {
  const { projectRecord } = await import('../../sync-service/src/governance/project.js');
  const streams = [
    ['patients', service.cliniko.streams.patients],
    ['patient_cases', service.cliniko.streams.patientCases],
    ['individual_appointments', service.cliniko.streams.individualAppointments],
    ['invoices', service.cliniko.streams.invoices],
  ] as const;
  const journeyOwned = new Set([
    'Care_Plan__c.Status__c',
    'Care_Plan__c.Sessions_Allowed__c',
    'Care_Plan__c.Expiry_Date__c',
  ]);
  const expectedIds = new Map<string, Set<string>>();
  let checked = 0;
  const names = await referenceNames();
  for (const [resource, stream] of streams) {
    for await (const ev of stream.read()) {
      if (ev.kind !== 'record') continue;
      const result = projectRecord(resource, ev.raw, service.dataMap, { names, today: '2000-01-01' });
      expect(result.ok, `${resource} ${ev.id} projects`).toBe(true);
      if (!result.ok) continue;
      for (const payload of result.payloads) {
        const ids = expectedIds.get(payload.object) ?? new Set<string>();
        ids.add(payload.externalId);
        expectedIds.set(payload.object, ids);
        const record = recordsOf(payload.object).find(
          (r) => r[payload.externalIdField] === payload.externalId,
        );
        expect(record, `${payload.object} ${payload.externalId} exists`).toBeDefined();
        for (const [field, value] of Object.entries(payload.fields)) {
          if (journeyOwned.has(`${payload.object}.${field}`) || field.endsWith('__r')) continue;
          expect(same(value, record?.[field]), `${payload.object} ${payload.externalId} ${field}`).toBe(true);
          checked += 1;
        }
      }
    }
  }
  for (const [object, ids] of expectedIds) {
    const inOrg = recordsOf(object).length;
    expect(inOrg, `${object} count`).toBe(ids.size);
  }
  expect(checked).toBeGreaterThan(500);
}

async function referenceNames() {
  const businesses = new Map<string, string>();
  const practitioners = new Map<string, string>();
  const appointmentTypes = new Map<string, string>();
  for await (const ev of service.cliniko.streams.businesses.read()) {
    if (ev.kind === 'record')
      businesses.set(ev.id, ev.record.display_name ?? ev.record.business_name ?? ev.id);
  }
  for await (const ev of service.cliniko.streams.practitioners.read()) {
    if (ev.kind === 'record') practitioners.set(ev.id, ev.record.display_name ?? ev.record.label ?? '');
  }
  for await (const ev of service.cliniko.streams.appointmentTypes.read()) {
    if (ev.kind === 'record') appointmentTypes.set(ev.id, ev.record.name);
  }
  return { businesses, practitioners, appointmentTypes };
}

describe('sync end to end', () => {
  it('backfills the practice into the org', async () => {
    const summary = await service.runner.runCycle('backfill');
    expect(summary.error).toBeNull();
    expect(summary.drain?.deadLettered).toBe(0);
    expect(summary.status).toBe('succeeded');
    const patients = cliniko.practice.patients.length;
    expect(recordsOf('Contact').filter((c) => typeof c.Cliniko_Patient_Id__c === 'string')).toHaveLength(
      patients,
    );
    expect(recordsOf('Cliniko_Appointment__c').length).toBeGreaterThan(0);
    expect(recordsOf('Sync_Run__c')).toHaveLength(1);
    await expectOrgMatchesProjection();
  });

  it('makes no Salesforce calls when nothing changed in Cliniko', async () => {
    const before = service.writer.calls();
    const summary = await service.runner.runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    expect(service.writer.calls() - before).toBe(0);
  });

  it('sends a single patient change on the next cycle with one collection call', async () => {
    const patient = cliniko.practice.patients.find((p) => p.archivedAt === null && p.f.email)!;
    const patientId = recordId('patient', patient.idx);
    cliniko.controls.updatePatient(patientId, { email: 'changed.address@example.com' });
    const before = service.writer.calls();
    const summary = await service.runner.runCycle('incremental');
    expect(summary.status).toBe('succeeded');
    const contact = recordsOf('Contact').find((c) => c.Cliniko_Patient_Id__c === patientId);
    expect(contact?.Email).toBe('changed.address@example.com');
    // One collection upsert for the Contact, one for the run summary.
    expect(service.writer.calls() - before).toBe(2);
  });
});
