import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES } from '../cliniko/resources.js';
import {
  CLINICAL_DENY_LIST,
  FREE_TEXT_ALLOWED,
  deniedField,
  type DenyListEntry,
} from './clinical-deny-list.js';
import { parseDataMap, type DataMap } from './data-map.js';
import { projectRecord } from './project.js';
import { clinikoFieldShapesFromOpenApi, isFreeTextShape, type SpecFieldShape } from './spec-fields.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP } from './test-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The free-text fields of the resources we read that neither list classifies. */
function unclassified(shapes: ReadonlyMap<string, ReadonlyMap<string, SpecFieldShape>>): string[] {
  const classified = new Set([...CLINICAL_DENY_LIST, ...FREE_TEXT_ALLOWED].map((e) => e.field));
  const out: string[] = [];
  for (const resource of Object.values(RESOURCES).map((r) => r.name)) {
    for (const [field, shape] of shapes.get(resource) ?? []) {
      if (!isFreeTextShape(shape)) continue;
      if (!classified.has(`${resource}.${field}`) && !classified.has(`${resource}.*`))
        out.push(`${resource}.${field}`);
    }
  }
  return out;
}

describe("the deny-list against Cliniko's OpenAPI document", () => {
  let openApi: Record<string, unknown>;
  let shapes: Map<string, Map<string, SpecFieldShape>>;
  beforeAll(async () => {
    openApi = parseYaml(await readFile(path.join(ROOT, 'reference/cliniko-openapi.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    shapes = clinikoFieldShapesFromOpenApi(openApi);
  });

  it('every resource we read is in the spec, and every free-text field of it is classified', () => {
    for (const r of Object.values(RESOURCES)) expect(shapes.has(r.name), r.name).toBe(true);
    expect(unclassified(shapes)).toEqual([]);
  });

  it('a new free-text string field in a new spec version fails until classified (control)', () => {
    // A copy of the spec where the Patient schema gains `diagnosis_summary: {type: string}`.
    const next = structuredClone(openApi);
    const patients = clinikoFieldShapesFromOpenApi(next).get('patients');
    expect(patients?.has('diagnosis_summary')).toBe(false);
    const schemas = (next.components as { schemas: Record<string, { properties?: Record<string, unknown> }> })
      .schemas;
    const patientSchema = Object.entries(schemas).find(([, s]) => s.properties?.medicare_reference_number);
    expect(patientSchema, 'the Patient schema').toBeDefined();
    patientSchema![1].properties!.diagnosis_summary = { type: 'string', nullable: true };
    expect(unclassified(clinikoFieldShapesFromOpenApi(next))).toEqual(['patients.diagnosis_summary']);
    // A date-time or an enum is not free text: no classification needed.
    patientSchema![1].properties!.diagnosis_summary = { type: 'string', format: 'date-time' };
    expect(unclassified(clinikoFieldShapesFromOpenApi(next))).toEqual([]);
  });

  it('every classified field exists in the spec (no stale entries), and none is both denied and allowed', () => {
    const stale = [...CLINICAL_DENY_LIST, ...FREE_TEXT_ALLOWED]
      .map((e) => e.field)
      .filter((f) => {
        const [resource = '', field = ''] = f.split('.');
        const known = shapes.get(resource);
        // Whole-resource entries may name resources we never read (treatment_notes): they deny, never open.
        if (field === '*') return false;
        return known === undefined || !known.has(field);
      });
    expect(stale).toEqual([]);
    const denied = new Set(CLINICAL_DENY_LIST.map((e) => e.field));
    expect(FREE_TEXT_ALLOWED.filter((e) => denied.has(e.field))).toEqual([]);
    for (const e of [...CLINICAL_DENY_LIST, ...FREE_TEXT_ALLOWED])
      expect(e.reason.trim(), e.field).not.toBe('');
  });

  it('covers what issue #17 names: notes, medical alerts, treatment notes, cancellations, cases, attachments, referrer, Medicare/DVA', () => {
    for (const f of [
      'patients.notes',
      'patients.appointment_notes',
      'patients.medical_alerts',
      'treatment_notes.content',
      'individual_appointments.cancellation_note',
      'individual_appointments.cancellation_reason',
      'individual_appointments.cancellation_reason_description',
      'patient_cases.name',
      'patient_cases.notes',
      'patients.patient_attachments',
      'patients.referring_doctor',
      'patients.medicare',
      'patients.medicare_reference_number',
      'patients.dva_card_number',
    ]) {
      const [resource = '', field = ''] = f.split('.');
      expect(deniedField(resource, field), f).toBeDefined();
    }
    expect(deniedField('patients', 'email')).toBeUndefined();
  });
});

describe('config/clinical-deny-list.yaml is the same list as the code', () => {
  const toList = (items: unknown): DenyListEntry[] =>
    (items as { field: string; reason: string }[]).map((e) => ({ field: e.field, reason: e.reason }));

  it('deny and allow match CLINICAL_DENY_LIST and FREE_TEXT_ALLOWED, entry for entry', async () => {
    const doc = parseYaml(await readFile(path.join(ROOT, 'config/clinical-deny-list.yaml'), 'utf8')) as {
      deny: unknown;
      allow: unknown;
    };
    expect(toList(doc.deny)).toEqual(CLINICAL_DENY_LIST);
    expect(toList(doc.allow)).toEqual(FREE_TEXT_ALLOWED);
  });

  it('an edit of the YAML alone is caught (control)', async () => {
    const text = await readFile(path.join(ROOT, 'config/clinical-deny-list.yaml'), 'utf8');
    const edited = parseYaml(text.replace(/ {2}- field: patients\.notes\n {4}reason: [^\n]*\n/, '')) as {
      deny: unknown;
    };
    expect(toList(edited.deny)).not.toEqual(CLINICAL_DENY_LIST);
    expect(toList(edited.deny).length).toBe(CLINICAL_DENY_LIST.length - 1);
  });
});

describe('a map that targets a denied field', () => {
  /** FIXTURE_MAP plus one entry sending patients.<source> to Contact.MailingCity. */
  const toCity = (source: string): string =>
    FIXTURE_MAP.replace(
      'derived:\n',
      `  - resource: patients\n    source: ${source}\n    classification: marketing-safe\n    target: Contact.MailingCity\n    transform: text\n    rationale: Town.\nderived:\n`,
    );

  it('is refused at parse, naming the entry, the field and the reason', () => {
    const result = parseDataMap(toCity('notes'), FIXTURE_LOOKUPS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.message.includes('deny-list'));
    expect(problem?.where).toContain('patients.notes -> Contact.MailingCity');
    expect(problem?.key).toBe('source');
    expect(problem?.message).toContain('patients.notes is on the clinical deny-list (clinical free text');
  });

  it('the same entry from city (control) parses', () => {
    expect(parseDataMap(toCity('city'), FIXTURE_LOOKUPS).ok).toBe(true);
  });

  it('the projection refuses it too, for a map object that never went through parseDataMap', () => {
    const parsed = parseDataMap(toCity('city'), FIXTURE_LOOKUPS);
    if (!parsed.ok) throw new Error('fixture map invalid');
    const city = parsed.map.entries.find((e) => e.target?.path === 'Contact.MailingCity');
    expect(city).toBeDefined();
    const forged: DataMap = {
      ...parsed.map,
      entries: parsed.map.entries.map((e) => (e === city ? { ...e, sources: ['notes'], key: 'forged' } : e)),
    };
    const record = { id: '7', first_name: 'A', last_name: 'B', notes: 'DIAGNOSIS-CANARY', city: 'Hobart' };
    const refused = projectRecord('patients', record, forged);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.problems).toContainEqual(
        expect.objectContaining({ entry: 'forged', field: 'patients.notes' }),
      );
      expect(JSON.stringify(refused.problems)).not.toContain('DIAGNOSIS-CANARY');
    }
    const control = projectRecord('patients', record, parsed.map);
    expect(control.ok).toBe(true);
  });
});
