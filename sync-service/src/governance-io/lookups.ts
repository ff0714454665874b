import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DataMapLookups, PackageField } from '../governance/data-map.js';
import { clinikoSpecFieldsFromOpenApi } from '../governance/spec-fields.js';

/**
 * The I/O half of data-map validation: reads the Cliniko OpenAPI document and the generated catalogue
 * of the package's Salesforce fields, and hands them to the pure side in governance/.
 *
 * The service never reads `force-app/` at run time (a deployed service has no SFDX source tree):
 * `config/salesforce-fields.json` is generated from the field metadata by `npm run generate:metadata`
 * (scripts/lib/metadata-files.ts), and `npm run validate:metadata` fails when it drifts.
 */

/** Where the generated catalogue lives, relative to the repository (or deployment) root. */
export const SALESFORCE_FIELDS_FILE = 'config/salesforce-fields.json';

export interface LookupPaths {
  /** Cliniko's OpenAPI document (in this workspace: reference/cliniko-openapi.yaml). */
  readonly openApiPath: string;
  /** The generated catalogue (`config/salesforce-fields.json`). */
  readonly salesforceFieldsPath: string;
}

export async function readClinikoSpecFields(openApiPath: string): Promise<Map<string, Set<string>>> {
  // The document is large (about 17,000 lines); raise the alias limit rather than fail on its anchors.
  const doc: unknown = parseYaml(await readFile(openApiPath, 'utf8'), { maxAliasCount: -1 });
  return clinikoSpecFieldsFromOpenApi(doc);
}

const catalogueSchema = z.object({
  fields: z.record(
    z.string().regex(/^[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/),
    z.object({
      type: z.string().min(1),
      length: z.number().int().positive().optional(),
      referenceTo: z.string().min(1).optional(),
    }),
  ),
});

/**
 * `Object.Field` -> type, length and lookup target, from the generated catalogue. Throws naming the
 * file and each bad key when the file does not have the catalogue's shape.
 */
export async function readPackageFields(catalogueFile: string): Promise<Map<string, PackageField>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(catalogueFile, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${catalogueFile} is missing; run \`npm run generate:metadata\``, { cause: err });
    }
    throw new Error(`${catalogueFile} is not JSON`, { cause: err });
  }
  const parsed = catalogueSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new Error(
      `${catalogueFile} is not a field catalogue (at ${where}); run \`npm run generate:metadata\``,
    );
  }
  return new Map(
    Object.entries(parsed.data.fields).map(([key, f]): [string, PackageField] => [
      key,
      {
        type: f.type,
        ...(f.length !== undefined ? { length: f.length } : {}),
        ...(f.referenceTo !== undefined ? { referenceTo: f.referenceTo } : {}),
      },
    ]),
  );
}

export async function readDataMapLookups(paths: LookupPaths): Promise<DataMapLookups> {
  const [clinikoSpecFields, packageFields] = await Promise.all([
    readClinikoSpecFields(paths.openApiPath),
    readPackageFields(paths.salesforceFieldsPath),
  ]);
  return { clinikoSpecFields, packageFields };
}
