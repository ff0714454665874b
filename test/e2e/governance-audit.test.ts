import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditCommand } from '../../sync-service/src/cli/commands/audit.js';
import { auditRowOf, chainHeadOf } from '../../sync-service/src/cli/commands/audit-store.js';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { buildAuditEntry, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { createStore, type Store } from '../../sync-service/src/store/index.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import pg from 'pg';
import { cliContext, offlineEnv, tempRepoRoot } from '../support/governance.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

/**
 * `audit verify | show | prune` against a real SQLite store, tampered with through SQL the way someone
 * with file access would: one altered, deleted or reordered entry must be reported, by seq.
 */

let root: string;
let env: Record<string, string>;

const YEAR = 365.25 * 24 * 3600 * 1000;

function openStore(e: Record<string, string>): Store {
  const config = loadConfig(e);
  return createStore(config.database, keyringCipher(createKeyring(config.encryptionKey!)));
}

/** Appends entries the way the outbox worker does: a Contact and an appointment per patient. */
async function seed(store: Store, at: number, patients: string[], runId: string): Promise<void> {
  for (const patient of patients) {
    await store.completeWrites(
      [],
      (previous) => {
        const contact = buildAuditEntry(
          {
            timestamp: new Date(at).toISOString(),
            actor: 'integration@clinic',
            sourceSystem: 'cliniko',
            object: 'Contact',
            externalId: patient,
            salesforceId: `003${patient.padStart(15, '0')}`,
            patientId: patient,
            operation: 'create',
            changedFields: ['FirstName', 'LastName', 'Email'],
            payload: { FirstName: 'Secret', LastName: `Person${patient}`, Email: `p${patient}@example.com` },
            runId,
          },
          chainHeadOf(previous),
        );
        const appointment = buildAuditEntry(
          {
            timestamp: new Date(at).toISOString(),
            actor: 'integration@clinic',
            sourceSystem: 'cliniko',
            object: 'Cliniko_Appointment__c',
            externalId: `9${patient}`,
            salesforceId: null,
            patientId: patient,
            operation: 'update',
            changedFields: ['Status__c'],
            payload: { Status__c: 'Arrived' },
            runId,
          },
          contact,
        );
        return [auditRowOf(contact, at), auditRowOf(appointment, at)];
      },
      at,
    );
  }
}

async function cli(args: string[], e = env) {
  const c = cliContext(e, root);
  const code = await auditCommand.run(args, c.ctx);
  return { code, out: c.text() };
}

/** A copy of the store file to tamper with, and an env pointing at it. */
function tamperedCopy(name: string, sql: (db: DatabaseSync) => void): Record<string, string> {
  const path = join(root, `${name}.db`);
  copyFileSync(join(root, 'sync.db'), path);
  const db = new DatabaseSync(path);
  sql(db);
  db.close();
  return { ...env, SYNC_DB_PATH: path };
}

beforeAll(async () => {
  root = tempRepoRoot('governance-audit-');
  env = offlineEnv(root);
  const store = openStore(env);
  await store.migrate();
  const now = Date.now();
  await seed(store, now - 7 * YEAR, ['101', '102'], 'run-old');
  await seed(store, now - 2 * 24 * 3600 * 1000, ['101', '103', '104'], 'run-recent');
  await store.close();
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('audit verify', () => {
  it('passes on an intact log', async () => {
    const { code, out } = await cli(['verify']);
    expect(code).toBe(0);
    expect(out).toMatch(/audit log intact: 10 entries, seq 1\.\.10, head [0-9a-f]{64}/);
  });

  it('detects a single altered entry', async () => {
    const e = tamperedCopy('altered', (db) => {
      const row = db.prepare('SELECT entry FROM audit_log WHERE seq = 4').get() as { entry: string };
      const entry = JSON.parse(row.entry) as AuditEntry;
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = 4').run(
        JSON.stringify({ ...entry, changedFields: ['Status__c', 'Notes__c'] }),
      );
    });
    const { code, out } = await cli(['verify'], e);
    expect(code).toBe(1);
    expect(out).toContain('seq 4');
    expect(out).toContain('altered');
  });

  it('detects a single deleted entry', async () => {
    const e = tamperedCopy('deleted', (db) => db.prepare('DELETE FROM audit_log WHERE seq = 6').run());
    const { code, out } = await cli(['verify'], e);
    expect(code).toBe(1);
    expect(out).toContain('entries seq 6..6 are missing');
  });

  it('detects two entries swapped', async () => {
    const e = tamperedCopy('reordered', (db) => {
      const rows = db
        .prepare('SELECT seq, hash, prev_hash, entry FROM audit_log WHERE seq IN (5, 6)')
        .all() as {
        seq: number;
        hash: string;
        prev_hash: string;
        entry: string;
      }[];
      const [a, b] = rows as [(typeof rows)[number], (typeof rows)[number]];
      const swap = db.prepare('UPDATE audit_log SET hash = ?, prev_hash = ?, entry = ? WHERE seq = ?');
      swap.run(b.hash, b.prev_hash, b.entry, a.seq);
      swap.run(a.hash, a.prev_hash, a.entry, b.seq);
    });
    const { code, out } = await cli(['verify'], e);
    expect(code).toBe(1);
    expect(out).toMatch(/out of order/);
  });

  it('detects an entry recorded twice (the schema does not refuse a repeated hash: the chain does)', async () => {
    const e = tamperedCopy('repeated', (db) =>
      db
        .prepare(
          `INSERT INTO audit_log (hash, prev_hash, object, external_id, created_at, entry)
           SELECT hash, prev_hash, object, external_id, created_at, entry FROM audit_log WHERE seq = 7`,
        )
        .run(),
    );
    const { code, out } = await cli(['verify'], e);
    expect(code).toBe(1);
    expect(out).toContain('seq 11');
  });

  it('detects a hash column edited to match a forged entry', async () => {
    const e = tamperedCopy('column', (db) =>
      db.prepare("UPDATE audit_log SET hash = 'x' WHERE seq = 2").run(),
    );
    const { code, out } = await cli(['verify'], e);
    expect(code).toBe(1);
    expect(out).toContain('seq 2');
  });
});

describe('audit show', () => {
  it("lists one patient's trail, linked records included, without values", async () => {
    const { code, out } = await cli(['show', '--patient', '101']);
    expect(code).toBe(0);
    expect(out).toContain('4 entries');
    expect(out).toContain('Contact 101');
    expect(out).toContain('Cliniko_Appointment__c 9101');
    expect(out).not.toMatch(/ 9?102 /);
    expect(out).toContain('fields=Email,FirstName,LastName');
    expect(out).not.toMatch(/Secret|Person101|p101@example\.com|Arrived/);
  });

  it('refuses a non-numeric id', async () => {
    expect((await cli(['show', '--patient', 'Bob'])).code).toBe(2);
  });
});

describe('audit prune', () => {
  const count = (e: Record<string, string>): number => {
    const db = new DatabaseSync(e.SYNC_DB_PATH!);
    const { n } = db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number };
    db.close();
    return n;
  };

  it('refuses a log that does not verify, and deletes nothing', async () => {
    const e = tamperedCopy('prune-gap', (db) => db.prepare('DELETE FROM audit_log WHERE seq = 2').run());
    const { code, out } = await cli(['prune'], e);
    expect(code).toBe(1);
    expect(out).toContain('does not verify');
    expect(count(e)).toBe(9);
  });

  it('refuses an old entry after a newer one (a clock step), and deletes nothing', async () => {
    const e = { ...env, SYNC_DB_PATH: join(root, 'prune-stepped.db') };
    const store = openStore(e);
    await store.migrate();
    const now = Date.now();
    await seed(store, now - 8 * YEAR, ['201'], 'run-old');
    await seed(store, now - 24 * 3600 * 1000, ['202'], 'run-recent');
    await seed(store, now - 7 * YEAR, ['203'], 'run-stepped');
    await store.close();
    expect((await cli(['verify'], e)).code).toBe(0);
    const { code, out } = await cli(['prune'], e);
    expect(code).toBe(1);
    expect(out).toContain('a clock step');
    expect(count(e)).toBe(6);
    // Control: with a retention that reaches back past the stepped entry, nothing is old, nothing refused.
    expect((await cli(['prune', '--years', '9'], e)).out).toContain('nothing to prune');
  });

  it('dry-run says what would go and changes nothing', async () => {
    const { code, out } = await cli(['prune', '--dry-run']);
    expect(code).toBe(0);
    expect(out).toContain('would prune 4 entries (seq 1..4)');
    expect((await cli(['verify'])).out).toContain('10 entries');
  });

  it('prunes only past retention, records the prune, and the chain still verifies', async () => {
    const { code, out } = await cli(['prune']);
    expect(code, out).toBe(0);
    expect(out).toContain('pruned 4 entries (seq 1..4)');
    const verify = await cli(['verify']);
    expect(verify.code, verify.out).toBe(0);
    expect(verify.out).toContain('7 entries, seq 5..11');
    const store = openStore(env);
    await store.migrate();
    const last = JSON.parse((await store.lastAuditRow())!.entry) as AuditEntry;
    await store.close();
    expect(last).toMatchObject({
      operation: 'prune',
      object: 'audit-log',
      prune: { count: 4, throughSeq: 4 },
    });
    // Patient 102 only had old entries; 101 keeps its recent ones.
    expect((await cli(['show', '--patient', '102'])).out).toContain('0 entries');
    expect((await cli(['show', '--patient', '101'])).out).toContain('2 entries');
    expect((await cli(['prune'])).out).toContain('nothing to prune');
  });

  it('refuses a retention under one year', async () => {
    expect((await cli(['prune', '--years', '0'])).code).toBe(2);
  });
});

describe('audit commands on PostgreSQL', () => {
  let pgServer: TestPostgres;
  let pgEnv: Record<string, string>;
  let client: pg.Client;

  beforeAll(async () => {
    pgServer = await startTestPostgres();
    const { poolConfig } = await pgServer.newSchema();
    pgEnv = {
      ...offlineEnv(root),
      DATABASE_URL: `${pgServer.url}?options=${encodeURIComponent(String(poolConfig.options))}`,
    };
    const store = openStore(pgEnv);
    await store.migrate();
    const now = Date.now();
    await seed(store, now - 8 * YEAR, ['201'], 'run-old');
    await seed(store, now - 3600 * 1000, ['201', '202'], 'run-recent');
    await store.close();
    client = new pg.Client({ connectionString: pgEnv.DATABASE_URL });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await pgServer?.stop();
  });

  it('verify, show and prune work the same, and an altered entry is found', async () => {
    expect((await cli(['verify'], pgEnv)).out).toContain('6 entries, seq 1..6');
    expect((await cli(['show', '--patient', '201'], pgEnv)).out).toContain('4 entries');
    const pruned = await cli(['prune'], pgEnv);
    expect(pruned.code, pruned.out).toBe(0);
    expect(pruned.out).toContain('pruned 2 entries (seq 1..2)');
    expect((await cli(['verify'], pgEnv)).out).toContain('5 entries, seq 3..7');

    const row = await client.query<{ entry: string }>('SELECT entry FROM audit_log WHERE seq = 4');
    const entry = JSON.parse(row.rows[0]!.entry) as AuditEntry;
    await client.query('UPDATE audit_log SET entry = $1 WHERE seq = 4', [
      JSON.stringify({ ...entry, operation: 'create' === entry.operation ? 'update' : 'create' }),
    ]);
    const broken = await cli(['verify'], pgEnv);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain('seq 4');
    expect(broken.out).toContain('altered');
  });
});
