/**
 * A deploy's zip read as metadata: the package.xml manifest and, per component, its parsed XML. The
 * CLI converts source format to the Metadata API's format before it deploys, so fields arrive as
 * `<fields>` inside `objects/<Object>.object`, permission sets as `permissionsets/<Name>.permissionset`,
 * profiles as `profiles/<Name>.profile`, groups as `permissionsetgroups/<Name>.permissionsetgroup`,
 * custom metadata records as `customMetadata/<Type>.<Name>.md` and LWC bundles as `lwc/<name>/...`.
 * The XML goes through the repository's one reader (lib/metadata).
 */
import { fieldName } from '../../../../lib/metadata/fields.js';
import { children, parseMetadataXml, text, texts, type XmlNode } from '../../../../lib/metadata/xml.js';
import type { FieldNode } from '../schema-package.js';

export interface DeployedObject {
  readonly name: string;
  readonly file: string;
  readonly node: XmlNode;
  readonly fields: FieldNode[];
}

export interface DeployedFile {
  readonly fullName: string;
  readonly file: string;
  readonly node: XmlNode;
}

export interface DeployedBundle {
  readonly name: string;
  readonly folder: string;
  /** File names inside the bundle folder. */
  readonly files: string[];
}

/** One member of package.xml: what the deploy result reports on, one line per component. */
export interface ManifestMember {
  readonly type: string;
  readonly fullName: string;
}

export interface DeployPackage {
  readonly manifest: ManifestMember[];
  readonly objects: DeployedObject[];
  readonly permissionSets: DeployedFile[];
  readonly profiles: DeployedFile[];
  readonly permissionSetGroups: DeployedFile[];
  readonly metadataRecords: DeployedFile[];
  readonly lwc: DeployedBundle[];
  /** Flows (`flows/<Name>.flow`), parsed so the deploy can check what they name (flow-rules.ts). */
  readonly flows: DeployedFile[];
  /** Flows, FlexiPages, Apex classes, tabs, layouts, applications...: kept by name, not interpreted. */
  readonly files: Map<string, Buffer>;
}

/** Thrown for a zip the Metadata API cannot read at all (the deploy fails as a whole). */
export class PackageError extends Error {}

function parse(file: string, content: Buffer, root: string): XmlNode {
  let parsed: { root: string; node: XmlNode };
  try {
    parsed = parseMetadataXml(content.toString('utf8'));
  } catch (error) {
    throw new PackageError(`${file}: Error parsing file: ${(error as Error).message}`);
  }
  if (parsed.root !== root) throw new PackageError(`${file}: expected a <${root}> document`);
  return parsed.node;
}

/** Paths may sit under a folder (`unpackaged/objects/...`) when the zip was built by hand. */
function split(path: string, root: string): string[] {
  return (root ? path.slice(root.length) : path).split('/');
}

export function readPackage(files: Map<string, Buffer>): DeployPackage {
  const manifestPath = [...files.keys()].find((p) => p === 'package.xml' || p.endsWith('/package.xml'));
  if (!manifestPath) throw new PackageError('No package.xml found');
  const root = manifestPath.slice(0, -'package.xml'.length);
  const manifest: ManifestMember[] = children(
    parse(manifestPath, files.get(manifestPath) ?? Buffer.alloc(0), 'Package'),
    'types',
  ).flatMap((t) => texts(t, 'members').map((fullName) => ({ type: text(t, 'name') ?? '', fullName })));

  const pkg: DeployPackage = {
    manifest,
    objects: [],
    permissionSets: [],
    profiles: [],
    permissionSetGroups: [],
    metadataRecords: [],
    lwc: [],
    flows: [],
    files,
  };
  const bundles = new Map<string, string[]>();
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (!path.startsWith(root) || path === manifestPath) continue;
    const [folder, name, ...rest] = split(path, root);
    if (folder === undefined || name === undefined) continue;
    if (folder === 'objects' && name.endsWith('.object')) {
      const objectName = name.slice(0, -'.object'.length);
      const node = parse(path, content, 'CustomObject');
      const fields = children(node, 'fields').map((f) => ({
        node: f,
        name: fieldName(f, `${objectName}.field`),
        file: path,
      }));
      pkg.objects.push({ name: objectName, file: path, node, fields });
    } else if (folder === 'permissionsets' && name.endsWith('.permissionset')) {
      pkg.permissionSets.push({
        fullName: name.slice(0, -'.permissionset'.length),
        file: path,
        node: parse(path, content, 'PermissionSet'),
      });
    } else if (folder === 'profiles' && name.endsWith('.profile')) {
      pkg.profiles.push({
        fullName: name.slice(0, -'.profile'.length),
        file: path,
        node: parse(path, content, 'Profile'),
      });
    } else if (folder === 'permissionsetgroups' && name.endsWith('.permissionsetgroup')) {
      pkg.permissionSetGroups.push({
        fullName: name.slice(0, -'.permissionsetgroup'.length),
        file: path,
        node: parse(path, content, 'PermissionSetGroup'),
      });
    } else if (folder === 'customMetadata' && name.endsWith('.md')) {
      pkg.metadataRecords.push({
        fullName: name.slice(0, -'.md'.length),
        file: path,
        node: parse(path, content, 'CustomMetadata'),
      });
    } else if (folder === 'flows' && name.endsWith('.flow')) {
      pkg.flows.push({
        fullName: name.slice(0, -'.flow'.length),
        file: path,
        node: parse(path, content, 'Flow'),
      });
    } else if (folder === 'lwc' && rest.length > 0) {
      const list = bundles.get(name) ?? [];
      list.push(rest.join('/'));
      bundles.set(name, list);
    }
  }
  for (const [name, bundleFiles] of bundles)
    pkg.lwc.push({ name, folder: `${root}lwc/${name}`, files: bundleFiles });
  // A bundle listed in package.xml whose folder is missing entirely is also a bundle without its JS.
  for (const m of manifest)
    if (m.type === 'LightningComponentBundle' && !bundles.has(m.fullName))
      pkg.lwc.push({ name: m.fullName, folder: `${root}lwc/${m.fullName}`, files: [] });
  return pkg;
}
