// Proof that the dependency zones in eslint.config.js fire (docs/architecture.md, "Dependency zones").
//
// The repository's own config lints a small probe text placed, by its file path, inside each zone: a
// forbidden import must be reported, and an allowed one (the control) must not, so a rule that never
// matches (as `**/logger` once never matched `../logger.js`) fails here. The probes do not exist on
// disk, so the type-aware rules, which need them in the TypeScript program and are not under test, are
// filtered out; the boundary rules need no type information. One ESLint instance serves every case.
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

const BOUNDARY_RULES = new Set([
  'import/no-restricted-paths',
  'import/no-unresolved',
  'import/no-nodejs-modules',
  'no-restricted-imports',
  'no-restricted-globals',
  'no-restricted-syntax',
]);

const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => BOUNDARY_RULES.has(ruleId),
});

async function lint(file: string, code: string): Promise<Array<{ ruleId: string | null; message: string }>> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  if (result === undefined) throw new Error(`no lint result for ${file}`);
  return result.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

/**
 * Three folders up, spelled so that the repository's own check for paths outside the repository
 * (repository-self-contained.test.ts), which reads specifiers relative to this file, does not take the
 * probes' specifiers (relative to the probe paths) for escapes.
 */
const UP3 = '../'.repeat(3);

type Case = readonly [file: string, code: string, rule: string];

