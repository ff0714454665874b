import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../sync-service/src/logger.js';
import { reconcilerForService, type Reconciler } from '../../sync-service/src/sync/reconcile/index.js';
import { recordId } from '../emulators/cliniko/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #17, item 5 and item 3 over the emulators: the nightly reconciliation upserts the quarter's
 * Quarter_Summary__c and records an Audit_Verification__c (Source nightly). The counts are checked
 * against an independent count: the synced records Salesforce holds, read back through jsforce, by
 * their CreatedDate and LastModifiedDate; the verification against a log truncated behind its back.
 */
let h: SyncHarness;
let reconciler: Reconciler;

const SYNCED = ['Contact', 'Care_Plan__c', 'Cliniko_Appointment__c', 'Cliniko_Invoice__c'] as const;

interface Stamped {
  Id: string;
  CreatedDate: string;
  LastModifiedDate: string;
}

/** Independent of the service's store: what Salesforce says it holds, through jsforce. */
async function stamped(object: string): Promise<Stamped[]> {
  const result = await h.service.salesforce.connection.query<Stamped>(
    `SELECT Id, CreatedDate, LastModifiedDate FROM ${object}`,
    { autoFetch: true, maxFetch: 100_000 },
  );
  return result.records;
}

interface Counted {
  object: string;
  source: string;
  created: number;
  updated: number;
}

function summaryRecord() {
  const all = activeRecords(h.salesforce, 'Quarter_Summary__c');
  expect(all).toHaveLength(1);
  const record = all[0]!;
  expect(String(record.Quarter__c)).toMatch(/^\d{4}-Q[1-4]$/);
  return { record, counts: JSON.parse(String(record.Counts__c)) as Counted[] };
}

/** The UTC bounds a Quarter__c names, computed here rather than taken from the code under test. */
function bounds(quarter: string): [number, number] {
  const [year, q] = quarter.split('-Q').map(Number) as [number, number];
  return [Date.UTC(year, (q - 1) * 3, 1), Date.UTC(year, q * 3, 1)];
}

