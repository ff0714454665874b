import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dataMapCommand } from '../../sync-service/src/cli/commands/data-map.js';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { SyncError } from '../../sync-service/src/errors.js';
import type { AuditEntry } from '../../sync-service/src/governance/audit.js';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { createStore } from '../../sync-service/src/store/index.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSyncService, loadSignedDataMap } from '../../sync-service/src/runtime/wiring.js';
import { cliContext, editMap, offlineEnv, readMap, tempRepoRoot } from '../support/governance.js';

/**
 * The sign-off gate at run time, through the CLI and the service's map loader, on a copy of the
 * repository's map: sign, change one entry, see the sync refuse (naming approver, date and entry)
 * while a dry-run preview still loads the map, and see `data-map diff` name the same entry.
 */

const CITY = `    source: city
    classification: marketing-safe
    target: Contact.MailingCity
    direction: both`;
const CITY_KEY = 'patients.city -> Contact.MailingCity';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function setup() {
  const root = tempRepoRoot();
  roots.push(root);
  const env = offlineEnv(root);
  return { root, env, config: loadConfig(env) };
}

async function run(args: string[], env: Record<string, string>, root: string) {
  const cli = cliContext(env, root);
  const code = await dataMapCommand.run(args, cli.ctx);
  return { code, out: cli.text() };
}

async function auditEntries(env: Record<string, string>): Promise<AuditEntry[]> {
  const config = loadConfig(env);
  const store = createStore(config.database, keyringCipher(createKeyring(config.encryptionKey!)));
  await store.migrate();
  try {
    return (await store.listAudit()).map((r) => JSON.parse(r.entry) as AuditEntry);
  } finally {
    await store.close();
  }
}

describe('data-map sign-off at run time', () => {
  it('the repository map is signed, and diff says so', async () => {
    const { root, env, config } = setup();
    expect((await loadSignedDataMap(config, root)).hash).toMatch(/^[0-9a-f]{64}$/);
    const { code, out } = await run(['diff'], env, root);
    expect(code).toBe(0);
    expect(out).toMatch(/matches its sign-off by .+ on \d{4}-\d{2}-\d{2}/);
  });

  it('sign records approver, date, hash and per-entry digests, and audits the sign-off', async () => {
    const { root, env, config } = setup();
    const { code, out } = await run(['sign', '--by', 'Dana Compliance', '--date', '2026-11-20'], env, root);
    expect(code, out).toBe(0);
    const text = readMap(root);
    expect(text).toContain('approvedBy: Dana Compliance');
    expect(text).toContain('approvedOn: 2026-11-20');
    expect(text).toContain(`${CITY_KEY}:`);
    // Comments survive the rewrite.
    expect(text).toContain('# The signed data map');
    const { hash } = await loadSignedDataMap(config, root);
    expect(text).toContain(hash);
    const entries = await auditEntries(env);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      operation: 'data-map-sign',
      object: 'data-map',
      actor: 'cli:Dana Compliance',
      sourceSystem: 'sync-service',
      changedFields: [],
    });
  });

  it('a changed entry stops the sync with a message naming approver, date and that entry; a preview still loads', async () => {
    const { root, env, config } = setup();
    expect((await run(['sign', '--by', 'Dana Compliance', '--date', '2026-11-20'], env, root)).code).toBe(0);
    editMap(root, CITY, CITY.replace('direction: both', 'direction: cliniko-to-salesforce'));

    const refused = await loadSignedDataMap(config, root).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(SyncError);
    const error = refused as SyncError;
    expect(error.code).toBe('DATA_MAP_NOT_SIGNED');
    expect(error.message).toContain('Dana Compliance');
    expect(error.message).toContain('2026-11-20');
    expect(error.message).toContain(`Changed since then: ${CITY_KEY}.`);

    // The service itself refuses before it connects to anything.
    await expect(
      createSyncService(config, createLogger({ level: 'silent' }), { rootDir: root }),
    ).rejects.toMatchObject({
      code: 'DATA_MAP_NOT_SIGNED',
      message: expect.stringContaining(CITY_KEY) as unknown,
    });
    // A preview passes the gate and goes on to connect (here to a port nobody listens on).
    const previewError: unknown = await createSyncService(config, createLogger({ level: 'silent' }), {
      rootDir: root,
      allowUnsignedMap: true,
    }).then(
      async (service) => {
        await service.close();
        return undefined;
      },
      (err: unknown) => err,
    );
    // Nobody listens there: an outage (retryable), not a refused grant.
    expect((previewError as { code?: string } | undefined)?.code).toBe('SALESFORCE_UNAVAILABLE');

    // Dry-run previews load the unsigned map.
    const preview = await loadSignedDataMap(config, root, { allowUnsigned: true });
    expect(preview.map.entries.find((e) => e.key === CITY_KEY)?.direction).toBe('cliniko-to-salesforce');

    const diff = await run(['diff'], env, root);
    expect(diff.code).toBe(1);
    expect(diff.out).toContain(`~ ${CITY_KEY}`);
    expect(diff.out).not.toContain('MailingState');

    // A new sign-off lifts the stop and names what it approved.
    const resigned = await run(['sign', '--by', 'Sam Auditor'], env, root);
    expect(resigned.code).toBe(0);
    expect(resigned.out).toContain(`changed since the previous sign-off: ${CITY_KEY}`);
    await expect(loadSignedDataMap(config, root)).resolves.toBeDefined();
    expect((await auditEntries(env)).map((e) => e.operation)).toEqual(['data-map-sign', 'data-map-sign']);
  });

  it('diff in a git checkout finds the signed version in history and names what changed in each entry', async () => {
    const { root, env } = setup();
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
        cwd: root,
        stdio: 'pipe',
      });
    git('init', '-q');
    git('add', 'config');
    git('commit', '-q', '-m', 'signed map');
    editMap(root, CITY, CITY.replace('direction: both', 'direction: cliniko-to-salesforce'));
    const { code, out } = await run(['diff'], env, root);
    expect(code).toBe(1);
    expect(out).toContain('from git history');
    expect(out).toContain(`~ ${CITY_KEY}  (direction)`);
    expect(out).toContain(`Changed since then: ${CITY_KEY}.`);
  });

  it('diff --against names added, removed and changed entries', async () => {
    const { root, env } = setup();
    const copy = join(root, 'config/before.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(copy, readMap(root));
    editMap(root, CITY, CITY.replace('direction: both', 'direction: cliniko-to-salesforce'));
    const { code, out } = await run(['diff', '--against', copy], env, root);
    expect(code).toBe(1);
    expect(out).toContain(`~ ${CITY_KEY}  (direction)`);
  });

  it('sign refuses an invalid map and leaves the file alone', async () => {
    const { root, env } = setup();
    editMap(root, CITY, CITY.replace('classification: marketing-safe', 'classification: public'));
    const before = readMap(root);
    await expect(run(['sign', '--by', 'Dana'], env, root)).rejects.toMatchObject({
      code: 'DATA_MAP_INVALID',
    });
    expect(readMap(root)).toBe(before);
    expect((await run(['sign'], env, root)).code).toBe(2);
  });
});
