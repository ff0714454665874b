import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSchema } from './schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A minimal project: one custom object with the given field XML bodies. */
function project(fields: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-schema-'));
  dirs.push(dir);
  const objectDir = join(dir, 'force-app/main/default/objects/Visit__c');
  mkdirSync(join(objectDir, 'fields'), { recursive: true });
  writeFileSync(
    join(objectDir, 'Visit__c.object-meta.xml'),
    `<CustomObject><label>Visit</label><pluralLabel>Visits</pluralLabel><enableHistory>true</enableHistory>
     <nameField><label>Visit Number</label><type>AutoNumber</type><displayFormat>V-{0000}</displayFormat></nameField></CustomObject>`,
  );
  for (const [name, body] of Object.entries(fields)) {
    writeFileSync(
      join(objectDir, 'fields', `${name}.field-meta.xml`),
      `<CustomField><fullName>${name}</fullName>${body}</CustomField>`,
    );
  }
  return dir;
}

describe('loadSchema', () => {
  it('builds a custom object, its fields, lookups, history object and child relationship from source XML', () => {
    const schema = loadSchema(
      project({
        Patient__c:
          '<type>Lookup</type><referenceTo>Contact</referenceTo><relationshipName>Visits</relationshipName>',
        Notes_Count__c:
          '<type>Number</type><precision>4</precision><scale>0</scale><trackHistory>true</trackHistory>',
      }),
    );
    const visit = schema.objects.get('visit__c');
    expect(visit).toMatchObject({
      label: 'Visit',
      keyPrefix: 'a00',
      enableHistory: true,
      historyObject: 'Visit__History',
    });
    expect(visit?.fields.get('name')).toMatchObject({ autoNumberFormat: 'V-{0000}', createable: false });
    expect(visit?.fields.get('patient__c')).toMatchObject({
      referenceTo: ['Contact'],
      relationshipName: 'Patient__r',
    });
    expect(visit?.fields.get('notes_count__c')).toMatchObject({ precision: 4, scale: 0, trackHistory: true });
    expect(schema.objects.get('contact')?.childRelationships.get('visits__r')).toEqual({
      childObject: 'Visit__c',
      field: 'Patient__c',
      relationshipName: 'Visits__r',
    });
  });

  it('names the file and the field when a field cannot be understood', () => {
    const dir = project({ Odd__c: '<type>Hologram</type>' });
    expect(() => loadSchema(dir)).toThrow(
      /Odd__c\.field-meta\.xml: field Visit__c\.Odd__c has unsupported type Hologram/,
    );
  });

  it('rejects a lookup to an object that neither the emulator nor the project defines', () => {
    const dir = project({ Clinic__c: '<type>Lookup</type><referenceTo>Clinic__c</referenceTo>' });
    expect(() => loadSchema(dir)).toThrow(/Visit__c\.Clinic__c refers to Clinic__c/);
  });
});
