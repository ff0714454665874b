/**
 * Flows in a deploy: Salesforce compiles every Flow version it receives, active or not, and fails the
 * component when a name in it does not resolve against the org (the org as it stands plus what the same
 * deploy brings). An inactive Flow (status Draft) is stored and does nothing; this emulator runs no
 * Flow at all, active or not (README.md, "Metadata deploys").
 *
 * The wording follows Flow Builder's message for a missing field ("The field ... for the object ...
 * doesn't exist."); the exact text of the Metadata API's componentFailure for it was not found in a
 * public source, so tests match on the object and field names, not the whole sentence.
 */
import { flowReferences } from '../../../../lib/metadata/flows.js';
import type { Schema } from '../schema.js';
import type { DeployPackage } from './package.js';
import type { DeployProblem } from './rules.js';

export function checkFlows(pkg: DeployPackage, schema: Schema): DeployProblem[] {
  const problems: DeployProblem[] = [];
  const objectFields = (name: string): Set<string> | undefined => {
    const fields = new Set<string>();
    const existing = schema.objects.get(name.toLowerCase());
    for (const f of existing?.fields.values() ?? []) fields.add(f.name.toLowerCase());
    const deployed = pkg.objects.find((o) => o.name.toLowerCase() === name.toLowerCase());
    for (const f of deployed?.fields ?? []) fields.add(f.name.toLowerCase());
    return existing === undefined && deployed === undefined ? undefined : fields;
  };
  for (const flow of pkg.flows) {
    const failure = (problem: string) =>
      problems.push({ componentType: 'Flow', fullName: flow.fullName, fileName: flow.file, problem });
    const seen = new Set<string>();
    for (const ref of flowReferences(flow.node)) {
      // One failure per missing object (not one per field named on it), one per missing field.
      const fields = objectFields(ref.object);
      const key =
        fields === undefined ? ref.object.toLowerCase() : `${ref.object}.${ref.field ?? ''}`.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      if (fields === undefined) failure(`${ref.element}: The object "${ref.object}" doesn't exist.`);
      else if (ref.field !== undefined && !fields.has(ref.field.toLowerCase()))
        failure(`${ref.element}: The field "${ref.field}" for the object "${ref.object}" doesn't exist.`);
    }
  }
  return problems;
}
