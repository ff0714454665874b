/**
 * npm run preview:lwc [-- --port 4173]
 *
 * Renders the Lightning Web Components without an org: builds them as the platform receives them
 * (tsc output compiled by the open-source LWC compiler), stubs lightning/* and @salesforce/* with
 * recorded fixtures, and serves the page with SLDS on http://127.0.0.1. Open `/?c=<component>` for one
 * component, add `&audience=marketing` to see a user without billing field access. Ctrl-C stops it.
 */
import { startPreview } from './preview-lwc/server.js';

function portFromArgs(argv: readonly string[]): number {
  const index = argv.indexOf('--port');
  if (index === -1) return Number(process.env.PORT ?? 4173);
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`--port must be an integer between 0 and 65535, got ${argv[index + 1] ?? '(nothing)'}`);
  }
  return value;
}

async function main(): Promise<void> {
  const preview = await startPreview(portFromArgs(process.argv.slice(2)));
  console.log(`LWC preview: ${preview.url}/ (Ctrl-C to stop)`);
  const stop = (): void => {
    preview.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`preview-lwc: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
