/**
 * npm run generate:metadata [-- --check]
 *
 * Turns config/data-map.yaml into the package's access rules: the five packaged Cliniko_Sync_*
 * permission sets and their Cliniko_Sync_*_Org companions in force-app-org-setup (the Contact and user
 * permissions a package cannot carry), Contact's history tracking (force-app-org-setup), the
 * Data_Map_Field__mdt / Data_Map_Signoff__mdt records, and the Field Audit Trail retention policies in
 * force-app-shield (see docs/data-map.md). Deterministic: on an unchanged map it changes
 * nothing. With --check it writes nothing and exits 1 listing every file that differs (the drift
 * check that `npm run validate:metadata` runs). With --hash it prints the canonical sha256 of the map
 * and whether the sign-off matches it (exit 1 when it does not), for recording a sign-off.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataMapError, loadDataMap } from './lib/metadata-datamap.js';
import {
  applyGenerated,
  compareGenerated,
  DATA_MAP_PATH,
  driftCount,
  expectedGeneratedFiles,
  type Drift,
} from './lib/metadata-files.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function describe(drift: Drift, verbs: { changed: string; missing: string; stale: string }): string[] {
  return [
    ...drift.changed.map((f) => `  ${verbs.changed} ${f}`),
    ...drift.missing.map((f) => `  ${verbs.missing} ${f}`),
    ...drift.stale.map((f) => `  ${verbs.stale} ${f}`),
  ];
}

async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--check' && a !== '--hash');
  if (unknown.length > 0 || argv.length > 1) {
    console.error(
      `generate-metadata: unexpected arguments "${argv.join(' ')}" (usage: generate-metadata [--check | --hash])`,
    );
    return 2;
  }
  if (argv.includes('--hash')) {
    const map = loadDataMap(path.join(repoRoot, DATA_MAP_PATH));
    const signed = map.signoff.sha256 === map.currentSha256;
    console.log(map.currentSha256);
    console.log(
      signed
        ? `signed by ${map.signoff.approvedBy} on ${map.signoff.approvedOn}`
        : `NOT signed: the sign-off by ${map.signoff.approvedBy} on ${map.signoff.approvedOn} recorded ${map.signoff.sha256}`,
    );
    return signed ? 0 : 1;
  }
  const check = argv.includes('--check');
  const expected = await expectedGeneratedFiles(repoRoot);
  if (check) {
    const drift = compareGenerated(repoRoot, expected);
    if (driftCount(drift) === 0) {
      console.log(`generate-metadata --check: ${expected.size} generated files match config/data-map.yaml`);
      return 0;
    }
    console.error(
      [
        `generate-metadata --check: ${driftCount(drift)} file(s) differ from what config/data-map.yaml generates:`,
        ...describe(drift, { changed: 'differs:', missing: 'missing:', stale: 'not generated any more:' }),
        'Run `npm run generate:metadata` and commit the result.',
      ].join('\n'),
    );
    return 1;
  }
  const drift = applyGenerated(repoRoot, expected);
  const lines = describe(drift, { changed: 'updated', missing: 'created', stale: 'deleted' });
  console.log(
    lines.length === 0
      ? `generate-metadata: ${expected.size} files already up to date`
      : [`generate-metadata: ${lines.length} file(s) written`, ...lines].join('\n'),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof DataMapError ? error.message : error);
    process.exitCode = 1;
  },
);
