import { parseArgs } from 'node:util';
import { runForeground } from '../../runtime/foreground.js';
import type { Command } from '../types.js';

/** `npm run sync -- run`: the long-running service (scheduler + admin API) in the foreground. */
export const runCommand: Command = {
  name: 'run',
  summary: 'Run the service in the foreground: poll on schedule and serve the admin API until Ctrl-C.',
  usage:
    'npm run sync -- run\n\nStarts the scheduler (SYNC_POLL_INTERVAL_SECONDS) and the admin API on HOST:PORT, and runs until\nSIGTERM or Ctrl-C, then waits for the run in progress and exits 0. Exit code 1 when it cannot start\n(configuration, SYNC_ENCRYPTION_KEY, unsigned data map, unreachable Salesforce).',
  async run(args, ctx) {
    parseArgs({ args: [...args], options: {}, allowPositionals: false });
    return runForeground(ctx.env);
  },
};
