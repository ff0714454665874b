/**
 * The sync service's writer through one Bulk API 2.0 job against the Salesforce emulator, over loopback
 * HTTP with jsforce: it reads the job's result files as CSV text (salesforce/bulk-results.ts) and must
 * give each record its own outcome, whatever its cells hold (commas, quotes, line breaks). The oracle is
 * the org itself, queried through jsforce by external id.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSalesforceWriter, type SalesforceRecord } from '../../sync-service/src/salesforce/writer.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';

let emu: SalesforceEmulator;

beforeAll(async () => {
  emu = await startSalesforceEmulator({});
});

afterAll(async () => {
  await emu?.close();
});

async function connect(): Promise<Connection> {
  const conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: emu.clientSecret },
    version: '66.0',
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  return conn;
}

/** Every third record has an address Salesforce refuses; the names need CSV quoting. */
function contacts(prefix: string): SalesforceRecord[] {
  return Array.from({ length: 30 }, (_, i) => ({
    Cliniko_Patient_Id__c: `${prefix}${i}`,
    FirstName: 'Bulk',
    LastName: i % 2 === 0 ? `O"Brien, ${i}\nthe second` : `Plain ${i}`,
    Email: i % 3 === 1 ? `not-an-address-${i}` : `${prefix}${i}@example.org`,
  }));
}

describe('the writer reads a Bulk job’s results as CSV text', () => {
  it('gives each record its outcome: ids the org holds, created then updated, refusals classified without values', async () => {
    const conn = await connect();
    const writer = createSalesforceWriter(conn, createLogger({ level: 'silent' }));
    const records = contacts('WB');

    const first = await writer.upsert('Contact', 'Cliniko_Patient_Id__c', records, { bulk: true });

    const held = await conn.query<{ Id: string; Cliniko_Patient_Id__c: string; LastName: string }>(
      "SELECT Id, Cliniko_Patient_Id__c, LastName FROM Contact WHERE Cliniko_Patient_Id__c LIKE 'WB%'",
    );
    const idOf = new Map(held.records.map((r) => [r.Cliniko_Patient_Id__c, r.Id]));
    expect(first.map((r) => r.key)).toEqual(records.map((r) => r.Cliniko_Patient_Id__c));
    records.forEach((record, i) => {
      const result = first[i]!;
      if (i % 3 === 1) {
        // Refused: not in the org, a permanent failure whose message does not repeat the address.
        expect(idOf.has(result.key)).toBe(false);
        expect(result).toMatchObject({ success: false, id: null, error: { code: 'INVALID_EMAIL_ADDRESS' } });
        expect(result.error?.kind).toBe('permanent');
        expect(result.error?.message).not.toContain(String(record.Email));
      } else {
        expect(result).toEqual({ key: result.key, success: true, id: idOf.get(result.key), created: true });
      }
    });
    // The quoted names arrived whole (the control on what the CSV carried).
    expect(held.records.find((r) => r.Cliniko_Patient_Id__c === 'WB0')?.LastName).toBe(
      'O"Brien, 0\nthe second',
    );
    expect(held.records).toHaveLength(20);

    const again = await writer.upsert('Contact', 'Cliniko_Patient_Id__c', records, { bulk: true });
    expect(again.filter((r) => r.success).map((r) => [r.key, r.id, r.created])).toEqual(
      first.filter((r) => r.success).map((r) => [r.key, r.id, false]),
    );
  });
});
