import { defineConfig } from 'vitest/config';

// `npm run test:browser`: headless Chromium against the local LWC preview. Kept out of the default
// projects (it needs a Chromium binary; scripts/ensure-chromium.sh installs one).
export default defineConfig({
  test: {
    name: 'browser',
    include: ['test/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
