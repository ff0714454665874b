import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The fields Cliniko's official OpenAPI description declares for each list resource
 * (`GET /<resource>` returns `{ <resource>: [<Schema>] }`), read from
 * reference/cliniko-openapi.yaml. Used to check that every data-map source names a real
 * Cliniko field, and to compare declared lengths with Salesforce field lengths.
 */

export interface SpecField {
  readonly type: string | undefined;
  readonly format: string | undefined;
  readonly maxLength: number | undefined;
}

export type ClinikoSpec = ReadonlyMap<string, ReadonlyMap<string, SpecField>>;

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  maxLength?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
};

interface OpenApi {
  paths?: Record<
    string,
    { get?: { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> } }
  >;
  components?: { schemas?: Record<string, Schema> };
}

function resolve(doc: OpenApi, schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref === undefined) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return doc.components?.schemas?.[name];
}

function propertiesOf(doc: OpenApi, schema: Schema | undefined): Record<string, Schema> {
  const s = resolve(doc, schema);
  if (s === undefined) return {};
  const own = s.properties ?? {};
  const inherited = (s.allOf ?? []).reduce<Record<string, Schema>>(
    (acc, part) => ({ ...acc, ...propertiesOf(doc, part) }),
    {},
  );
  return { ...inherited, ...own };
}

export function clinikoSpecFromText(yamlText: string): ClinikoSpec {
  const doc = parse(yamlText) as OpenApi;
  const out = new Map<string, Map<string, SpecField>>();
  for (const [p, item] of Object.entries(doc.paths ?? {})) {
    const m = /^\/([a-z_]+)$/.exec(p);
    const resource = m?.[1];
    if (resource === undefined) continue;
    const body = item.get?.responses?.['200']?.content?.['application/json']?.schema;
    const list = resolve(doc, body)?.properties?.[resource];
    if (list?.type !== 'array') continue;
    const fields = new Map<string, SpecField>();
    for (const [name, s] of Object.entries(propertiesOf(doc, list.items))) {
      const r = resolve(doc, s) ?? s;
      fields.set(name, { type: r.type, format: r.format, maxLength: r.maxLength });
    }
    out.set(resource, fields);
  }
  return out;
}

export function loadClinikoSpec(file: string): ClinikoSpec {
  return clinikoSpecFromText(readFileSync(file, 'utf8'));
}
