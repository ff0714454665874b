/**
 * Name resolution: a query's scope (the object queried and the running user), field paths through
 * parent relationships (`Parent__r.Field`), and reading a value along such a path.
 */
import type { SoqlContext, SoqlField, SoqlObject } from '../model.js';
import { type Operand } from './conditions.js';
import { noSuchColumn, unknownRelationship, unsupportedObject } from './errors.js';
import { comparable } from './values.js';

export type Row = Readonly<Record<string, unknown>>;

export interface Hop {
  /** The lookup field, e.g. Contact__c. */
  field: SoqlField;
  /** Canonical relationship name, e.g. Contact__r. */
  relationshipName: string;
}

/** A resolved field path such as `Contact__r.Account.Name`. */
export interface FieldPath {
  hops: Hop[];
  field: SoqlField;
  /** Lower-cased canonical path, for duplicate and GROUP BY checks. */
  key: string;
}

export interface Scope {
  ctx: SoqlContext;
  object: SoqlObject;
  alias?: string;
}

export function describeOrThrow(ctx: SoqlContext, name: string): SoqlObject {
  const object = ctx.describe(name);
  if (!object) throw unsupportedObject(name);
  return object;
}

export function resolvePath(scope: Scope, rawPath: string): FieldPath {
  const { ctx } = scope;
  const segments = rawPath.split('.');
  if (segments.length > 1) {
    // `c.Name` with `FROM Contact c`, or `Contact.Name` with `FROM Contact` unless Contact has a
    // relationship of that name.
    const first = segments[0]!.toLowerCase();
    const isRelationship = [...scope.object.fields.values()].some(
      (f) => f.relationshipName?.toLowerCase() === first,
    );
    if (
      first === scope.alias?.toLowerCase() ||
      (first === scope.object.name.toLowerCase() && !isRelationship)
    ) {
      segments.shift();
    }
  }
  let current = scope.object;
  const hops: Hop[] = [];
  for (const segment of segments.slice(0, -1)) {
    const lower = segment.toLowerCase();
    const lookup = [...current.fields.values()].find(
      (f) => f.type === 'reference' && f.relationshipName?.toLowerCase() === lower,
    );
    const target = lookup?.referenceTo?.[0];
    const parent = target === undefined ? undefined : ctx.describe(target);
    if (!lookup || !parent || !ctx.canRead(current.name, lookup.name)) throw unknownRelationship(segment);
    hops.push({ field: lookup, relationshipName: lookup.relationshipName! });
    current = parent;
  }
  const last = segments[segments.length - 1]!;
  const field = current.fields.get(last.toLowerCase());
  if (!field || !ctx.canRead(current.name, field.name)) throw noSuchColumn(last, current.name);
  const key = [...hops.map((h) => h.relationshipName), field.name].join('.').toLowerCase();
  return { hops, field, key };
}

export function isLive(ctx: SoqlContext, record: Row): boolean {
  return ctx.includeDeleted || record.IsDeleted !== true;
}

/** The parent record a lookup points at, or undefined when empty, dangling or deleted. */
export function parentOf(
  ctx: SoqlContext,
  record: Row,
  hop: Hop,
): { objectName: string; record: Row } | undefined {
  const id = record[hop.field.name];
  if (typeof id !== 'string' || id === '') return undefined;
  const parent = ctx.byId(id);
  if (!parent || parent.record.IsDeleted === true) return undefined;
  return parent;
}

export function rawValue(ctx: SoqlContext, record: Row, path: FieldPath): unknown {
  let current: Row | undefined = record;
  for (const hop of path.hops) {
    current = parentOf(ctx, current, hop)?.record;
    if (!current) return null;
  }
  return current[path.field.name];
}

export function recordOperand(scope: Scope, rawPath: string): Operand<Row> {
  const path = resolvePath(scope, rawPath);
  return {
    name: path.field.name,
    type: path.field.type,
    get: (record) => comparable(path.field.type, rawValue(scope.ctx, record, path)),
  };
}

export function sobjectUrl(ctx: SoqlContext, type: string, id: unknown): string {
  return `/services/data/v${ctx.apiVersion}/sobjects/${type}/${String(id)}`;
}
