import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ComponentSet } from '@salesforce/source-deploy-retrieve';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './metadata-test-support.js';
import { deployedDirectories, deployUnits } from './metadata-validate.js';

/**
 * A plain `sf project deploy start` deploys every package directory of sfdx-project.json in one
 * component set. When two folders hold the same component (force-app-shield's copy of an object with
 * its retention policy, force-app-org-setup's copy of a Contact field with history on), one copy wins
 * and the other's settings are dropped. So: the unpackaged folders are not package directories, and
 * the package directories never share a component.
 */

interface ProjectFile {
  packageDirectories: { path: string }[];
  plugins?: { clinikoGovernedSync?: { unpackagedDirectories?: { path: string }[] } };
}

const project = JSON.parse(readFileSync(path.join(REPO_ROOT, 'sfdx-project.json'), 'utf8')) as ProjectFile;

/** Components (type:fullName) found in more than one of `dirs`. */
function shared(dirs: readonly string[]): string[] {
  const seen = new Map<string, string>();
  const out = new Set<string>();
  for (const dir of dirs) {
    const top = ComponentSet.fromSource(path.join(REPO_ROOT, dir)).getSourceComponents().toArray();
    for (const c of top.flatMap((t) => [t, ...t.getChildren()])) {
      const key = `${c.type.name}:${c.fullName}`;
      const first = seen.get(key);
      if (first !== undefined && first !== dir) out.add(key);
      else seen.set(key, dir);
    }
  }
  return [...out].sort();
}

describe('what a plain `sf project deploy start` sends', () => {
  const packageDirs = project.packageDirectories.map((d) => d.path);
  const unpackaged = (project.plugins?.clinikoGovernedSync?.unpackagedDirectories ?? []).map((d) => d.path);

  it('is the package alone: the org setup and Shield folders are deployed on their own, in order', () => {
    expect(packageDirs).toEqual(['force-app']);
    expect(unpackaged).toEqual(['force-app-org-setup', 'force-app-shield']);
    expect(deployedDirectories(REPO_ROOT)).toEqual(['force-app', 'force-app-org-setup', 'force-app-shield']);
    expect(deployUnits(REPO_ROOT)).toEqual([
      { path: 'force-app', packaged: true, optional: false },
      { path: 'force-app-org-setup', packaged: false, optional: false },
      { path: 'force-app-shield', packaged: false, optional: true },
    ]);
  });

  it('never holds a component twice (control: listing all three folders would)', () => {
    expect(shared(packageDirs)).toEqual([]);
    // The control: as package directories together (the old layout), the same components collide and
    // a combined deploy would keep only one copy of each.
    const collisions = shared([...packageDirs, ...unpackaged]);
    expect(collisions).toContain('CustomObject:Care_Plan__c');
    expect(collisions).toContain('CustomObject:Contact');
    expect(collisions).toContain('CustomField:Contact.Journey_Stage__c');
  });
});
