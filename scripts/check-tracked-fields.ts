/**
 * npx tsx scripts/check-tracked-fields.ts --target-org <alias>
 *
 * The pre-deploy check of force-app-org-setup (docs/go-live.md): asks the target org, through the
 * Salesforce CLI (`sf data query --json`), which Contact fields it already tracks, and exits 1 with
 * Salesforce's own message ("exceeded the allowed number of fields to track on a given entity") when
 * the folder's tracked fields would take the object over the limit. Prints only field names and
 * counts, never record data.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkTrackedFieldHeadroom, sfQueryResult, TrackedFieldsError } from './lib/tracked-fields-check.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

async function main(argv: readonly string[]): Promise<number> {
  const at = argv.indexOf('--target-org');
  const org = at >= 0 ? argv[at + 1] : undefined;
  if (org === undefined || org.startsWith('-') || argv.length !== 2) {
    console.error('usage: check-tracked-fields --target-org <alias or username>');
    return 2;
  }
  const query = async (soql: string): Promise<unknown> => {
    const sf = path.join(repoRoot, 'node_modules', '.bin', 'sf');
    // sf exits non-zero on a failed query but still prints its JSON; read it either way.
    const out = await run(sf, ['data', 'query', '--query', soql, '--target-org', org, '--json'], {
      maxBuffer: 10 * 1024 * 1024,
    }).catch((error: unknown) => {
      const stdout = (error as { stdout?: unknown }).stdout;
      if (typeof stdout === 'string' && stdout.trim() !== '') return { stdout };
      throw error;
    });
    return sfQueryResult(out.stdout);
  };
  try {
    for (const v of await checkTrackedFieldHeadroom(repoRoot, query)) {
      console.log(
        `${v.object}: the org tracks ${v.alreadyTracked.length} field(s); force-app-org-setup adds ${v.adding.length}; ${v.total} of ${v.limit}`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof TrackedFieldsError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`check-tracked-fields: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
