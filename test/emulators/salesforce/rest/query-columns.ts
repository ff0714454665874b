/**
 * `query?q=...&columns=true`: the columns of a query instead of its rows, in the shape Salesforce
 * returns (`columnMetadata` with `joinColumns` for relationships and subqueries, `aggregate` for
 * functions and subqueries, `expr0`... for unaliased aggregates). `sf data query` asks for it to lay out
 * its table. The query is first run through the engine so that a bad query fails with the same error as
 * the query itself; the columns come from the parsed SELECT list, named as the schema spells them.
 */
import { parseQuery, type FieldType as ParsedField, type Query } from '@jetstreamapp/soql-parser-js';
import type { SoqlContext, SoqlField, SoqlObject } from '../model.js';
import { executeSoql } from '../soql/index.js';

export interface QueryColumn {
  aggregate: boolean;
  apexType: string | null;
  booleanType: boolean;
  columnName: string;
  custom: boolean;
  displayName: string;
  foreignKeyName: string | null;
  insertable: boolean;
  joinColumns: QueryColumn[];
  numberType: boolean;
  textType: boolean;
  updatable: boolean;
}

const APEX_TYPES: Record<string, string> = {
  id: 'Id',
  reference: 'Id',
  boolean: 'Boolean',
  int: 'Integer',
  double: 'Double',
  currency: 'Decimal',
  percent: 'Decimal',
  date: 'Date',
  datetime: 'Datetime',
};

function fieldOf(object: SoqlObject | undefined, name: string): SoqlField | undefined {
  return object?.fields.get(name.toLowerCase());
}

function column(name: string, field: SoqlField | undefined, extra: Partial<QueryColumn> = {}): QueryColumn {
  const type = field?.type ?? 'string';
  const apexType = APEX_TYPES[type] ?? 'String';
  return {
    aggregate: false,
    apexType,
    booleanType: type === 'boolean',
    columnName: field?.name ?? name,
    custom: (field?.name ?? name).endsWith('__c'),
    displayName: field?.name ?? name,
    foreignKeyName: null,
    insertable: false,
    joinColumns: [],
    numberType: ['int', 'double', 'currency', 'percent'].includes(type),
    textType: apexType === 'String',
    updatable: false,
    ...extra,
  };
}

/** `Account.Owner.Name` from `Contact`: Account -> joinColumns [Owner -> joinColumns [Name]]. */
function relationshipColumn(
  ctx: SoqlContext,
  object: SoqlObject | undefined,
  hops: string[],
  leaf: string,
): QueryColumn {
  const [hop, ...rest] = hops;
  if (hop === undefined) return column(leaf, fieldOf(object, leaf));
  const reference = object
    ? [...object.fields.values()].find((f) => f.relationshipName?.toLowerCase() === hop.toLowerCase())
    : undefined;
  const target = reference?.referenceTo?.[0] ? ctx.describe(reference.referenceTo[0]) : undefined;
  const name = reference?.relationshipName ?? hop;
  return column(name, undefined, {
    apexType: target?.name ?? null,
    columnName: name,
    displayName: name,
    textType: false,
    foreignKeyName: reference?.name ?? null,
    joinColumns: [relationshipColumn(ctx, target, rest, leaf)],
  });
}

function columnsOf(ctx: SoqlContext, query: Query, objectName: string): QueryColumn[] {
  const object = ctx.describe(objectName);
  let expr = 0;
  return (query.fields ?? []).map((f: ParsedField): QueryColumn => {
    switch (f.type) {
      case 'Field':
        return column(f.field, fieldOf(object, f.field));
      case 'FieldRelationship':
        return relationshipColumn(ctx, object, f.relationships, f.field);
      case 'FieldFunctionExpression': {
        const name = f.alias ?? (f.isAggregateFn ? `expr${expr++}` : f.functionName);
        const numeric = ['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG'].includes(f.functionName.toUpperCase());
        return column(name, undefined, {
          aggregate: f.isAggregateFn ?? false,
          apexType: numeric ? (f.functionName.toUpperCase() === 'AVG' ? 'Double' : 'Integer') : null,
          displayName: f.alias ?? f.rawValue ?? name,
          numberType: numeric,
          textType: false,
        });
      }
      case 'FieldSubquery': {
        const relationship = f.subquery.relationshipName;
        const child = object?.childRelationships
          ? [...object.childRelationships.entries()].find(
              ([key]) => key.toLowerCase() === relationship.toLowerCase(),
            )
          : undefined;
        const childName = child?.[1].childObject ?? relationship;
        const canonical =
          (child?.[1] as { relationshipName?: string } | undefined)?.relationshipName ?? relationship;
        return column(canonical, undefined, {
          aggregate: true,
          apexType: null,
          textType: false,
          displayName: canonical,
          joinColumns: columnsOf(ctx, f.subquery, childName),
        });
      }
      default:
        return column('expr', undefined);
    }
  });
}

export function queryColumns(soql: string, ctx: SoqlContext) {
  executeSoql(soql, ctx); // same errors as the query itself
  const query = parseQuery(soql);
  const object = ctx.describe(query.sObject ?? '');
  const fields = query.fields ?? [];
  const hasAggregate = fields.some((f) => f.type === 'FieldFunctionExpression' && f.isAggregateFn);
  return {
    columnMetadata: columnsOf(ctx, query, object?.name ?? query.sObject ?? ''),
    entityName: object?.name ?? query.sObject ?? '',
    groupBy: query.groupBy !== undefined || hasAggregate,
    idSelected: fields.some((f) => f.type === 'Field' && f.field.toLowerCase() === 'id'),
    keyPrefix: null,
  };
}
