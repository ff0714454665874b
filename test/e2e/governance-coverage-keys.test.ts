import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreOnly } from '../../sync-service/src/cli/commands/audit-store.js';
import { dataMapCommand } from '../../sync-service/src/cli/commands/data-map.js';
import { ConfigError, loadConfig } from '../../sync-service/src/config/index.js';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { createStore } from '../../sync-service/src/store/index.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import { cliContext, editMap, offlineEnv, tempRepoRoot } from '../support/governance.js';

/**
 * `data-map coverage` against the Cliniko emulator (counts, never values), and the retired-key
 * setting: a store written under an old key is still readable after a rotation.
 */

let cliniko: ClinikoEmulator;
const roots: string[] = [];

beforeAll(async () => {
  cliniko = await startClinikoEmulator({ patients: 12, seed: 3, now: new Date().toISOString() });
});

afterAll(async () => {
  await cliniko?.close();
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function setup() {
  const root = tempRepoRoot('governance-coverage-');
  roots.push(root);
  const env = offlineEnv(root, { CLINIKO_API_KEY: cliniko.apiKey, CLINIKO_BASE_URL: cliniko.baseUrl });
  return { root, env };
}

describe('data-map coverage', () => {
  it('lists the Cliniko fields a map does not mention, with counts and no values', async () => {
    const { root, env } = setup();
    // Drop one clinician-only entry: its fields are then unmentioned (and still never sent).
    editMap(
      root,
      `  - resource: patients
    source: [gender, gender_identity, pronouns, sex]
    classification: clinician-only
    rationale: Sensitive personal information with no marketing, operations or billing use in Salesforce.
`,
      '',
    );
    const cli = cliContext(env, root);
    const code = await dataMapCommand.run(['coverage'], cli.ctx);
    const out = cli.text();
    expect(code, out).toBe(0);
    expect(out).toMatch(/records read: .*patients \d+/);
    for (const field of ['gender_identity', 'pronouns', 'sex']) {
      expect(out).toMatch(new RegExp(`patients\\.${field}\\s+in \\d+ records`));
    }
    expect(out).toMatch(/resources the map has no entry for .*businesses/);
    expect(out).not.toContain('businesses.');
    // Counts only: no patient value and no canary in the report.
    const patient = cliniko.practice.patients[0]!;
    expect(out).not.toContain(patient.f.last_name);
    expect(out).not.toMatch(/CANARY-/i);
  });

  it('the repository map mentions every patient field Cliniko serves', async () => {
    const { root, env } = setup();
    const cli = cliContext(env, root);
    expect(await dataMapCommand.run(['coverage', '--max', '5'], cli.ctx)).toBe(0);
    expect(cli.text()).toContain('every field seen in the mapped resources is mentioned by the map');
  });
});

describe('retired encryption keys', () => {
  it('a store written under the old key is read after a rotation that lists it as retired', async () => {
    const root = tempRepoRoot('governance-keys-');
    roots.push(root);
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const before = offlineEnv(root, { SYNC_ENCRYPTION_KEY: oldKey });
    const config = loadConfig(before);
    const store = createStore(config.database, keyringCipher(createKeyring(config.encryptionKey!)));
    await store.migrate();
    await store.commitBatch({
      stream: 'patients',
      quarantine: [
        {
          resource: 'patients',
          recordId: '7',
          field: 'email',
          reason: 'test',
          payload: '{"id":"7"}',
          runId: 'r1',
        },
      ],
      now: Date.now(),
    });
    await store.close();

    const rotated = { ...before, SYNC_ENCRYPTION_KEY: newKey, SYNC_ENCRYPTION_KEYS_RETIRED: oldKey };
    const reopened = await openStoreOnly(cliContext(rotated, root).ctx);
    try {
      expect((await reopened.listQuarantinePayloads())[0]?.payload).toBe('{"id":"7"}');
    } finally {
      await reopened.close();
    }

    const forgotten = await openStoreOnly(cliContext({ ...before, SYNC_ENCRYPTION_KEY: newKey }, root).ctx);
    try {
      await expect(forgotten.listQuarantinePayloads()).rejects.toThrow();
    } finally {
      await forgotten.close();
    }
  });

  it('a malformed retired key is a config error naming its position, never the value', () => {
    const root = tempRepoRoot('governance-keys-');
    roots.push(root);
    const good = randomBytes(32).toString('base64');
    const env = offlineEnv(root, { SYNC_ENCRYPTION_KEYS_RETIRED: `${good},not-a-key` });
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('SYNC_ENCRYPTION_KEYS_RETIRED');
    expect(message).toContain('key 2');
    expect(message).not.toContain('not-a-key');
    expect(message).not.toContain(good);
  });
});
