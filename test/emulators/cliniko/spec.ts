/**
 * Test support: Cliniko's official OpenAPI spec, read from the repository's reference/ folder
 * (copied there with its provenance, see reference/README.md), turned into Ajv validators per operation and into per-operation filter tables.
 *
 * OpenAPI 3.0 schemas are not JSON Schema (`nullable`, boolean `exclusiveMinimum`, `example`, ...), so
 * each schema goes through @openapi-contrib/openapi-schema-to-json-schema first. Its output is
 * draft-04; the two draft-04 leftovers Ajv 8 does not take (`$schema`, boolean `exclusiveMinimum`)
 * are rewritten to their draft-07 form below.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromSchema } from '@openapi-contrib/openapi-schema-to-json-schema';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';

export const SPEC_PATH = fileURLToPath(new URL('../../../reference/cliniko-openapi.yaml', import.meta.url));

type Obj = Record<string, unknown>;
interface Operation {
  parameters?: Obj[];
  responses: Record<string, { content?: Record<string, { schema?: Obj }> } | undefined>;
}
interface Spec {
  paths: Record<string, Record<string, Operation | undefined>>;
  components: { schemas: Record<string, Obj>; responses: Record<string, Obj> };
}

let cached: Spec | undefined;
export function loadSpec(): Spec {
  cached ??= YAML.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  return cached;
}

/** draft-04 -> draft-07 for what Ajv 8 needs, and the spec's upper-case e-mail pattern made case-insensitive. */
function toDraft7(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toDraft7);
  if (typeof node !== 'object' || node === null) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node as Obj)) {
    if (k === '$schema') continue;
    if (k === '$ref' && typeof v === 'string')
      out[k] = v.replace('#/components/schemas/', 'cliniko#/definitions/');
    else if (k === 'pattern' && typeof v === 'string' && v.includes('@'))
      out[k] = v.replace(/A-Z/g, 'A-Za-z');
    // The spec's TimeZoneIdentifier enum lists a few zones twice; JSON Schema requires unique items.
    else if (k === 'enum' && Array.isArray(v))
      out[k] = [...new Set(v.map((x) => JSON.stringify(x)))].map((x) => JSON.parse(x) as unknown);
    else out[k] = toDraft7(v);
  }
  for (const [bool, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[bool] === true) {
      out[bool] = out[bound];
      delete out[bound];
    } else if (out[bool] === false) delete out[bool];
  }
  return out;
}

const convert = (schema: Obj): Obj => toDraft7(fromSchema(schema)) as Obj;

let ajv: Ajv | undefined;
function getAjv(): Ajv {
  if (ajv) return ajv;
  const spec = loadSpec();
  const a = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  // ajv-formats is CommonJS; under NodeNext its default import may be the plugin or { default: plugin }.
  type Plugin = (instance: Ajv) => Ajv;
  const mod = addFormatsModule as unknown as Plugin | { default: Plugin };
  const addFormats: Plugin = typeof mod === 'function' ? mod : mod.default;
  addFormats(a);
  // The spec's own formats: 64-bit ids and money travel as strings.
  a.addFormat('int64', { type: 'string', validate: (s: string) => /^-?\d{1,19}$/.test(s) });
  a.addFormat('decimal', { type: 'string', validate: (s: string) => /^-?\d+(\.\d+)?$/.test(s) });
  a.addFormat('phone', /^[+\d ()-]+$/);
  for (const kw of ['x-tags', 'x-additionalPropertiesName', 'example', 'discriminator']) a.addKeyword(kw);
  const definitions: Obj = {};
  for (const [name, schema] of Object.entries(spec.components.schemas)) definitions[name] = convert(schema);
  a.addSchema({ $id: 'cliniko', definitions });
  ajv = a;
  return a;
}

const validators = new Map<string, ValidateFunction>();
/** Validator for the JSON body of `status` of operation (method, specPath). */
export function responseValidator(method: string, specPath: string, status: string): ValidateFunction {
  const key = `${method} ${specPath} ${status}`;
  const hit = validators.get(key);
  if (hit) return hit;
  const op = loadSpec().paths[specPath]?.[method.toLowerCase()];
  if (!op) throw new Error(`no operation ${method} ${specPath} in the spec`);
  let response = op.responses[status] as Obj | undefined;
  if (response && typeof response.$ref === 'string') {
    response = loadSpec().components.responses[response.$ref.split('/').pop() ?? ''];
  }
  const schema = (response?.content as Record<string, { schema?: Obj }> | undefined)?.['application/json']
    ?.schema;
  if (!schema) throw new Error(`no JSON schema for ${key}`);
  const v = getAjv().compile(convert(schema));
  validators.set(key, v);
  return v;
}

/** The `q[]` table of a GET operation: field -> format, as documented in the spec. */
export function specFilters(specPath: string): Record<string, string> {
  const op = loadSpec().paths[specPath]?.get;
  const q = op?.parameters?.find((p) => p.name === 'q[]');
  const out: Record<string, string> = {};
  if (!q || typeof q.description !== 'string') return out;
  for (const m of q.description.matchAll(/^\| (\w+) \| \[([\w-]+)\]/gm)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}
