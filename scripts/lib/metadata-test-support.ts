import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test support for the metadata tools: a temporary copy of the package that a test may break freely.
 * The Lightning components (lwc/) are left out: they have their own tests, and a test here should fail
 * for a reason in the data model, the map or the tools. Lightning pages are copied because the app and
 * tabs refer to them.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WSDL_PATH = path.resolve(REPO_ROOT, 'reference', 'salesforce-metadata-v66.wsdl');
export const CLINIKO_SPEC_PATH = path.resolve(REPO_ROOT, 'reference', 'cliniko-openapi.yaml');

const EXCLUDED = [`${path.sep}lwc${path.sep}`];

export function copyPackage(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'metadata-test-'));
  for (const item of [
    'force-app',
    'force-app-shield',
    'force-app-org-setup',
    'config',
    'sfdx-project.json',
    '.forceignore',
    '.prettierrc.json',
  ]) {
    cpSync(path.join(REPO_ROOT, item), path.join(root, item), {
      recursive: true,
      filter: (src) => !EXCLUDED.some((part) => `${src}${path.sep}`.includes(part)),
    });
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Replaces text in a file of the copy; fails loudly when the text is not there (a test that cannot fail is worse than none). */
export function edit(root: string, rel: string, from: string | RegExp, to: string): void {
  const file = path.join(root, rel);
  const before = readFileSync(file, 'utf8');
  const after = before.replace(from, to);
  if (after === before) throw new Error(`edit: ${String(from)} not found in ${rel}`);
  writeFileSync(file, after);
}

export function write(root: string, rel: string, text: string): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
