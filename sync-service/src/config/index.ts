import type { z } from 'zod';
import { SyncError } from '../errors.js';
import {
  configSchema,
  crossVariableProblems,
  localConfigSchema,
  type Config,
  type LocalConfig,
} from './schema.js';

export type {
  Config,
  LocalConfig,
  DatabaseConfig,
  SalesforceAuth,
  AdminRole,
  AdminToken,
  LeadMatchMode,
} from './schema.js';
export { shardFromApiKey, clinikoBaseUrlForShard, ADMIN_ROLES } from './schema.js';

export interface ConfigProblem {
  /** The environment variable at fault, e.g. `CLINIKO_CONTACT_EMAIL`. */
  readonly variable: string;
  /** What is wrong with it. Never contains the value. */
  readonly message: string;
}

export class ConfigError extends SyncError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      'CONFIG_INVALID',
      `Configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n'),
      { record: { system: 'config' } },
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parse the environment once into a frozen Config. Fails with a ConfigError that lists every
 * problem by variable name; values are never echoed.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  return parseOrThrow(configSchema, env, crossVariableProblems(env));
}

/**
 * The store, files and schedule only: for commands that never contact Cliniko or Salesforce, so that
 * they run without those credentials. Same error discipline as loadConfig.
 */
export function loadLocalConfig(env: Readonly<Record<string, string | undefined>>): LocalConfig {
  return parseOrThrow(localConfigSchema, env, []);
}

function parseOrThrow<T>(
  schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  env: Readonly<Record<string, string | undefined>>,
  crossProblems: readonly ConfigProblem[],
): T {
  const result = schema.safeParse(env);
  if (!result.success || crossProblems.length > 0) {
    const fieldProblems = (result.success ? [] : result.error.issues).map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      // Zod's own messages for type errors can describe the input; ours are hand-written. For any
      // other issue we fall back to its code, which never carries a value.
      message: issue.code === 'custom' || hasHandWrittenMessage(issue.message) ? issue.message : issue.code,
    }));
    throw new ConfigError([...fieldProblems, ...crossProblems]);
  }
  return deepFreeze(result.data);
}

function hasHandWrittenMessage(message: string): boolean {
  return /^(is|must|does|set) /.test(message);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
