import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The sync CLI as its own OS process: `node --import tsx sync-service/src/cli/main.ts <args>`, one node
 * process (no tsx wrapper that would survive a kill of its parent), leading its own process group so a
 * kill reaches everything it started. `killGroup` sends SIGKILL to the group; `groupAlive` tells whether
 * any process of the group survives.
 */
export interface SyncProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
  killGroup(): void;
}

export function startSyncProcess(args: readonly string[], env: Record<string, string>): SyncProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'sync-service/src/cli/main.ts', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error('sync process did not start');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const pid = child.pid;
  return {
    pid,
    child,
    exited,
    killGroup() {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    },
  };
}

/** True while any process of the group led by `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Waits up to `ms` for the group led by `pgid` to be gone. A SIGKILLed group's last members (tsx's
 * esbuild helper) may still be dying, or not yet reaped by init, the instant the leader's `close` fires;
 * a member that still exists after the wait has survived the kill.
 */
export async function groupGone(pgid: number, ms = 3_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** A small seeded generator (mulberry32): the same seed gives the same schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
