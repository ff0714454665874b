/**
 * The repository stands alone: a clone in an empty folder must build and test. Two checks:
 * - no tracked file names a path outside the repository (a relative path that climbs above the root,
 *   or a folder beside the clone (a sibling folder named shared, say));
 * - the reference contracts in reference/ are the published files, byte for byte (their digests are
 *   the ones reference/README.md gives with their provenance).
 * Each check has a control that shows it fires.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Text files git tracks (binary and lock files aside). */
function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return out
    .split('\0')
    .filter(
      (f) => f !== '' && f !== 'package-lock.json' && !/\.(png|jpe?g|gif|ico|woff2?|zip|wsdl)$/i.test(f),
    );
}

/**
 * Places in `text` (a file at `file`, relative to the repository root) that name a path outside the
 * repository: `../` chains that climb above the root from the file's own folder, and any mention of a
 * sibling `shared` folder whatever its spelling (a climb, or path segments joined).
 */
export function outsidePaths(file: string, text: string): string[] {
  const found: string[] = [];
  const dir = path.posix.dirname(file);
  for (const m of text.matchAll(/(?:\.\.\/)+[A-Za-z0-9_@-][\w@./-]*/g)) {
    if (path.posix.normalize(path.posix.join(dir, m[0])).startsWith('../')) found.push(m[0]);
  }
  const sibling = /['"`]\.\.['"`]\s*,\s*['"`]shared['"`]|(?:\.\.\/)+shared\b[\w./-]*/g;
  for (const m of text.matchAll(sibling)) found.push(m[0]);
  return [...new Set(found)];
}

describe('the repository stands alone', () => {
  it('no tracked file names a path outside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedTextFiles()) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), 'utf8');
      } catch {
        continue; // a tracked file deleted in the working tree
      }
      for (const hit of outsidePaths(file, text)) offenders.push(`${file}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });

  it('control: the check finds a sibling folder and a climb above the root', () => {
    // Built from parts, so that this file does not itself contain what it looks for.
    const up = (n: number): string => '../'.repeat(n);
    const sibling = 'sh' + 'ared';
    expect(outsidePaths('scripts/lib/x.ts', `const p = '${up(1)}${sibling}/reference/a.wsdl';`)).toContain(
      `${up(1)}${sibling}/reference/a.wsdl`,
    );
    expect(outsidePaths('scripts/x.ts', `path.resolve(root, '..', '${sibling}', 'reference')`)).not.toEqual(
      [],
    );
    expect(outsidePaths('test/emulators/cliniko/spec.ts', `new URL('${up(4)}elsewhere/a.yaml', u)`)).toEqual([
      `${up(4)}elsewhere/a.yaml`,
    ]);
    // A climb that stays inside the repository is fine.
    expect(outsidePaths('test/emulators/cliniko/spec.ts', `new URL('${up(3)}reference/a.yaml', u)`)).toEqual(
      [],
    );
  });

  it('the reference contracts are the published files, unmodified', () => {
    const readme = readFileSync(path.join(ROOT, 'reference', 'README.md'), 'utf8');
    for (const file of ['cliniko-openapi.yaml', 'salesforce-metadata-v66.wsdl']) {
      const digest = createHash('sha256')
        .update(readFileSync(path.join(ROOT, 'reference', file)))
        .digest('hex');
      const row = readme.split('\n').find((line) => line.includes(`\`${file}\``));
      expect(row, `reference/README.md has a row for ${file}`).toBeDefined();
      expect(row).toContain(digest);
    }
    expect(readFileSync(path.join(ROOT, 'reference', 'LICENSE-salesforce-wsdl.txt'), 'utf8')).toContain(
      'Redistribution and use in source and binary forms',
    );
  });
});
