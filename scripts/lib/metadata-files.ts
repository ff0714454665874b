import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataMap } from './metadata-datamap.js';
import { generateMetadata, isGeneratedPath } from './metadata-generate.js';
import { loadProject, metadataFilesUnder } from './metadata-project.js';
import * as prettier from 'prettier';
import { SALESFORCE_FIELDS_FILE, salesforceFieldCatalogue } from './metadata-field-catalogue.js';
import { formatXml } from './metadata-xml.js';

/**
 * The file side of the generator: computes the formatted files it would write for a repository, and
 * compares them with what is committed (the drift check). Works on any repository root, so tests
 * run it on a temporary copy.
 */

export const DATA_MAP_PATH = 'config/data-map.yaml';

export async function expectedGeneratedFiles(repoRoot: string): Promise<Map<string, string>> {
  const map = loadDataMap(path.join(repoRoot, DATA_MAP_PATH));
  const project = loadProject(repoRoot);
  const coreObjectXml = new Map<string, string>();
  const packagedFieldXml = new Map<string, string>();
  for (const o of project.objects.values()) {
    if (o.file !== undefined) coreObjectXml.set(o.name, readFileSync(path.join(repoRoot, o.file), 'utf8'));
    for (const f of o.fields.values()) {
      if (f.file !== undefined && !f.standard)
        packagedFieldXml.set(`${o.name}.${f.name}`, readFileSync(path.join(repoRoot, f.file), 'utf8'));
    }
  }
  const out = new Map<string, string>();
  for (const [rel, xml] of generateMetadata(map, project, coreObjectXml, packagedFieldXml)) {
    out.set(rel, await formatXml(xml, path.join(repoRoot, rel)));
  }
  out.set(
    SALESFORCE_FIELDS_FILE,
    await formatJson(salesforceFieldCatalogue(repoRoot), path.join(repoRoot, SALESFORCE_FIELDS_FILE)),
  );
  return out;
}

/** Formats JSON as the repository's Prettier configuration does for a file at `filePath`. */
async function formatJson(json: string, filePath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  return prettier.format(json, { ...options, parser: 'json', filepath: filePath });
}

/** Generated-looking files currently in the repository (whether or not the generator still wants them). */
export function currentGeneratedFiles(repoRoot: string): string[] {
  const dirs = [
    'force-app/main/default/permissionsets',
    'force-app/main/default/customMetadata',
    'force-app-shield/main/default/objects',
    'force-app-org-setup/main/default/permissionsets',
    'force-app-org-setup/main/default/objects',
  ];
  return dirs
    .flatMap((d) => metadataFilesUnder(path.join(repoRoot, d)))
    .map((abs) => path.relative(repoRoot, abs).split(path.sep).join('/'))
    .filter(isGeneratedPath)
    .sort();
}

export interface Drift {
  /** Files whose content differs from the generator's. */
  readonly changed: readonly string[];
  /** Files the generator would create. */
  readonly missing: readonly string[];
  /** Generated files the generator no longer produces (it would delete them). */
  readonly stale: readonly string[];
}

export function compareGenerated(repoRoot: string, expected: ReadonlyMap<string, string>): Drift {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [rel, content] of expected) {
    const abs = path.join(repoRoot, rel);
    if (!existsSync(abs)) missing.push(rel);
    else if (readFileSync(abs, 'utf8') !== content) changed.push(rel);
  }
  const stale = currentGeneratedFiles(repoRoot).filter((rel) => !expected.has(rel));
  return { changed, missing, stale };
}

export function driftCount(d: Drift): number {
  return d.changed.length + d.missing.length + d.stale.length;
}

/** Writes what differs and deletes stale files; returns what it did. */
export function applyGenerated(repoRoot: string, expected: ReadonlyMap<string, string>): Drift {
  const drift = compareGenerated(repoRoot, expected);
  for (const rel of [...drift.changed, ...drift.missing]) {
    const abs = path.join(repoRoot, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, expected.get(rel) ?? '');
  }
  for (const rel of drift.stale) rmSync(path.join(repoRoot, rel));
  return drift;
}
