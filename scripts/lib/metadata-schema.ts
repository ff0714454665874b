import { readFileSync } from 'node:fs';
import { validateXML } from 'xmllint-wasm';

/**
 * XML Schema validation of metadata source files against the schema embedded in Salesforce's
 * Metadata API WSDL (reference/salesforce-metadata-v66.wsdl), with libxml2's xmllint
 * compiled to WebAssembly (xmllint-wasm: no native addon, no network).
 *
 * The WSDL declares types (`CustomField`, `PermissionSet`, ...) but no document elements, so the
 * extracted schema gets one global element per complex type, named after it: a source file whose
 * root is `<CustomField>` is then validated as the `CustomField` type, whatever the type. That is
 * how metadata added later (flexipages, LWC bundles, layouts) is covered with no code change.
 */

export interface SchemaProblem {
  readonly file: string;
  readonly line: number | undefined;
  readonly message: string;
}

export interface MetadataSchema {
  readonly xsd: string;
  readonly types: ReadonlySet<string>;
}

/** Extracts the embedded schema and declares a global element for each complex type. */
export function schemaFromWsdl(wsdlText: string): MetadataSchema {
  const start = wsdlText.indexOf('<xsd:schema');
  const end = wsdlText.indexOf('</xsd:schema>');
  if (start < 0 || end < 0) throw new Error('the WSDL has no embedded <xsd:schema>');
  // The namespace prefixes are declared on the WSDL's <definitions>; the schema needs its own.
  let body = wsdlText
    .slice(start, end)
    .replace(
      '<xsd:schema ',
      '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="http://soap.sforce.com/2006/04/metadata" ',
    );
  const globals = new Set([...body.matchAll(/^ {3}<xsd:element name="([^"]+)"/gm)].map((m) => m[1] ?? ''));
  const types = new Set([...body.matchAll(/^ {3}<xsd:complexType name="([^"]+)"/gm)].map((m) => m[1] ?? ''));
  const declarations = [...types]
    .filter((t) => !globals.has(t))
    .map((t) => `<xsd:element name="${t}" type="tns:${t}"/>`)
    .join('\n');
  body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}${declarations}\n</xsd:schema>\n`;
  return { xsd: body, types };
}

export function loadMetadataSchema(wsdlPath: string): MetadataSchema {
  return schemaFromWsdl(readFileSync(wsdlPath, 'utf8'));
}

/** Element order of LightningComponentBundle in the schema's sequence. */
const LWC_SEQUENCE = [
  'ai',
  'apiVersion',
  'capabilities',
  'description',
  'isExplicitImport',
  'isExposed',
  'lwcResources',
  'masterLabel',
  'runtimeNamespace',
  'targetConfigs',
  'targets',
];

/**
 * A component's `*.js-meta.xml` is not the API's wire form: the platform reads its elements by name
 * in any order (Salesforce's own examples put `targets` before `targetConfigs`), and the API carries
 * `targetConfigs` as base64 of that XML fragment. So before validation the top-level elements are put
 * in the schema's order and `targetConfigs` is replaced by its base64 form. Unknown elements, bad
 * values and missing required ones are still caught.
 */
export function adaptLightningComponentBundle(xml: string): string {
  const open = /<LightningComponentBundle\b[^>]*>/.exec(xml);
  const closeAt = xml.lastIndexOf('</LightningComponentBundle>');
  if (open === null || closeAt < 0) return xml;
  const bodyStart = open.index + open[0].length;
  const body = xml.slice(bodyStart, closeAt);
  const elements: { name: string; text: string }[] = [];
  const rest: string[] = [];
  let i = 0;
  // Top-level elements only: scan with a depth counter so nested tags stay inside their parent.
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    if (lt < 0) {
      rest.push(body.slice(i));
      break;
    }
    rest.push(body.slice(i, lt));
    const nameMatch = /^<([A-Za-z_][\w.-]*)/.exec(body.slice(lt));
    if (body.startsWith('<!--', lt)) {
      const endComment = body.indexOf('-->', lt);
      i = endComment < 0 ? body.length : endComment + 3;
      continue;
    }
    if (nameMatch === null) {
      rest.push(body.slice(lt));
      break;
    }
    const name = nameMatch[1] ?? '';
    const tagRe = new RegExp(`<(/?)${name.replace(/\./g, '\\.')}(?=[\\s/>])[^>]*?(/?)>`, 'g');
    tagRe.lastIndex = lt;
    let depth = 0;
    let end = body.length;
    for (let m = tagRe.exec(body); m !== null; m = tagRe.exec(body)) {
      if (m[1] === '/') depth -= 1;
      else if (m[2] !== '/') depth += 1;
      if (depth === 0) {
        end = m.index + m[0].length;
        break;
      }
    }
    elements.push({ name, text: body.slice(lt, end) });
    i = end;
  }
  const rank = (n: string) => {
    const r = LWC_SEQUENCE.indexOf(n);
    return r < 0 ? LWC_SEQUENCE.length : r;
  };
  const ordered = elements
    .map((e, index) => ({ ...e, index }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.index - b.index)
    .map((e) => {
      if (e.name !== 'targetConfigs') return e.text;
      const inner = e.text.replace(/^<targetConfigs[^>]*>/, '').replace(/<\/targetConfigs>$/, '');
      return `<targetConfigs>${Buffer.from(inner, 'utf8').toString('base64')}</targetConfigs>`;
    });
  return `${xml.slice(0, bodyStart)}${ordered.join('\n')}${rest.join('').trim() === '' ? '' : rest.join('')}${xml.slice(closeAt)}`;
}

/** The root element's local name, or undefined for a document with none. */
export function rootElementName(xml: string): string | undefined {
  const withoutProlog = xml.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  return /<([A-Za-z_][\w.-]*)/.exec(withoutProlog)?.[1];
}

/**
 * Validates files (repository-relative name -> text) in one xmllint run. Files whose root is not a
 * metadata type are reported without being sent to xmllint.
 */
export async function validateAgainstSchema(
  schema: MetadataSchema,
  files: ReadonlyMap<string, string>,
): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  const inputs: { fileName: string; contents: string }[] = [];
  for (const [file, text] of files) {
    const root = rootElementName(text);
    if (root === undefined || !schema.types.has(root)) {
      problems.push({
        file,
        line: undefined,
        message: `root element <${root ?? '?'}> is not a Metadata API type in the v66 schema`,
      });
      continue;
    }
    inputs.push({
      fileName: file,
      contents: root === 'LightningComponentBundle' ? adaptLightningComponentBundle(text) : text,
    });
  }
  if (inputs.length === 0) return problems;
  const result = await validateXML({
    xml: inputs,
    schema: [schema.xsd],
    // The schema is about 2 MB; libxml2 needs room to compile it.
    initialMemoryPages: 1024,
    maxMemoryPages: 4096,
  });
  for (const e of result.errors) {
    // "fails to validate" lines only repeat that a file had errors.
    if (/fails to validate$/.test(e.rawMessage)) continue;
    problems.push({
      file: e.loc?.fileName ?? '(xmllint)',
      line: e.loc?.lineNumber,
      message: e.message.replace(/\{http:\/\/soap\.sforce\.com\/2006\/04\/metadata\}/g, ''),
    });
  }
  if (!result.valid && problems.length === 0) {
    problems.push({
      file: '(xmllint)',
      line: undefined,
      message: result.rawOutput.trim() || 'validation failed',
    });
  }
  return problems;
}
