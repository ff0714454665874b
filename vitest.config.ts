import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside their sources, and integration tests that start servers
// (emulators, the service, PostgreSQL when DATABASE_URL_TEST is set) on 127.0.0.1 with ephemeral ports.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'sync-service/src/**/*.test.ts',
            'scripts/**/*.test.ts',
            'lib/**/*.test.ts',
            'test/unit/**/*.test.ts',
          ],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/emulators/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration suites start servers and databases; keep them from starving each other on 2 cores.
          maxWorkers: 2,
          // No retries: a test that fails once has found something (a flaky test is fixed, not re-run).
        },
      },
    ],
  },
});
