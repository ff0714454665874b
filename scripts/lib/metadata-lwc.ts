import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * A Lightning Web Component bundle deploys whatever its folder holds. Ours are written in TypeScript and
 * `.forceignore` keeps the `.ts` out of the deploy, so a bundle whose `.js` was never emitted
 * (`npm run build:lwc`) deploys as an empty component: Salesforce accepts it and the page breaks at run
 * time. This check finds every bundle (a folder `lwc/<name>/` with `<name>.js-meta.xml`) that lacks
 * `<name>.js`.
 */
export interface MissingLwcJavaScript {
  /** Repository-relative path of the missing file, e.g. `force-app/main/default/lwc/foo/foo.js`. */
  readonly file: string;
  readonly bundle: string;
  /** Whether a `.ts` source sits beside it (then `npm run build:lwc` emits it). */
  readonly hasTypeScript: boolean;
}

function lwcFolders(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const abs = path.join(dir, entry.name);
    if (entry.name === 'lwc') out.push(abs);
    else lwcFolders(abs, out);
  }
  return out;
}

export function lwcBundlesMissingJavaScript(
  repoRoot: string,
  packageDirs: readonly string[],
): MissingLwcJavaScript[] {
  const missing: MissingLwcJavaScript[] = [];
  for (const dir of packageDirs) {
    for (const lwc of lwcFolders(path.join(repoRoot, dir), [])) {
      for (const bundle of readdirSync(lwc, { withFileTypes: true })) {
        if (!bundle.isDirectory()) continue;
        const base = path.join(lwc, bundle.name, bundle.name);
        if (!existsSync(`${base}.js-meta.xml`) || existsSync(`${base}.js`)) continue;
        missing.push({
          file: path.relative(repoRoot, `${base}.js`).split(path.sep).join('/'),
          bundle: bundle.name,
          hasTypeScript: existsSync(`${base}.ts`),
        });
      }
    }
  }
  return missing;
}
