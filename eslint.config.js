// One flat config for the whole repository.
// - TypeScript (service, emulators, scripts, lib, tests): typescript-eslint with type-checked rules.
// - Lightning Web Components (force-app/**/lwc/**): Salesforce's LWC rules.
// - Architecture: dependency zones between layers (import/no-restricted-paths over resolved paths), and
//   governance/ and journey/ stay pure (no I/O, no clock, no environment). See docs/architecture.md.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importPlugin from 'eslint-plugin-import';
import lwcConfig from '@salesforce/eslint-config-lwc';

const TS_FILES = [
  'sync-service/**/*.ts',
  'test/**/*.ts',
  'scripts/**/*.ts',
  'lib/**/*.ts',
  'vitest.config.ts',
];
const PURE_FILES = ['sync-service/src/governance/**/*.ts', 'sync-service/src/journey/**/*.ts'];

const SRC = 'sync-service/src';
/** What sits above the adapters: they may import none of it. */
const ABOVE_ADAPTERS = ['sync', 'runtime', 'http', 'cli', 'server.ts', 'app.ts'].map((p) => `${SRC}/${p}`);
const ADAPTERS = ['cliniko', 'salesforce', 'store'];

/**
 * The dependency zones: files under `target` may not import anything under `from` (paths from the
 * repository root; a folder covers everything beneath it, `except` carves out paths below `from`).
 * Keep docs/architecture.md ("Dependency zones") and the folder READMEs in step.
 */
const PURE_ZONE = {
  target: [`${SRC}/governance`, `${SRC}/journey`],
  from: SRC,
  except: ['./governance', './journey', './errors.ts'],
  message:
    'governance/ and journey/ are pure: they import only each other and errors.ts (no adapters, runner, ' +
    'logger, config, server, app or governance-io). Pass data in and return results.',
};
const BOUNDARY_ZONES = [
  PURE_ZONE,
  ...ADAPTERS.map((adapter) => ({
    target: `${SRC}/${adapter}`,
    from: [
      ...ADAPTERS.filter((other) => other !== adapter).map((other) => `${SRC}/${other}`),
      ...ABOVE_ADAPTERS,
    ],
    message: 'Adapters (cliniko/, salesforce/, store/) never import each other or the layers above them.',
  })),
  {
    target: `${SRC}/sync`,
    from: ['runtime', 'http', 'cli', 'server.ts', 'app.ts'].map((p) => `${SRC}/${p}`),
    message: 'sync/ holds the use cases: it never imports runtime/, http/, cli/, server.ts or app.ts.',
  },
  {
    // server.ts is the process: it imports everything and nothing imports it (its own test aside).
    target: [`${SRC}/*/**`, `${SRC}/!(server|server.test).ts`],
    from: `${SRC}/server.ts`,
    message: 'server.ts is the process: nothing in sync-service/src imports it.',
  },
  {
    target: SRC,
    from: ['test', 'scripts'],
    message: 'Product code never imports test/ or scripts/.',
  },
  {
    target: 'test/emulators',
    from: ['sync-service', 'scripts'],
    message: 'The emulators stand alone: they may import lib/ but never sync-service/ or scripts/.',
  },
  {
    target: 'lib',
    from: ['sync-service', 'test', 'scripts'],
    message: 'lib/ is shared by the service, the scripts and the emulators: it imports none of them.',
  },
];

const adapterPackages = ['pg', 'jsforce', 'undici', 'fastify', 'pino', 'prom-client'].map((name) => ({
  name,
  message: 'governance/ and journey/ are pure: no adapters, clients or loggers.',
}));

const PURE_RESTRICTED_GLOBALS = [
  { name: 'fetch', message: 'No I/O in pure modules.' },
  { name: 'process', message: 'No environment access in pure modules; take values as arguments.' },
  { name: 'globalThis', message: 'Pure modules reach nothing through globalThis; take values as arguments.' },
  { name: 'global', message: 'Pure modules reach nothing through global; take values as arguments.' },
  { name: 'performance', message: 'No clock in pure modules; take the time as an argument.' },
];

const CLOCK = 'No clock in pure modules: take the time as an argument (e.g. `nowMs`).';
const PURE_RESTRICTED_SYNTAX = [
  { selector: "MemberExpression[object.name='Date'][property.name='now']", message: CLOCK },
  { selector: "MemberExpression[object.name='Date'][property.value='now']", message: CLOCK },
  { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: CLOCK },
  { selector: "CallExpression[callee.name='Date']", message: CLOCK },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      'coverage/**',
      '.sf/**',
      '.sfdx/**',
      'force-app/main/default/lwc/**/*.js',
      'force-app/test/jest-mocks/**',
      'bench-results/**',
      'sync-service/dist/**',
      'jest.config.js',
    ],
  },
  // ---- TypeScript: service, emulators, scripts, shared lib/, tests ----
  {
    files: TS_FILES,
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // Command-line entry points talk to a person through stdout.
  {
    files: ['scripts/**/*.ts', 'sync-service/src/cli/**/*.ts', 'test/emulators/**/main.ts'],
    rules: { 'no-console': 'off' },
  },
  // Small modules and small functions (issue #14): a use case is a set of named steps, not one closure.
  // Counted without blank lines and comments; tests are exempt (a table of cases may be long).
  {
    files: ['sync-service/src/**/*.ts', 'test/emulators/**/*.ts', 'lib/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  // ---- Architecture boundaries (docs/architecture.md, "Dependency zones") ----
  // Resolved paths, not specifier patterns: a `.js` specifier, a `.ts` specifier and a longer relative
  // path to the same module are the same file to these rules. test/unit/lint-boundaries.test.ts feeds
  // each zone a forbidden import and expects the error.
  {
    files: TS_FILES,
    plugins: { import: importPlugin },
    settings: {
      'import/resolver': { [path.join(import.meta.dirname, 'eslint-import-resolver.cjs')]: {} },
    },
    rules: {
      'import/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: BOUNDARY_ZONES }],
      // A relative import the resolver cannot follow would slip past every zone: make it an error.
      'import/no-unresolved': ['error', { ignore: ['^[^.]'] }],
    },
  },
  {
    // Tests of the pure modules may read their fixtures from disk (through governance-io).
    files: PURE_FILES.map((glob) => glob.replace(/\.ts$/, '.test.ts')),
    rules: {
      'import/no-restricted-paths': [
        'error',
        { basePath: import.meta.dirname, zones: BOUNDARY_ZONES.filter((zone) => zone !== PURE_ZONE) },
      ],
    },
  },
  {
    files: PURE_FILES,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [...adapterPackages] }],
      // Every Node built-in is I/O, a clock or the environment, except hashing and encryption.
      'import/no-nodejs-modules': ['error', { allow: ['node:crypto', 'crypto'] }],
      'no-restricted-globals': ['error', ...PURE_RESTRICTED_GLOBALS],
      'no-restricted-syntax': ['error', ...PURE_RESTRICTED_SYNTAX],
    },
  },
  // ---- Lightning Web Components (TypeScript sources) ----
  ...lwcConfig.configs.recommendedTs.map((config) => ({
    ...config,
    files: ['force-app/**/lwc/**/*.ts'],
  })),
  {
    // TypeScript checks names and types (tsc --noEmit); the JavaScript rule misreads type-only names.
    files: ['force-app/**/lwc/**/*.ts'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['force-app/**/lwc/**/__tests__/**/*.ts'],
    languageOptions: { globals: { ...globals.jest, ...globals.node } },
    // flushPromises() waits a macrotask on purpose so the component re-renders.
    rules: { '@lwc/lwc/no-async-operation': 'off' },
  },
);
