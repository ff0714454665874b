/**
 * `npm run generate:cliniko-fields`: writes config/cliniko-fields.json, the field names of every Cliniko
 * resource, from Cliniko's official OpenAPI document (reference/cliniko-openapi.yaml by
 * default, or the path given as the first argument). The sync service validates the data map against
 * this catalogue at start-up, so it ships with the service; `--check` fails when it is out of date.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readClinikoSpecFields } from '../sync-service/src/governance-io/lookups.js';

export const CATALOGUE_PATH = 'config/cliniko-fields.json';
export const DEFAULT_SPEC_PATH = 'reference/cliniko-openapi.yaml';

export async function renderCatalogue(specPath: string): Promise<string> {
  const fields = await readClinikoSpecFields(specPath);
  const sorted = Object.fromEntries(
    [...fields.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([resource, names]) => [resource, [...names].sort()]),
  );
  return `${JSON.stringify({ source: path.basename(specPath), resources: sorted }, null, 2)}\n`;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const specPath = args.find((a) => !a.startsWith('--')) ?? DEFAULT_SPEC_PATH;
  const rendered = await renderCatalogue(specPath);
  if (check) {
    const current = await readFile(CATALOGUE_PATH, 'utf8').catch(() => '');
    if (current !== rendered) {
      console.error(`${CATALOGUE_PATH} is out of date with ${specPath}: run npm run generate:cliniko-fields`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(CATALOGUE_PATH, rendered);
  console.log(`wrote ${CATALOGUE_PATH}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
