import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../sync-service/src/cli/registry.js';

/**
 * The README's "Try every command against the demo" block, run as written (one bash session, the env
 * file's path being the only substitution) against `npm run demo` started in a process group of its own
 * on ephemeral ports. Every line must exit 0, the outputs must show the dead letter replayed and the
 * quarantined record retried once Cliniko changed it, and every operator command and every
 * `npm run sync -- ...` the docs mention must be in the block. At the end the demo is stopped with
 * Ctrl-C: its env file goes, and nothing of its process group survives.
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DOCS = ['README.md', 'docs/operations.md', 'docs/governance.md'];
const NOT_AGAINST_THE_DEMO = new Set(['run']); // the service itself: the demo already runs it

let dir: string;
let envFile: string;
let demo: ChildProcess;
let demoOutput = '';
let exited: Promise<number | null>;

function readmeBlock(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const m = /<!-- demo-commands:start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- demo-commands:end -->/.exec(
    readme,
  );
  if (!m?.[1]) throw new Error('README.md has no demo-commands block');
  return m[1].split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

describe('the README demo block', () => {
  it('covers every operator command and every `npm run sync -- ...` the docs mention', () => {
    const block = readmeBlock().join('\n');
    const ran = (command: string) =>
      new RegExp(`npm run sync -- (--env-file \\S+ )?${command}\\b`).test(block);
    for (const command of COMMANDS.map((c) => c.name).filter((n) => !NOT_AGAINST_THE_DEMO.has(n))) {
      expect(ran(command), command).toBe(true);
    }
    for (const sub of [
      'data-map sign',
      'data-map diff',
      'data-map coverage',
      'audit verify',
      'audit show',
      'audit prune',
    ]) {
      expect(ran(sub), sub).toBe(true);
    }
    for (const doc of DOCS) {
      const text = readFileSync(path.join(ROOT, doc), 'utf8');
      for (const m of text.matchAll(/npm run sync --\s+(?:--env-file \S+ )?([a-z-]+)(?: ([a-z-]+))?/g)) {
        const [name, sub] = [m[1]!, m[2]];
        if (NOT_AGAINST_THE_DEMO.has(name) || name === 'env-file') continue;
        const withSub = (name === 'data-map' || name === 'audit') && sub ? `${name} ${sub}` : name;
        expect(ran(withSub), `${doc}: ${m[0]}`).toBe(true);
      }
    }
  });
});

describe('npm run demo', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'demo-commands-'));
    envFile = path.join(dir, 'demo.env');
    // One node process with tsx as a hook: the tsx CLI wrapper SIGKILLs its child when the child does
    // not acknowledge a Ctrl-C within 30 ms (a loaded machine), and then exits 130.
    demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--env-out', envFile], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0' },
      detached: true, // its own process group, so the whole tree can be stopped and checked
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => demo.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer) => {
        demoOutput += b.toString();
        if (demoOutput.includes('press Ctrl-C to stop')) resolve();
      };
      demo.stdout!.on('data', onData);
      demo.stderr!.on('data', onData);
      void exited.then((code) =>
        reject(new Error(`the demo exited (${code}) before it was ready:\n${demoOutput}`)),
      );
    });
  }, 300_000);

  afterAll(async () => {
    if (demo?.pid !== undefined && demo.exitCode === null) {
      process.kill(-demo.pid, 'SIGINT');
      const stopped = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('timeout'), 30_000)),
      ]);
      if (stopped === 'timeout') process.kill(-demo.pid, 'SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('prints a human-readable report: no raw JSON log lines, no URL of a stopped server', () => {
    expect(demoOutput.split('\n').filter((l) => l.trim().startsWith('{'))).toEqual([]);
    expect(demoOutput).toContain('1 dead letter(s), 1 quarantined record field(s)');
    expect(demoOutput).toContain('Contact "written" counts writes, not Contacts');
    expect(existsSync(envFile)).toBe(true);
  });

  it('runs every command of the README block as written, each exiting 0', async () => {
    const lines = readmeBlock();
    const script = lines
      .map((line, i) => {
        const asWritten = line.replaceAll('./.demo.env', envFile).replaceAll('.demo.env', envFile);
        return `echo "@@@ ${i}"\n${asWritten}\necho "@@@rc $?"`;
      })
      .join('\n');
    const output = await new Promise<string>((resolve, reject) => {
      const bash = spawn('bash', ['-c', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      bash.stdout.on('data', (b: Buffer) => (out += b.toString()));
      bash.stderr.on('data', (b: Buffer) => (out += b.toString()));
      bash.on('error', reject);
      bash.on('exit', () => resolve(out));
    });
    const results = output
      .split(/^@@@ /m)
      .slice(1)
      .map((chunk) => {
        const index = Number(chunk.slice(0, chunk.indexOf('\n')));
        const rc = /@@@rc (\d+)/.exec(chunk)?.[1];
        return { line: lines[index]!, rc: rc === undefined ? NaN : Number(rc), out: chunk };
      });
    expect(results.map((r) => r.line)).toEqual(lines);
    for (const r of results) expect(r.rc, `${r.line}\n${r.out}`).toBe(0);

    const outputOf = (pattern: RegExp) => results.filter((r) => pattern.test(r.line)).map((r) => r.out);
    // Which patients the demo picked (the practice's first two active ones, which depends on the day the
    // demo runs) is in its own report.
    const lockedId = /- patient (\d+): email corrected/.exec(demoOutput)?.[1];
    const brokenId = /- patient (\d+): a date of birth in the wrong format/.exec(demoOutput)?.[1];
    expect([lockedId, brokenId]).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    // The quarantined record and the dead letter, as the demo left them.
    expect(outputOf(/quarantine$/)[0]).toMatch(new RegExp(`patients ${brokenId} {2}date_of_birth: `));
    expect(outputOf(/replay --list$/)[0]).toMatch(new RegExp(`Contact ${lockedId} {2}UNABLE_TO_LOCK_ROW`));
    // The demo's later cycles wrote that Contact once the lock was lifted, so the replay drops the stale
    // letter with its reason instead of writing it again (issue #15: a replay never writes over newer).
    expect(outputOf(/replay$/)[0]).toMatch(/dead letter \d+: dropped: this payload was written since/);
    expect(outputOf(/replay$/)[0]).toContain(
      'replayed 0, dropped 1 (superseded by newer writes); written 0, dead-lettered again 0',
    );
    const listed = outputOf(/\/quarantine"$/)[0]!;
    expect(listed).toMatch(
      new RegExp(`"items":\\[\\{"resource":"patients","id":"${brokenId}","field":"date_of_birth"`),
    );
    expect(outputOf(/\/dlq\?includeReplayed=true"$/)[0]).toMatch(/"replayedAt":"\d{4}-/);
    // Governance commands ran on the store alone, and the demo's copy of the map was signed.
    expect(outputOf(/audit verify$/)[0]).toContain('audit log intact');
    // ... and checked against the anchors the demo's runs left in its Salesforce emulator (issue #17).
    expect(outputOf(/audit verify$/)[0]).toMatch(/audit anchors match: [1-9]\d* checked against Salesforce/);
    expect(outputOf(/data-map sign --key/)[0]).toContain('Demo Compliance Officer (DEMO ONLY)');
    // Corrected in Cliniko, the record was retried by the next cycle and left the quarantine.
    expect(outputOf(/quarantine$/).at(-1)).toContain('nothing is quarantined');
  }, 600_000);

  it('stops on Ctrl-C, deletes its env file and leaves no process behind', async () => {
    process.kill(-demo.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(envFile)).toBe(false);
    // Nothing of its process group survives (ESRCH: no such process group).
    await new Promise((r) => setTimeout(r, 500));
    expect(() => process.kill(-demo.pid!, 0)).toThrow(/ESRCH/);
  }, 60_000);
});
