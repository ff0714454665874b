import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { SyncService, SyncServiceOptions } from '../runtime/wiring.js';

/** What every command gets: the environment-derived config, a logger, output, and service wiring. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Parses the environment (throws ConfigError listing every problem). */
  config(): Config;
  logger(): Logger;
  /** Builds the wired service (store, clients, data map) for commands that sync. Closed by the caller. */
  service(options?: SyncServiceOptions): Promise<SyncService>;
  /** Human output (stdout). */
  print(line: string): void;
  /** Whether stdout is a terminal (progress bars, colours). */
  readonly tty: boolean;
  readonly rootDir: string;
}

export interface Command {
  readonly name: string;
  /** One line for `sync help`. */
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(args: readonly string[], ctx: CliContext): Promise<number>;
}
