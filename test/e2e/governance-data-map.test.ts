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
import { cliContext, editMap, offlineEnv, readMap, tempRepoRoot, writeMap } from '../support/governance.js';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { dataMapSha256 } from '../../sync-service/src/governance/canonical.js';
import {
  parsePrivateKey,
  publicKeyText,
  signStatement,
} from '../../sync-service/src/governance/signatures.js';

const DEMO = 'Demo Compliance Officer (DEMO ONLY)';
const demoKey = (root: string) => join(root, 'config/demo-keys/DEMO-ONLY-approver.key');
const ownerKey = (root: string) => join(root, 'config/demo-keys/DEMO-ONLY-integration-owner.key');

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
    const { code, out } = await run(['sign', '--key', demoKey(root), '--date', '2026-11-20'], env, root);
    expect(code, out).toBe(0);
    const text = readMap(root);
    expect(text).toContain(`approvedBy: ${DEMO}`);
    expect(text).toMatch(
      /signatures:\n {4}- approver: Demo Compliance Officer \(DEMO ONLY\)\n {6}role: compliance-officer/,
    );
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
      actor: `cli:${DEMO}`,
      sourceSystem: 'sync-service',
      changedFields: [],
    });
  });

  it('a changed entry stops the sync with a message naming approver, date and that entry; a preview still loads', async () => {
    const { root, env, config } = setup();
    expect((await run(['sign', '--key', demoKey(root), '--date', '2026-11-20'], env, root)).code).toBe(0);
    editMap(root, CITY, CITY.replace('direction: both', 'direction: cliniko-to-salesforce'));

    const refused = await loadSignedDataMap(config, root).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(SyncError);
    const error = refused as SyncError;
    expect(error.code).toBe('DATA_MAP_NOT_SIGNED');
    expect(error.message).toContain(DEMO);
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
    const resigned = await run(['sign', '--key', demoKey(root)], env, root);
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
    expect(out).toContain(`~ ${CITY_KEY}\n      direction: "both" -> "cliniko-to-salesforce"`);
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
    expect(out).toContain(`~ ${CITY_KEY}\n      direction: "both" -> "cliniko-to-salesforce"`);
  });

  it('sign refuses an invalid map and leaves the file alone', async () => {
    const { root, env } = setup();
    editMap(root, CITY, CITY.replace('classification: marketing-safe', 'classification: public'));
    const before = readMap(root);
    await expect(run(['sign', '--key', demoKey(root)], env, root)).rejects.toMatchObject({
      code: 'DATA_MAP_INVALID',
    });
    expect(readMap(root)).toBe(before);
    expect((await run(['sign'], env, root)).code).toBe(2);
  });
});

/** The map with `patients.city -> Contact.MailingCity` reading `patients.notes` instead. */
const NOTES_TO_CITY = CITY.replace('source: city', 'source: notes');
const NOTES_KEY = 'patients.notes -> Contact.MailingCity';

/** Signs the current map text's canonical form directly (as an insider with a registered key could). */
function forgeSignature(root: string, keyFile: string, approver: string): void {
  const text = readMap(root);
  const doc = parseYaml(text) as { entries: unknown[]; derived: unknown[] };
  const sha256 = dataMapSha256(doc.entries, doc.derived);
  const statement = {
    document: 'data-map',
    sha256,
    approver,
    role: 'compliance-officer',
    signedOn: '2026-11-21',
  };
  const signature = signStatement(parsePrivateKey(readFileSync(keyFile, 'utf8')), statement);
  writeMap(
    root,
    text
      .replace(/ {2}sha256: '[0-9a-f]{64}'/, `  sha256: '${sha256}'`)
      .replace(
        / {6}signedOn: .*\n {6}signature: .*\n/,
        `      signedOn: 2026-11-21\n      signature: ${signature}\n`,
      ),
  );
}

