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
    // expect.poll waits for the page (a refresh, a rendered answer); its 1 s default failed the console's
    // sign-in on a loaded machine. Bounded, and no assertion here is about speed.
    expect: { poll: { timeout: 15_000 } },
  },
});
