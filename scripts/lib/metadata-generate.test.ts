import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataMap } from './metadata-datamap.js';
import { applyGenerated, compareGenerated, driftCount, expectedGeneratedFiles } from './metadata-files.js';
import { developerName, planDataMapRecords } from './metadata-generate.js';
import { copyPackage, edit, REPO_ROOT } from './metadata-test-support.js';

describe('generate:metadata', () => {
  let copy: { root: string; cleanup: () => void };
  beforeAll(() => {
    copy = copyPackage();
  });
  afterAll(() => copy.cleanup());

  it('is deterministic and changes nothing on an unchanged map (the committed files are its output)', async () => {
    // Arrange + act: generate twice from the same inputs.
    const first = await expectedGeneratedFiles(copy.root);
    const second = await expectedGeneratedFiles(copy.root);
    // Assert: identical output, identical to what is committed, and a write pass touches nothing.
    expect([...second]).toEqual([...first]);
    expect(compareGenerated(copy.root, first)).toEqual({ changed: [], missing: [], stale: [] });
    expect(driftCount(applyGenerated(copy.root, first))).toBe(0);
  });

  it('detects drift when the map changes, rewrites exactly the affected files, then is idempotent', async () => {
    // Arrange: reclassify Contact.Birthdate from operations-safe to billing.
    edit(
      copy.root,
      'config/data-map.yaml',
      /(source: date_of_birth\n {4}classification: )operations-safe/,
      '$1billing',
    );
    // Act
    const expected = await expectedGeneratedFiles(copy.root);
    const drift = compareGenerated(copy.root, expected);
    // Assert: the data-map record, the sign-off (hash) and the operations and billing grants differ;
    // Birthdate is a standard field, so its grant lives in the sets' org-setup companions.
    expect([...drift.changed].sort()).toEqual([
      'force-app-org-setup/main/default/permissionsets/Cliniko_Sync_Billing_Org.permissionset-meta.xml',
      'force-app-org-setup/main/default/permissionsets/Cliniko_Sync_Operations_Org.permissionset-meta.xml',
      'force-app/main/default/customMetadata/Data_Map_Field.Patient_Birthdate.md-meta.xml',
      'force-app/main/default/customMetadata/Data_Map_Signoff.Current.md-meta.xml',
    ]);
    applyGenerated(copy.root, expected);
    const billing = readFileSync(
      path.join(
        copy.root,
        'force-app-org-setup/main/default/permissionsets/Cliniko_Sync_Billing_Org.permissionset-meta.xml',
      ),
      'utf8',
    );
    expect(billing).toContain('<field>Contact.Birthdate</field>');
    // A second pass over the new map changes nothing.
    expect(driftCount(compareGenerated(copy.root, await expectedGeneratedFiles(copy.root)))).toBe(0);
  });

  it('regenerates config/salesforce-fields.json when a field changes (the service reads it, not force-app)', async () => {
    // Arrange: a fresh copy, then widen one field in force-app.
    const fresh = copyPackage();
    try {
      edit(
        fresh.root,
        'force-app/main/default/objects/Care_Plan__c/fields/Cliniko_Case_Id__c.field-meta.xml',
        '<length>20</length>',
        '<length>40</length>',
      );
      // Act
      const expected = await expectedGeneratedFiles(fresh.root);
      const drift = compareGenerated(fresh.root, expected);
      // Assert: exactly the catalogue drifts, and its new content carries the new length.
      expect(drift).toEqual({ changed: ['config/salesforce-fields.json'], missing: [], stale: [] });
      const catalogue = JSON.parse(expected.get('config/salesforce-fields.json') ?? '{}') as {
        fields: Record<string, { length?: number }>;
      };
      expect(catalogue.fields['Care_Plan__c.Cliniko_Case_Id__c']?.length).toBe(40);
    } finally {
      fresh.cleanup();
    }
  });

  it('reports generated files the map no longer produces as stale, and deletes them on write', async () => {
    edit(
      copy.root,
      'config/data-map.yaml',
      /\n {2}- target: Contact\.Last_Synced_At__c\n(?: {4}.*\n){3}/,
      '\n',
    );
    const expected = await expectedGeneratedFiles(copy.root);
    const drift = compareGenerated(copy.root, expected);
    expect(drift.stale).toEqual([
      'force-app/main/default/customMetadata/Data_Map_Field.Derived_Contact_Last_Synced_At.md-meta.xml',
    ]);
    applyGenerated(copy.root, expected);
    expect(compareGenerated(copy.root, expected).stale).toEqual([]);
  });
});

describe('data-map records', () => {
  it('have valid, unique developer names and carry the audiences of their classification', () => {
    const records = planDataMapRecords(loadDataMap(path.join(REPO_ROOT, 'config/data-map.yaml')));
    const names = [...records.keys()].map((k) =>
      path
        .basename(k)
        .replace(/^Data_Map_(Field|Signoff)\./, '')
        .replace('.md-meta.xml', ''),
    );
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*[A-Za-z0-9]$/);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(40);
    const email =
      records.get('force-app/main/default/customMetadata/Data_Map_Field.Patient_Email.md-meta.xml') ?? '';
    expect(email).toContain('marketing;operations;billing;compliance');
    const invoice =
      records.get('force-app/main/default/customMetadata/Data_Map_Field.Invoice_Total_Amount.md-meta.xml') ??
      '';
    expect(invoice).toContain('billing;compliance');
  });

  it('developerName keeps names legal', () => {
    expect(developerName('Patient_Contact.Email__c')).toBe('Patient_Contact_Email');
    expect(developerName('9 lives__c')).toBe('X_9_lives');
    expect(developerName('a'.repeat(50))).toHaveLength(40);
  });
});
