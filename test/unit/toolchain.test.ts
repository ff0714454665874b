import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('toolchain', () => {
  it('runs on the Node 24 that the `node` dev dependency provides', () => {
    const major = Number(process.versions.node.split('.')[0]);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.node).toMatch(/^\^?24\./);
    expect(major).toBe(24);
  });
});
