import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { dataMapSha256 } from '../../sync-service/src/governance/canonical.js';
import { loadDataMap, parseDataMapText, type Classification } from './metadata-datamap.js';
import { PACKAGE_FIELD_ACCESS, planPermissionSets, type PermissionSetName } from './metadata-generate.js';
import { fieldPermissionNames, loadProject } from './metadata-project.js';
import { REPO_ROOT } from './metadata-test-support.js';
import { children, parseMetadataXml, text } from '../../lib/metadata/xml.js';

/**
 * The visibility lattice (docs/data-model.md): marketing reads marketing-safe; operations reads
 * marketing-safe + operations-safe; billing reads marketing-safe + billing; compliance reads every
 * synced field; clinician-only Cliniko fields have no Salesforce field at all. Checked on the committed
 * map and the committed permission sets (what would be deployed), and as a property of the generator.
 */

const map = loadDataMap(path.join(REPO_ROOT, 'config/data-map.yaml'));
const project = loadProject(REPO_ROOT);

interface Grants {
  readable: Set<string>;
  editable: Set<string>;
  objects: Map<string, { read: boolean; edit: boolean; create: boolean }>;
}

/**
 * What a user holds who is given an audience's packaged set and its org-setup companion (the
 * Contact and user permissions a package cannot carry), as docs/go-live.md has the admin assign them.
 */
function committed(name: PermissionSetName): Grants {
  const readable = new Set<string>();
  const editable = new Set<string>();
  const objects = new Map<string, { read: boolean; edit: boolean; create: boolean }>();
  for (const file of [
    path.join(REPO_ROOT, 'force-app/main/default/permissionsets', `${name}.permissionset-meta.xml`),
    path.join(
      REPO_ROOT,
      'force-app-org-setup/main/default/permissionsets',
      `${name}_Org.permissionset-meta.xml`,
    ),
  ]) {
    const { root, node } = parseMetadataXml(readFileSync(file, 'utf8'));
    expect(root).toBe('PermissionSet');
    for (const fp of children(node, 'fieldPermissions')) {
      const field = text(fp, 'field') ?? '';
      if (text(fp, 'readable') === 'true') readable.add(field);
      if (text(fp, 'editable') === 'true') editable.add(field);
    }
    for (const op of children(node, 'objectPermissions')) {
      objects.set(text(op, 'object') ?? '', {
        read: text(op, 'allowRead') === 'true',
        edit: text(op, 'allowEdit') === 'true',
        create: text(op, 'allowCreate') === 'true',
      });
    }
  }
  return { readable, editable, objects };
}

/** Synced targets by classification, computed straight from the YAML (independently of the generator). */
function targetsByClassification(): Map<Classification, Set<string>> {
  const raw = parse(readFileSync(path.join(REPO_ROOT, 'config/data-map.yaml'), 'utf8')) as {
    entries: { classification: Classification; target?: string }[];
    derived: { classification: Classification; target: string }[];
  };
  const out = new Map<Classification, Set<string>>();
  for (const e of [...raw.entries, ...raw.derived]) {
    if (e.target === undefined) continue;
    const set = out.get(e.classification) ?? new Set<string>();
    set.add(e.target);
    out.set(e.classification, set);
  }
  return out;
}

/** Fields Salesforce does not let a permission set grant (required, name parts): never in any set. */
function grantable(target: string): boolean {
  const [object, field] = target.split('.');
  return project.objects.get(object ?? '')?.fields.get(field ?? '')?.permissionable === true;
}

const byClass = targetsByClassification();
const allTargets = new Set([...byClass.values()].flatMap((set) => [...set]));
/** What a set reading these classifications must grant: compound address parts go through the compound. */
const of = (...classes: Classification[]) =>
  fieldPermissionNames(new Set(classes.flatMap((c) => [...(byClass.get(c) ?? [])])), allTargets, grantable);
const synced = (set: Set<string>) =>
  new Set([...set].filter((f) => of('marketing-safe', 'operations-safe', 'billing').has(f)));

