/**
 * `npm run sync -- [--env-file FILE] <command> [options]`: the operator's command line. Each command
 * lives in ./commands/<name>.ts and is listed in ./registry.ts.
 */
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig } from '../config/index.js';
import { SyncError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { createSyncService } from '../runtime/wiring.js';
import { COMMANDS } from './registry.js';
import type { CliContext } from './types.js';

/**
 * Takes `--env-file FILE` (or `--env-file=FILE`, anywhere in the arguments) out of argv and reads it
 * with node's dotenv parser. The file's variables win over the shell's: a file names one whole
 * environment (the demo writes one), and mixing it with, say, a production DATABASE_URL exported in the
 * shell would point demo credentials at a real store. Unreadable files fail by path, never by content.
 */
export function withEnvFile(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { argv: string[]; env: Readonly<Record<string, string | undefined>>; error?: string } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--env-file') {
      file = argv[i + 1];
      i += 1;
      if (file === undefined) return { argv: rest, env, error: '--env-file needs a path' };
    } else if (arg.startsWith('--env-file=')) file = arg.slice('--env-file='.length);
    else rest.push(arg);
  }
  if (file === undefined) return { argv: rest, env };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return {
      argv: rest,
      env,
      error: `--env-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    };
  }
  return { argv: rest, env: { ...env, ...(parseEnv(text) as Record<string, string>) } };
}

export async function runCli(
  rawArgv: readonly string[],
  rawEnv: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const { argv, env, error } = withEnvFile(rawArgv, rawEnv);
  if (error !== undefined) {
    console.error(error);
    return 2;
  }
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
    ctx.print('usage: npm run sync -- [--env-file FILE] <command> [options]\n');
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
