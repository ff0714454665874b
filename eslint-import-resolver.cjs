// An eslint-plugin-import resolver (interface version 2) that resolves module specifiers the way `tsc`
// does, with TypeScript's own `resolveModuleName` and this repository's compiler options (NodeNext):
// a `logger.js` specifier resolves to `logger.ts`, and an extensionless relative import does not resolve,
// exactly as the type-checker sees it.
//
// Why not eslint-import-resolver-typescript: it depends on a native resolver (unrs-resolver) with one
// optional package per platform, and this project installs no native addons (docs/architecture.md).
// Why it matters: `import/no-restricted-paths` silently skips an import it cannot resolve, so the
// boundary zones in eslint.config.js are only as good as this resolver; `import/no-unresolved` (on
// relative specifiers) turns any import it cannot resolve into an error, so a zone cannot miss.
'use strict';

const path = require('node:path');
const { isBuiltin } = require('node:module');
const ts = require('typescript');

const tsconfigPath = path.join(__dirname, 'tsconfig.json');
const { config, error } = ts.readConfigFile(tsconfigPath, (file) => ts.sys.readFile(file));
if (error) throw new Error(`eslint-import-resolver: cannot read ${tsconfigPath}`);
const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions ?? {}, __dirname);
const cache = ts.createModuleResolutionCache(__dirname, (name) => name, options);

exports.interfaceVersion = 2;

/**
 * @param {string} source the module specifier as written
 * @param {string} file the importing file (absolute)
 * @param {{ moduleSystem?: 'import' | 'require' }} [settings]
 * @returns {{ found: boolean; path?: string | null }}
 */
exports.resolve = function resolve(source, file, settings) {
  if (isBuiltin(source)) return { found: true, path: null };
  const mode = settings?.moduleSystem === 'require' ? ts.ModuleKind.CommonJS : ts.ModuleKind.ESNext;
  const { resolvedModule } = ts.resolveModuleName(source, file, options, ts.sys, cache, undefined, mode);
  if (resolvedModule === undefined) return { found: false };
  return { found: true, path: path.resolve(resolvedModule.resolvedFileName) };
};
