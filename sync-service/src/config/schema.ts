import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseKeyList } from '../governance/encryption.js';

/**
 * Every environment variable the service reads, in one zod schema. Values are parsed once into a
 * frozen, typed Config (see index.ts). Messages here are written by hand and never include the
 * received value: a wrong secret must not end up in a terminal or a log.
 *
 * docs/configuration.md documents each variable; keep the two in step.
 */

const optionalString = z
  .string()
  .transform((v) => v.trim())
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

function urlString(what: string) {
  return z
    .string()
    .trim()
    .refine((v) => isHttpUrl(v), { message: `must be an http(s) URL (${what})` });
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function isIanaZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-AU', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function intInRange(name: string, min: number, max: number, fallback: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });
}

/** Cliniko keys end in `-<shard>` (e.g. `...-au2`); a key without a suffix belongs to `au1`. */
export function shardFromApiKey(apiKey: string): string {
  const match = /-([a-z]{2}\d+)$/.exec(apiKey.trim());
  return match?.[1] ?? 'au1';
}

export function clinikoBaseUrlForShard(shard: string): string {
  return `https://api.${shard}.cliniko.com/v1`;
}

/** `HH:MM`, 24-hour, in the clinic's time zone. */
function localTime(fallback: string) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be a local time HH:MM (24-hour), e.g. 06:00' });
        return z.NEVER;
      }
      return v.trim();
    });
}

/**
 * What matching does with an existing Lead (issue #19, docs/marketing.md "Existing Contacts and Leads"):
 * `link` (the Contact created for the patient points at the Lead and the Lead carries the patient id) or
 * `ignore` (Leads are not searched). `convert` is refused: Salesforce converts a Lead only through the
 * SOAP API's convertLead (or Apex), which also creates or needs an Account; the service does not.
 */
export const LEAD_MATCH_MODES = ['link', 'ignore'] as const;
export type LeadMatchMode = (typeof LEAD_MATCH_MODES)[number];

const leadMatch = z
  .string()
  .optional()
  .transform((raw, ctx): LeadMatchMode => {
    const v = (raw ?? '').trim().toLowerCase();
    if (v === '') return 'link';
    if ((LEAD_MATCH_MODES as readonly string[]).includes(v)) return v as LeadMatchMode;
    ctx.addIssue({
      code: 'custom',
      message:
        v === 'convert'
          ? 'must be link or ignore: convert is not supported (Lead conversion needs the SOAP convertLead call and an Account; see docs/marketing.md)'
          : 'must be link or ignore',
    });
    return z.NEVER;
  });

