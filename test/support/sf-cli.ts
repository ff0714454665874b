import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SalesforceEmulator } from '../emulators/salesforce/server.js';
import { signJwt } from '../emulators/salesforce/testing.js';

/**
 * The real Salesforce CLI (`@salesforce/cli` from our devDependencies) driven against the Salesforce
 * emulator, as an admin would: `sf org login access-token` with an administrator's session, then
 * `sf project deploy start` / `sf org assign permset` in a throwaway copy of the project.
 *
 * Every run has its own HOME (the CLI keeps its auth files and config under ~/.sf and ~/.sfdx), so a
 * test never reads or writes the user's orgs; auto-update, the version check and telemetry are off.
 * The CLI runs on the Node that runs us (Node 24 from the devDependency), not the system `node` its
 * shebang would find.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SF_BIN = join(REPO_ROOT, 'node_modules/@salesforce/cli/bin/run.js');
const TSC_BIN = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
const ORG_ALIAS = 'emulator';

export interface SfResult {
  /** The CLI's exit code. */
  readonly code: number;
  /** The `--json` answer (`{ status, result, ... }`). */
  readonly json: { status: number; result?: unknown; message?: string; name?: string };
  readonly stderr: string;
}

export interface SfCli {
  /** The throwaway project the CLI runs in (a copy of force-app, force-app-org-setup and their config). */
  readonly projectDir: string;
  /** Runs `sf <args> --json` against the emulator org; never throws on a non-zero exit. */
  run(args: readonly string[], timeoutMs?: number): Promise<SfResult>;
  close(): void;
}

