import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { salesforceFieldCatalogue } from '../../scripts/lib/metadata-field-catalogue.js';
import type { CliContext } from '../../sync-service/src/cli/types.js';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { createLogger } from '../../sync-service/src/logger.js';

/**
 * Helpers for the governance tests: a throwaway repository root holding copies of the files the data
 * map is validated against (config/ and the package's objects), so a test can edit or re-sign the map
 * without touching the real one, and a CLI context that captures output instead of printing it.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A temp root with config/ (map, field catalogues, journey, approvers, deny-list, demo keys) and force-app objects. */
export function tempRepoRoot(prefix = 'governance-'): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(root, 'config'));
  for (const file of [
    'data-map.yaml',
    'cliniko-fields.json',
    'salesforce-fields.json',
    'journey.yaml',
    'approvers.yaml',
    'clinical-deny-list.yaml',
  ]) {
    cpSync(join(REPO_ROOT, 'config', file), join(root, 'config', file));
  }
  cpSync(join(REPO_ROOT, 'config/demo-keys'), join(root, 'config/demo-keys'), { recursive: true });
  cpSync(join(REPO_ROOT, 'force-app/main/default/objects'), join(root, 'force-app/main/default/objects'), {
    recursive: true,
  });
  return root;
}

/**
 * After a test changes the package's fields in `root`, does what `npm run generate:metadata` does for
 * the service: rewrites `config/salesforce-fields.json`, which the service reads instead of `force-app/`.
 */
export function regenerateFieldCatalogue(root: string): void {
  writeFileSync(join(root, 'config/salesforce-fields.json'), salesforceFieldCatalogue(root), 'utf8');
}

export function readMap(root: string): string {
  return readFileSync(join(root, 'config/data-map.yaml'), 'utf8');
}

export function writeMap(root: string, text: string): void {
  writeFileSync(join(root, 'config/data-map.yaml'), text, 'utf8');
}

/** Replaces exactly one occurrence of `from` in the map (fails loudly if the anchor moved). */
export function editMap(root: string, from: string, to: string): void {
  const text = readMap(root);
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`map edit anchor not unique: ${from}`);
  writeMap(root, text.slice(0, at) + to + text.slice(at + from.length));
}

/**
 * An environment that parses (the CLI's governance commands need no live Cliniko or Salesforce, but the
 * config schema still wants their settings): loopback URLs nobody listens on.
 */
export function offlineEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CLINIKO_API_KEY: `offline-test-key-${randomBytes(8).toString('hex')}-au1`,
    CLINIKO_BASE_URL: 'http://127.0.0.1:9/v1',
    CLINIKO_CONTACT_EMAIL: 'integration@clinic.example',
    SALESFORCE_LOGIN_URL: 'http://127.0.0.1:9',
    SALESFORCE_CLIENT_ID: 'offline-client',
    SALESFORCE_CLIENT_SECRET: 'offline-secret',
    SYNC_DB_PATH: join(root, 'sync.db'),
    SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    SYNC_MODE: 'test',
    ...extra,
  };
}

export interface CapturedCli {
  readonly ctx: CliContext;
  readonly lines: string[];
  text(): string;
}

/** A CLI context over `env` and `root` whose output is captured; `service()` is refused on purpose. */
export function cliContext(env: Record<string, string>, root: string): CapturedCli {
  const lines: string[] = [];
  const ctx: CliContext = {
    env,
    config: () => loadConfig(env),
    logger: () => createLogger({ level: 'silent' }),
    service: () => Promise.reject(new Error('governance commands must not build the sync service')),
    print: (line) => {
      lines.push(line);
    },
    tty: false,
    rootDir: root,
  };
  return { ctx, lines, text: () => lines.join('\n') };
}
