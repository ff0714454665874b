import { child, children, text, texts, type XmlNode } from './xml.js';

/**
 * What a Flow (`<Flow>`, source or Metadata API format: the same XML) says about the org's schema: the
 * objects and fields it names. Salesforce compiles a Flow when it is deployed, even an inactive one, and
 * refuses the deploy if a name does not resolve; the validator (`npm run validate:metadata`) and the
 * Salesforce emulator's deploy check these references against their own picture of the org, so the
 * two read a Flow the same way here.
 *
 * Covered: the trigger object (`start.object`) and its entry filters and scheduled-path fields;
 * `$Record.Field` wherever it appears (references, conditions, text templates, formulas); the object,
 * filters, assignments and queried fields of Get/Create/Update/Delete Records; and `Get_X.Field`
 * through a lookup stored automatically. Not covered: relationship paths (`$Record.Account.Name` is
 * skipped whole), Apex actions, subflows and record variables (`inputReference`).
 */

export interface FlowReference {
  /** The object the name belongs to. */
  readonly object: string;
  /** The field, or undefined for a reference to the object alone. */
  readonly field: string | undefined;
  /** Where in the Flow it appears (element name and role), for messages. */
  readonly element: string;
}

const RECORD_ELEMENTS = ['recordLookups', 'recordCreates', 'recordUpdates', 'recordDeletes'] as const;

/** Every text value below `node`. */
function allTexts(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) for (const v of node) allTexts(v, out);
  else if (typeof node === 'object' && node !== null)
    for (const [k, v] of Object.entries(node)) if (!k.startsWith('@_')) allTexts(v, out);
  return out;
}

/** `Name.Field` or `Name.Field.Other` references to `prefix` (e.g. `$Record`) inside free text. */
function dottedFields(value: string, prefix: string): string[] {
  const escaped = prefix.replace(/[$.]/g, (c) => `\\${c}`);
  const re = new RegExp(`(?<![\\w$])${escaped}\\.([A-Za-z][A-Za-z0-9_]*)(\\.[A-Za-z])?`, 'g');
  const out: string[] = [];
  for (const m of value.matchAll(re)) {
    // A relationship path (`$Record.Contact__r.Name`) is left alone: its first part is a relationship.
    if (m[2] === undefined) out.push(m[1] ?? '');
  }
  return out;
}

/** The trigger object of a record- or platform-event-triggered Flow, or undefined. */
export function flowTriggerObject(flow: XmlNode): string | undefined {
  return text(child(flow, 'start'), 'object');
}

/** Every object and field the Flow names (duplicates kept: each with its own element). */
export function flowReferences(flow: XmlNode): FlowReference[] {
  const refs: FlowReference[] = [];
  const start = child(flow, 'start');
  const trigger = flowTriggerObject(flow);
  if (trigger !== undefined) {
    refs.push({ object: trigger, field: undefined, element: 'start object' });
    for (const f of children(start, 'filters'))
      refs.push({ object: trigger, field: text(f, 'field'), element: 'start filters' });
    for (const p of children(start, 'scheduledPaths')) {
      const field = text(p, 'recordField');
      if (field !== undefined)
        refs.push({ object: trigger, field, element: `scheduledPaths ${text(p, 'name') ?? ''}` });
    }
    for (const value of allTexts(flow))
      for (const field of dottedFields(value, '$Record'))
        refs.push({ object: trigger, field, element: `$Record.${field}` });
  }
  for (const kind of RECORD_ELEMENTS) {
    for (const e of children(flow, kind)) {
      const name = text(e, 'name') ?? kind;
      const object = text(e, 'object');
      if (object === undefined) continue; // inputReference: a record variable, checked through its source
      refs.push({ object, field: undefined, element: `${name} object` });
      for (const f of children(e, 'filters'))
        refs.push({ object, field: text(f, 'field'), element: `${name} filters` });
      for (const a of children(e, 'inputAssignments'))
        refs.push({ object, field: text(a, 'field'), element: `${name} inputAssignments` });
      for (const field of texts(e, 'queriedFields'))
        refs.push({ object, field, element: `${name} queriedFields` });
      if (kind === 'recordLookups' && text(e, 'storeOutputAutomatically') === 'true')
        for (const value of allTexts(flow))
          for (const field of dottedFields(value, name))
            refs.push({ object, field, element: `${name}.${field}` });
    }
  }
  return refs.filter((r) => r.field === undefined || r.field !== '');
}
