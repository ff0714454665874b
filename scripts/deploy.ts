/**
 * `npm run deploy -- [sf project deploy start flags]`: the one way to deploy the package.
 *
 * 1. build:lwc      compile the Lightning components' TypeScript to the JavaScript Salesforce deploys
 * 2. generate       permission sets and custom metadata from config/data-map.yaml
 * 3. validate       npm run validate:metadata (fails, among other things, on a bundle without its .js)
 * 4. sf project deploy start <your flags>   (with `--source-dir force-app` when you name no source)
 *
 * Each step runs in the foreground and the first failure stops the deploy with its exit code, so an
 * empty component can never reach `sf`. Every step runs with SF_AUTOUPDATE_DISABLE=true,
 * SF_DISABLE_TELEMETRY=true and their companions (SF_ENV below): the Salesforce CLI otherwise starts an
 * auto-update, a version check and a telemetry uploader that outlive the command. Ctrl-C is passed to the step that is running, and the script waits
 * for it to end: nothing is left behind.
 *
 * Runs from the repository root (the current directory); tools come from its node_modules/.bin.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const SOURCE_FLAGS = ['--source-dir', '-d', '--manifest', '-x', '--metadata', '-m', '--metadata-dir'];

/**
 * The Salesforce CLI leaves detached processes behind unless told not to: `sf update --autoupdate`
 * (oclif's plugin-update reads SF_DISABLE_AUTOUPDATE; SF_AUTOUPDATE_DISABLE is the CLI's own, older
 * name), the npm version check (SF_SKIP_NEW_VERSION_CHECK) and the telemetry uploader
 * (SF_DISABLE_TELEMETRY). test/e2e/deploy-script.test.ts fails if any of them survives a deploy.
 */
const SF_ENV = {
  SF_AUTOUPDATE_DISABLE: 'true',
  SF_DISABLE_AUTOUPDATE: 'true',
  SF_SKIP_NEW_VERSION_CHECK: 'true',
  SF_DISABLE_TELEMETRY: 'true',
} as const;

interface Step {
  readonly name: string;
  readonly bin: string;
  readonly args: readonly string[];
}

function deploySteps(root: string, passThrough: readonly string[]): Step[] {
  const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
  const namesSource = passThrough.some((a) => SOURCE_FLAGS.some((f) => a === f || a.startsWith(`${f}=`)));
  return [
    { name: 'build:lwc', bin: bin('tsc'), args: ['-p', 'force-app/main/default/lwc/tsconfig.json'] },
    { name: 'generate:metadata', bin: bin('tsx'), args: ['scripts/generate-metadata.ts'] },
    { name: 'validate:metadata', bin: bin('tsx'), args: ['scripts/validate-metadata.ts'] },
    {
      name: 'sf project deploy start',
      bin: bin('sf'),
      args: [
        'project',
        'deploy',
        'start',
        ...(namesSource ? [] : ['--source-dir', 'force-app']),
        ...passThrough,
      ],
    },
  ];
}

function run(step: Step, root: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(step.bin, [...step.args], {
      cwd: root,
      stdio: 'inherit',
      // node_modules/.bin first: `sf` and `tsc` run on the Node 24 of the `node` dev dependency (the
      // CLI's HTTP client needs Node 22.19+), and the CLI finds itself there when it spawns `sf`.
      env: {
        ...process.env,
        ...SF_ENV,
        PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      },
    });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (code: number) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.on('error', (err) => {
      console.error(`deploy: ${step.name} could not start: ${err.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 + 2 : 1)));
  });
}

async function main(): Promise<number> {
  const root = process.cwd();
  const steps = deploySteps(root, process.argv.slice(2));
  for (const [i, step] of steps.entries()) {
    console.log(`deploy: step ${i + 1}/${steps.length}: ${step.name}`);
    const code = await run(step, root);
    if (code !== 0) {
      console.error(
        `deploy: ${step.name} failed (exit ${code}); ${i < steps.length - 1 ? 'nothing was deployed' : 'see the Salesforce CLI output above'}`,
      );
      return code;
    }
  }
  console.log('deploy: done');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`deploy: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
