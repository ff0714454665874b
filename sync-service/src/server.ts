/**
 * The service process (`npm start`): reads the environment once, starts the whole service (runtime/:
 * the wired store, clients, signed data map and runner, the scheduler and the admin API), listens, and
 * closes gracefully on SIGTERM/SIGINT. The HTTP application itself is built from injected dependencies
 * in app.ts, and the start function lives in runtime/start.ts, so tests and the CLI need none of this.
 */
import { describeStartupError, runForeground } from './runtime/foreground.js';

if (import.meta.url === `file://${process.argv[1]}`) {
  runForeground(process.env).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(describeStartupError(err));
      process.exit(1);
    },
  );
}