function spawn(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (error && error.killed) {
          reject(new Error(`${args.slice(0, 3).join(' ')}: killed after ${options.timeoutMs} ms`));
          return;
        }
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Copies the deployable project into a temporary folder. `buildLwc` runs `npm run build:lwc`'s
 * compiler there (the .js the components need is emitted from .ts and is not in git), as an admin's
 * deploy from a built checkout would have it.
 */
export async function copyProject(options: { buildLwc: boolean }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-project-'));
  for (const entry of ['sfdx-project.json', '.forceignore', 'force-app', 'force-app-org-setup']) {
    cpSync(join(REPO_ROOT, entry), join(dir, entry), {
      recursive: true,
      // Build output in the checkout must not leak into a copy meant to be unbuilt.
      filter: (source) =>
        !(source.includes('/lwc/') && source.endsWith('.js') && !source.includes('__tests__')),
    });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (options.buildLwc) {
    const tsc = await spawn(process.execPath, [TSC_BIN, '-p', 'force-app/main/default/lwc/tsconfig.json'], {
      cwd: dir,
      env: process.env,
      timeoutMs: 120_000,
    });
    if (tsc.code !== 0) throw new Error(`build:lwc failed in ${dir}: ${tsc.stdout}${tsc.stderr}`);
  }
  return dir;
}

/** Logs the CLI in to the emulator as its System Administrator (JWT bearer, then an access token). */
export async function loginSfCli(
  salesforce: SalesforceEmulator,
  options: { buildLwc?: boolean; projectDir?: string } = {},
): Promise<SfCli> {
  if (!salesforce.jwt.privateKeyPem) throw new Error('the emulator was given a certificate: no admin key');
  const home = mkdtempSync(join(tmpdir(), 'sf-home-'));
  mkdirSync(join(home, '.sf'), { recursive: true });
  const projectDir = options.projectDir ?? (await copyProject({ buildLwc: options.buildLwc ?? true }));
  const env: NodeJS.ProcessEnv = {
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: home,
    USERPROFILE: home,
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_TELEMETRY: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    SF_DISABLE_DNS_CHECK: 'true',
  };
  const run = async (args: readonly string[], timeoutMs = 120_000): Promise<SfResult> => {
    const out = await spawn(process.execPath, [SF_BIN, ...args, '--json'], {
      cwd: projectDir,
      env,
      timeoutMs,
    });
    let json: SfResult['json'];
    try {
      json = JSON.parse(out.stdout) as SfResult['json'];
    } catch {
      throw new Error(
        `sf ${args[0] ?? ''} ${args[1] ?? ''}: no JSON answer (exit ${out.code}): ${out.stderr.slice(0, 500)}`,
      );
    }
    return { code: out.code, json, stderr: out.stderr };
  };

  const assertion = signJwt(
    {
      iss: salesforce.clientId,
      sub: salesforce.adminUsername,
      aud: salesforce.loginUrl,
      exp: Math.floor(Date.now() / 1000) + 3600,
    },
    salesforce.jwt.privateKeyPem,
  );
  const response = await fetch(`${salesforce.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
  });
  if (!response.ok) throw new Error(`admin token: ${response.status} ${await response.text()}`);
  const { access_token: accessToken } = (await response.json()) as { access_token: string };
  env.SF_ACCESS_TOKEN = accessToken;
  // The trailing '/' is what the CLI stores anyway; the emulator must cope with '//services/...'.
  const login = await run([
    'org',
    'login',
    'access-token',
    '--instance-url',
    `${salesforce.instanceUrl}/`,
    '--alias',
    ORG_ALIAS,
    '--no-prompt',
  ]);
  delete env.SF_ACCESS_TOKEN;
  if (login.code !== 0) throw new Error(`sf org login access-token failed: ${JSON.stringify(login.json)}`);

  return {
    projectDir,
    run,
    close() {
      rmSync(home, { recursive: true, force: true });
      if (!options.projectDir && existsSync(projectDir)) rmSync(projectDir, { recursive: true, force: true });
    },
  };
}

/** `sf org assign permset` of the given sets to `username`, as docs/go-live.md has the admin do. */
export function assignPermissionSets(
  cli: SfCli,
  username: string,
  names: readonly string[],
): Promise<SfResult> {
  return cli.run([
    'org',
    'assign',
    'permset',
    ...names.flatMap((name) => ['--name', name]),
    '--on-behalf-of',
    username,
    '--target-org',
    ORG_ALIAS,
  ]);
}

/** `sf project deploy start --source-dir <dir>` (plus `--dry-run` when asked), waiting for the result. */
export function deploy(cli: SfCli, sourceDir: string, options: { dryRun?: boolean } = {}): Promise<SfResult> {
  return cli.run([
    'project',
    'deploy',
    'start',
    '--source-dir',
    sourceDir,
    '--target-org',
    ORG_ALIAS,
    '--wait',
    '5',
    ...(options.dryRun ? ['--dry-run'] : []),
  ]);
}

/**
 * Installs the package as docs/go-live.md has an admin do it, through the real CLI: deploy force-app,
 * then force-app-org-setup beside it, then assign the integration user its two permission sets.
 * Throws with the org's component failures when a step is refused. Returns how long it took.
 */
export async function installPackage(salesforce: SalesforceEmulator): Promise<{ seconds: number }> {
  const started = Date.now();
  const cli = await loginSfCli(salesforce);
  try {
    for (const dir of ['force-app', 'force-app-org-setup']) {
      const answer = await deploy(cli, dir);
      if (answer.code !== 0) {
        const result = answer.json.result as
          { details?: { componentFailures?: Array<{ fullName: string; problem: string }> } } | undefined;
        const problems = (result?.details?.componentFailures ?? []).map((f) => `${f.fullName}: ${f.problem}`);
        throw new Error(
          `sf project deploy start --source-dir ${dir} was refused: ${problems.join('; ') || (answer.json.message ?? 'no details')}`,
        );
      }
    }
    const assigned = await assignPermissionSets(cli, salesforce.username, [
      'Cliniko_Sync_Integration',
      'Cliniko_Sync_Integration_Org',
    ]);
    if (assigned.code !== 0) throw new Error(`sf org assign permset failed: ${assigned.json.message ?? ''}`);
  } finally {
    cli.close();
  }
  return { seconds: (Date.now() - started) / 1000 };
}