const total = (counts: Counted[], object: string, k: 'created' | 'updated') =>
  counts.filter((c) => c.object === object).reduce((n, c) => n + c[k], 0);

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 8, seed: 17 } });
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
  const s = h.service;
  reconciler = reconcilerForService(s, createLogger({ level: 'silent' }), () =>
    Date.parse(h.cliniko.controls.now()),
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('the nightly quarter summary', () => {
  it('counts the records created this quarter as Salesforce does, by CreatedDate', async () => {
    // Act
    const report = await reconciler.reconcile();
    expect(report.quarter?.error).toBeNull();
    // Assert: for each synced object, the creates equal Salesforce's records created in the quarter.
    const { record, counts } = summaryRecord();
    const [start, end] = bounds(String(record.Quarter__c));
    for (const object of SYNCED) {
      const created = (await stamped(object)).filter((r) => {
        const ms = Date.parse(r.CreatedDate);
        return ms >= start && ms < end;
      });
      expect(created.length, object).toBeGreaterThan(0);
      expect(total(counts, object, 'created'), object).toBe(created.length);
    }
    expect(counts.filter((c) => c.object === 'Contact' && c.created > 0).map((c) => c.source)).toEqual([
      'sync',
    ]);
    expect(record.Dead_Letters__c).toBe(0);
    expect(Number(record.Audit_Entries__c)).toBeGreaterThan(0);
  });

  it('counts this quarter’s updates: three patients edited in Cliniko are three Contact updates by the sync', async () => {
    // Arrange: what Salesforce says before, and three patients changed in Cliniko.
    const before = summaryRecord().counts;
    const modifiedBefore = new Map((await stamped('Contact')).map((c) => [c.Id, c.LastModifiedDate]));
    const edited = h.cliniko.practice.patients
      .filter((p) => p.archivedAt === null && p.mergedAt === null)
      .slice(0, 3);
    for (const [i, p] of edited.entries())
      h.cliniko.controls.updatePatient(recordId('patient', p.idx), { last_name: `Quarterly${i}` });
    expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
    // Act
    await reconciler.reconcile();
    // Assert: the independent count (Contacts whose LastModifiedDate moved) and the summary agree.
    const moved = (await stamped('Contact')).filter((c) => modifiedBefore.get(c.Id) !== c.LastModifiedDate);
    expect(moved).toHaveLength(3);
    const after = summaryRecord().counts;
    expect(total(after, 'Contact', 'updated') - total(before, 'Contact', 'updated')).toBe(moved.length);
    const sync = (counts: Counted[]) => counts.find((c) => c.object === 'Contact' && c.source === 'sync');
    expect((sync(after)?.updated ?? 0) - (sync(before)?.updated ?? 0)).toBe(3);
    // Control: nothing was created, so the creates did not move.
    expect(total(after, 'Contact', 'created')).toBe(total(before, 'Contact', 'created'));
  });
});

describe('the nightly audit verification', () => {
  const nightly = () =>
    activeRecords(h.salesforce, 'Audit_Verification__c').filter((v) => v.Source__c === 'nightly');

  it('records an intact trail as Intact, checked against the anchors', () => {
    const written = nightly();
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const v of written) {
      expect(v.Result__c).toBe('Intact');
      expect(Number(v.Anchors_Checked__c)).toBeGreaterThan(0);
      expect(String(v.Verification_Key__c)).toMatch(/^reconcile-/);
    }
  });

  it('records an entry edited out of shape as Broken, and writes no quarter from that walk', async () => {
    // Arrange: the newest Contact create loses its external id (its hash columns left as they were).
    const db = new DatabaseSync(join(h.dir, 'sync.db'));
    const row = db
      .prepare(
        'SELECT seq, entry FROM audit_log WHERE object = \'Contact\' AND entry LIKE \'%"operation":"create"%\' ORDER BY seq DESC LIMIT 1',
      )
      .get() as { seq: number; entry: string };
    const original = row.entry;
    db.prepare('UPDATE audit_log SET entry = ? WHERE seq = ?').run(
      JSON.stringify({ ...(JSON.parse(original) as object), externalId: null }),
      row.seq,
    );
    const before = nightly().length;
    try {
      // Act
      const report = await reconciler.reconcile();
      // Assert: the verification still ran to its end and is recorded; the quarter says why it is missing.
      expect(report.verification?.result).toBe('Broken');
      expect(nightly().slice(before)[0]?.First_Failing_Sequence__c).toBe(row.seq);
      expect(report.quarter?.recordId ?? null).toBeNull();
      expect(report.quarter?.error).toContain('could not be tallied');
    } finally {
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = ?').run(original, row.seq);
      db.close();
    }
    // Control: restored, the same walk writes the quarter again.
    const again = await reconciler.reconcile();
    expect(again.verification?.result).toBe('Intact');
    expect(again.quarter?.error ?? null).toBeNull();
  });

  it('records a log truncated behind its back as Broken, naming the first failing sequence', async () => {
    // Arrange: the newest entries deleted from the live store (what an insider with database access can do).
    const anchors = activeRecords(h.salesforce, 'Audit_Anchor__c').map((a) => Number(a.Sequence__c));
    const latest = Math.max(...anchors);
    const db = new DatabaseSync(join(h.dir, 'sync.db'));
    db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(latest - 1);
    db.close();
    const before = nightly().length;
    // Act
    const report = await reconciler.reconcile();
    // Assert
    expect(report.verification?.result).toBe('Broken');
    const [v] = nightly().slice(before);
    expect(v?.Result__c).toBe('Broken');
    expect(v?.First_Failing_Sequence__c).toBe(latest);
    expect(String(v?.Detail__c)).toContain('removed from the end');
  });
});
