import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseStartCommand } from '../../scripts/lib/start-command.js';

/**
 * The deployment definitions, checked with what runs on this machine: the Dockerfile with
 * dockerfile-utils' linter (the one behind VS Code's Dockerfile support; hadolint is not installable
 * here), the compose file against the Compose Specification schema with dclint, and the Heroku files
 * by shape. Each linter is shown to fail on a broken copy, so a green run means something.
 * (No Docker engine runs here: `docker build` and `docker compose up` are not run; see go-live.md.)
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const bin = (name: string) => path.join(ROOT, 'node_modules/.bin', name);
const tmp = mkdtempSync(path.join(tmpdir(), 'deploy-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** A Dockerfile `ENV name=value` line (the value as npm start sets it). */
const envLine = (name: string, value: string): RegExp =>
  new RegExp(`^ENV ${name}=${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('passes the linter, which fails a broken copy', () => {
    expect(run(bin('dockerfile-utils'), ['lint', 'Dockerfile'])).toMatchObject({ status: 0 });
    const broken = path.join(tmp, 'Dockerfile');
    writeFileSync(broken, dockerfile.replace('EXPOSE 3000', 'EXPOSE not-a-port'));
    const bad = run(bin('dockerfile-utils'), ['lint', broken]);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('Invalid containerPort');
  });

  it('is multi-stage on Node 24, runs compiled JS as a non-root user, checks /health', () => {
    const stages = dockerfile.match(/^FROM .*/gm) ?? [];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) expect(from).toMatch(/^FROM node:24-/);
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^USER node$/m);
    expect(final).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    // The same command as npm start, heap flags included, and the same allocator settings.
    const start = parseStartCommand(
      (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start,
    );
    expect(final).toContain(
      `CMD [${[start.command, ...start.args].map((part) => JSON.stringify(part)).join(', ')}]`,
    );
    expect(`${start.command} ${start.args.join(' ')}`).toMatch(
      /^node --max-old-space-size=\d+ --max-semi-space-size=\d+ sync-service\/dist\/server\.js$/,
    );
    expect(Object.keys(start.env)).toEqual(['GLIBC_TUNABLES']);
    for (const [name, value] of Object.entries(start.env)) expect(final).toMatch(envLine(name, value));
    expect(final).not.toMatch(/tsx/);
    // Dev dependencies stay in the build stage: the final stage copies node_modules from `deps`,
    // which installs with --omit=dev.
    expect(final).toContain('COPY --from=deps');
    expect(dockerfile).toMatch(/AS deps\n[\s\S]*npm ci --omit=dev/);
  });
});

describe('compose.yaml', () => {
  it('is valid against the Compose Specification schema, and an unknown key is caught', () => {
    expect(run(bin('dclint'), ['-q', 'compose.yaml'])).toMatchObject({ status: 0 });
    const broken = path.join(tmp, 'compose.yaml');
    writeFileSync(broken, read('compose.yaml').replace('    image: postgres:', '    imagee: postgres:'));
    const bad = run(bin('dclint'), ['-q', broken]);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toContain('invalid-schema');
    // Two runs of a linter's CLI: the default 5 s is too short for a loaded 2-core machine.
  }, 60_000);

  it('runs two instances of the image on one PostgreSQL', () => {
    const doc = parseYaml(read('compose.yaml'), { merge: true }) as {
      services: Record<string, { image: string; environment?: Record<string, string> }>;
    };
    const sync = Object.entries(doc.services).filter(([, s]) => s.image.startsWith('cliniko-sync:'));
    expect(sync).toHaveLength(2);
    for (const [, s] of sync) expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
    expect(doc.services.postgres?.image).toMatch(/^postgres:\d+/);
  });
});

describe('Heroku', () => {
  it('Procfile starts the compiled service; app.json provisions Postgres and asks for every required variable', () => {
    expect(read('Procfile').trim()).toBe('web: npm start');
    const app = JSON.parse(read('app.json')) as {
      addons: Array<{ plan: string }>;
      env: Record<string, { required?: boolean; value?: string }>;
    };
    expect(app.addons.map((a) => a.plan.split(':')[0])).toEqual(['heroku-postgresql']);
    for (const name of ['CLINIKO_API_KEY', 'SALESFORCE_CLIENT_ID', 'SYNC_ENCRYPTION_KEY', 'ADMIN_TOKENS'])
      expect(app.env[name]?.required).toBe(true);
    expect(app.env.HOST?.value).toBe('0.0.0.0');
  });
});
