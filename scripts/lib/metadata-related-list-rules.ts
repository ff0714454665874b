import path from 'node:path';
import {
  flexiPageRelatedLists,
  layoutRelatedLists,
  relatedListProblems,
  type RelatedListSchema,
} from '../../lib/metadata/related-lists.js';
import type { MetadataFile, Project } from './metadata-project.js';
import type { RuleProblem } from './metadata-rules.js';

/**
 * Related lists on the package's layouts and record pages (lib/metadata/related-lists.ts): the child
 * list, its lookup to the page's object, its columns and its sort field exist in the package, so the
 * Contact page's appointments list cannot name a field that a rename left behind.
 */

function projectSchema(project: Project): RelatedListSchema {
  return {
    fieldsOf: (object) => {
      const info = project.objects.get(object);
      return info === undefined ? undefined : [...info.fields.values()];
    },
    objectNames: () => project.objects.keys(),
  };
}

export function checkRelatedLists(project: Project, f: MetadataFile): RuleProblem[] {
  const uses =
    f.root === 'Layout'
      ? layoutRelatedLists(f.node, path.basename(f.file).split('-')[0] ?? '')
      : f.root === 'FlexiPage'
        ? flexiPageRelatedLists(f.node)
        : [];
  const schema = projectSchema(project);
  return uses.flatMap((use) =>
    relatedListProblems(use, schema).map((message) => ({
      file: f.file,
      element: use.element,
      message,
      severity: 'error' as const,
    })),
  );
}
