/**
 * The SOQL engine as a client meets it: jsforce's `query` against the whole emulator (force-app schema,
 * the integration user's permission sets) over loopback HTTP, including the error bodies jsforce parses.
 */
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../server.js';

/** jsforce types a collection upsert loosely; the rows that did not save, with their errors. */
function failures(results: unknown): unknown[] {
  return (results as Array<{ success: boolean }>).filter((r) => !r.success);
}

let emu: SalesforceEmulator;
let conn: Connection;

beforeAll(async () => {
  emu = await startSalesforceEmulator({ bulkProcessingDelayMs: 5 });
  conn = new Connection({
    oauth2: { loginUrl: emu.loginUrl, clientId: emu.clientId, clientSecret: emu.clientSecret },
    version: '66.0',
  });
  await conn.authorize({ grant_type: 'client_credentials' });

  const contacts = ['Soql-Ada', 'Soql-Grace', 'Soql-Edsger'].map((lastName, i) => ({
    attributes: { type: 'Contact' },
    Cliniko_Patient_Id__c: `SQ${i}`,
    LastName: lastName,
  }));
  expect(failures(await conn.sobject('Contact').upsert(contacts, 'Cliniko_Patient_Id__c'))).toEqual([]);
  const plans = [
    ['SQC1', 'SQ0', 'Open', 3],
    ['SQC2', 'SQ0', 'Closed', 10],
    ['SQC3', 'SQ1', 'Open', 1],
  ].map(([caseId, patientId, status, used]) => ({
    attributes: { type: 'Care_Plan__c' },
    Cliniko_Case_Id__c: caseId,
    Contact__r: { Cliniko_Patient_Id__c: patientId },
    Status__c: status,
    Sessions_Used__c: used,
  }));
  expect(failures(await conn.sobject('Care_Plan__c').upsert(plans, 'Cliniko_Case_Id__c'))).toEqual([]);
});

afterAll(async () => {
  await emu.close();
});

describe('SOQL through jsforce against the emulator', () => {
  it('nests parent fields and filters on them', async () => {
    const result = await conn.query<Record<string, unknown>>(
      "SELECT Cliniko_Case_Id__c, Contact__r.LastName FROM Care_Plan__c WHERE Contact__r.LastName LIKE 'soql-%' ORDER BY Cliniko_Case_Id__c DESC",
    );
    expect(result.totalSize).toBe(3);
    expect(result.records.map((r) => r.Cliniko_Case_Id__c)).toEqual(['SQC3', 'SQC2', 'SQC1']);
    expect(result.records[0]).toMatchObject({
      attributes: {
        type: 'Care_Plan__c',
        url: expect.stringMatching(/^\/services\/data\/v66\.0\/sobjects\/Care_Plan__c\/a/) as unknown,
      },
      Contact__r: { attributes: { type: 'Contact' }, LastName: 'Soql-Grace' },
    });
  });

  it('returns child subqueries, aggregates and date literals', async () => {
    const withChildren = await conn.query<Record<string, unknown>>(
      "SELECT LastName, (SELECT Cliniko_Case_Id__c FROM Care_Plans__r ORDER BY Cliniko_Case_Id__c) FROM Contact WHERE Cliniko_Patient_Id__c = 'SQ0'",
    );
    expect(withChildren.records[0]?.Care_Plans__r).toMatchObject({
      totalSize: 2,
      done: true,
      records: [{ Cliniko_Case_Id__c: 'SQC1' }, { Cliniko_Case_Id__c: 'SQC2' }],
    });

    const grouped = await conn.query<Record<string, unknown>>(
      "SELECT Status__c, COUNT(Id) n, SUM(Sessions_Used__c) used FROM Care_Plan__c WHERE Cliniko_Case_Id__c LIKE 'SQC%' GROUP BY Status__c ORDER BY Status__c",
    );
    expect(grouped.records).toEqual([
      { attributes: { type: 'AggregateResult' }, Status__c: 'Closed', n: 1, used: 10 },
      { attributes: { type: 'AggregateResult' }, Status__c: 'Open', n: 2, used: 4 },
    ]);

    const today = await conn.query(
      "SELECT Id FROM Contact WHERE CreatedDate = TODAY AND LastName LIKE 'soql-%'",
    );
    expect(today.totalSize).toBe(3);
    const old = await conn.query(
      "SELECT Id FROM Contact WHERE CreatedDate < LAST_N_DAYS:7 AND LastName LIKE 'soql-%'",
    );
    expect(old.totalSize).toBe(0);
  });

  it('answers COUNT() with the count in totalSize and no rows', async () => {
    const all = await conn.query('SELECT Id FROM Contact');
    const counted = await conn.query('SELECT COUNT() FROM Contact');
    expect(all.totalSize).toBeGreaterThan(0);
    expect(counted.totalSize).toBe(all.totalSize);
    expect(counted.records).toEqual([]);
  });

  it('reports query errors with the codes and messages jsforce surfaces', async () => {
    await expect(conn.query('SELECT Id FROM')).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    await expect(conn.query('SELECT Id, Nmae__c FROM Contact')).rejects.toMatchObject({
      errorCode: 'INVALID_FIELD',
      message: expect.stringContaining("No such column 'Nmae__c' on entity 'Contact'") as unknown,
    });
    await expect(conn.query('SELECT Id FROM Patient__c')).rejects.toMatchObject({
      errorCode: 'INVALID_TYPE',
      message: expect.stringContaining("sObject type 'Patient__c' is not supported") as unknown,
    });
  });
});
