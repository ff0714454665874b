import * as prettier from 'prettier';
import xmlPlugin from '@prettier/plugin-xml';

/**
 * Writing Salesforce source-format XML (`*-meta.xml`); reading is lib/metadata/xml.ts, the one parser
 * the scripts, the service's build step and the emulator share. Writing: elements are given
 * in the order the Metadata API schema's `xsd:sequence` requires (the caller owns that order), then
 * the text goes through Prettier with the repository's own configuration, so generated files are
 * byte-identical to what `npm run format` would leave and a format pass never shows up as drift.
 */

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

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