/** Each zone: the probe's path, a forbidden text and the rule that must report it. */
const FORBIDDEN: Record<string, readonly Case[]> = {
  'pure governance/ and journey/': [
    ['sync-service/src/governance/probe.ts', "import '../logger.js';", 'import/no-restricted-paths'],
    ['sync-service/src/governance/probe.ts', "import '../logger.ts';", 'import/no-restricted-paths'],
    ['sync-service/src/governance/probe.ts', "export * from '../logger.js';", 'import/no-restricted-paths'],
    [
      'sync-service/src/governance/probe.ts',
      "import type { Logger } from '../logger.js';\nexport type L = Logger;",
      'import/no-restricted-paths',
    ],
    [
      'sync-service/src/governance/probe.ts',
      "export const m = () => import('../logger.js');",
      'import/no-restricted-paths',
    ],
    ['sync-service/src/governance/probe.ts', "import '../server.js';", 'import/no-restricted-paths'],
    ['sync-service/src/governance/probe.ts', "import '../app.js';", 'import/no-restricted-paths'],
    ['sync-service/src/governance/probe.ts', "import '../config/index.js';", 'import/no-restricted-paths'],
    [
      'sync-service/src/governance/probe.ts',
      "import '../governance-io/lookups.js';",
      'import/no-restricted-paths',
    ],
    ['sync-service/src/governance/probe.ts', "import '../cliniko/index.js';", 'import/no-restricted-paths'],
    ['sync-service/src/governance/probe.ts', "import '../sync/payloads.js';", 'import/no-restricted-paths'],
    [
      'sync-service/src/governance/nested/probe.ts',
      "import '../../store/index.js';",
      'import/no-restricted-paths',
    ],
    ['sync-service/src/journey/probe.ts', "import '../salesforce/writer.js';", 'import/no-restricted-paths'],
    ['sync-service/src/journey/probe.ts', "import '../http/health.js';", 'import/no-restricted-paths'],
    ['sync-service/src/journey/probe.ts', "import '../logger';", 'import/no-unresolved'],
    ['sync-service/src/journey/probe.ts', "import 'node:fs';", 'import/no-nodejs-modules'],
    [
      'sync-service/src/journey/probe.ts',
      "import { readFile } from 'fs/promises';\nvoid readFile;",
      'import/no-nodejs-modules',
    ],
    ['sync-service/src/governance/probe.ts', "import 'node:perf_hooks';", 'import/no-nodejs-modules'],
    ['sync-service/src/governance/probe.ts', "import 'pino';", 'no-restricted-imports'],
    ['sync-service/src/journey/probe.ts', 'export const t = Date.now();', 'no-restricted-syntax'],
    ['sync-service/src/journey/probe.ts', 'export const t = new Date();', 'no-restricted-syntax'],
    ['sync-service/src/journey/probe.ts', 'export const t = Date();', 'no-restricted-syntax'],
    ['sync-service/src/governance/probe.ts', "export const t = Date['now']();", 'no-restricted-syntax'],
    ['sync-service/src/governance/probe.ts', 'export const t = performance.now();', 'no-restricted-globals'],
    ['sync-service/src/governance/probe.ts', 'export const e = process.env.X;', 'no-restricted-globals'],
    [
      'sync-service/src/governance/probe.ts',
      'export const e = globalThis.process.env.X;',
      'no-restricted-globals',
    ],
    [
      'sync-service/src/journey/probe.ts',
      "export const r = fetch('http://127.0.0.1/');",
      'no-restricted-globals',
    ],
  ],
  'adapters never import each other or what is above them': [
    ['sync-service/src/cliniko/probe.ts', "import '../salesforce/writer.js';", 'import/no-restricted-paths'],
    ['sync-service/src/cliniko/probe.ts', "import '../store/index.js';", 'import/no-restricted-paths'],
    ['sync-service/src/cliniko/probe.ts', "import '../sync/payloads.js';", 'import/no-restricted-paths'],
    ['sync-service/src/cliniko/probe.ts', "import '../http/health.js';", 'import/no-restricted-paths'],
    ['sync-service/src/cliniko/probe.ts', "import '../cli/registry.js';", 'import/no-restricted-paths'],
    ['sync-service/src/cliniko/probe.ts', "import '../app.js';", 'import/no-restricted-paths'],
    ['sync-service/src/salesforce/probe.ts', "import '../cliniko/index.js';", 'import/no-restricted-paths'],
    ['sync-service/src/salesforce/probe.ts', "import '../server.js';", 'import/no-restricted-paths'],
    [
      'sync-service/src/store/probe.ts',
      "import '../salesforce/connection.js';",
      'import/no-restricted-paths',
    ],
    ['sync-service/src/store/probe.ts', "import '../cliniko/links.js';", 'import/no-restricted-paths'],
    ['sync-service/src/store/probe.ts', "import '../sync/objects.js';", 'import/no-restricted-paths'],
  ],
  'sync/ never imports http/, cli/, server.ts or app.ts': [
    ['sync-service/src/sync/probe.ts', "import '../http/health.js';", 'import/no-restricted-paths'],
    ['sync-service/src/sync/probe.ts', "import '../cli/registry.js';", 'import/no-restricted-paths'],
    ['sync-service/src/sync/probe.ts', "import '../app.js';", 'import/no-restricted-paths'],
    ['sync-service/src/sync/cycle/probe.ts', "import '../../http/health.js';", 'import/no-restricted-paths'],
    ['sync-service/src/sync/cycle/probe.ts', "import '../../server.js';", 'import/no-restricted-paths'],
  ],
  'nothing in sync-service/src imports server.ts': [
    ['sync-service/src/cli/commands/probe.ts', "import '../../server.js';", 'import/no-restricted-paths'],
    ['sync-service/src/app.ts', "import './server.js';", 'import/no-restricted-paths'],
    ['sync-service/src/http/probe.ts', "import '../server.js';", 'import/no-restricted-paths'],
    // The pure modules' tests are let off the purity zone only, not the others.
    ['sync-service/src/governance/probe.test.ts', "import '../server.js';", 'import/no-restricted-paths'],
  ],
  'product code never imports test/ or scripts/': [
    [
      'sync-service/src/http/probe.ts',
      `import '${UP3}test/support/leak-scan.js';`,
      'import/no-restricted-paths',
    ],
    ['sync-service/src/probe.ts', "import '../../scripts/demo.js';", 'import/no-restricted-paths'],
    [
      'sync-service/src/journey/probe.test.ts',
      `import '${UP3}scripts/demo.js';`,
      'import/no-restricted-paths',
    ],
    [
      'sync-service/src/cliniko/probe.test.ts',
      `import '${UP3}test/support/leak-scan.js';`,
      'import/no-restricted-paths',
    ],
  ],
  'emulators never import sync-service/ or scripts/': [
    [
      'test/emulators/cliniko/probe.ts',
      `import '${UP3}sync-service/src/errors.js';`,
      'import/no-restricted-paths',
    ],
    [
      'test/emulators/salesforce/probe.ts',
      `import '${UP3}sync-service/src/logger.js';`,
      'import/no-restricted-paths',
    ],
    ['test/emulators/cliniko/probe.ts', `import '${UP3}scripts/demo.js';`, 'import/no-restricted-paths'],
  ],
  'lib/ imports nothing from sync-service/, test/ or scripts/': [
    ['lib/probe.ts', "import '../sync-service/src/errors.js';", 'import/no-restricted-paths'],
    ['lib/metadata/probe.ts', "import '../../test/support/leak-scan.js';", 'import/no-restricted-paths'],
    ['lib/probe.ts', "import '../scripts/demo.js';", 'import/no-restricted-paths'],
  ],
};