describe('the committed data map', () => {
  it('gives no clinician-only Cliniko field a Salesforce target or transform', () => {
    const clinical = map.entries.filter((e) => e.classification === 'clinician-only');
    expect(clinical.length).toBeGreaterThan(0);
    for (const e of clinical) {
      expect(e.target, e.label).toBeUndefined();
      expect(e.transform, e.label).toBeUndefined();
    }
    expect(byClass.get('clinician-only')).toBeUndefined();
  });

  it('keeps the fields the issue names clinician-only', () => {
    const clinicianOnly = new Set(
      map.entries
        .filter((e) => e.classification === 'clinician-only')
        .flatMap((e) => e.sources.map((s) => `${e.resource}.${s}`)),
    );
    for (const field of [
      'patients.notes',
      'patients.appointment_notes',
      'patients.medicare',
      'patients.medicare_reference_number',
      'patients.dva_card_number',
      'patient_cases.name',
      'patient_cases.notes',
      'individual_appointments.notes',
      'individual_appointments.cancellation_note',
      'individual_appointments.cancellation_reason',
      'individual_appointments.cancellation_reason_description',
      'treatment_notes.content',
      'medical_alerts.name',
    ]) {
      expect(clinicianOnly.has(field), field).toBe(true);
    }
  });

  it('is signed: the sign-off hash is the canonical hash of the entries', () => {
    const raw = parse(readFileSync(path.join(REPO_ROOT, 'config/data-map.yaml'), 'utf8')) as {
      signoff: { sha256: string };
      entries: unknown[];
      derived: unknown[];
    };
    expect(raw.signoff.sha256).toBe(dataMapSha256(raw.entries, raw.derived));
  });
});

describe('the committed permission sets', () => {
  const marketing = committed('Cliniko_Sync_Marketing');
  const operations = committed('Cliniko_Sync_Operations');
  const billing = committed('Cliniko_Sync_Billing');
  const compliance = committed('Cliniko_Sync_Compliance');
  const integration = committed('Cliniko_Sync_Integration');

  it('marketing cannot read any operations-only or billing field', () => {
    for (const field of [...of('operations-safe'), ...of('billing')]) {
      expect(marketing.readable.has(field), field).toBe(false);
    }
    // Nor the objects that hold only such fields; appointments are marketing's since issue #19
    // (type, practitioner, clinic, start, status), invoices never.
    expect(marketing.objects.has('Cliniko_Appointment__c')).toBe(true);
    expect(marketing.objects.has('Cliniko_Invoice__c')).toBe(false);
  });

  it('operations cannot read billing fields, and billing cannot read operations fields', () => {
    for (const field of of('billing')) expect(operations.readable.has(field), field).toBe(false);
    for (const field of of('operations-safe')) expect(billing.readable.has(field), field).toBe(false);
  });

  it('each audience reads exactly the synced fields its classifications allow', () => {
    expect(synced(marketing.readable)).toEqual(of('marketing-safe'));
    expect(synced(operations.readable)).toEqual(of('marketing-safe', 'operations-safe'));
    expect(synced(billing.readable)).toEqual(of('marketing-safe', 'billing'));
    expect(synced(compliance.readable)).toEqual(of('marketing-safe', 'operations-safe', 'billing'));
    // Audience sets hold nothing else but governance objects (compliance only) and the package's own
    // fields that carry no Cliniko data (PACKAGE_FIELD_ACCESS: nurture funnel, Cliniko link), exactly
    // for the audiences listed there.
    const audiences = { marketing, operations, billing } as const;
    for (const [audience, set] of Object.entries(audiences)) {
      expect(
        [...set.readable].filter((f) => !of('marketing-safe', 'operations-safe', 'billing').has(f)).sort(),
      ).toEqual(
        Object.entries(PACKAGE_FIELD_ACCESS)
          .filter(([, who]) => who.includes(audience as 'marketing'))
          .map(([field]) => field)
          .sort(),
      );
    }
  });

  it('no audience edits a synced field; the integration user edits every one', () => {
    for (const set of [marketing, operations, billing, compliance]) {
      expect([...synced(set.editable)]).toEqual([]);
    }
    expect(synced(integration.editable)).toEqual(of('marketing-safe', 'operations-safe', 'billing'));
    expect(integration.objects.get('Patient_Journey_Event__e')).toEqual({
      read: true,
      edit: false,
      create: true,
    });
  });

  it('only compliance reads the governance objects and the data-map records, and only it edits reviews', () => {
    for (const set of [marketing, operations, billing]) {
      for (const object of [
        'Governance_Review__c',
        'Sync_Run__c',
        'Access_Change__c',
        'Consent_Reconciliation__c',
        'Audit_Anchor__c',
      ]) {
        expect(set.objects.has(object), object).toBe(false);
      }
    }
    expect(compliance.objects.get('Governance_Review__c')).toEqual({ read: true, edit: true, create: true });
    expect(compliance.objects.get('Access_Change__c')).toEqual({ read: true, edit: false, create: false });
    expect(compliance.objects.get('Audit_Anchor__c')).toEqual({ read: true, edit: false, create: false });
  });

  it('lets the integration user create audit anchors but never edit or delete them (insert-only)', () => {
    const file = path.join(
      REPO_ROOT,
      'force-app/main/default/permissionsets/Cliniko_Sync_Integration.permissionset-meta.xml',
    );
    const { node } = parseMetadataXml(readFileSync(file, 'utf8'));
    const op = children(node, 'objectPermissions').find((o) => text(o, 'object') === 'Audit_Anchor__c');
    expect(op && ['allowCreate', 'allowRead', 'allowEdit', 'allowDelete'].map((k) => text(op, k))).toEqual([
      'true',
      'true',
      'false',
      'false',
    ]);
    // Control: the run summaries it writes are editable (an upsert updates them).
    const runs = children(node, 'objectPermissions').find((o) => text(o, 'object') === 'Sync_Run__c');
    expect(runs && text(runs, 'allowEdit')).toBe('true');
  });

  it('grants a mapped address through the compound field, never its parts', () => {
    for (const set of [marketing, operations, billing, compliance, integration]) {
      expect(set.readable.has('Contact.MailingAddress')).toBe(true);
      for (const part of [
        'MailingStreet',
        'MailingCity',
        'MailingState',
        'MailingPostalCode',
        'MailingCountry',
      ]) {
        expect(set.readable.has(`Contact.${part}`), part).toBe(false);
      }
    }
  });

  it('never grants a required, master-detail or name field', () => {
    for (const set of [marketing, operations, billing, compliance, integration]) {
      for (const field of set.readable) expect(grantable(field), field).toBe(true);
    }
  });
});

