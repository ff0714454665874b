/**
 * The benchmark's child processes: each emulator and the service run in a process of their own, so
 * the service's memory and CPU are its own. Reads a child's peak RSS (VmHWM) and CPU time from /proc,
 * as the numbers were taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The next stdout line that parses as a JSON object (other lines are skipped). */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** The next JSON line for which `match` holds. */
  waitFor(
    match: (m: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  send(line: string): void;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
  stop(): Promise<void>;
  /** Resolves when the process has exited by itself, or after `ms` (whichever comes first). */
  exitWithin(ms: number): Promise<void>;
  /** What the child wrote to stderr (the last 8 KB), for error messages. */
  stderr(): string;
}

export function startChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  const pid = proc.pid;
  let err = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    err = (err + chunk).slice(-8192);
  });
  const queue: Record<string, unknown>[] = [];
  const waiters: Array<(m: Record<string, unknown> | undefined) => void> = [];
  let ended = false;
  const lines = createInterface({ input: proc.stdout });
  lines.on('line', (line) => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return;
    const waiter = waiters.shift();
    if (waiter) waiter(message as Record<string, unknown>);
    else queue.push(message as Record<string, unknown>);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  const next = (timeoutMs = 30 * 60_000): Promise<Record<string, unknown>> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    if (ended) return Promise.reject(new Error(`${command} exited: ${err.slice(-2000)}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${command}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push((m) => {
        clearTimeout(timer);
        if (m) resolve(m);
        else reject(new Error(`${command} exited: ${err.slice(-2000)}`));
      });
    });
  };
  return {
    proc,
    pid,
    next,
    async waitFor(match, timeoutMs = 30 * 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = await next(Math.max(1, deadline - Date.now()));
        if (match(m)) return m;
      }
    },
    send(line) {
      proc.stdin?.write(`${line}\n`);
    },
    async stop() {
      if (ended) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async exitWithin(ms) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
    stderr: () => err,
  };
}

/** VmHWM (peak resident set) and VmRSS of a live process, in MB. */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(match[1]);
  };
  return { peakMb: Math.round(kb('VmHWM') / 1024), rssMb: Math.round(kb('VmRSS') / 1024) };
}

/** User + system CPU seconds a live process has used (/proc/<pid>/stat, clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`/proc/${pid}/stat: unexpected format`);
  return ticks / 100;
}
