/**
 * The real Salesforce CLI (`node_modules/.bin/sf`, from our devDependencies) against the Salesforce
 * emulator (issue 18, item 2 without deploy): login with an access token, org display, data
 * create / update / get / query / delete record, Bulk 2.0 upsert, sobject list / describe, org limits.
 * Each command's JSON result is checked against the org itself, and a last command on a deleted record
 * must fail, so the harness can tell a failure from a success.
 *
 * The CLI never touches the user's own config: HOME and XDG_CONFIG_HOME are a throwaway folder, the
 * update check, auto-update and telemetry are off, and at the end no process that carries that HOME
 * is left running. The CLI takes a few seconds to start, so the commands run in one sequence.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { control } from '../emulators/salesforce/testing.js';

const SF = resolve('node_modules/.bin/sf');
const COMMAND_TIMEOUT_MS = 60_000;

let emu: SalesforceEmulator;
let home: string;
let env: NodeJS.ProcessEnv;

interface SfResult {
  code: number;
  json: { status: number; result?: unknown; name?: string; message?: string };
  stderr: string;
}

/** Runs `sf <args> --json`; never rejects, so a failing command can be asserted on. */
function sf(...args: string[]): Promise<SfResult> {
  return new Promise((done) => {
    execFile(
      SF,
      [...args, '--json'],
      { env, cwd: home, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        let json: SfResult['json'];
        try {
          json = JSON.parse(stdout) as SfResult['json'];
        } catch {
          json = { status: -1, message: `not JSON (exit ${String(code)}): ${stdout.slice(0, 500)}` };
        }
        done({ code, json, stderr });
      },
    );
  });
}

/** Processes (ours) whose environment carries the throwaway HOME: the CLI and anything it spawned. */
function processesWithHome(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`HOME=${home}`))
        pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

