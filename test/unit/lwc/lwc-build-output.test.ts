// The platform deploys the .js that `npm run build:lwc` emits from the TypeScript sources, so that
// output (not only the .ts) must pass Salesforce's LWC lint rules and keep the LWC decorators.
// This builds the components into a temporary folder with the same tsconfig and lints the result
// with @salesforce/eslint-config-lwc's `recommended` rules.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// The package ships no type declarations; name the one member used here.
const lwcModuleName: string = '@salesforce/eslint-config-lwc';
const lwcConfig = (
  (await import(lwcModuleName)) as { default: { configs: { recommended: Linter.Config[] } } }
).default;
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const lwcRoot = join(repo, 'force-app/main/default/lwc');

async function listFiles(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.includes('__tests__') && !p.includes(`${join(dir, 'types')}`));
}

describe('LWC build output', () => {
  let outDir: string;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'lwc-build-'));
    await run(join(repo, 'node_modules/.bin/tsc'), [
      '-p',
      join(lwcRoot, 'tsconfig.json'),
      '--outDir',
      outDir,
    ]);
  }, 60_000);

  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('emits one .js beside every component source', async () => {
    const sources = (await listFiles(lwcRoot, '.ts')).filter((p) => !p.endsWith('.d.ts'));
    const emitted = (await listFiles(outDir, '.js')).map((p) => relative(outDir, p));
    expect(sources.length).toBeGreaterThanOrEqual(7);
    expect(emitted.sort()).toEqual(sources.map((p) => relative(lwcRoot, p).replace(/\.ts$/, '.js')).sort());
  });

  it('keeps the LWC decorators as written (standard decorators, not down-levelled helpers)', async () => {
    const js = await readFile(join(outDir, 'carePlanProgress/carePlanProgress.js'), 'utf8');
    expect(js).toMatch(/^\s*@api\s*$/m);
    expect(js).toMatch(/@wire\(graphql, \{/);
    expect(js).not.toContain('__esDecorate');
  });

  it('passes @salesforce/eslint-config-lwc recommended', async () => {
    const eslint = new ESLint({
      cwd: outDir,
      overrideConfigFile: true,
      overrideConfig: [...lwcConfig.configs.recommended, { files: ['**/*.js'] }],
    });
    const results = await eslint.lintFiles(['**/*.js']);
    const problems = results.flatMap((r) =>
      r.messages.map(
        (m) => `${relative(outDir, r.filePath)}:${m.line}:${m.column} ${m.ruleId ?? ''} ${m.message}`,
      ),
    );
    expect(results.length).toBeGreaterThanOrEqual(7);
    expect(problems).toEqual([]);
  }, 60_000);
});
