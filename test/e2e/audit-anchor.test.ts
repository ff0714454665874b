import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCommand } from '../../sync-service/src/cli/commands/audit.js';
import { GENESIS_HASH, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { canonicalJson, sha256Hex } from '../../sync-service/src/governance/canonical.js';
import { recordId } from '../emulators/cliniko/index.js';
import { cliContext } from '../support/governance.js';
import { emulatorEnv, startSyncHarness, type SyncHarness } from '../support/harness.js';
import { activeRecords } from '../support/org-state.js';

/**
 * Issue #17, item 3: the audit chain anchored in Salesforce. Two runs over the emulators leave
 * Audit_Anchor__c records; the log is then truncated, or edited and its whole chain recomputed (so the
 * local chain alone verifies: the control), and `audit verify` must report both against the anchors.
 */
let h: SyncHarness;
let env: Record<string, string>;
const key = randomBytes(32).toString('base64');

async function verify(e: Record<string, string>) {
  const c = cliContext(e, h.dir);
  const code = await auditCommand.run(['verify'], c.ctx);
  return { code, out: c.text() };
}

/** A consistent copy of the live store (WAL included), tampered with by SQL, and an env pointing at it. */
function tamperedCopy(name: string, sql: (db: DatabaseSync) => void): Record<string, string> {
  const path = join(h.dir, `${name}.db`);
  const live = new DatabaseSync(join(h.dir, 'sync.db'));
  live.exec(`VACUUM INTO '${path}'`);
  live.close();
  const db = new DatabaseSync(path);
  sql(db);
  db.close();
  return { ...env, SYNC_DB_PATH: path };
}

/** The same copy, but Salesforce unreachable: what the local chain alone says. */
const offline = (e: Record<string, string>) => ({ ...e, SALESFORCE_LOGIN_URL: 'http://127.0.0.1:9' });

const anchors = () =>
  activeRecords(h.salesforce, 'Audit_Anchor__c')
    .map((a) => ({ seq: Number(a.Sequence__c), hash: String(a.Head_Hash__c) }))
    .sort((a, b) => a.seq - b.seq);

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 6, seed: 5 }, env: { SYNC_ENCRYPTION_KEY: key } });
  env = { ...emulatorEnv(h.cliniko, h.salesforce, h.dir), SYNC_ENCRYPTION_KEY: key };
  expect((await h.service.runner.runCycle('backfill')).status).toBe('succeeded');
  const patient = h.cliniko.practice.patients.find((p) => p.archivedAt === null && p.mergedAt === null)!;
  h.cliniko.controls.archivePatient(recordId('patient', patient.idx));
  expect((await h.service.runner.runCycle('incremental')).status).toBe('succeeded');
  // An idle run anchors nothing (it writes nothing, so it appends nothing).
  const before = anchors().length;
  await h.service.runner.runCycle('incremental');
  expect(anchors()).toHaveLength(before);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('audit anchors in Salesforce', () => {
  it('are written after each run that wrote something, with no patient data', () => {
    const written = activeRecords(h.salesforce, 'Audit_Anchor__c');
    expect(written).toHaveLength(2);
    for (const a of written) {
      expect(a.Anchor_Key__c).toBe(a.Run_Id__c);
      expect(a.Head_Hash__c).toMatch(/^[0-9a-f]{64}$/);
      expect(String(a.Run_Id__c)).toMatch(/^run-/);
    }
  });

  it('refuse an update by the integration user (create without edit), as Salesforce does', async () => {
    const [first] = anchors();
    const key = activeRecords(h.salesforce, 'Audit_Anchor__c').find(
      (a) => Number(a.Sequence__c) === first!.seq,
    )!.Anchor_Key__c;
    await expect(
      h.service.salesforce.connection
        .sobject('Audit_Anchor__c')
        .upsert({ Anchor_Key__c: key, Head_Hash__c: 'f'.repeat(64) }, 'Anchor_Key__c'),
    ).rejects.toMatchObject({ name: 'INSUFFICIENT_ACCESS_OR_READONLY' });
    expect(anchors()[0]?.hash).toBe(first!.hash);
    // Control: a new anchor (a create) is accepted.
    const created = await h.service.salesforce.connection
      .sobject('Audit_Anchor__c')
      .create({ Anchor_Key__c: 'probe-create', Sequence__c: first!.seq, Head_Hash__c: first!.hash });
    expect(created.success).toBe(true);
  });

  it('pass an untouched log', async () => {
    const { code, out } = await verify(env);
    expect(out).toContain('audit log intact');
    expect(out).toMatch(/audit anchors match: \d+ checked against Salesforce/);
    expect(code).toBe(0);
  });

  it('detect the newest entries deleted (truncation), which the local chain alone does not', async () => {
    const latest = anchors().at(-1)!;
    const e = tamperedCopy('truncated', (db) =>
      db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(latest.seq - 2),
    );
    // Control: the truncated chain verifies on its own.
    const alone = await verify(offline(e));
    expect(alone.out).toContain('audit log intact');
    expect(alone.out).toContain('audit anchors NOT checked');
    expect(alone.code).toBe(0);
    const { code, out } = await verify(e);
    expect(code).toBe(1);
    expect(out).toContain(`first failing seq ${latest.seq}`);
    expect(out).toContain('removed from the end');
  });

  it('detect an entry edited and the whole chain recomputed, which the local chain alone does not', async () => {
    const [firstAnchor] = anchors();
    const edited = 3;
    const e = tamperedCopy('rechained', (db) => {
      const rows = db.prepare('SELECT seq, entry FROM audit_log ORDER BY seq').all() as {
        seq: number;
        entry: string;
      }[];
      let previousHash = GENESIS_HASH;
      for (const row of rows) {
        const { hash: _old, ...old } = JSON.parse(row.entry) as AuditEntry;
        const body = {
          ...old,
          previousHash,
          changedFields: old.seq === edited ? ['FirstName'] : old.changedFields,
        };
        const hash = sha256Hex(canonicalJson(body));
        // hash is UNIQUE: park the row's hash while the chain is rewritten.
        db.prepare('UPDATE audit_log SET hash = ?, prev_hash = ?, entry = ? WHERE seq = ?').run(
          `parked-${row.seq}`,
          previousHash,
          JSON.stringify({ ...body, hash }),
          row.seq,
        );
        db.prepare('UPDATE audit_log SET hash = ? WHERE seq = ?').run(hash, row.seq);
        previousHash = hash;
      }
    });
    // Control: the recomputed chain verifies on its own.
    const alone = await verify(offline(e));
    expect(alone.out).toContain('audit log intact');
    expect(alone.code).toBe(0);
    const { code, out } = await verify(e);
    expect(code).toBe(1);
    expect(firstAnchor!.seq).toBeGreaterThanOrEqual(edited);
    expect(out).toContain(`first failing seq ${firstAnchor!.seq}`);
    expect(out).toContain('chain recomputed');
  });

  it('record each verification in Salesforce for the governance review, with the first failing seq', async () => {
    const verifications = () => activeRecords(h.salesforce, 'Audit_Verification__c');
    const before = verifications().length;
    expect((await verify(env)).out).toContain('verification recorded in Salesforce');
    const latest = anchors().at(-1)!;
    const truncated = tamperedCopy('truncated-again', (db) =>
      db.prepare('DELETE FROM audit_log WHERE seq >= ?').run(latest.seq - 1),
    );
    expect((await verify(truncated)).code).toBe(1);
    const written = verifications().slice(before);
    expect(written.map((v) => v.Result__c)).toEqual(['Intact', 'Broken']);
    expect(written[0]).toMatchObject({ First_Failing_Sequence__c: null, Source__c: 'cli' });
    expect(Number(written[0]!.Anchors_Checked__c)).toBeGreaterThan(0);
    expect(written[1]!.First_Failing_Sequence__c).toBe(latest.seq);
    expect(String(written[1]!.Detail__c)).toContain(`first failing seq ${latest.seq}`);
    // Control: with Salesforce unreachable nothing is recorded, and the command says so.
    const offlineRun = await verify(offline(env));
    expect(offlineRun.out).toContain('verification NOT recorded in Salesforce');
    expect(verifications()).toHaveLength(before + 2);
    // Insert-only: the integration user cannot change a recorded result.
    await expect(
      h.service.salesforce.connection
        .sobject('Audit_Verification__c')
        .update({ Id: String(written[1]!.Id), Result__c: 'Intact' }),
    ).rejects.toMatchObject({ name: 'INSUFFICIENT_ACCESS_OR_READONLY' });
  });
});
