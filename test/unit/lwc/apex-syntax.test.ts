// No org runs here, so the Apex behind the LWCs is checked with a real Apex grammar
// (@apexdevtools/apex-parser, ANTLR, pure JavaScript): every class must parse without a syntax
// error, controllers must declare `with sharing`, and each controller has an @IsTest class.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApexErrorListener, ApexParserFactory } from '@apexdevtools/apex-parser';
import { describe, expect, it } from 'vitest';

const classesDir = fileURLToPath(new URL('../../../force-app/main/default/classes/', import.meta.url));

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
