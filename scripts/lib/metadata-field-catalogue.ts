import path from 'node:path';
import { readFieldFiles, summariseField } from '../../lib/metadata/fields.js';
import { packageFieldsFromMetadata } from '../../sync-service/src/governance/spec-fields.js';
import { SALESFORCE_FIELDS_FILE } from '../../sync-service/src/governance-io/lookups.js';

/**
 * `config/salesforce-fields.json`: the package's Salesforce fields (type, length, lookup target) as the
 * service needs them to validate the data map. Generated here from `force-app/` field metadata so the
 * service never reads the SFDX source tree at run time (sync-service/src/governance-io/lookups.ts reads
 * this file). The standard Contact fields the sync writes come from governance/spec-fields.ts.
 */

export { SALESFORCE_FIELDS_FILE };

const OBJECTS_DIR = 'force-app/main/default/objects';

/** The catalogue's JSON text (unformatted; the caller formats it like any generated file). */
export function salesforceFieldCatalogue(repoRoot: string): string {
  const fields = readFieldFiles(path.join(repoRoot, OBJECTS_DIR)).map((file) => {
    const f = summariseField(file);
    return {
      object: f.object,
      field: { fullName: f.name, type: f.type, length: f.length, referenceTo: f.referenceTo },
    };
  });
  const catalogue = packageFieldsFromMetadata(fields);
  const sorted = [...catalogue].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    generatedBy: 'npm run generate:metadata',
    source: OBJECTS_DIR,
    fields: Object.fromEntries(sorted),
  });
}
