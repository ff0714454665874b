import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readFieldFiles, summariseField } from './fields.js';
import { bool, children, int, parseMetadataXml, text, texts } from './xml.js';

const NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
let root: string | undefined;

afterEach(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function objectsDir(files: Record<string, string>): string {
  root = mkdtempSync(path.join(tmpdir(), 'lib-metadata-'));
  for (const [rel, xml] of Object.entries(files)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, xml);
  }
  return root;
}

describe('parseMetadataXml', () => {
  it('makes every element a list and keeps tag values as written', () => {
    // Arrange
    const xml = `<?xml version="1.0"?><CustomField ${NS}><fullName>Visits__c</fullName><length>080</length>
      <required>true</required><referenceTo>Contact</referenceTo><value xsi:nil="true"/></CustomField>`;
    // Act
    const { root: name, node } = parseMetadataXml(xml);
    // Assert
    expect(name).toBe('CustomField');
    expect(text(node, 'length')).toBe('080');
    expect(int(node, 'length')).toBe(80);
    expect(bool(node, 'required')).toBe(true);
    expect(bool(node, 'externalId')).toBe(false);
    expect(texts(node, 'referenceTo')).toEqual(['Contact']);
    expect(text(node, 'value')).toBe('');
    expect(children(node, 'missing')).toEqual([]);
  });

  it('refuses malformed XML', () => {
    expect(() => parseMetadataXml('<CustomField><fullName>x</CustomField>')).toThrow();
  });
});

describe('readFieldFiles', () => {
  it('reads objects and fields in name order, names falling back to the file name', () => {
    // Arrange
    const dir = objectsDir({
      'Zed__c/fields/B__c.field-meta.xml': `<CustomField ${NS}><fullName>B__c</fullName><type>Text</type><length>20</length></CustomField>`,
      'Zed__c/fields/A__c.field-meta.xml': `<CustomField ${NS}><type>Lookup</type><referenceTo>Contact</referenceTo></CustomField>`,
      'Alpha__c/fields/C__c.field-meta.xml': `<CustomField ${NS}><fullName>C__c</fullName><type>Checkbox</type></CustomField>`,
      'NoFields__c/NoFields__c.object-meta.xml': `<CustomObject ${NS}/>`,
      'Zed__c/fields/notes.txt': 'not metadata',
    });
    // Act
    const summaries = readFieldFiles(dir).map(summariseField);
    // Assert
    expect(summaries).toEqual([
      { object: 'Alpha__c', name: 'C__c', type: 'Checkbox' },
      { object: 'Zed__c', name: 'A__c', type: 'Lookup', referenceTo: 'Contact' },
      { object: 'Zed__c', name: 'B__c', type: 'Text', length: '20' },
    ]);
  });

  it('names the file when a field file is not a CustomField', () => {
    const dir = objectsDir({ 'X__c/fields/Y__c.field-meta.xml': `<CustomObject ${NS}/>` });
    expect(() => readFieldFiles(dir)).toThrow(/Y__c\.field-meta\.xml: expected a <CustomField> document/);
  });
});
