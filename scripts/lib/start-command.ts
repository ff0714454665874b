/**
 * The parts of package.json's `start` script (`[NAME=value ...] node [flags ...] script`): the
 * environment it sets, the command and its arguments. The benchmark starts the service with exactly
 * these, and the deployment files are checked against them, so `npm start`, the container, Heroku and
 * the benchmark run one process the same way.
 */
export interface StartCommand {
  /** Variables the script sets before the command (e.g. GLIBC_TUNABLES, the allocator's settings). */
  readonly env: Readonly<Record<string, string>>;
  readonly command: string;
  readonly args: readonly string[];
}

const ASSIGNMENT = /^([A-Z_][A-Z0-9_]*)=(\S*)$/;

export function parseStartCommand(start: string): StartCommand {
  const words = start.trim().split(/\s+/);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length; i++) {
    const match = ASSIGNMENT.exec(words[i] ?? '');
    if (!match) break;
    env[match[1]!] = match[2]!;
  }
  const [command, ...args] = words.slice(i);
  if (command === undefined) throw new Error(`the start script runs no command: "${start}"`);
  return { env, command, args };
}
