/**
 * What every served resource shares: the render context, the resource definition (JSON shape plus the
 * values its filterable / sortable fields take), relation links and common columns. Relations are
 * `{ links: { self } }` objects; the spec does not mark them nullable, so an absent relation (no case,
 * no referrer) is left out.
 */
import type { Kind } from '../ids.js';
import { idBig } from '../ids.js';
import type { Patient, Practice } from '../practice.js';
import type { FieldValue } from '../query.js';

export interface RenderContext {
  /** Absolute API base, e.g. http://127.0.0.1:41234/v1 */
  base: string;
  practice: Practice;
  now: number;
  treatmentNoteByAppointment: Int32Array;
}

export type Json = Record<string, unknown>;

export interface ResourceDef<R> {
  kind: Kind;
  /** Envelope key of list responses. */
  plural: string;
  /** Path segment of the record's own URL (`/patients/{id}`). */
  segment: string;
  rows(p: Practice): readonly R[];
  field(row: R, name: string, ctx: RenderContext): FieldValue;
  render(row: R, ctx: RenderContext): Json;
}

export const link = (ctx: RenderContext, path: string): Json => ({ links: { self: `${ctx.base}${path}` } });
export const qLink = (ctx: RenderContext, path: string, field: string, id: string): Json =>
  link(ctx, `${path}?q%5B%5D=${field}%3A%3D${id}`);
/** The id of a relation, or null for none (-1). */
export const idOrNull = (kind: Kind, idx: number): bigint | null => (idx >= 0 ? idBig(kind, idx) : null);

export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function patientLabel(p: Patient): string {
  return `${p.f.first_name} ${p.f.last_name}`;
}

/** Generic accessor for the timestamp columns every resource has. */
export function commonField(
  row: { idx: number; createdAt: number; updatedAt: number },
  kind: Kind,
  name: string,
): FieldValue {
  if (name === 'id') return idBig(kind, row.idx);
  if (name === 'created_at') return row.createdAt;
  if (name === 'updated_at') return row.updatedAt;
  return null;
}

/** Stable key order (alphabetical, as Cliniko serialises) after optional relations were added. */
export function sortKeys(o: Json): Json {
  const out: Json = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
