// One flat config for the whole repository.
// - TypeScript (service, emulators, scripts, tests): typescript-eslint with type-checked rules.
// - Lightning Web Components (force-app/**/lwc/**): Salesforce's LWC rules.
// - Architecture: governance/ and journey/ stay pure (no I/O, no adapters); adapters never import
//   each other. See docs/architecture.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import lwcConfig from '@salesforce/eslint-config-lwc';

const IO_MODULES = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'child_process',
  'worker_threads',
  'cluster',
  'tls',
  'readline',
  'sqlite',
  'process',
];
const ioPaths = IO_MODULES.flatMap((m) => [m, `node:${m}`]).map((name) => ({
  name,
  message: 'governance/ and journey/ are pure: no I/O. Pass data in and return results.',
}));
const adapterPackages = ['pg', 'jsforce', 'undici', 'fastify', 'pino'].map((name) => ({
  name,
  message: 'governance/ and journey/ are pure: no adapters, clients or loggers.',
}));

/** Import patterns that reach another layer's folder (relative imports). */
function layerPatterns(layers, message) {
  return layers.map((layer) => ({ group: [`**/${layer}`, `**/${layer}/**`], message }));
}

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
      'jest.config.js',
    ],
  },
  // ---- TypeScript: service, emulators, scripts, shared lib/, tests ----
  {
    files: ['sync-service/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'lib/**/*.ts', 'vitest.config.ts'],
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
  // ---- Architecture boundaries ----
  {
    files: ['sync-service/src/governance/**/*.ts', 'sync-service/src/journey/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...ioPaths, ...adapterPackages],
          patterns: layerPatterns(
            ['cliniko', 'salesforce', 'store', 'sync', 'http', 'cli', 'server', 'logger'],
            'governance/ and journey/ are pure: they may not import adapters, the runner or the logger.',
          ),
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No I/O in pure modules.' },
        { name: 'process', message: 'No environment access in pure modules; take values as arguments.' },
      ],
    },
  },
  {
    files: ['sync-service/src/cliniko/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: layerPatterns(
            ['salesforce', 'store', 'sync', 'http', 'cli'],
            'Adapters never import each other.',
          ),
        },
      ],
    },
  },
  {
    files: ['sync-service/src/salesforce/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: layerPatterns(
            ['cliniko', 'store', 'sync', 'http', 'cli'],
            'Adapters never import each other.',
          ),
        },
      ],
    },
  },
  {
    files: ['sync-service/src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: layerPatterns(
            ['cliniko', 'salesforce', 'sync', 'http', 'cli'],
            'Adapters never import each other.',
          ),
        },
      ],
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
