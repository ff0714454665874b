import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type { RollupLwcOptions } from '@lwc/rollup-plugin';
import { rollup, type Plugin } from 'rollup';
import { loadFixtures } from './fixtures.js';
import {
  CONTEXT_MODULE,
  GRAPHQL_STUB,
  I18N_STUBS,
  UI_OBJECT_INFO_API_STUB,
  UI_RECORD_API_STUB,
  USER_ID_STUB,
  WIRE_MODULE,
  apexStub,
  schemaStub,
} from './stubs.js';

const run = promisify(execFile);
// The plugin ships CommonJS (module.exports is the plugin factory) typed as a default export; take
// whichever shape require() returns.
type LwcPluginFactory = (options: RollupLwcOptions) => Plugin;
const lwcModule = createRequire(import.meta.url)('@lwc/rollup-plugin') as
  LwcPluginFactory | { default: LwcPluginFactory };
const lwc: LwcPluginFactory = typeof lwcModule === 'function' ? lwcModule : lwcModule.default;
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const lwcRoot = path.join(repoRoot, 'force-app/main/default/lwc');

/** The components the preview renders, with the properties their page would give them. */
export const PREVIEW_COMPONENTS = [
  { name: 'carePlanProgress', tag: 'c-care-plan-progress', page: 'Contact record page', recordPage: true },
  { name: 'patientJourney', tag: 'c-patient-journey', page: 'Contact record page', recordPage: true },
  { name: 'dataMapViewer', tag: 'c-data-map-viewer', page: 'Cliniko Governance app page', recordPage: false },
  {
    name: 'consentReconciliation',
    tag: 'c-consent-reconciliation',
    page: 'Cliniko Governance app page',
    recordPage: false,
  },
  {
    name: 'governanceReview',
    tag: 'c-governance-review',
    page: 'Cliniko Governance app page',
    recordPage: false,
  },
] as const;

const PREVIEW_RECORD_ID = '003000000000001AAA';

function entryModule(): string {
  const imports = PREVIEW_COMPONENTS.map((c) => `import ${c.name} from 'c/${c.name}';`).join('\n');
  const table = PREVIEW_COMPONENTS.map(
    (c) =>
      `  ${c.name}: { tag: '${c.tag}', ctor: ${c.name}, page: '${c.page}', props: ${
        c.recordPage ? `{ recordId: '${PREVIEW_RECORD_ID}' }` : '{}'
      } },`,
  ).join('\n');
  // preview:context first: it pins the page clock before any component module runs.
  return `
import { audience } from 'preview:context';
import '@lwc/synthetic-shadow';
import { createElement } from 'lwc';
${imports}
const components = {
${table}
};
const only = new URLSearchParams(location.search).get('c');
const root = document.getElementById('root');
for (const [name, def] of Object.entries(components)) {
  if (only && only !== name) continue;
  const section = document.createElement('section');
  section.className = 'preview slds-m-bottom_large';
  section.dataset.component = name;
  const label = document.createElement('p');
  label.className = 'slds-text-title_caps slds-m-bottom_x-small preview-label';
  label.textContent = name + ' · ' + def.page + ' · fixture data · audience: ' + audience;
  section.appendChild(label);
  const element = createElement(def.tag, { is: def.ctor });
  Object.assign(element, def.props);
  section.appendChild(element);
  root.appendChild(section);
}
if (only && !components[only]) {
  root.textContent = 'Unknown component: ' + only;
}
`;
}

/** Resolves the platform modules to the stubs and serves the generated entry and fixtures. */
function platformStubs(fixtures: Record<string, unknown>): Plugin {
  const virtual = new Map<string, string>([
    ['preview:entry', entryModule()],
    ['preview:fixtures', `export default ${JSON.stringify(fixtures)};`],
    ['preview:context', CONTEXT_MODULE],
    ['preview:wire', WIRE_MODULE],
    ['lightning/graphql', GRAPHQL_STUB],
    ['lightning/uiRecordApi', UI_RECORD_API_STUB],
    ['lightning/uiObjectInfoApi', UI_OBJECT_INFO_API_STUB],
    ['@salesforce/user/Id', USER_ID_STUB],
    ...Object.entries(I18N_STUBS),
  ]);
  return {
    name: 'lwc-preview-platform-stubs',
    resolveId(source) {
      if (
        virtual.has(source) ||
        source.startsWith('@salesforce/schema/') ||
        source.startsWith('@salesforce/apex/')
      ) {
        return `\0${source}`;
      }
      return null;
    },
    load(id) {
      if (!id.startsWith('\0')) return null;
      const source = id.slice(1);
      if (virtual.has(source)) return virtual.get(source) ?? null;
      if (source.startsWith('@salesforce/schema/'))
        return schemaStub(source.slice('@salesforce/schema/'.length));
      if (source.startsWith('@salesforce/apex/')) return apexStub(source.slice('@salesforce/apex/'.length));
      return null;
    },
    transform(code, id) {
      // The LWC engine's dev-mode checks read process.env.NODE_ENV, which a browser does not have.
      if (id.includes('node_modules') && code.includes('process.env.NODE_ENV')) {
        return { code: code.replaceAll('process.env.NODE_ENV', '"production"'), map: null };
      }
      return null;
    },
  };
}

/**
 * Compiles the components as the platform would receive them: `tsc` emits the .js (decorators kept),
 * the templates and styles are copied beside it, and the open-source LWC compiler bundles the lot
 * with the platform stubs. Returns the bundle's source.
 */
export async function buildPreview(): Promise<string> {
  // Inside the repository (node_modules/.cache, ignored by git) so the LWC module resolver finds the
  // engine and synthetic shadow packages from the emitted files.
  const cacheDir = path.join(repoRoot, 'node_modules/.cache');
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(path.join(cacheDir, 'lwc-preview-'));
  try {
    const modulesDir = path.join(work, 'modules');
    const namespaceDir = path.join(modulesDir, 'c');
    // @lwc/module-resolver looks for a project root (package.json + lwc.config.json) above each importer.
    await writeFile(path.join(work, 'package.json'), '{ "private": true }\n');
    await writeFile(path.join(work, 'lwc.config.json'), JSON.stringify({ modules: [{ dir: 'modules' }] }));
    await run(path.join(repoRoot, 'node_modules/.bin/tsc'), [
      '-p',
      path.join(lwcRoot, 'tsconfig.json'),
      '--outDir',
      namespaceDir,
    ]);
    for (const entry of await readdir(lwcRoot, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'types') continue;
      const from = path.join(lwcRoot, entry.name);
      const to = path.join(namespaceDir, entry.name);
      await mkdir(to, { recursive: true });
      for (const file of await readdir(from)) {
        if (file.endsWith('.html') || file.endsWith('.css'))
          await copyFile(path.join(from, file), path.join(to, file));
      }
    }
    const fixtures = await loadFixtures(lwcRoot);
    const bundle = await rollup({
      input: 'preview:entry',
      plugins: [platformStubs(fixtures), lwc({ rootDir: modulesDir, modules: [{ dir: modulesDir }] })],
      onwarn(warning, warn) {
        // A platform module without a stub would be left as a bare import the browser cannot load:
        // fail the build here, naming it, rather than render a blank page.
        if (warning.code === 'UNRESOLVED_IMPORT') {
          throw new Error(
            `preview build: no stub for ${warning.exporter ?? warning.message} (${warning.id ?? ''})`,
          );
        }
        if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
      },
    });
    try {
      const { output } = await bundle.generate({ format: 'esm' });
      const chunk = output[0];
      return chunk.code;
    } finally {
      await bundle.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
