import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { dataMapSha256 } from '../../sync-service/src/governance/canonical.js';

/**
 * config/data-map.yaml as the metadata tools need it (format: docs/data-model.md). The service's
 * governance module validates the map in depth at run time; this loader checks the structure the
 * generator relies on and reports problems naming the entry, so the tools fail with a clear message
 * rather than write wrong permissions.
 */

export const CLASSIFICATIONS = ['marketing-safe', 'operations-safe', 'billing', 'clinician-only'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** The people a permission set serves, in the order the docs list them. */
export const AUDIENCES = ['marketing', 'operations', 'billing', 'compliance'] as const;
export type Audience = (typeof AUDIENCES)[number];

/**
 * The visibility lattice (docs/data-model.md): which audiences may read a field of each
 * classification. The integration user edits every synced field and is not an audience.
 */
export const AUDIENCES_BY_CLASSIFICATION: Readonly<Record<Classification, readonly Audience[]>> = {
  'marketing-safe': ['marketing', 'operations', 'billing', 'compliance'],
  'operations-safe': ['operations', 'compliance'],
  billing: ['billing', 'compliance'],
  'clinician-only': [],
};

const text = z.string().trim().min(1);
const entrySchema = z.strictObject({
  resource: text,
  source: z.union([text, z.array(text).min(1)]),
  classification: z.enum(CLASSIFICATIONS),
  target: text.optional(),
  direction: z.enum(['cliniko-to-salesforce', 'both']).optional(),
  transform: text.optional(),
  rationale: text,
});
const derivedSchema = z.strictObject({
  target: text,
  classification: z.enum(CLASSIFICATIONS),
  from: z.array(text).min(1),
  rationale: text,
});
const mapSchema = z.strictObject({
  version: z.literal(1),
  signoff: z.strictObject({
    approvedBy: text,
    // YAML reads an unquoted 2026-11-22 as a string with the `yaml` package's core schema.
    approvedOn: z.union([z.string().regex(/^\d{4}-\d{2}-\d{2}$/), z.date()]),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    entries: z.record(z.string(), z.string()).optional(),
  }),
  entries: z.array(z.unknown()),
  derived: z.array(z.unknown()).default([]),
});

export interface MapEntry {
  readonly index: number;
  readonly resource: string;
  readonly sources: readonly string[];
  readonly classification: Classification;
  readonly target: string | undefined;
  readonly direction: 'cliniko-to-salesforce' | 'both';
  readonly transform: string | undefined;
  readonly rationale: string;
  /** `patients.email -> Contact.Email`, for messages. */
  readonly label: string;
}

export interface MapDerived {
  readonly index: number;
  readonly target: string;
  readonly classification: Classification;
  readonly from: readonly string[];
  readonly rationale: string;
  readonly label: string;
}

export interface LoadedDataMap {
  readonly signoff: { readonly approvedBy: string; readonly approvedOn: string; readonly sha256: string };
  readonly entries: readonly MapEntry[];
  readonly derived: readonly MapDerived[];
  /** sha256 of the canonical form of the map as it is now (sync-service/src/governance/canonical.ts). */
  readonly currentSha256: string;
}

export class DataMapError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`config/data-map.yaml:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DataMapError';
  }
}

function issues(where: string, error: z.ZodError): string[] {
  return error.issues.map((i) => `${where}${i.path.length > 0 ? ` ${i.path.join('.')}` : ''}: ${i.message}`);
}

/** Parses the map text; throws DataMapError listing every structural problem. */
export function parseDataMapText(yamlText: string): LoadedDataMap {
  const problems: string[] = [];
  const doc: unknown = parse(yamlText);
  const top = mapSchema.safeParse(doc);
  if (!top.success) throw new DataMapError(issues('data map', top.error));
  const entries: MapEntry[] = [];
  top.data.entries.forEach((raw, index) => {
    const r = entrySchema.safeParse(raw);
    if (!r.success) {
      problems.push(...issues(`entries[${index}]`, r.error));
      return;
    }
    const e = r.data;
    const sources = typeof e.source === 'string' ? [e.source] : e.source;
    const label = `${e.resource}.${sources.join('+')}${e.target === undefined ? '' : ` -> ${e.target}`}`;
    entries.push({
      index,
      resource: e.resource,
      sources,
      classification: e.classification,
      target: e.target,
      direction: e.direction ?? 'cliniko-to-salesforce',
      transform: e.transform,
      rationale: e.rationale,
      label: `entries[${index}] (${label})`,
    });
  });
  const derived: MapDerived[] = [];
  top.data.derived.forEach((raw, index) => {
    const r = derivedSchema.safeParse(raw);
    if (!r.success) {
      problems.push(...issues(`derived[${index}]`, r.error));
      return;
    }
    derived.push({ index, ...r.data, label: `derived[${index}] (${r.data.target})` });
  });
  if (problems.length > 0) throw new DataMapError(problems);
  const { approvedOn } = top.data.signoff;
  return {
    signoff: {
      approvedBy: top.data.signoff.approvedBy,
      approvedOn: approvedOn instanceof Date ? approvedOn.toISOString().slice(0, 10) : approvedOn,
      sha256: top.data.signoff.sha256,
    },
    entries,
    derived,
    currentSha256: dataMapSha256(top.data.entries, top.data.derived),
  };
}

export function loadDataMap(file: string): LoadedDataMap {
  return parseDataMapText(readFileSync(file, 'utf8'));
}

/** A synced Salesforce field: a target of an entry or of a derived field, with its classification. */
export interface SyncedField {
  readonly target: string;
  readonly object: string;
  readonly field: string;
  readonly classification: Exclude<Classification, 'clinician-only'>;
  readonly from: string;
}

/** Every Salesforce field the map fills, sorted by target. */
export function syncedFields(map: LoadedDataMap): SyncedField[] {
  const out: SyncedField[] = [];
  const add = (target: string, classification: Classification, from: string) => {
    if (classification === 'clinician-only') return;
    const dot = target.indexOf('.');
    out.push({ target, object: target.slice(0, dot), field: target.slice(dot + 1), classification, from });
  };
  for (const e of map.entries) if (e.target !== undefined) add(e.target, e.classification, e.label);
  for (const d of map.derived) add(d.target, d.classification, d.label);
  return out.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
