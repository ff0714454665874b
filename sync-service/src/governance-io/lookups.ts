import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import type { DataMapLookups } from '../governance/data-map.js';
import {
  clinikoSpecFieldsFromOpenApi,
  packageFieldsFromMetadata,
  type CustomFieldMetadata,
} from '../governance/spec-fields.js';

/**
 * The I/O half of data-map validation: reads the Cliniko OpenAPI document and the package's field
 * metadata from disk and hands them to the pure builders in governance/spec-fields.ts.
 */

export interface LookupPaths {
  /** Cliniko's OpenAPI document (in this workspace: reference/cliniko-openapi.yaml). */
  readonly openApiPath: string;
  /** force-app/main/default/objects */
  readonly objectsDir: string;
}

export async function readClinikoSpecFields(openApiPath: string): Promise<Map<string, Set<string>>> {
  // The document is large (about 17,000 lines); raise the alias limit rather than fail on its anchors.
  const doc: unknown = parseYaml(await readFile(openApiPath, 'utf8'), { maxAliasCount: -1 });
  return clinikoSpecFieldsFromOpenApi(doc);
}

export async function readPackageFields(
  objectsDir: string,
): Promise<ReturnType<typeof packageFieldsFromMetadata>> {
  const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });
  const fields: { object: string; field: CustomFieldMetadata }[] = [];
  for (const object of (await readdir(objectsDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const dir = path.join(objectsDir, object.name, 'fields');
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // an object without custom fields
      throw err;
    }
    for (const file of files.filter((f) => f.endsWith('.field-meta.xml')).sort()) {
      const xml = parser.parse(await readFile(path.join(dir, file), 'utf8')) as {
        CustomField?: CustomFieldMetadata;
      };
      if (xml.CustomField !== undefined) fields.push({ object: object.name, field: xml.CustomField });
    }
  }
  return packageFieldsFromMetadata(fields);
}

export async function readDataMapLookups(paths: LookupPaths): Promise<DataMapLookups> {
  const [clinikoSpecFields, packageFields] = await Promise.all([
    readClinikoSpecFields(paths.openApiPath),
    readPackageFields(paths.objectsDir),
  ]);
  return { clinikoSpecFields, packageFields };
}
