/**
 * Related lists in a deploy's layouts and Lightning pages (lib/metadata/related-lists.ts): Salesforce
 * resolves a layout's `<Child>.<LookupField>` list and a record page's related-list component (its
 * child relationship, columns and sort field) against the org as it stands plus what the same deploy
 * brings, and fails the component when one does not resolve. The exact componentFailure wording was
 * not found in a public source except App Builder's "Could not find related list"; tests match on the
 * names, not the whole sentence.
 */
import { fieldName } from '../../../../lib/metadata/fields.js';
import {
  flexiPageRelatedLists,
  layoutRelatedLists,
  relatedListProblems,
  type RelatedListField,
  type RelatedListSchema,
} from '../../../../lib/metadata/related-lists.js';
import { parseMetadataXml, text } from '../../../../lib/metadata/xml.js';
import type { Schema } from '../schema.js';
import type { DeployPackage } from './package.js';
import type { DeployProblem } from './rules.js';

function deploySchema(pkg: DeployPackage, schema: Schema): RelatedListSchema {
  const fieldsOf = (name: string): RelatedListField[] | undefined => {
    const existing = schema.objects.get(name.toLowerCase());
    const deployed = pkg.objects.find((o) => o.name.toLowerCase() === name.toLowerCase());
    if (existing === undefined && deployed === undefined) return undefined;
    const fields = new Map<string, RelatedListField>();
    for (const f of existing?.fields.values() ?? [])
      fields.set(f.name.toLowerCase(), {
        name: f.name,
        referenceTo: f.referenceTo?.[0],
        relationshipName: f.childRelationshipName?.replace(/__r$/, ''),
      });
    for (const f of deployed?.fields ?? [])
      fields.set(f.name.toLowerCase(), {
        name: fieldName(f.node, f.file),
        referenceTo: text(f.node, 'referenceTo'),
        relationshipName: text(f.node, 'relationshipName'),
      });
    return [...fields.values()];
  };
  return {
    fieldsOf,
    objectNames: () =>
      new Set([...[...schema.objects.values()].map((o) => o.name), ...pkg.objects.map((o) => o.name)]),
  };
}

export function checkRelatedLists(pkg: DeployPackage, schema: Schema): DeployProblem[] {
  const view = deploySchema(pkg, schema);
  const problems: DeployProblem[] = [];
  for (const [path, content] of pkg.files) {
    const [folder = '', name = ''] = path.split('/').slice(-2);
    const layout = folder === 'layouts' && name.endsWith('.layout');
    const page = folder === 'flexipages' && name.endsWith('.flexipage');
    if (!layout && !page) continue;
    let parsed: ReturnType<typeof parseMetadataXml>;
    try {
      parsed = parseMetadataXml(content.toString('utf8'));
    } catch {
      continue; // an unreadable file fails elsewhere (package.ts reads every component it interprets)
    }
    const fullName = name.slice(0, name.lastIndexOf('.'));
    const uses = layout
      ? layoutRelatedLists(parsed.node, fullName.split('-')[0] ?? '')
      : flexiPageRelatedLists(parsed.node);
    for (const use of uses)
      for (const problem of relatedListProblems(use, view))
        problems.push({
          componentType: layout ? 'Layout' : 'FlexiPage',
          fullName,
          fileName: path,
          problem: `${use.element}: ${problem}`,
        });
  }
  return problems;
}
