import { expect } from 'vitest';
import { projectRecord } from '../../sync-service/src/governance/project.js';
import { suppressInactiveMarketing } from '../../sync-service/src/governance/suppression.js';
import type { SyncService } from '../../sync-service/src/runtime/wiring.js';
import type { SalesforceEmulator } from '../emulators/salesforce/server.js';

/** Records of an object in the emulated org, deleted ones left out. */
export function activeRecords(
  salesforce: SalesforceEmulator,
  object: string,
): Array<Record<string, unknown>> {
  return [...salesforce.org.records(object)].filter((r) => r.IsDeleted !== true);
}

/** Salesforce returns dates and datetimes in its own forms; compare meaning, not spelling. */
export function same(expected: unknown, actual: unknown): boolean {
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
export async function expectOrgMatchesProjection(
  service: SyncService,
  salesforce: SalesforceEmulator,
): Promise<void> {
  const recordsOf = (object: string) => activeRecords(salesforce, object);
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
  const names = await referenceNames(service);
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
        for (const [field, value] of Object.entries(
          suppressInactiveMarketing(payload.object, { ...payload.fields }),
        )) {
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

async function referenceNames(service: SyncService) {
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
