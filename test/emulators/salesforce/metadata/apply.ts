/**
 * Applying a validated deploy to the org: objects and fields join the schema (so REST, describe, SOQL
 * and field-level security see them at once), permission sets and custom metadata records become
 * rows, and every other component (Flows, LWC bundles, FlexiPages, Apex, tabs, layouts) is kept by
 * type and name so tests can see what the org holds. Uses the same builders as the preloaded schema
 * (schema-package.ts), so a deployed org and a preloaded one have the same shape.
 */
import { bool, children, text } from '../../../../lib/metadata/xml.js';
import type { Org } from '../org.js';
import { insertProfile, refreshGroups, refreshStandardProfiles } from '../org/profiles.js';
import { insertMetadataRecord, insertPermissionSet } from '../org/seed.js';
import type { ObjectDef } from '../schema.js';
import {
  addFieldNodes,
  keyPrefixes,
  linkChildren,
  metadataRecordFrom,
  objectFor,
  permissionSetFrom,
  permissionSetGroupFrom,
  type ChildLink,
} from '../schema-package.js';
import { addHistoryObject, parseValidationRule } from '../schema-source.js';
import type { DeployPackage, ManifestMember } from './package.js';

/** Components the org holds beyond its schema, by metadata type then full name. */
export type DeployedComponents = Map<string, Set<string>>;

/** Next key prefixes follow the objects the org already has of each kind. */
function prefixCounters(objects: Iterable<ObjectDef>) {
  const next = { metadata: 0, event: 0, custom: 0 };
  for (const o of objects) {
    if (o.category === 'metadata') next.metadata++;
    else if (o.category === 'event') next.event++;
    else if (o.category === 'custom') next.custom++;
  }
  return next;
}

export function applyDeploy(org: Org, pkg: DeployPackage, components: DeployedComponents): void {
  const { schema } = org;
  const keyPrefix = keyPrefixes(prefixCounters(schema.objects.values()));
  const childLinks: ChildLink[] = [];
  for (const o of [...pkg.objects].sort((a, b) => a.name.localeCompare(b.name))) {
    const object = objectFor(schema.objects, o.name, o.file, o.node, keyPrefix);
    const label = text(o.node, 'label');
    if (label) object.label = label;
    const plural = text(o.node, 'pluralLabel');
    if (plural) object.labelPlural = plural;
    if (bool(o.node, 'enableHistory')) object.enableHistory = true;
    addFieldNodes(object, o.fields, childLinks);
    // A deployed object carries its rules as <validationRules>; they replace the object's rules.
    const rules = children(o.node, 'validationRules').flatMap((r) => {
      const rule = parseValidationRule(r, o.name, o.file);
      return rule === undefined ? [] : [rule];
    });
    if (rules.length > 0) object.validationRules = rules;
  }
  linkChildren(schema.objects, childLinks);
  for (const object of [...schema.objects.values()])
    if (object.category === 'custom' && object.enableHistory && !object.historyObject)
      addHistoryObject(schema.objects, object);
  org.store.addMissingTables();

  for (const ps of pkg.permissionSets) {
    const def = permissionSetFrom(ps.fullName, ps.node);
    schema.permissionSets.set(def.name, def);
    insertPermissionSet(org.store, def);
  }
  for (const p of pkg.profiles) {
    const def = permissionSetFrom(p.fullName, p.node);
    org.schema.profiles.set(def.name, def);
    insertProfile(org.store, def);
  }
  for (const g of pkg.permissionSetGroups)
    schema.permissionSetGroups.set(g.fullName, permissionSetGroupFrom(g.fullName, g.node));
  // New objects reach the standard profiles; groups recalculate from their (possibly new) members.
  refreshStandardProfiles(schema, org.store);
  refreshGroups(schema, org.store);
  for (const r of pkg.metadataRecords) {
    const record = metadataRecordFrom(r.fullName, r.node, r.file);
    schema.metadataRecords = [
      ...schema.metadataRecords.filter(
        (m) => !(m.type === record.type && m.developerName === record.developerName),
      ),
      record,
    ];
    insertMetadataRecord(schema, org.store, record);
  }
  org.security.invalidate();
  for (const m of pkg.manifest) addComponent(components, m);
}

function addComponent(components: DeployedComponents, m: ManifestMember): void {
  let names = components.get(m.type);
  if (!names) components.set(m.type, (names = new Set()));
  names.add(m.fullName);
}