describe('attacks on the sign-off, each refused (with a control that passes)', () => {
  it('patients.notes -> Contact.MailingCity, signed by a registered approver: refused at load, sign and dry run', async () => {
    const { root, env, config } = setup();
    editMap(root, CITY, NOTES_TO_CITY);
    forgeSignature(root, demoKey(root), DEMO);
    const deny = {
      code: 'DATA_MAP_INVALID',
      message: expect.stringContaining(
        `${NOTES_KEY}) source: patients.notes is on the clinical deny-list`,
      ) as unknown,
    };
    await expect(loadSignedDataMap(config, root)).rejects.toMatchObject(deny);
    await expect(loadSignedDataMap(config, root, { allowUnsigned: true })).rejects.toMatchObject(deny);
    await expect(
      createSyncService(config, createLogger({ level: 'silent' }), { rootDir: root, allowUnsignedMap: true }),
    ).rejects.toMatchObject(deny);
    await expect(run(['sign', '--key', demoKey(root)], env, root)).rejects.toMatchObject(deny);
    // Control: the same forged-signature path over the city map is a valid sign-off.
    editMap(root, NOTES_TO_CITY, CITY);
    forgeSignature(root, demoKey(root), DEMO);
    await expect(loadSignedDataMap(config, root)).resolves.toBeDefined();
  });

  it("a map signed by a stranger's key is refused, naming the approver; the CLI will not sign with it", async () => {
    const { root, env, config } = setup();
    const stranger = join(root, 'stranger.key');
    writeFileSync(
      stranger,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    forgeSignature(root, stranger, DEMO);
    const refused = await loadSignedDataMap(config, root).catch((err: unknown) => err as SyncError);
    expect(refused).toMatchObject({ code: 'DATA_MAP_NOT_SIGNED' });
    expect((refused as SyncError).message).toContain(
      `the signature of ${DEMO} (2026-11-21) does not match this data-map`,
    );
    expect((refused as SyncError).message).not.toMatch(/PRIVATE KEY|[A-Za-z0-9+/]{80,}==/);
    const cli = await run(['sign', '--key', stranger], env, root);
    expect(cli.code).toBe(2);
    expect(cli.out).toContain('belongs to no registered approver');
    // Control: the registered key signs and the gate opens.
    expect((await run(['sign', '--key', demoKey(root)], env, root)).code).toBe(0);
    await expect(loadSignedDataMap(config, root)).resolves.toBeDefined();
  });

  it('an approver added without a valid signature is refused; a signed add is accepted and audited', async () => {
    const { root, env, config } = setup();
    const stranger = join(root, 'stranger.key');
    const mallory = generateKeyPairSync('ed25519').privateKey;
    writeFileSync(stranger, mallory.export({ type: 'pkcs8', format: 'pem' }));
    const registryBefore = readFileSync(join(root, 'config/approvers.yaml'), 'utf8');
    const add = [
      'approvers',
      'add',
      '--name',
      'Mallory',
      '--role',
      'compliance-officer',
      '--public-key',
      publicKeyText(mallory),
    ];
    const refused = await run([...add, '--key', stranger], env, root);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('belongs to no registered approver');
    expect(readFileSync(join(root, 'config/approvers.yaml'), 'utf8')).toBe(registryBefore);
    // Hand-appending the change (signed by Mallory's key, claiming the demo officer) breaks the registry.
    writeFileSync(
      join(root, 'config/approvers.yaml'),
      `${registryBefore}  - op: add\n    name: Mallory\n    role: compliance-officer\n    publicKey: ${publicKeyText(mallory)}\n    on: 2026-11-21\n    by: ${DEMO}\n    seq: 3\n    previous: '${'0'.repeat(64)}'\n    signature: ${signStatement(mallory, { x: 1 })}\n`,
    );
    const broken = await loadSignedDataMap(config, root).catch((err: unknown) => err as SyncError);
    expect(broken).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((broken as SyncError).message).toContain(
      'approver change 3 (add Mallory): does not follow the change before it',
    );
    writeFileSync(join(root, 'config/approvers.yaml'), registryBefore);
    // Control: the registered officer adds Mallory; the change is signed, written and audited.
    const added = await run([...add, '--key', demoKey(root)], env, root);
    expect(added.code, added.out).toBe(0);
    await expect(loadSignedDataMap(config, root)).resolves.toBeDefined();
    const listed = await run(['approvers', 'list'], env, root);
    expect(listed.out).toContain('Mallory');
    expect((await auditEntries(env)).map((e) => e.operation)).toEqual(['approvers-change']);
  });

  it('the demo key in production mode is refused; test mode (control) accepts it', async () => {
    const { root } = setup();
    const production = loadConfig(offlineEnv(root, { SYNC_MODE: 'production' }));
    await expect(loadSignedDataMap(production, root)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('with a published demo key, which production refuses') as unknown,
    });
    await expect(loadSignedDataMap(loadConfig(offlineEnv(root)), root)).resolves.toBeDefined();
    const demo = loadConfig(offlineEnv(root, { SYNC_MODE: 'demo' }));
    await expect(loadSignedDataMap(demo, root)).resolves.toBeDefined();
  });

  it('the integration owner alone cannot sign off under the default policy', async () => {
    const { root, env, config } = setup();
    editMap(root, CITY, CITY.replace('direction: both', 'direction: cliniko-to-salesforce'));
    const signed = await run(['sign', '--key', ownerKey(root)], env, root);
    expect(signed.code).toBe(0);
    expect(signed.out).toContain('still needed');
    await expect(loadSignedDataMap(config, root)).rejects.toMatchObject({ code: 'DATA_MAP_NOT_SIGNED' });
    expect((await run(['sign', '--key', demoKey(root)], env, root)).code).toBe(0);
    await expect(loadSignedDataMap(config, root)).resolves.toBeDefined();
  });
});
