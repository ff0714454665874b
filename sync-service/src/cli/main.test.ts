import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, withEnvFile } from './main.js';

/**
 * The command line's environment: `--env-file` (node's dotenv parser, the file winning over the shell),
 * and commands that never contact Cliniko or Salesforce running without their credentials, while one
 * that does still names every missing variable and never a value.
 */
let dir: string;
let storeOnly: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-env-'));
  storeOnly = {
    SYNC_DB_PATH: join(dir, 'sync.db'),
    SYNC_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
  };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    err.push(args.map(String).join(' '));
  });
  return { out: () => out.join(''), err: () => err.join('\n') };
}

describe('--env-file', () => {
  it('reads the file anywhere in the arguments, and its values win over the shell', () => {
    const file = join(dir, 'a.env');
    writeFileSync(file, "# comment\nDATABASE_URL=\nSYNC_DB_PATH='/tmp/demo store.db'\n");
    for (const argv of [
      ['--env-file', file, 'status'],
      ['status', `--env-file=${file}`],
    ]) {
      const {
        argv: rest,
        env,
        error,
      } = withEnvFile(argv, { DATABASE_URL: 'postgres://prod/db', HOME: '/h' });
      expect(error).toBeUndefined();
      expect(rest).toEqual(['status']);
      expect(env).toMatchObject({ DATABASE_URL: '', SYNC_DB_PATH: '/tmp/demo store.db', HOME: '/h' });
    }
  });

  it('fails by path, without reading anything, when the file is missing or the flag has no path', () => {
    expect(withEnvFile(['--env-file', join(dir, 'nope.env'), 'status'], {}).error).toMatch(
      /nope\.env: ENOENT/,
    );
    expect(withEnvFile(['status', '--env-file'], {}).error).toBe('--env-file needs a path');
  });
});

describe('configuration per command', () => {
  it('runs quarantine and audit verify with the store variables alone (no Cliniko or Salesforce credentials)', async () => {
    const file = join(dir, 'store.env');
    writeFileSync(
      file,
      Object.entries(storeOnly)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    const io = capture();
    expect(await runCli(['--env-file', file, 'quarantine'], {})).toBe(0);
    expect(await runCli(['--env-file', file, 'audit', 'verify'], {})).toBe(0);
    expect(io.out()).toContain('nothing is quarantined');
    expect(io.err()).toBe('');
  });

  it('control: a command that reads Cliniko still demands every missing variable, naming none of the values', async () => {
    const io = capture();
    expect(await runCli(['status'], storeOnly)).toBe(1);
    for (const variable of [
      'CLINIKO_API_KEY',
      'CLINIKO_CONTACT_EMAIL',
      'SALESFORCE_CLIENT_ID',
      'SALESFORCE_CLIENT_SECRET',
    ])
      expect(io.err()).toContain(variable);
    expect(io.err()).not.toContain(storeOnly.SYNC_ENCRYPTION_KEY);
  });

  it('still names a bad store variable for a store-only command', async () => {
    const io = capture();
    expect(await runCli(['quarantine'], { ...storeOnly, SYNC_ENCRYPTION_KEY: 'c2hvcnQ=' })).toBe(1);
    expect(io.err()).toContain('SYNC_ENCRYPTION_KEY');
    expect(io.err()).not.toContain('c2hvcnQ=');
    expect(io.err()).not.toContain('CLINIKO_API_KEY');
  });
});
