// The components name Salesforce objects and fields in two places the TypeScript compiler cannot
// check: `@salesforce/schema/...` imports and the text of their GraphQL queries. Both must match the
// package's object metadata (force-app/main/default/objects, docs/data-model.md), or the component
// fails in the org. This parses every query with graphql-js and resolves every name against the
// `.object-meta.xml` / `.field-meta.xml` files.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, parse, type FieldNode, type SelectionSetNode, type ValueNode } from 'graphql';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const lwcRoot = path.join(repo, 'force-app/main/default/lwc');
const objectsRoot = path.join(repo, 'force-app/main/default/objects');

/** Standard fields every object has (not present as files in source format). */
const STANDARD_FIELDS = new Set([
  'Id',
  'Name',
  'CreatedDate',
  'LastModifiedDate',
  'SystemModstamp',
  'OwnerId',
]);

async function componentSources(): Promise<Array<{ file: string; text: string }>> {
  const entries = await readdir(lwcRoot, { withFileTypes: true, recursive: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((p) => !p.includes(`${path.sep}__tests__${path.sep}`));
  return Promise.all(
    files.map(async (file) => ({ file: path.relative(repo, file), text: await readFile(file, 'utf8') })),
  );
}

function fieldExists(object: string, field: string): boolean {
  if (STANDARD_FIELDS.has(field)) return true;
  return existsSync(path.join(objectsRoot, object, 'fields', `${field}.field-meta.xml`));
}

function objectExists(object: string): boolean {
  return existsSync(path.join(objectsRoot, object));
}

/** The object a lookup field points to, read from its field metadata. */
async function referenceTo(object: string, relationship: string): Promise<string | undefined> {
  const field = relationship.replace(/__r$/, '__c');
  const file = path.join(objectsRoot, object, 'fields', `${field}.field-meta.xml`);
  if (!existsSync(file)) return undefined;
  return /<referenceTo>([^<]+)<\/referenceTo>/.exec(await readFile(file, 'utf8'))?.[1];
}

/** Field names used as keys of a `where` / `orderBy` argument (recursing through and/or/not). */
function argumentFields(value: ValueNode): string[] {
  if (value.kind === Kind.LIST) return value.values.flatMap(argumentFields);
  if (value.kind !== Kind.OBJECT) return [];
  return value.fields.flatMap((f) =>
    ['and', 'or', 'not'].includes(f.name.value) ? argumentFields(f.value) : [f.name.value],
  );
}

function fieldsOf(selectionSet: SelectionSetNode | undefined): FieldNode[] {
  return (selectionSet?.selections ?? []).filter((s): s is FieldNode => s.kind === Kind.FIELD);
}

/** Every object and field name a UI API query uses, as problems (empty when all resolve). */
async function queryProblems(source: string, label: string): Promise<string[]> {
  const problems: string[] = [];
  const document = parse(source);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const uiapi = fieldsOf(definition.selectionSet).find((f) => f.name.value === 'uiapi');
    const query = fieldsOf(uiapi?.selectionSet).find((f) => f.name.value === 'query');
    if (!query) {
      problems.push(`${label}: no uiapi { query { ... } } selection`);
      continue;
    }
    for (const connection of fieldsOf(query.selectionSet)) {
      const object = connection.name.value;
      if (!objectExists(object)) {
        problems.push(`${label}: object ${object} is not in the package`);
        continue;
      }
      for (const arg of connection.arguments ?? []) {
        if (arg.name.value !== 'where' && arg.name.value !== 'orderBy') continue;
        for (const field of argumentFields(arg.value)) {
          if (!fieldExists(object, field))
            problems.push(`${label}: ${arg.name.value} uses ${object}.${field}, which does not exist`);
        }
      }
      const edges = fieldsOf(connection.selectionSet).find((f) => f.name.value === 'edges');
      const node = fieldsOf(edges?.selectionSet).find((f) => f.name.value === 'node');
      for (const field of fieldsOf(node?.selectionSet)) {
        const name = field.name.value;
        if (name.endsWith('__r')) {
          const target = await referenceTo(object, name);
          if (!target) {
            problems.push(`${label}: ${object}.${name} is not a lookup in the package`);
            continue;
          }
          for (const child of fieldsOf(field.selectionSet)) {
            const ok = objectExists(target)
              ? fieldExists(target, child.name.value)
              : STANDARD_FIELDS.has(child.name.value);
            if (!ok)
              problems.push(`${label}: ${object}.${name}.${child.name.value} does not exist on ${target}`);
          }
        } else if (!fieldExists(object, name)) {
          problems.push(`${label}: ${object}.${name} does not exist`);
        }
      }
    }
  }
  return problems;
}

describe('LWC field references', () => {
  it('finds the queries and schema imports to check', async () => {
    const sources = await componentSources();
    const queries = sources.flatMap((s) => [...s.text.matchAll(/gql`([\s\S]*?)`/g)]);
    const imports = sources.flatMap((s) => [...s.text.matchAll(/'@salesforce\/schema\/[^']+'/g)]);
    expect(queries.length).toBeGreaterThanOrEqual(4);
    expect(imports.length).toBeGreaterThanOrEqual(40);
  });

  it('the check reports a misspelt field, a missing object and a non-lookup relationship', async () => {
    const problems = await queryProblems(
      `query q { uiapi { query {
        Care_Plan__c(where: { Contact__c: { eq: "x" } }, orderBy: { Issue_Dte__c: { order: DESC } }) {
          edges { node { Id Sessions_Usd__c { value } Status__r { Name { value } } } }
        }
        No_Such_Object__c { edges { node { Id } } }
      } } }`,
      'probe',
    );
    expect(problems).toEqual([
      'probe: orderBy uses Care_Plan__c.Issue_Dte__c, which does not exist',
      'probe: Care_Plan__c.Sessions_Usd__c does not exist',
      'probe: Care_Plan__c.Status__r is not a lookup in the package',
      'probe: object No_Such_Object__c is not in the package',
    ]);
  });

  it('every GraphQL query parses and names only objects and fields the package defines', async () => {
    const problems: string[] = [];
    for (const { file, text } of await componentSources()) {
      for (const match of text.matchAll(/gql`([\s\S]*?)`/g)) {
        problems.push(...(await queryProblems(match[1] ?? '', file)));
      }
    }
    expect(problems).toEqual([]);
  });

  it('every @salesforce/schema import names an object and field the package defines', async () => {
    const problems: string[] = [];
    for (const { file, text } of await componentSources()) {
      for (const match of text.matchAll(/'@salesforce\/schema\/([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?'/g)) {
        const [, object = '', field] = match;
        if (!objectExists(object)) problems.push(`${file}: object ${object} is not in the package`);
        else if (field && !fieldExists(object, field))
          problems.push(`${file}: ${object}.${field} does not exist`);
      }
    }
    expect(problems).toEqual([]);
  });
});
