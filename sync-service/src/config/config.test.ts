import { describe, expect, it } from 'vitest';
import { ConfigError, clinikoBaseUrlForShard, loadConfig, shardFromApiKey } from './index.js';

const SECRET = 'sEcReT-vAlUe-that-must-never-print-0123456789';
const base = {
  CLINIKO_API_KEY: 'MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams-au2',
  CLINIKO_CONTACT_EMAIL: 'ops@clinic.example',
  SALESFORCE_CLIENT_ID: 'client-id',
  SALESFORCE_CLIENT_SECRET: SECRET,
};

function problemsOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('derives the Cliniko base URL from the key shard and applies defaults', () => {
    const config = loadConfig(base);
    expect(config.cliniko.shard).toBe('au2');
    expect(config.cliniko.baseUrl).toBe('https://api.au2.cliniko.com/v1');
    expect(config.database).toEqual({ kind: 'sqlite', path: './data/sync.db' });
    expect(config.salesforce.auth.kind).toBe('client_credentials');
    expect(config.salesforce.apiVersion).toBe('66.0');
    expect(config.http.port).toBe(3000);
    expect(config.cliniko.requestsPerMinute).toBe(180);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cliniko)).toBe(true);
  });

  it('treats a key without a shard suffix as au1, and honours CLINIKO_BASE_URL', () => {
    expect(shardFromApiKey('MS0xLTEyMzQ1Njc4OTAtYWJjZGVmZ2hpams')).toBe('au1');
    expect(shardFromApiKey('abc-uk1')).toBe('uk1');
    expect(clinikoBaseUrlForShard('ca1')).toBe('https://api.ca1.cliniko.com/v1');
    const config = loadConfig({ ...base, CLINIKO_BASE_URL: 'http://127.0.0.1:4010/v1/' });
    expect(config.cliniko.baseUrl).toBe('http://127.0.0.1:4010/v1');
  });

  it('chooses JWT bearer when a username and key file are given, and PostgreSQL with DATABASE_URL', () => {
    const config = loadConfig({
      ...base,
      SALESFORCE_CLIENT_SECRET: undefined,
      SALESFORCE_USERNAME: 'integration@clinic.example',
      SALESFORCE_PRIVATE_KEY_FILE: '/run/secrets/sf.key',
      DATABASE_URL: 'postgres://sync@127.0.0.1:5432/sync',
    });
    expect(config.salesforce.auth).toEqual({
      kind: 'jwt_bearer',
      clientId: 'client-id',
      username: 'integration@clinic.example',
      privateKeyFile: '/run/secrets/sf.key',
    });
    expect(config.database.kind).toBe('postgres');
  });

  it('takes a stable instance id for the lease owner, refusing one that could not name a lease owner', () => {
    expect(loadConfig(base).instanceId).toBeUndefined();
    expect(loadConfig({ ...base, SYNC_INSTANCE_ID: 'sync-0.prod_a' }).instanceId).toBe('sync-0.prod_a');
    const err = problemsOf({ ...base, SYNC_INSTANCE_ID: 'pod/7' });
    expect(err.message).toMatch(/SYNC_INSTANCE_ID/);
    expect(err.message).not.toContain('pod/7');
  });

  it('names every bad variable in one error', () => {
    const err = problemsOf({
      CLINIKO_API_KEY: 'short',
      CLINIKO_CONTACT_EMAIL: 'not-an-email',
      PORT: '99999',
      CLINIC_TIMEZONE: 'Mars/Olympus_Mons',
      SYNC_ENCRYPTION_KEY: 'dG9vLXNob3J0',
      ADMIN_TOKENS: 'root:abc',
      LOG_LEVEL: 'loud',
    });
    const variables = err.problems.map((p) => p.variable).sort();
    expect(variables).toEqual(
      [
        'ADMIN_TOKENS',
        'CLINIC_TIMEZONE',
        'CLINIKO_API_KEY',
        'CLINIKO_CONTACT_EMAIL',
        'LOG_LEVEL',
        'PORT',
        'SALESFORCE_CLIENT_ID',
        'SALESFORCE_CLIENT_SECRET',
        'SYNC_ENCRYPTION_KEY',
      ].sort(),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.retryable).toBe(false);
    for (const variable of variables) expect(err.message).toContain(variable);
  });

  it('never echoes a value, secret or not, in the error', () => {
    const values = {
      CLINIKO_API_KEY: 'x',
      CLINIKO_CONTACT_EMAIL: `${SECRET}-email`,
      SALESFORCE_CLIENT_ID: 'client-id',
      SALESFORCE_CLIENT_SECRET: SECRET,
      SALESFORCE_LOGIN_URL: `${SECRET}-url`,
      SYNC_ENCRYPTION_KEY: `${SECRET}==`,
      ADMIN_TOKENS: `operator:${SECRET.slice(0, 10)}`,
      DATABASE_URL: `mysql://${SECRET}`,
      LOG_LEVEL: `${SECRET}-level`,
      NODE_ENV: `${SECRET}-env`,
      SALESFORCE_API_VERSION: `${SECRET}-version`,
      PORT: `${SECRET}-port`,
    };
    const err = problemsOf(values);
    expect(err.problems.length).toBeGreaterThanOrEqual(10);
    const printed = `${err.message}\n${JSON.stringify(err.problems)}\n${JSON.stringify(err)}`;
    expect(printed).not.toContain(SECRET);
    expect(printed).not.toContain(SECRET.slice(0, 10));
  });

  it('parses admin tokens into roles and keeps only their hashes', () => {
    const token = 'a'.repeat(32);
    const config = loadConfig({ ...base, ADMIN_TOKENS: `viewer:${token}, operator:${'b'.repeat(40)}` });
    expect(config.adminTokens.map((t) => t.role)).toEqual(['viewer', 'operator']);
    expect(JSON.stringify(config)).not.toContain(token);
  });

  it('reads the schedule and write tuning, with defaults', () => {
    const defaults = loadConfig(base);
    expect(defaults).toMatchObject({
      journeyDailyAt: '06:00',
      reconcileAt: '02:30',
      bulkThreshold: 2000,
      apiShare: 0.9,
    });
    const tuned = loadConfig({
      ...base,
      SYNC_JOURNEY_DAILY_AT: '05:30',
      SYNC_RECONCILE_AT: '23:15',
      SALESFORCE_BULK_THRESHOLD: '500',
      SALESFORCE_API_SHARE_PERCENT: '75',
    });
    expect(tuned).toMatchObject({
      journeyDailyAt: '05:30',
      reconcileAt: '23:15',
      bulkThreshold: 500,
      apiShare: 0.75,
    });
    const err = problemsOf({ ...base, SYNC_JOURNEY_DAILY_AT: '6am', SALESFORCE_API_SHARE_PERCENT: '150' });
    expect(err.problems.map((p) => p.variable).sort()).toEqual([
      'SALESFORCE_API_SHARE_PERCENT',
      'SYNC_JOURNEY_DAILY_AT',
    ]);
  });

  it('requires both halves of a JWT bearer setup', () => {
    const err = problemsOf({
      ...base,
      SALESFORCE_CLIENT_SECRET: undefined,
      SALESFORCE_USERNAME: 'u@example.com',
    });
    expect(err.problems.map((p) => p.variable)).toEqual(['SALESFORCE_PRIVATE_KEY_FILE']);
  });

  it('reads the Lead matching mode: link by default, ignore, and refuses convert by name', () => {
    expect(loadConfig(base).matching.leads).toBe('link');
    expect(loadConfig({ ...base, SYNC_LEAD_MATCH: ' Ignore ' }).matching.leads).toBe('ignore');
    expect(loadConfig({ ...base, SYNC_LEAD_MATCH: 'link' }).matching.leads).toBe('link');
    const convert = problemsOf({ ...base, SYNC_LEAD_MATCH: 'convert' });
    expect(convert.problems.map((p) => p.variable)).toEqual(['SYNC_LEAD_MATCH']);
    expect(convert.problems[0]?.message).toContain('convert is not supported');
    // Control: any other word is refused too, without the convert explanation and without its value.
    const other = problemsOf({ ...base, SYNC_LEAD_MATCH: 'merge-please' });
    expect(other.problems).toEqual([{ variable: 'SYNC_LEAD_MATCH', message: 'must be link or ignore' }]);
    expect(other.message).not.toContain('merge-please');
  });
});
