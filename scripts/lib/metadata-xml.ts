import { XMLParser } from 'fast-xml-parser';
import * as prettier from 'prettier';
import xmlPlugin from '@prettier/plugin-xml';

/**
 * Reading and writing Salesforce source-format XML (`*-meta.xml`).
 *
 * Reading: every element becomes a list (`isArray: () => true`) so callers never guess whether an
 * element repeats; `text()` / `texts()` / `children()` pick values out. Writing: elements are given
 * in the order the Metadata API schema's `xsd:sequence` requires (the caller owns that order), then
 * the text goes through Prettier with the repository's own configuration, so generated files are
 * byte-identical to what `npm run format` would leave and a format pass never shows up as drift.
 */

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

export type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: () => true,
});

/** Parses a metadata file; returns the root element's name and node. Throws on malformed XML. */
export function parseMetadataXml(text: string): { root: string; node: XmlNode } {
  const doc = parser.parse(text, true) as Record<string, unknown>;
  const root = Object.keys(doc).find((k) => !k.startsWith('?'));
  if (root === undefined) throw new Error('no root element');
  const value = doc[root];
  const node = Array.isArray(value) ? (value[0] as unknown) : value;
  return { root, node: typeof node === 'object' && node !== null ? (node as XmlNode) : {} };
}

/** The child elements named `name` (always a list). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  if (!Array.isArray(value)) return [];
  return value.map((v: unknown) => (typeof v === 'object' && v !== null ? (v as XmlNode) : { '#text': v }));
}

function textOf(value: XmlNode): string {
  // parseTagValue is off, so text content is always a string (or a list of strings when mixed).
  const t = value['#text'] as string | string[] | undefined;
  if (Array.isArray(t)) return t.join('');
  return t ?? '';
}

/** The text of the first child element named `name`, or undefined. */
export function text(node: XmlNode | undefined, name: string): string | undefined {
  const [first] = children(node, name);
  return first === undefined ? undefined : textOf(first);
}

/** The texts of every child element named `name`. */
export function texts(node: XmlNode | undefined, name: string): string[] {
  return children(node, name).map(textOf);
}

export function bool(node: XmlNode | undefined, name: string): boolean {
  return text(node, name) === 'true';
}

export function int(node: XmlNode | undefined, name: string): number | undefined {
  const t = text(node, name);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** An element: name, then text, a nested list of elements, or an object with attributes. */
export type XmlChild =
  | readonly [string, string | number | boolean]
  | readonly [string, readonly XmlChild[]]
  | readonly [string, { readonly attrs: Readonly<Record<string, string>>; readonly text?: string }];

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function renderChildren(items: readonly XmlChild[]): string {
  return items
    .map(([name, value]) => {
      if (Array.isArray(value)) return `<${name}>${renderChildren(value as readonly XmlChild[])}</${name}>`;
      if (typeof value === 'object') {
        const v = value as { attrs: Readonly<Record<string, string>>; text?: string };
        const attrs = Object.entries(v.attrs)
          .map(([k, a]) => ` ${k}="${escapeXml(a)}"`)
          .join('');
        return v.text === undefined
          ? `<${name}${attrs}/>`
          : `<${name}${attrs}>${escapeXml(v.text)}</${name}>`;
      }
      return `<${name}>${escapeXml(String(value))}</${name}>`;
    })
    .join('');
}

/** A whole metadata document (unformatted). */
export function renderMetadataXml(
  root: string,
  items: readonly XmlChild[],
  extraNamespaces: Readonly<Record<string, string>> = {},
): string {
  const ns = Object.entries(extraNamespaces)
    .map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${METADATA_NS}"${ns}>${renderChildren(items)}</${root}>\n`;
}

/**
 * Formats XML exactly as the repository's Prettier configuration does for a file at `filePath`
 * (the path selects the `.prettierrc.json` overrides; the file need not exist).
 */
export async function formatXml(xml: string, filePath: string): Promise<string> {
  const options = (await prettier.resolveConfig(filePath)) ?? {};
  // The plugin is passed as a module, not by name, so formatting works for files outside the
  // repository too (the tests generate into temporary copies).
  return prettier.format(xml, { ...options, plugins: [xmlPlugin], parser: 'xml', filepath: filePath });
}
