import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPackageFields, SALESFORCE_FIELDS_FILE } from './lookups.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function file(text: string): string {
  dir ??= mkdtempSync(path.join(tmpdir(), 'lookups-'));
  const p = path.join(dir, 'salesforce-fields.json');
  writeFileSync(p, text);
  return p;
}

describe('readPackageFields', () => {
  it('reads the generated catalogue, standard fields included', async () => {
    const fields = await readPackageFields(path.join(ROOT, SALESFORCE_FIELDS_FILE));
    expect(fields.get('Contact.Email')).toEqual({ type: 'Email', length: 80 });
    expect(fields.get('Care_Plan__c.Contact__c')).toEqual({ type: 'Lookup', referenceTo: 'Contact' });
  });

  it('refuses a file without the catalogue shape, naming the file and the bad key', async () => {
    const bad = file(JSON.stringify({ fields: { 'Contact.Email': { length: 80 } } }));
    await expect(readPackageFields(bad)).rejects.toThrow(
      /salesforce-fields\.json is not a field catalogue \(at fields\.Contact\.Email\.type\)/,
    );
    // Control: the same file with a type is accepted.
    const good = file(JSON.stringify({ fields: { 'Contact.Email': { type: 'Email', length: 80 } } }));
    await expect(readPackageFields(good)).resolves.toEqual(
      new Map([['Contact.Email', { type: 'Email', length: 80 }]]),
    );
  });

  it('says how to make a missing catalogue', async () => {
    await expect(readPackageFields('/nonexistent/salesforce-fields.json')).rejects.toThrow(
      /npm run generate:metadata/,
    );
  });
});
