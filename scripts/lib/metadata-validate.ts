import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ComponentSet, MetadataConverter } from '@salesforce/source-deploy-retrieve';
import { loadClinikoSpec, type ClinikoSpec } from './metadata-cliniko-spec.js';
import { DataMapError, loadDataMap, type LoadedDataMap } from './metadata-datamap.js';
import { compareGenerated, DATA_MAP_PATH, expectedGeneratedFiles } from './metadata-files.js';
import { lwcBundlesMissingJavaScript } from './metadata-lwc.js';
import { loadProject, metadataFilesUnder } from './metadata-project.js';
import { ORG_SETUP_DIR } from './metadata-generate.js';
import {
  checkContactVisibility,
  checkPackageContents,
  checkProjectRules,
  CONTACT_VIEW_ALL_SETS,
  type RuleProblem,
} from './metadata-rules.js';
import { loadMetadataSchema, validateAgainstSchema, type MetadataSchema } from './metadata-schema.js';

/**
 * Everything `npm run validate:metadata` checks, with no org: XML Schema validity of every
 * `*-meta.xml`, conversion to metadata format with source-deploy-retrieve, the project rules, the
 * generator's drift check, and that every Lightning Web Component bundle has the JavaScript Salesforce
 * deploys (a bundle without it deploys as an empty component). Runs on any repository root so tests can break a temporary copy.
 */

export interface Finding {
  readonly check: 'schema' | 'convert' | 'rules' | 'drift' | 'data-map' | 'lwc';
  readonly file: string;
  readonly element: string;
  readonly message: string;
}

export interface ValidationReport {
  readonly errors: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly filesChecked: number;
}

export interface ValidateOptions {
  /** The Metadata API WSDL; default reference/salesforce-metadata-v66.wsdl in the repository. */
  readonly wsdlPath?: string;
  /** Cliniko's OpenAPI description; default reference/cliniko-openapi.yaml. */
  readonly clinikoSpecPath?: string;
  /** A schema already loaded (tests reuse one). */
  readonly schema?: MetadataSchema;
  /** Cliniko's spec already loaded (tests reuse one). */
  readonly spec?: ClinikoSpec;
}

export function referencePath(repoRoot: string, file: string): string {
  return path.resolve(repoRoot, 'reference', file);
}

/** One source folder the project deploys, in deploy order. */
export interface DeployUnit {
  readonly path: string;
  /** The package directory (installed as the package) or a folder the admin deploys beside it. */
  readonly packaged: boolean;
  /** Deployed only where the org has the licence for it (force-app-shield: Shield or Field Audit Trail). */
  readonly optional: boolean;
}

/**
 * Every source folder that is deployed, in order: the package directories, then the unpackaged
 * folders the admin deploys after installing the package (`plugins.clinikoGovernedSync.
 * unpackagedDirectories` in sfdx-project.json). The unpackaged ones are not package directories, so a
 * plain `sf project deploy start` never merges them into one deploy with the package; deploy each on
 * its own with `--source-dir`, in this order (docs/go-live.md).
 */
export function deployUnits(repoRoot: string): DeployUnit[] {
  const project = JSON.parse(readFileSync(path.join(repoRoot, 'sfdx-project.json'), 'utf8')) as {
    packageDirectories?: { path: string }[];
    plugins?: { clinikoGovernedSync?: { unpackagedDirectories?: { path: string; optional?: boolean }[] } };
  };
  return [
    ...(project.packageDirectories ?? []).map((d) => ({ path: d.path, packaged: true, optional: false })),
    ...(project.plugins?.clinikoGovernedSync?.unpackagedDirectories ?? []).map((d) => ({
      path: d.path,
      packaged: false,
      optional: d.optional === true,
    })),
  ];
}

/** The paths of deployUnits(). */
export function deployedDirectories(repoRoot: string): string[] {
  return deployUnits(repoRoot).map((u) => u.path);
}