beforeAll(async () => {
  emu = await startSalesforceEmulator({ controls: true });
  home = mkdtempSync(join(tmpdir(), 'sf-cli-home-'));
  const token = (await (
    await fetch(`${emu.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: emu.clientId,
        client_secret: emu.clientSecret,
      }),
    })
  ).json()) as { access_token: string };
  env = {
    // The node that runs vitest (Node 24 from devDependencies) runs the CLI too.
    PATH: [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    SF_ACCESS_TOKEN: token.access_token,
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_TELEMETRY: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_USE_GENERIC_UNIX_KEYCHAIN: 'true',
    SF_DISABLE_AUTOUPDATE: 'true',
    NO_COLOR: '1',
  };
});

afterAll(async () => {
  await emu?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

type LoggedRequest = { method: string; url: string; sentUrl?: string; status: number };

describe('the real sf CLI against the emulator', () => {
  it('logs in with an access token and runs every data, sobject and org command', async () => {
    // ------------------------------------------------------------ login (userinfo, `//services`)
    const login = await sf(
      'org',
      'login',
      'access-token',
      '--instance-url',
      `${emu.instanceUrl}/`,
      '--no-prompt',
      '--alias',
      'emu',
      '--set-default',
    );
    expect(login.json, login.stderr).toMatchObject({
      status: 0,
      result: { username: emu.username, orgId: emu.orgId },
    });
    const afterLogin = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    expect(afterLogin.find((r) => r.url === '/services/oauth2/userinfo')?.status).toBe(200);
    // The CLI stores `<instance>/` and sends `//services/...` from then on; those must be served.
    const doubled = afterLogin.filter((r) => r.sentUrl?.startsWith('//services/'));
    expect(doubled.length).toBeGreaterThan(0);
    expect(doubled.filter((r) => r.status === 200 && !r.url.includes('/tooling/')).length).toBe(
      doubled.filter((r) => !r.url.includes('/tooling/')).length,
    );

    const display = await sf('org', 'display', '--target-org', 'emu');
    expect(display.json).toMatchObject({
      status: 0,
      result: { id: emu.orgId, connectedStatus: 'Connected', username: emu.username },
    });

    // ------------------------------------------------------------ one record's life
    const created = await sf(
      'data',
      'create',
      'record',
      '--sobject',
      'Contact',
      '--values',
      "LastName='Cli' Cliniko_Patient_Id__c='cli-1'",
    );
    expect(created.json.status, JSON.stringify(created.json)).toBe(0);
    const id = (created.json.result as { id: string }).id;
    expect(emu.org.byId(id)?.record.LastName).toBe('Cli');

    const updated = await sf(
      'data',
      'update',
      'record',
      '--sobject',
      'Contact',
      '--record-id',
      id,
      '--values',
      "FirstName='Ann'",
    );
    expect(updated.json.status, JSON.stringify(updated.json)).toBe(0);
    expect(emu.org.byId(id)?.record.FirstName).toBe('Ann');

    const got = await sf('data', 'get', 'record', '--sobject', 'Contact', '--record-id', id);
    expect(got.json).toMatchObject({ status: 0, result: { Id: id, Name: 'Ann Cli' } });

    const query = await sf(
      'data',
      'query',
      '--query',
      `SELECT Id, Name, Owner.Name FROM Contact WHERE Id = '${id}'`,
    );
    expect(query.json).toMatchObject({
      status: 0,
      result: {
        totalSize: 1,
        records: [{ Id: id, Name: 'Ann Cli', Owner: { Name: 'Cliniko Sync Integration' } }],
      },
    });
    const log = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    const columns = log.filter((r) => r.url.includes('columns=true'));
    expect(columns.map((r) => r.status)).toEqual([200]);

    const deleted = await sf('data', 'delete', 'record', '--sobject', 'Contact', '--record-id', id);
    expect(deleted.json.status, JSON.stringify(deleted.json)).toBe(0);
    expect(emu.org.byId(id)?.record.IsDeleted).toBe(true);

    // ------------------------------------------------------------ Bulk API 2.0 upsert
    const csv = join(home, 'contacts.csv');
    writeFileSync(csv, 'Cliniko_Patient_Id__c,LastName,FirstName\ncli-2,Smith,Ann\ncli-3,Jones,Bob\n');
    const bulk = await sf(
      'data',
      'upsert',
      'bulk',
      '--sobject',
      'Contact',
      '--file',
      csv,
      '--external-id',
      'Cliniko_Patient_Id__c',
      '--wait',
      '1',
    );
    expect(bulk.json, JSON.stringify(bulk.json)).toMatchObject({
      status: 0,
      result: {
        jobInfo: { state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 0 },
        records: { failedResults: [] },
      },
    });
    const upserted = [...emu.org.records('Contact')].filter((c) =>
      ['cli-2', 'cli-3'].includes(String(c.Cliniko_Patient_Id__c)),
    );
    expect(upserted.map((c) => c.LastName).sort()).toEqual(['Jones', 'Smith']);

    // ------------------------------------------------------------ schema and limits
    const list = await sf('sobject', 'list', '--sobject', 'all');
    expect(list.json.status).toBe(0);
    expect(list.json.result).toEqual(expect.arrayContaining(['Contact', 'Account', 'Care_Plan__c']));

    const described = await sf('sobject', 'describe', '--sobject', 'Contact');
    expect(described.json).toMatchObject({ status: 0, result: { name: 'Contact', keyPrefix: '003' } });

    const limits = await sf('org', 'list', 'limits');
    expect(limits.json.status).toBe(0);
    expect(limits.json.result).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'DailyApiRequests' })]),
    );

    // ------------------------------------------------------------ control: a failure is seen
    const gone = await sf('data', 'get', 'record', '--sobject', 'Contact', '--record-id', id);
    expect(gone.code).not.toBe(0);
    expect(gone.json.status).not.toBe(0);

    // Everything under /services that the CLI asked was served by a route, not by the fallback.
    const all = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    const unserved = all.filter(
      (r) => r.status === 404 && !r.url.includes('/tooling/') && !r.url.includes(`/sobjects/Contact/${id}`),
    );
    expect(unserved).toEqual([]);

    // No CLI process (or anything it spawned) outlives its command.
    expect(processesWithHome()).toEqual([]);
  }, 600_000);
});

describe('paths the CLI builds from an instance URL with a trailing slash', () => {
  it('serves `//services/...` as `/services/...`, and the request log keeps what was sent', async () => {
    const token = (await (
      await fetch(`${emu.loginUrl}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: emu.clientId,
          client_secret: emu.clientSecret,
        }),
      })
    ).json()) as { access_token: string };
    const headers = { authorization: `Bearer ${token.access_token}` };
    const userinfo = await fetch(`${emu.instanceUrl}//services/oauth2/userinfo`, { headers });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({
      preferred_username: emu.username,
      organization_id: emu.orgId,
    });
    const limits = await fetch(`${emu.instanceUrl}//services/data/v66.0/limits`, { headers });
    expect(limits.status).toBe(200);
    expect(limits.headers.get('sforce-limit-info')).toMatch(/^api-usage=\d+\/\d+$/);
    const log = await control<LoggedRequest[]>(emu.loginUrl, 'GET', 'requests');
    expect(log.at(-1)).toMatchObject({
      url: '/services/data/v66.0/limits',
      sentUrl: '//services/data/v66.0/limits',
    });
    // Control: a path that does not exist is still Salesforce's JSON error, not a plain-text 404.
    const missing = await fetch(`${emu.instanceUrl}//services/data/v66.0/nothing-here`, { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual([
      { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' },
    ]);
    // Control: a bad token at userinfo is refused.
    const refused = await fetch(`${emu.instanceUrl}//services/oauth2/userinfo`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(refused.status).toBe(403);
  });
});
