/**
 * Deploy validation: the org's rules that bite in practice, each a named rule that returns the
 * component failures Salesforce would report, with Salesforce's wording (sources in README.md,
 * "Deploy validation"). A deploy with any failure changes nothing (rollbackOnError, as the CLI asks).
 *
 * The emulator may not import scripts/ (lint zones), so these are the emulator's own rules, checked
 * against what the org already holds, which a static check of the source cannot see.
 */
import { bool, child, children, int, text, texts } from '../../../../lib/metadata/xml.js';
import type { Schema } from '../schema.js';
import { checkFlows } from './flow-rules.js';
import { checkRelatedLists } from './related-list-rules.js';
import type { DeployPackage } from './package.js';

/** One entry of the deploy result's `componentFailures`. */
export interface DeployProblem {
  readonly componentType: string;
  readonly fullName: string;
  readonly fileName: string;
  readonly problem: string;
}

export interface DeployRule {
  readonly name: string;
  readonly check: (pkg: DeployPackage, schema: Schema) => DeployProblem[];
}

/** Salesforce's default per-object limit on fields with history tracking (without Field Audit Trail). */
export const MAX_TRACKED_FIELDS = 20;
const API_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*[A-Za-z0-9]$|^[A-Za-z]$/;
const API_NAME_MESSAGE =
  'can only contain underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.';
const SUFFIXES = /__(c|e|mdt)$/;
/** Type changes the Metadata API performs in place (same storage); every other one is refused. */
const ALLOWED_TYPE_CHANGES = new Set([
  'Text>TextArea',
  'Text>Email',
  'Text>Phone',
  'Text>Url',
  'Email>Text',
  'Phone>Text',
  'Url>Text',
  'TextArea>Text',
  'Number>Currency',
  'Number>Percent',
  'Currency>Number',
  'Percent>Number',
  'Picklist>MultiselectPicklist',
]);

/** Objects in the org after this deploy: those it has, plus those the package brings. */
function knownObjects(pkg: DeployPackage, schema: Schema): Set<string> {
  const names = new Set([...schema.objects.values()].map((o) => o.name.toLowerCase()));
  for (const o of pkg.objects) names.add(o.name.toLowerCase());
  return names;
}

/** `object.field`, lower-cased, of every field in the org after this deploy. */
function knownFields(pkg: DeployPackage, schema: Schema): Set<string> {
  const names = new Set<string>();
  for (const o of schema.objects.values())
    for (const f of o.fields.values()) {
      names.add(`${o.name}.${f.name}`.toLowerCase());
      // Compound address fields (Contact.MailingAddress) carry field permissions for their parts.
      if (!f.custom && f.name.endsWith('Street'))
        names.add(`${o.name}.${f.name.slice(0, -'Street'.length)}Address`.toLowerCase());
    }
  for (const o of pkg.objects) for (const f of o.fields) names.add(`${o.name}.${f.name}`.toLowerCase());
  return names;
}

const fieldFailure = (objectName: string, fieldApiName: string, file: string, problem: string) => ({
  componentType: 'CustomField',
  fullName: `${objectName}.${fieldApiName}`,
  fileName: file,
  problem,
});