/** Converts each package directory on its own (as each is deployed on its own) into a temp dir. */
async function convertPackages(repoRoot: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const dir of deployedDirectories(repoRoot)) {
    const abs = path.join(repoRoot, dir);
    if (!existsSync(abs)) continue;
    const out = mkdtempSync(path.join(os.tmpdir(), 'validate-metadata-'));
    try {
      const set = ComponentSet.fromSource(abs);
      await new MetadataConverter().convert(set, 'metadata', { type: 'directory', outputDirectory: out });
    } catch (error) {
      findings.push({
        check: 'convert',
        file: dir,
        element: '(package directory)',
        message: `source-deploy-retrieve cannot convert it: ${error instanceof Error ? error.message : String(error)}`,
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return findings;
}

export async function validateRepository(
  repoRoot: string,
  options: ValidateOptions = {},
): Promise<ValidationReport> {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];

  // 1. XML Schema
  const schema =
    options.schema ??
    loadMetadataSchema(options.wsdlPath ?? referencePath(repoRoot, 'salesforce-metadata-v66.wsdl'));
  const files = new Map<string, string>();
  for (const dir of deployedDirectories(repoRoot)) {
    for (const abs of metadataFilesUnder(path.join(repoRoot, dir))) {
      files.set(path.relative(repoRoot, abs).split(path.sep).join('/'), readFileSync(abs, 'utf8'));
    }
  }
  for (const p of await validateAgainstSchema(schema, files)) {
    errors.push({
      check: 'schema',
      file: p.line === undefined ? p.file : `${p.file}:${p.line}`,
      element: '',
      message: p.message,
    });
  }

  // 2. Conversion
  errors.push(...(await convertPackages(repoRoot)));

  // 3. Project rules (and the data map against the package and Cliniko's spec)
  let map: LoadedDataMap | undefined;
  try {
    map = loadDataMap(path.join(repoRoot, DATA_MAP_PATH));
  } catch (error) {
    const problems =
      error instanceof DataMapError
        ? error.problems
        : [error instanceof Error ? error.message : String(error)];
    for (const message of problems)
      errors.push({ check: 'data-map', file: DATA_MAP_PATH, element: '', message });
  }
  const spec =
    options.spec ??
    loadClinikoSpec(options.clinikoSpecPath ?? referencePath(repoRoot, 'cliniko-openapi.yaml'));
  const project = loadProject(repoRoot);
  const orgSetup = loadProject(repoRoot, ORG_SETUP_DIR);
  const ruleProblems: RuleProblem[] = [
    ...checkProjectRules(project, map, spec, DATA_MAP_PATH),
    // What the package cannot carry must not be in it (force-app-org-setup/README.md).
    ...checkPackageContents(project),
    // The org-setup folder: the same deploy-time rules (tracked-field limit, permission set names),
    // and View All on Contact for the integration user only.
    ...(existsSync(path.join(repoRoot, ORG_SETUP_DIR))
      ? [
          ...checkProjectRules(orgSetup, undefined, undefined),
          ...checkContactVisibility(orgSetup.files, (name) => CONTACT_VIEW_ALL_SETS.has(name)),
        ]
      : []),
  ];
  for (const r of ruleProblems) {
    (r.severity === 'error' ? errors : warnings).push({
      check: 'rules',
      file: r.file,
      element: r.element,
      message: r.message,
    });
  }

  // 4. Drift: what is committed must be what the generator writes from the map.
  if (map !== undefined) {
    const drift = compareGenerated(repoRoot, await expectedGeneratedFiles(repoRoot));
    const advice = 'run `npm run generate:metadata` and commit the result';
    for (const file of drift.changed)
      errors.push({
        check: 'drift',
        file,
        element: '',
        message: `differs from what config/data-map.yaml generates; ${advice}`,
      });
    for (const file of drift.missing)
      errors.push({ check: 'drift', file, element: '', message: `is missing; ${advice}` });
    for (const file of drift.stale)
      errors.push({
        check: 'drift',
        file,
        element: '',
        message: `is no longer generated from config/data-map.yaml; ${advice}`,
      });
  }

  // 5. Every LWC bundle carries its compiled JavaScript (the `.ts` never deploys).
  for (const m of lwcBundlesMissingJavaScript(repoRoot, deployedDirectories(repoRoot))) {
    errors.push({
      check: 'lwc',
      file: m.file,
      element: m.bundle,
      message: m.hasTypeScript
        ? 'is missing: the bundle would deploy as an empty component; run `npm run build:lwc`'
        : 'is missing and there is no .ts to build it from: the bundle would deploy as an empty component',
    });
  }

  return { errors, warnings, filesChecked: files.size };
}

export function formatFinding(f: Finding): string {
  return `${f.file}${f.element === '' ? '' : ` [${f.element}]`}: ${f.message} (${f.check})`;
}