/** Controls: allowed texts in the same zones; each must lint clean. */
const ALLOWED: readonly (readonly [file: string, code: string])[] = [
  ['sync-service/src/governance/probe.ts', "import '../errors.js';"],
  ['sync-service/src/governance/probe.ts', "import './canonical.js';"],
  ['sync-service/src/governance/probe.ts', "import { createHash } from 'node:crypto';\nvoid createHash;"],
  ['sync-service/src/governance/probe.ts', "import 'zod';"],
  ['sync-service/src/journey/probe.ts', "import '../governance/canonical.js';"],
  [
    'sync-service/src/journey/probe.ts',
    'export const at = (nowMs: number) => new Date(nowMs).toISOString();',
  ],
  ['sync-service/src/governance/probe.test.ts', "import '../governance-io/lookups.js';\nimport 'node:fs';"],
  [
    'sync-service/src/cliniko/probe.ts',
    "import '../logger.js';\nimport '../config/index.js';\nimport '../errors.js';",
  ],
  ['sync-service/src/salesforce/probe.ts', "import '../governance/canonical.js';"],
  [
    'sync-service/src/sync/probe.ts',
    "import '../cliniko/index.js';\nimport '../store/index.js';\nimport '../logger.js';",
  ],
  ['sync-service/src/sync/cycle/probe.ts', "import '../payloads.js';\nimport '../../journey/index.js';"],
  ['sync-service/src/http/probe.ts', "import '../sync/payloads.js';\nimport '../app.js';"],
  ['sync-service/src/server.test.ts', "import './server.js';"],
  [
    'test/integration/probe.test.ts',
    "import '../../sync-service/src/server.js';\nimport '../support/leak-scan.js';",
  ],
  ['scripts/probe.ts', "import '../sync-service/src/errors.js';\nimport '../test/support/leak-scan.js';"],
  ['test/emulators/cliniko/probe.ts', "import './index.js';\nimport 'node:http';"],
  ['lib/probe.ts', "import 'node:fs';\nimport 'fast-xml-parser';"],
];

// Loading the config (typescript-eslint, the LWC presets, the resolver) is the slow part: do it once.
beforeAll(async () => {
  await lint('sync-service/src/errors.ts', '');
}, 60_000);

describe('lint boundaries: every zone reports a forbidden import', () => {
  for (const [zone, cases] of Object.entries(FORBIDDEN)) {
    describe(zone, () => {
      it.each(cases)('%s: %s -> %s', async (file, code, rule) => {
        const messages = await lint(file, code);
        expect(messages.filter((m) => m.ruleId === null)).toEqual([]); // no parse error
        expect(messages.map((m) => m.ruleId)).toContain(rule);
      });
    });
  }
});

describe('lint boundaries: controls lint clean', () => {
  it.each(ALLOWED)('%s: %s', async (file, code) => {
    expect(await lint(file, code)).toEqual([]);
  });
});
