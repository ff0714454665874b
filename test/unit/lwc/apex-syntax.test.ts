// No org runs here, so the Apex behind the LWCs is checked with a real Apex grammar
// (@apexdevtools/apex-parser, ANTLR, pure JavaScript): every class must parse without a syntax
// error, controllers must declare `with sharing`, and each controller has an @IsTest class.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApexErrorListener, ApexParserFactory } from '@apexdevtools/apex-parser';
import { describe, expect, it } from 'vitest';

const classesDir = fileURLToPath(new URL('../../../force-app/main/default/classes/', import.meta.url));
const objectsDir = fileURLToPath(new URL('../../../force-app/main/default/objects/', import.meta.url));
const STANDARD_FIELDS = new Set([
  'Id',
  'Name',
  'DeveloperName',
  'MasterLabel',
  'CreatedDate',
  'LastModifiedDate',
]);

/**
 * Fields of inline SOQL `SELECT ... FROM <object in this package>` that the package does not define
 * (standard objects such as ContactHistory are not in source and are skipped).
 */
function unknownSoqlFields(source: string): string[] {
  const problems: string[] = [];
  for (const match of source.matchAll(/\[\s*SELECT\s+([\s\S]+?)\s+FROM\s+(\w+)/gi)) {
    const [, list = '', object = ''] = match;
    if (!existsSync(join(objectsDir, object))) continue;
    for (const raw of list.split(',')) {
      const field = raw.trim();
      if (field.includes('.') || field.includes('(') || STANDARD_FIELDS.has(field)) continue;
      if (!existsSync(join(objectsDir, object, 'fields', `${field}.field-meta.xml`)))
        problems.push(`${object}.${field}`);
    }
  }
  return problems;
}

class CollectingListener extends ApexErrorListener {
  readonly errors: string[] = [];
  apexSyntaxError(line: number, column: number, msg: string): void {
    this.errors.push(`${line}:${column} ${msg}`);
  }
}

function syntaxErrors(source: string): string[] {
  const listener = new CollectingListener();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  parser.compilationUnit();
  return listener.errors;
}

const classFiles = (await readdir(classesDir)).filter((f) => f.endsWith('.cls')).sort();

describe('Apex classes', () => {
  it('the parser reports errors in broken Apex (so a clean parse means something)', () => {
    expect(syntaxErrors('public with sharing class Broken { void m( { }')).not.toEqual([]);
    expect(
      syntaxErrors(
        'public with sharing class Fine { void m() { Integer i = [SELECT COUNT() FROM Contact]; } }',
      ),
    ).toEqual([]);
  });

  it('finds the classes', () => {
    expect(classFiles).toContain('ClinikoGovernanceController.cls');
  });

  it.each(classFiles)('%s parses without syntax errors and has its -meta.xml', async (file) => {
    const source = await readFile(join(classesDir, file), 'utf8');
    expect(syntaxErrors(source)).toEqual([]);
    const meta = await readFile(join(classesDir, `${file}-meta.xml`), 'utf8');
    expect(meta).toMatch(/<status>Active<\/status>/);
  });

  it('the SOQL field check reports a field the package does not define', () => {
    expect(
      unknownSoqlFields('Object x = [SELECT Id, Classification__c, Nope__c FROM Data_Map_Field__mdt];'),
    ).toEqual(['Data_Map_Field__mdt.Nope__c']);
  });

  it.each(classFiles)('%s queries only fields the package defines', async (file) => {
    expect(unknownSoqlFields(await readFile(join(classesDir, file), 'utf8'))).toEqual([]);
  });

  it.each(classFiles.filter((f) => !/Test\.cls$/.test(f)))(
    '%s runs with sharing and has a test class',
    async (file) => {
      const source = await readFile(join(classesDir, file), 'utf8');
      expect(source).toMatch(/\bpublic with sharing class\b/);
      const testFile = file.replace(/\.cls$/, 'Test.cls');
      expect(classFiles).toContain(testFile);
      expect(await readFile(join(classesDir, testFile), 'utf8')).toMatch(/@IsTest/);
    },
  );
});
