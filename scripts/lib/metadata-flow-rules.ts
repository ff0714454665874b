import { flowReferences } from '../../lib/metadata/flows.js';
import { text } from '../../lib/metadata/xml.js';
import type { MetadataFile, Project } from './metadata-project.js';
import type { RuleProblem } from './metadata-rules.js';

/**
 * The package's Flows (`flows/*.flow-meta.xml`, docs/marketing.md "Shipped Flows"): every object and
 * field a Flow names exists in the package or is a standard one listed below (Salesforce compiles a
 * Flow at deploy, active or not, and refuses the deploy otherwise), and every Flow ships inactive
 * (`Draft`): an admin adapts and activates it, the package never starts sending on install.
 */

/**
 * Standard fields the shipped Flows may use beyond those the package model knows
 * (metadata-project.ts STANDARD_FIELDS): every object's Id, and the Task fields a call task sets.
 */
export const FLOW_STANDARD_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Contact: ['Id', 'FirstName', 'Email', 'HasOptedOutOfEmail'],
  Task: ['Id', 'WhoId', 'WhatId', 'Subject', 'ActivityDate', 'Status', 'Priority', 'Description', 'OwnerId'],
};

export function checkFlow(project: Project, f: MetadataFile): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const error = (element: string, message: string) =>
    problems.push({ file: f.file, element, message, severity: 'error' });
  const status = text(f.node, 'status');
  if (status !== 'Draft')
    error(
      'status',
      `a shipped Flow is inactive (Draft) until an admin activates it, not ${status ?? 'unset'}`,
    );
  for (const ref of flowReferences(f.node)) {
    const standard = FLOW_STANDARD_FIELDS[ref.object];
    const object = project.objects.get(ref.object);
    if (object === undefined && standard === undefined) {
      error(ref.element, `${ref.object} is not an object of the package or a known standard object`);
      continue;
    }
    if (ref.field === undefined) continue;
    if (object?.fields.has(ref.field) === true || standard?.includes(ref.field) === true) continue;
    error(ref.element, `${ref.object}.${ref.field} is not a field of the package or a known standard field`);
  }
  return problems;
}
