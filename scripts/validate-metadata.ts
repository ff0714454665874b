/**
 * npm run validate:metadata
 *
 * Validates the SFDX package with no org (docs/data-map.md, "Validation"): every `*-meta.xml` against
 * the XML Schema in Salesforce's Metadata API WSDL, conversion with source-deploy-retrieve, the
 * project rules Salesforce would enforce at deploy time, the data map against the package and
 * Cliniko's OpenAPI spec, and the generator's drift check. Prints one line per problem naming the
 * file and element; exits 1 on any error.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatFinding, validateRepository } from './lib/metadata-validate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  const report = await validateRepository(repoRoot, {
    wsdlPath: process.env.METADATA_WSDL,
    clinikoSpecPath: process.env.CLINIKO_OPENAPI,
  });
  for (const w of report.warnings) console.log(`warning: ${formatFinding(w)}`);
  if (report.errors.length > 0) {
    for (const e of report.errors) console.error(`error: ${formatFinding(e)}`);
    console.error(
      `validate-metadata: ${report.errors.length} error(s) in ${report.filesChecked} metadata files`,
    );
    return 1;
  }
  console.log(
    `validate-metadata: ${report.filesChecked} metadata files valid (schema, conversion, project rules, data map, drift)` +
      (report.warnings.length > 0 ? `; ${report.warnings.length} warning(s)` : ''),
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `validate-metadata: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  },
);