export const ADMIN_ROLES = ['viewer', 'operator'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export interface AdminToken {
  readonly role: AdminRole;
  /** sha256 of the token; the plain token is not kept after parsing. */
  readonly sha256: Buffer;
}

const adminTokens = z
  .string()
  .optional()
  .transform((raw, ctx): AdminToken[] => {
    if (raw === undefined || raw.trim() === '') return [];
    const tokens: AdminToken[] = [];
    raw.split(',').forEach((entry, index) => {
      const trimmed = entry.trim();
      const sep = trimmed.indexOf(':');
      const role = sep > 0 ? trimmed.slice(0, sep) : '';
      const token = sep > 0 ? trimmed.slice(sep + 1) : '';
      if (!(ADMIN_ROLES as readonly string[]).includes(role)) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${index + 1} must be "<role>:<token>" with role ${ADMIN_ROLES.join(' or ')}`,
        });
        return;
      }
      if (token.length < 24) {
        ctx.addIssue({ code: 'custom', message: `entry ${index + 1}: token must be at least 24 characters` });
        return;
      }
      tokens.push({ role: role as AdminRole, sha256: createHash('sha256').update(token).digest() });
    });
    return tokens;
  });

const encryptionKey = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const trimmed = raw.trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be 32 random bytes, base64-encoded (openssl rand -base64 32)',
      });
      return z.NEVER;
    }
    return key;
  });

/** Retired keys still decrypt what was stored before a rotation; errors name the position, never a key. */
const retiredKeys = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    try {
      return parseKeyList(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** The raw environment, variable by variable. */
export const envSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { message: 'must be development, production or test' })
    .default('production'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      message: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  HOST: z.string().trim().min(1, { message: 'must not be empty' }).default('127.0.0.1'),
  PORT: intInRange('PORT', 0, 65535, 3000),

  CLINIKO_API_KEY: z
    .string({ message: 'is required (the Cliniko API key of the integration user)' })
    .trim()
    .min(20, { message: 'does not look like a Cliniko API key (too short)' }),
  CLINIKO_BASE_URL: optionalString.pipe(
    z.string().refine(isHttpUrl, { message: 'must be an http(s) URL' }).optional(),
  ),
  CLINIKO_CONTACT_EMAIL: z
    .string({ message: 'is required: Cliniko requires a contact email in the User-Agent' })
    .trim()
    .pipe(z.email({ message: 'must be an email address' })),
  CLINIKO_REQUESTS_PER_MINUTE: intInRange('CLINIKO_REQUESTS_PER_MINUTE', 1, 200, 180),

  SALESFORCE_LOGIN_URL: urlString('e.g. https://login.salesforce.com').default(
    'https://login.salesforce.com',
  ),
  SALESFORCE_CLIENT_ID: z.string({ message: 'is required (the connected app consumer key)' }).trim().min(1, {
    message: 'is required (the connected app consumer key)',
  }),
  SALESFORCE_CLIENT_SECRET: optionalString,
  SALESFORCE_USERNAME: optionalString,
  SALESFORCE_PRIVATE_KEY_FILE: optionalString,
  SALESFORCE_API_VERSION: z
    .string()
    .trim()
    .regex(/^\d{2}\.0$/, { message: 'must look like 66.0' })
    .default('66.0'),

  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), { message: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
  ),
  SYNC_DB_PATH: z.string().trim().min(1, { message: 'must not be empty' }).default('./data/sync.db'),
  SYNC_ENCRYPTION_KEY: encryptionKey,
  SYNC_ENCRYPTION_KEYS_RETIRED: retiredKeys,
  SYNC_AUDIT_RETENTION_YEARS: intInRange('SYNC_AUDIT_RETENTION_YEARS', 1, 100, 6),
  SYNC_POLL_INTERVAL_SECONDS: intInRange('SYNC_POLL_INTERVAL_SECONDS', 5, 86_400, 60),
  // The adaptive poll (runtime/poll-pace.ts): the shortest interval (a floor under the paced one) and
  // the share of CLINIKO_REQUESTS_PER_MINUTE polling may use; SYNC_POLL_INTERVAL_SECONDS is the
  // longest. A minimum equal to the interval turns adaptation off.
  SYNC_POLL_MIN_SECONDS: intInRange('SYNC_POLL_MIN_SECONDS', 1, 86_400, 10),
  SYNC_IDLE_POLL_BUDGET_PERCENT: intInRange('SYNC_IDLE_POLL_BUDGET_PERCENT', 1, 100, 10),
  // The stable identity of this instance (a StatefulSet pod name, a systemd unit): a restart under the
  // same id reclaims the leases its dead predecessor held at once (runtime/wiring.ts, leaseOwner).
  SYNC_INSTANCE_ID: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, {
        message: 'must be 1-64 letters, digits, dots, dashes or underscores',
      })
      .optional(),
  ),
  SYNC_JOURNEY_DAILY_AT: localTime('06:00'),
  SYNC_LEAD_MATCH: leadMatch,
  SYNC_RECONCILE_AT: localTime('02:30'),
  SALESFORCE_BULK_THRESHOLD: intInRange('SALESFORCE_BULK_THRESHOLD', 1, 10_000_000, 2_000),
  SALESFORCE_API_SHARE_PERCENT: intInRange('SALESFORCE_API_SHARE_PERCENT', 1, 100, 90),
  CLINIC_TIMEZONE: z
    .string()
    .trim()
    .refine(isIanaZone, { message: 'must be an IANA time zone such as Australia/Sydney' })
    .default('Australia/Sydney'),
  DATA_MAP_PATH: z.string().trim().min(1).default('config/data-map.yaml'),
  JOURNEY_CONFIG_PATH: z.string().trim().min(1).default('config/journey.yaml'),
  APPROVERS_PATH: z.string().trim().min(1).default('config/approvers.yaml'),
  // Which signing keys are trusted: `production` refuses the published demo keys (config/demo-keys/);
  // `demo` (npm run demo) and `test` (the test harnesses) accept them. Not NODE_ENV: that one tunes
  // libraries, and a `development` build must not quietly trust a published key.
  SYNC_MODE: z
    .enum(['production', 'demo', 'test'], { message: 'must be production, demo or test' })
    .default('production'),
  // Optional pin of the approver registry's root: the fingerprint of the first approver's key
  // (`npm run sync -- data-map approvers list` prints it). A registry rewritten from scratch then fails.
  SYNC_APPROVERS_ROOT: z
    .string()
    .trim()
    .regex(/^[0-9a-f]{16}$/, { message: 'must be the 16-hex fingerprint of the first approver key' })
    .optional(),
  ADMIN_TOKENS: adminTokens,
  // ---- alerts and the console (sync-service/src/alerts, runtime/monitor.ts) ----
  ALERT_WEBHOOK_URL: optionalString.pipe(
    z
      .string()
      .refine((v) => isHttpUrl(v), { message: 'must be an http(s) URL (the webhook receiver)' })
      .optional(),
  ),
  ALERT_WEBHOOK_FORMAT: z
    .enum(['slack', 'generic'], { message: 'must be slack or generic' })
    .default('slack'),
  ALERT_SOURCE_NAME: z.string().trim().min(1, { message: 'must not be empty' }).default('cliniko-sync'),
  ALERT_NO_SUCCESS_MINUTES: intInRange('ALERT_NO_SUCCESS_MINUTES', 5, 10_080, 60),
  ALERT_SALESFORCE_API_PERCENT: intInRange('ALERT_SALESFORCE_API_PERCENT', 1, 100, 80),
  ALERT_CHECK_SECONDS: intInRange('ALERT_CHECK_SECONDS', 5, 3_600, 60),
  AUDIT_VERIFY_MINUTES: intInRange('AUDIT_VERIFY_MINUTES', 5, 10_080, 60),
});

export type RawEnv = z.infer<typeof envSchema>;

export type SalesforceAuth =
  | { readonly kind: 'client_credentials'; readonly clientId: string; readonly clientSecret: string }
  | {
      readonly kind: 'jwt_bearer';
      readonly clientId: string;
      readonly username: string;
      readonly privateKeyFile: string;
    };

export type DatabaseConfig =
  { readonly kind: 'postgres'; readonly url: string } | { readonly kind: 'sqlite'; readonly path: string };

/**
 * Checks across variables, run on the raw environment so that they are reported together with every
 * per-variable problem (a zod refinement on the object would only run once every field parsed).
 */
export function crossVariableProblems(
  env: Readonly<Record<string, string | undefined>>,
): Array<{ variable: string; message: string }> {
  const present = (name: string): boolean => (env[name] ?? '').trim() !== '';
  const hasSecret = present('SALESFORCE_CLIENT_SECRET');
  const hasJwt = present('SALESFORCE_USERNAME') || present('SALESFORCE_PRIVATE_KEY_FILE');
  const problems: Array<{ variable: string; message: string }> = [];
  if (!hasSecret && !hasJwt) {
    problems.push({
      variable: 'SALESFORCE_CLIENT_SECRET',
      message:
        'set SALESFORCE_CLIENT_SECRET (client credentials) or SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY_FILE (JWT bearer)',
    });
  }
  if (hasJwt && !present('SALESFORCE_USERNAME')) {
    problems.push({ variable: 'SALESFORCE_USERNAME', message: 'is required for JWT bearer' });
  }
  if (hasJwt && !present('SALESFORCE_PRIVATE_KEY_FILE')) {
    problems.push({ variable: 'SALESFORCE_PRIVATE_KEY_FILE', message: 'is required for JWT bearer' });
  }
  return problems;
}

/** The variables that name Cliniko or Salesforce: commands that never contact them do not need them. */
const EXTERNAL_VARIABLES = {
  CLINIKO_API_KEY: true,
  CLINIKO_BASE_URL: true,
  CLINIKO_CONTACT_EMAIL: true,
  CLINIKO_REQUESTS_PER_MINUTE: true,
  SALESFORCE_LOGIN_URL: true,
  SALESFORCE_CLIENT_ID: true,
  SALESFORCE_CLIENT_SECRET: true,
  SALESFORCE_USERNAME: true,
  SALESFORCE_PRIVATE_KEY_FILE: true,
  SALESFORCE_API_VERSION: true,
  SALESFORCE_BULK_THRESHOLD: true,
  SALESFORCE_API_SHARE_PERCENT: true,
} as const;

/** The environment of the store, files and schedule alone (no Cliniko or Salesforce credentials). */
export const localEnvSchema = envSchema.omit(EXTERNAL_VARIABLES);

type LocalEnv = z.infer<typeof localEnvSchema>;

function localPart(env: LocalEnv) {
  const database: DatabaseConfig =
    env.DATABASE_URL !== undefined
      ? { kind: 'postgres', url: env.DATABASE_URL }
      : { kind: 'sqlite', path: env.SYNC_DB_PATH };
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    http: { host: env.HOST, port: env.PORT },
    database,
    encryptionKey: env.SYNC_ENCRYPTION_KEY,
    retiredEncryptionKeys: env.SYNC_ENCRYPTION_KEYS_RETIRED,
    auditRetentionYears: env.SYNC_AUDIT_RETENTION_YEARS,
    pollIntervalSeconds: env.SYNC_POLL_INTERVAL_SECONDS,
    pollMinSeconds: Math.min(env.SYNC_POLL_MIN_SECONDS, env.SYNC_POLL_INTERVAL_SECONDS),
    idlePollBudgetShare: env.SYNC_IDLE_POLL_BUDGET_PERCENT / 100,
    instanceId: env.SYNC_INSTANCE_ID,
    journeyDailyAt: env.SYNC_JOURNEY_DAILY_AT,
    reconcileAt: env.SYNC_RECONCILE_AT,
    clinicTimezone: env.CLINIC_TIMEZONE,
    files: { dataMap: env.DATA_MAP_PATH, journey: env.JOURNEY_CONFIG_PATH, approvers: env.APPROVERS_PATH },
    signing: { mode: env.SYNC_MODE, approversRoot: env.SYNC_APPROVERS_ROOT },
    adminTokens: env.ADMIN_TOKENS,
  };
}

/**
 * The configuration of commands that work on the store and the map files only (`audit *`,
 * `data-map sign/diff`): they must run where Cliniko and Salesforce credentials are not set.
 */
export const localConfigSchema = localEnvSchema.transform(localPart);

export type LocalConfig = Readonly<z.output<typeof localConfigSchema>>;

/** The whole service configuration, derived values included. */
export const configSchema = envSchema.transform((env) => {
  const shard = shardFromApiKey(env.CLINIKO_API_KEY);
  const salesforceAuth: SalesforceAuth =
    env.SALESFORCE_USERNAME !== undefined && env.SALESFORCE_PRIVATE_KEY_FILE !== undefined
      ? {
          kind: 'jwt_bearer',
          clientId: env.SALESFORCE_CLIENT_ID,
          username: env.SALESFORCE_USERNAME,
          privateKeyFile: env.SALESFORCE_PRIVATE_KEY_FILE,
        }
      : {
          kind: 'client_credentials',
          clientId: env.SALESFORCE_CLIENT_ID,
          clientSecret: env.SALESFORCE_CLIENT_SECRET ?? '',
        };
  const local = localPart(env);
  return {
    env: local.env,
    logLevel: local.logLevel,
    http: local.http,
    cliniko: {
      apiKey: env.CLINIKO_API_KEY,
      shard,
      baseUrl: (env.CLINIKO_BASE_URL ?? clinikoBaseUrlForShard(shard)).replace(/\/+$/, ''),
      contactEmail: env.CLINIKO_CONTACT_EMAIL,
      requestsPerMinute: env.CLINIKO_REQUESTS_PER_MINUTE,
    },
    salesforce: {
      loginUrl: env.SALESFORCE_LOGIN_URL.replace(/\/+$/, ''),
      apiVersion: env.SALESFORCE_API_VERSION,
      auth: salesforceAuth,
    },
    database: local.database,
    encryptionKey: local.encryptionKey,
    retiredEncryptionKeys: local.retiredEncryptionKeys,
    auditRetentionYears: local.auditRetentionYears,
    pollIntervalSeconds: local.pollIntervalSeconds,
    pollMinSeconds: local.pollMinSeconds,
    idlePollBudgetShare: local.idlePollBudgetShare,
    instanceId: local.instanceId,
    journeyDailyAt: local.journeyDailyAt,
    reconcileAt: local.reconcileAt,
    bulkThreshold: env.SALESFORCE_BULK_THRESHOLD,
    apiShare: env.SALESFORCE_API_SHARE_PERCENT / 100,
    clinicTimezone: local.clinicTimezone,
    files: local.files,
    signing: local.signing,
    adminTokens: local.adminTokens,
    alerts: {
      webhookUrl: env.ALERT_WEBHOOK_URL,
      format: env.ALERT_WEBHOOK_FORMAT,
      source: env.ALERT_SOURCE_NAME,
      noSuccessMinutes: env.ALERT_NO_SUCCESS_MINUTES,
      salesforceShare: env.ALERT_SALESFORCE_API_PERCENT / 100,
      checkSeconds: env.ALERT_CHECK_SECONDS,
    },
    auditVerifyMinutes: env.AUDIT_VERIFY_MINUTES,
    matching: { leads: env.SYNC_LEAD_MATCH },
  };
});

export type Config = Readonly<z.output<typeof configSchema>>;