describe('planPermissionSets (property)', () => {
  // Arbitrary classifications over the package's real fields: the lattice must hold for any map.
  const targets = [...project.objects.values()]
    .filter((o) =>
      ['Contact', 'Care_Plan__c', 'Cliniko_Appointment__c', 'Cliniko_Invoice__c'].includes(o.name),
    )
    .flatMap((o) => [...o.fields.values()].filter((f) => f.permissionable).map((f) => `${o.name}.${f.name}`))
    // The package's own fields (no Cliniko data; PACKAGE_FIELD_ACCESS) are granted without the map
    // unless it names them; the committed-sets test above pins exactly who reads them.
    .filter((t) => !(t in PACKAGE_FIELD_ACCESS));
  const classification = fc.constantFrom<Classification>(
    'marketing-safe',
    'operations-safe',
    'billing',
    'clinician-only',
  );

  it('marketing never reads a field that is not marketing-safe, whatever the map says', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...targets), classification), { minLength: 1, maxLength: 30 }),
        (picks) => {
          const unique = new Map(picks);
          const yaml = [
            'version: 1',
            'signoff: { approvedBy: Test, approvedOn: 2026-01-01, sha256: ' + 'a'.repeat(64) + ' }',
            'entries:',
            ...[...unique].map(([target, c]) =>
              c === 'clinician-only'
                ? `  - { resource: patients, source: notes, classification: ${c}, rationale: r }`
                : `  - { resource: patients, source: id, classification: ${c}, target: ${target}, rationale: r }`,
            ),
            'derived: []',
          ].join('\n');
          const plans = planPermissionSets(parseDataMapText(yaml), project);
          // A packaged set and its org-setup companion are assigned together.
          const readable = (name: PermissionSetName) =>
            new Set(
              plans
                .filter((p) => p.name === name || p.name === `${name}_Org`)
                .flatMap((p) => p.fields.map((f) => f.field)),
            );
          const m = readable('Cliniko_Sync_Marketing');
          for (const [target, c] of unique) {
            if (c !== 'marketing-safe') expect(m.has(target)).toBe(false);
            else expect(m.has(target)).toBe(true);
            if (c === 'billing') expect(readable('Cliniko_Sync_Operations').has(target)).toBe(false);
            if (c === 'operations-safe') expect(readable('Cliniko_Sync_Billing').has(target)).toBe(false);
            expect(readable('Cliniko_Sync_Compliance').has(target)).toBe(c !== 'clinician-only');
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('docs/data-map.md', () => {
  it('explains every entry and derived field of the map', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/data-map.md'), 'utf8');
    // Table rows as trimmed cells (Prettier pads them).
    const rows = doc
      .split('\n')
      .filter((l) => l.startsWith('| '))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    for (const e of map.entries) {
      const cells = e.sources.map((s) => `\`${s}\``).join(', ');
      const target = e.target === undefined ? 'none' : `\`${e.target}\``;
      const row = rows.find((r) => r[0] === cells && r[2] === target);
      expect(row, `${e.label} has no row in docs/data-map.md`).toBeDefined();
      expect(row?.[1]).toBe(e.classification);
    }
    for (const d of map.derived) {
      const row = rows.find((r) => r[0] === `\`${d.target}\``);
      expect(row, `${d.label} has no row in docs/data-map.md`).toBeDefined();
      expect(row?.[1]).toBe(d.classification);
    }
  });
});
