/**
 * `npm run sync -- <command> [options]`: the operator's command line. Each command lives in
 * ./commands/<name>.ts and is listed in ./registry.ts.
 */
import { ConfigError, loadConfig } from '../config/index.js';
import { SyncError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { createSyncService } from '../runtime/wiring.js';
import { COMMANDS } from './registry.js';
import type { CliContext } from './types.js';

export async function runCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [name, ...args] = argv;
  let logger: Logger | undefined;
  const ctx: CliContext = {
    env,
    config: () => loadConfig(env),
    logger: () =>
      (logger ??= createLogger({
        level: env.LOG_LEVEL ?? 'warn',
        pretty: false,
        destination: process.stderr,
      })),
    service: (options) =>
      createSyncService(loadConfig(env), ctx.logger(), { rootDir: process.cwd(), ...options }),
    print: (line) => process.stdout.write(`${line}\n`),
    tty: process.stdout.isTTY === true,
    rootDir: process.cwd(),
  };
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    ctx.print('usage: npm run sync -- <command> [options]\n');
    for (const command of COMMANDS) ctx.print(`  ${command.name.padEnd(18)} ${command.summary}`);
    ctx.print("\nRun `npm run sync -- <command> --help` for a command's options.");
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`unknown command "${name}"; run \`npm run sync -- help\``);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    ctx.print(command.usage);
    return 0;
  }
  try {
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else if (err instanceof SyncError) console.error(`${err.code}: ${err.message}`);
    else console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
