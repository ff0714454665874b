import { spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run deploy` (scripts/deploy.ts) on a copy of the repository: a bundle without its JavaScript stops
 * the deploy at validation, before the Salesforce CLI runs (the real `sf` from node_modules/.bin); the
 * control, the same copy without that bundle, reaches `sf`, which then fails for want of an org. After
 * each run no process is left working in the copy (sf's update check and telemetry are switched off).
 */
const ROOT = path.resolve(import.meta.dirname, '..', '..');
let copy: string;

function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function deploy(cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(ROOT, 'node_modules/.bin/tsx'),
      ['scripts/deploy.ts', '--target-org', 'nowhere'],
      {
        cwd,
        // A home of its own: the Salesforce CLI reads and writes its config there.
        env: { ...process.env, HOME: path.join(cwd, '.home'), CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'deploy-test-'));
  for (const item of [
    'force-app',
    'force-app-org-setup',
    'lib',
    'force-app-shield',
    'force-app-org-setup',
    'config',
    'lib',
    'reference',
    'scripts',
    'sync-service',
    'sfdx-project.json',
    '.forceignore',
    '.prettierrc.json',
    'package.json',
    'tsconfig.json',
  ]) {
    cpSync(path.join(ROOT, item), path.join(copy, item), {
      recursive: true,
      // Built component JavaScript is the deploy's to produce.
      filter: (src) => !/lwc\/[^/]+\/[^/]+\.js$/.test(src),
    });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  mkdirSync(path.join(copy, '.home'));
});

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('npm run deploy', () => {
  it('refuses before reaching sf when a component bundle has no JavaScript', async () => {
    // Arrange: a bundle with markup and metadata but no source to compile (so build:lwc cannot emit it).
    const bundle = path.join(copy, 'force-app/main/default/lwc/emptyCard');
    mkdirSync(bundle, { recursive: true });
    writeFileSync(
      path.join(bundle, 'emptyCard.js-meta.xml'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<LightningComponentBundle xmlns="http://soap.sforce.com/2006/04/metadata">\n  <apiVersion>66.0</apiVersion>\n  <isExposed>false</isExposed>\n</LightningComponentBundle>\n',
    );
    writeFileSync(path.join(bundle, 'emptyCard.html'), '<template></template>\n');
    // Act
    const { code, output } = await deploy(copy);
    // Assert
    expect(code, output).not.toBe(0);
    expect(output).toContain('deploy: step 3/4: validate:metadata');
    expect(output).toMatch(/emptyCard\/emptyCard\.js \[emptyCard\]: is missing.*\(lwc\)/);
    expect(output).toContain('nothing was deployed');
    expect(output).not.toContain('step 4/4');
    expect(processesIn(copy)).toEqual([]);
    rmSync(bundle, { recursive: true });
  }, 300_000);

  it('control: with every bundle built it reaches sf, which fails without an org and leaves nothing running', async () => {
    const { code, output } = await deploy(copy);
    expect(output).toContain('deploy: step 4/4: sf project deploy start');
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/nowhere|No authorization|NamedOrgNotFound|target-org/i);
    expect(output).toContain('see the Salesforce CLI output above');
    // build:lwc emitted the JavaScript the validation then found.
    expect(readdirSync(path.join(copy, 'force-app/main/default/lwc/errorPanel'))).toContain('errorPanel.js');
    expect(processesIn(copy)).toEqual([]);
  }, 300_000);
});
