import { child, children, text, texts, type XmlNode } from './xml.js';

/**
 * Related lists a page layout or a Lightning record page shows, and whether the org's schema has
 * them. Salesforce resolves both when they are deployed: a layout names a custom child list as
 * `<Child>.<LookupField>` (`Cliniko_Appointment__c.Contact__c`), a FlexiPage's related-list component
 * names it by the parent's child relationship (`Cliniko_Appointments__r`, App Builder's "Could not find
 * related list" otherwise); both list columns and a sort field of the child. The validator
 * (`npm run validate:metadata`) and the Salesforce emulator's deploy read them here, each against its
 * own picture of the org. Standard lists (`RelatedHistoryList`, `Contacts`) are not checked: neither
 * picture knows every standard relationship. Columns are checked when they are custom fields (`__c`);
 * `NAME` and other standard column aliases are left alone.
 */

export interface RelatedListUse {
  /** Where it appears, for messages. */
  readonly element: string;
  /** The parent object: the layout's object, or the FlexiPage's `parentFieldApiName` object. */
  readonly parent: string;
  /** Layout form: the child object and its lookup to the parent. */
  readonly child?: { readonly object: string; readonly field: string };
  /** FlexiPage form: the parent's child relationship name. */
  readonly relationship?: string;
  readonly columns: readonly string[];
  readonly sortField: string | undefined;
}

/** The FlexiPage components that show one related list. */
export const RELATED_LIST_COMPONENTS: ReadonlySet<string> = new Set([
  'lst:dynamicRelatedList',
  'force:relatedListSingleContainer',
]);

/** The custom child lists (`Child.Field`) of a layout of `object`. */
export function layoutRelatedLists(layout: XmlNode, object: string): RelatedListUse[] {
  return children(layout, 'relatedLists').flatMap((r) => {
    const name = text(r, 'relatedList') ?? '';
    const dot = name.indexOf('.');
    if (dot <= 0) return [];
    return [
      {
        element: `relatedLists ${name}`,
        parent: object,
        child: { object: name.slice(0, dot), field: name.slice(dot + 1) },
        columns: texts(r, 'fields'),
        sortField: text(r, 'sortField'),
      },
    ];
  });
}

function property(component: XmlNode, name: string): XmlNode | undefined {
  return children(component, 'componentInstanceProperties').find((p) => text(p, 'name') === name);
}

/** The related-list components of a FlexiPage (every region, facets included). */
export function flexiPageRelatedLists(page: XmlNode): RelatedListUse[] {
  const pageObject = text(page, 'sobjectType');
  const uses: RelatedListUse[] = [];
  for (const region of children(page, 'flexiPageRegions')) {
    for (const item of children(region, 'itemInstances')) {
      const component = child(item, 'componentInstance');
      if (component === undefined || !RELATED_LIST_COMPONENTS.has(text(component, 'componentName') ?? ''))
        continue;
      const parentField = text(property(component, 'parentFieldApiName'), 'value');
      const sort = text(property(component, 'sortFieldAlias'), 'value');
      uses.push({
        element: `${text(component, 'identifier') ?? text(component, 'componentName')}`,
        parent: parentField?.split('.')[0] ?? pageObject ?? '',
        relationship: text(property(component, 'relatedListApiName'), 'value') ?? '',
        columns: children(
          child(property(component, 'relatedListFieldAliases'), 'valueList'),
          'valueListItems',
        )
          .map((v) => text(v, 'value') ?? '')
          .filter((v) => v !== ''),
        sortField: sort === '__DEFAULT__' ? undefined : sort,
      });
    }
  }
  return uses;
}

/** A field as either picture of the org knows it: enough to follow a lookup. */
export interface RelatedListField {
  readonly name: string;
  readonly referenceTo: string | undefined;
  readonly relationshipName: string | undefined;
}

export interface RelatedListSchema {
  /** The object's fields, or undefined when the object is unknown. */
  fieldsOf(object: string): readonly RelatedListField[] | undefined;
  /** Every object name known (to find the child of a relationship). */
  objectNames(): Iterable<string>;
}

const same = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** What does not resolve in one related list; empty when it all does. */
export function relatedListProblems(use: RelatedListUse, schema: RelatedListSchema): string[] {
  let childObject: string;
  if (use.child !== undefined) {
    const fields = schema.fieldsOf(use.child.object);
    if (fields === undefined) return [`${use.child.object} is not an object of the org`];
    const lookup = fields.find((f) => same(f.name, use.child?.field));
    if (lookup === undefined) return [`${use.child.object}.${use.child.field} is not a field of the org`];
    if (!same(lookup.referenceTo, use.parent))
      return [`${use.child.object}.${use.child.field} does not look up ${use.parent}`];
    childObject = use.child.object;
  } else {
    const relationship = use.relationship ?? '';
    if (!relationship.endsWith('__r')) return []; // a standard relationship: not checked
    const found = [...schema.objectNames()].find((o) =>
      (schema.fieldsOf(o) ?? []).some(
        (f) => same(f.referenceTo, use.parent) && same(`${f.relationshipName ?? ''}__r`, relationship),
      ),
    );
    if (found === undefined) return [`Could not find related list ${relationship} on ${use.parent}`];
    childObject = found;
  }
  const fields = schema.fieldsOf(childObject) ?? [];
  const problems: string[] = [];
  for (const column of new Set([...use.columns, ...(use.sortField === undefined ? [] : [use.sortField])])) {
    if (column.endsWith('__c') && !fields.some((f) => same(f.name, column)))
      problems.push(`${childObject}.${column} is not a field of the org`);
  }
  return problems;
}
