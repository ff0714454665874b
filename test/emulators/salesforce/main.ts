/**
 * `npm run emulator:salesforce -- --port P [--json] [--controls] [--empty] [--project-dir DIR]
 *   [--token-lifetime SECONDS] [--daily-api-limit N] [--jwt-dir DIR] [--snapshot FILE] [--request-log N]
 *   [--max-events N]`
 *
 * Runs the Salesforce emulator until stopped. Prints the login URL, the client id/secret, the
 * integration user and its permission sets; with --json, the first stdout line is exactly
 * {"loginUrl","clientId","clientSecret","username"} for scripts to parse.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSalesforceEmulator } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    json: { type: 'boolean', default: false },
    controls: { type: 'boolean', default: false },
    empty: { type: 'boolean', default: false },
    'project-dir': { type: 'string' },
    'token-lifetime': { type: 'string' },
    'daily-api-limit': { type: 'string' },
    'jwt-dir': { type: 'string' },
    snapshot: { type: 'string' },
    'request-log': { type: 'string' },
    'max-events': { type: 'string' },
  },
  strict: true,
});

function integer(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${raw}`);
    process.exit(2);
  }
  return n;
}

const port = integer('port', values.port) ?? 0;
const tokenLifetimeSeconds = integer('token-lifetime', values['token-lifetime']);
const dailyApiLimit = integer('daily-api-limit', values['daily-api-limit']);
const requestLogLimit = integer('request-log', values['request-log']);
const maxEvents = integer('max-events', values['max-events']);

const emulator = await startSalesforceEmulator({
  host: values.host,
  port,
  controls: values.controls,
  emptyOrg: values.empty,
  ...(values['project-dir'] ? { projectDir: resolve(values['project-dir']) } : {}),
  ...(tokenLifetimeSeconds !== undefined ? { tokenLifetimeSeconds } : {}),
  ...(dailyApiLimit !== undefined ? { dailyApiLimit } : {}),
  ...(values.snapshot ? { snapshotFile: resolve(values.snapshot) } : {}),
  ...(requestLogLimit !== undefined ? { requestLogLimit } : {}),
  ...(maxEvents !== undefined ? { maxEvents } : {}),
});

let jwtNote = 'JWT: pass your own certificate programmatically, or use --jwt-dir to get the generated key';
if (values['jwt-dir'] && emulator.jwt.privateKeyPem) {
  const dir = resolve(values['jwt-dir']);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.key'), emulator.jwt.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'server.crt'), emulator.jwt.certificatePem);
  jwtNote = `JWT bearer: private key ${join(dir, 'server.key')}, certificate ${join(dir, 'server.crt')}`;
}

const { loginUrl, clientId, clientSecret, username } = emulator;
if (values.json) {
  console.log(JSON.stringify({ loginUrl, clientId, clientSecret, username }));
} else {
  console.log(`Salesforce emulator listening at ${loginUrl} (API v${emulator.apiVersion})`);
  console.log(`  login URL:       ${loginUrl}`);
  console.log(`  client id:       ${clientId}`);
  console.log(`  client secret:   ${clientSecret}`);
  console.log(`  integration user: ${username}`);
  console.log(`  permission sets: ${emulator.permissionSets.join(', ') || '(none)'}`);
  console.log(`  admin user (JWT): ${emulator.adminUsername}`);
  console.log(
    `  test controls:   ${values.controls ? `${loginUrl}/__emulator/` : 'off (start with --controls)'}`,
  );
  console.log(`  ${jwtNote}`);
}

const stop = () => {
  emulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