export const DEPLOY_RULES: readonly DeployRule[] = [
  {
    name: 'api-names',
    check: (pkg) => {
      const problems: DeployProblem[] = [];
      for (const o of pkg.objects) {
        const custom = SUFFIXES.test(o.name);
        if (custom && !API_NAME.test(o.name.replace(SUFFIXES, '')))
          problems.push({
            componentType: 'CustomObject',
            fullName: o.name,
            fileName: o.file,
            problem: `The Object Name field ${API_NAME_MESSAGE}`,
          });
        for (const f of o.fields) {
          if (!f.name.endsWith('__c')) continue;
          const part = f.name.slice(0, -3);
          if (!API_NAME.test(part))
            problems.push(fieldFailure(o.name, f.name, f.file, `The Field Name field ${API_NAME_MESSAGE}`));
          else if (part.length > 40)
            problems.push(
              fieldFailure(o.name, f.name, f.file, 'Field Name: data value too large (max length=40)'),
            );
        }
      }
      for (const b of pkg.lwc)
        if (!/^[a-z]/.test(b.name) || !API_NAME.test(b.name))
          problems.push({
            componentType: 'LightningComponentBundle',
            fullName: b.name,
            fileName: b.folder,
            problem: `The component name ${b.name} must begin with a lowercase letter and ${API_NAME_MESSAGE.slice(4)}`,
          });
      return problems;
    },
  },
  {
    name: 'field-lengths',
    check: (pkg) =>
      pkg.objects.flatMap((o) =>
        o.fields.flatMap((f) => {
          const type = text(f.node, 'type');
          const length = int(f.node, 'length');
          const label = text(f.node, 'label') ?? '';
          const problems: DeployProblem[] = [];
          if (label.length > 40)
            problems.push(
              fieldFailure(o.name, f.name, f.file, 'Field Label: data value too large (max length=40)'),
            );
          // A formula field's result has no length of its own.
          const formula = text(f.node, 'formula') !== undefined;
          if (type === 'Text' && !formula && (length === undefined || length < 1 || length > 255))
            problems.push(
              fieldFailure(o.name, f.name, f.file, 'Length: Value must be between 1 and 255, inclusive'),
            );
          if (
            (type === 'LongTextArea' || type === 'Html') &&
            (length === undefined || length < 256 || length > 131072)
          )
            problems.push(
              fieldFailure(
                o.name,
                f.name,
                f.file,
                'Length: Value must be between 256 and 131,072, inclusive',
              ),
            );
          return problems;
        }),
      ),
  },
  {
    name: 'picklists',
    check: (pkg) =>
      pkg.objects.flatMap((o) =>
        o.fields.flatMap((f) => {
          const values = children(child(child(f.node, 'valueSet'), 'valueSetDefinition'), 'value');
          const problems: DeployProblem[] = [];
          if (values.length > 1000)
            problems.push(
              fieldFailure(
                o.name,
                f.name,
                f.file,
                'Picklist can have at most 1,000 values, found ' + values.length,
              ),
            );
          const seen = new Set<string>();
          for (const v of values) {
            const name = text(v, 'fullName') ?? '';
            if (name.length > 255)
              problems.push(
                fieldFailure(o.name, f.name, f.file, 'Picklist value: data value too large (max length=255)'),
              );
            if (seen.has(name.toLowerCase()))
              problems.push(fieldFailure(o.name, f.name, f.file, `Duplicate picklist value: ${name}`));
            seen.add(name.toLowerCase());
          }
          return problems;
        }),
      ),
  },
  {
    name: 'references-exist',
    check: (pkg, schema) => {
      const objects = knownObjects(pkg, schema);
      const fields = knownFields(pkg, schema);
      const problems: DeployProblem[] = [];
      for (const o of pkg.objects) {
        if (!SUFFIXES.test(o.name) && !schema.objects.has(o.name.toLowerCase()))
          problems.push({
            componentType: 'CustomObject',
            fullName: o.name,
            fileName: o.file,
            problem: `Cannot create a new component with the namespace: ${o.name}. Only components in the same namespace as the organization can be created through the API`,
          });
        for (const f of o.fields)
          for (const target of texts(f.node, 'referenceTo'))
            if (!objects.has(target.toLowerCase()))
              problems.push(
                fieldFailure(
                  o.name,
                  f.name,
                  f.file,
                  `Field ${f.name}: referenceTo value of '${target}' does not resolve to a valid sObject type`,
                ),
              );
      }
      const grants = [
        ...pkg.permissionSets.map((f) => ({ ...f, type: 'PermissionSet' })),
        ...pkg.profiles.map((f) => ({ ...f, type: 'Profile' })),
      ];
      for (const ps of grants) {
        const failure = (problem: string) => ({
          componentType: ps.type,
          fullName: ps.fullName,
          fileName: ps.file,
          problem,
        });
        for (const fp of children(ps.node, 'fieldPermissions')) {
          const name = text(fp, 'field') ?? '';
          if (!fields.has(name.toLowerCase()))
            problems.push(failure(`In field: field - no CustomField named ${name} found`));
        }
        for (const op of children(ps.node, 'objectPermissions')) {
          const name = text(op, 'object') ?? '';
          if (!objects.has(name.toLowerCase()))
            problems.push(failure(`In field: object - no CustomObject named ${name} found`));
        }
      }
      // A group's members must be permission sets the org has or the deploy brings (same wording pattern).
      const sets = new Set([...schema.permissionSets.keys(), ...pkg.permissionSets.map((p) => p.fullName)]);
      for (const g of pkg.permissionSetGroups)
        for (const member of texts(g.node, 'permissionSets'))
          if (!sets.has(member))
            problems.push({
              componentType: 'PermissionSetGroup',
              fullName: g.fullName,
              fileName: g.file,
              problem: `In field: permissionSets - no PermissionSet named ${member} found`,
            });
      for (const r of pkg.metadataRecords) {
        const [type] = r.fullName.split('.');
        const typeName = `${type ?? ''}__mdt`;
        const failure = (problem: string) => ({
          componentType: 'CustomMetadata',
          fullName: r.fullName,
          fileName: r.file,
          problem,
        });
        if (!objects.has(typeName.toLowerCase())) {
          problems.push(failure(`Cannot find the custom metadata type ${typeName}`));
          continue;
        }
        for (const v of children(r.node, 'values')) {
          const name = text(v, 'field') ?? '';
          if (!fields.has(`${typeName}.${name}`.toLowerCase()))
            problems.push(failure(`In field: field - no CustomField named ${typeName}.${name} found`));
        }
      }
      return problems;
    },
  },
  {
    name: 'field-type-changes',
    check: (pkg, schema) =>
      pkg.objects.flatMap((o) =>
        o.fields.flatMap((f) => {
          const existing = schema.objects.get(o.name.toLowerCase())?.fields.get(f.name.toLowerCase());
          const from = existing?.custom ? existing.metadataType : undefined;
          const to = text(f.node, 'type');
          if (from === undefined || to === undefined || from === to) return [];
          if (ALLOWED_TYPE_CHANGES.has(`${from}>${to}`)) return [];
          return [
            fieldFailure(
              o.name,
              f.name,
              f.file,
              `Cannot change field type from ${from} to ${to} via the API`,
            ),
          ];
        }),
      ),
  },
  {
    name: 'tracked-field-limit',
    check: (pkg, schema) =>
      pkg.objects.flatMap((o) => {
        // What the org will track after the deploy: its tracked fields, with the package's settings on top.
        const tracked = new Map<string, boolean>();
        for (const f of schema.objects.get(o.name.toLowerCase())?.fields.values() ?? [])
          if (f.trackHistory) tracked.set(f.name.toLowerCase(), true);
        for (const f of o.fields) tracked.set(f.name.toLowerCase(), bool(f.node, 'trackHistory'));
        const count = [...tracked.values()].filter(Boolean).length;
        if (count <= MAX_TRACKED_FIELDS) return [];
        return [
          {
            componentType: 'CustomObject',
            fullName: o.name,
            fileName: o.file,
            // Salesforce's wording (forcedotcom/cli#1922); it names neither the count nor the limit.
            problem: 'exceeded the allowed number of fields to track on a given entity',
          },
        ];
      }),
  },
  { name: 'flow-references', check: checkFlows },
  { name: 'related-lists', check: checkRelatedLists },
  {
    name: 'lwc-bundle-has-js',
    check: (pkg) =>
      pkg.lwc
        .filter((b) => !b.files.includes(`${b.name}.js`))
        .map((b) => ({
          componentType: 'LightningComponentBundle',
          fullName: b.name,
          fileName: b.folder,
          // A member with no files at all gets Salesforce's manifest error (forcedotcom/cli#1107); a
          // bundle without its JavaScript, the rule of the LWC guide ("Every component must have a
          // JavaScript file"), in our wording: no Salesforce message for it was found.
          problem:
            b.files.length === 0
              ? `An object '${b.name}' of type LightningComponentBundle was named in package.xml, but was not found in zipped directory`
              : `Cannot find Lightning Component Bundle ${b.name}: the bundle has no JavaScript file ${b.name}.js, and every component must have one`,
        })),
  },
];

/** Every rule's failures, in rule order. */
export function validateDeploy(pkg: DeployPackage, schema: Schema): DeployProblem[] {
  return DEPLOY_RULES.flatMap((rule) => rule.check(pkg, schema));
}
