import { XMLParser } from 'fast-xml-parser';

/**
 * The one parser of Salesforce source-format XML (`*-meta.xml`), shared by the scripts, the service's
 * build step (`npm run generate:metadata`) and the Salesforce emulator (issue #14: there were three).
 *
 * Every element becomes a list (`isArray: () => true`) so callers never guess whether an element
 * repeats; `text()` / `texts()` / `children()` / `bool()` / `int()` pick values out. Tag values stay
 * strings (`parseTagValue: false`): `<length>080</length>` is `'080'`, and the caller decides what a
 * number is. Attributes are kept under `@_` (`<value xsi:nil="true"/>` is an element with no text).
 */

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

/** The first child element named `name`, or undefined. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

function textOf(value: XmlNode): string {
  // parseTagValue is off, so text content is always a string (or a list of strings when mixed).
  const t = value['#text'] as string | string[] | undefined;
  if (Array.isArray(t)) return t.join('');
  return t ?? '';
}

/** The text of the first child element named `name`, or undefined when there is none. */
export function text(node: XmlNode | undefined, name: string): string | undefined {
  const first = child(node, name);
  return first === undefined ? undefined : textOf(first);
}

/** The texts of every child element named `name`. */
export function texts(node: XmlNode | undefined, name: string): string[] {
  return children(node, name).map(textOf);
}

/** True only for the text `true` (Salesforce writes booleans so). */
export function bool(node: XmlNode | undefined, name: string): boolean {
  return text(node, name) === 'true';
}

/** A finite number, or undefined when the element is absent, empty or not a number. */
export function int(node: XmlNode | undefined, name: string): number | undefined {
  const t = text(node, name);
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
