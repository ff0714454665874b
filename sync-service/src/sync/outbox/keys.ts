import { patientIdOf } from '../common/parents.js';
import type { OutboxItem } from '../../store/index.js';
import { CHILD_OBJECTS } from '../objects.js';

/** The outbox key may carry a slot (`123#journey`); Salesforce only knows the external id. */
export function externalIdOf(item: Pick<OutboxItem, 'externalId'>): string {
  return item.externalId.split('#')[0] ?? item.externalId;
}

/**
 * The slots a record's fields may come from besides its own projection (`<id>`): the journey
 * derivations (`#journey` on Contact, `#progress` on Care_Plan__c) and the merge re-pointing
 * (`#parent` on children) and the appointment's last lifecycle event (`#event` on Cliniko_Appointment__c).
 * sync/cycle/journeys.ts, merges.ts and appointment-events.ts name them.
 */
export const SLOTS = ['journey', 'progress', 'parent', 'event'] as const;
export type Slot = (typeof SLOTS)[number];

/**
 * The objects each slot is written on, as its producers write it (`slotKey`). A drain claims a
 * record's other slots with it (worker.ts), and asks only for the slots its object can have: asking
 * for all four, for every item of a backfill's claims, was four look-ups a record that found nothing
 * (issue #16).
 */
export const SLOT_OBJECTS: Readonly<Record<Slot, readonly string[]>> = {
  journey: ['Contact'],
  progress: ['Care_Plan__c'],
  parent: Object.values(CHILD_OBJECTS),
  event: ['Cliniko_Appointment__c'],
};

const slotsByObject = new Map<string, Slot[]>();
for (const slot of SLOTS)
  for (const object of SLOT_OBJECTS[slot])
    slotsByObject.set(object, [...(slotsByObject.get(object) ?? []), slot]);

/**
 * The outbox key of a slot of a record (`123#journey`). Refuses a slot its object is not listed for
 * in SLOT_OBJECTS: the drain would not claim it with its record, and the record would be written twice.
 */
export function slotKey(object: string, externalId: string, slot: Slot): string {
  if (!SLOT_OBJECTS[slot].includes(object)) throw new Error(`${object} has no #${slot} slot (SLOT_OBJECTS)`);
  return `${externalId}#${slot}`;
}

/** Every outbox key one Salesforce record of `object` can be written under: its own and each slot's. */
export function slotKeysOf(object: string, externalId: string): string[] {
  return [externalId, ...(slotsByObject.get(object) ?? []).map((slot) => `${externalId}#${slot}`)];
}

/** Where the payload says its record belongs to a patient (for `audit show --patient`). */
export function patientOf(item: OutboxItem, fields: Record<string, unknown>): string | null {
  if (item.object === 'Contact') return item.externalId.split('#')[0] ?? null;
  return patientIdOf(fields);
}

/**
 * Groups claimed items by object and operation, in claim order (priority first). Upserts of the same
 * Salesforce record under different slots (`123` and `123#journey`) stay in one group: the writer sends
 * them as one merged payload (`writeUnits`), one write per record. Any other repeat of a record is split
 * into a later group (Salesforce rejects duplicate external ids in one collection request).
 */
export function groupForWrite(
  items: readonly OutboxItem[],
): Array<{ object: string; operation: OutboxItem['operation']; items: OutboxItem[] }> {
  const groups: Array<{
    object: string;
    operation: OutboxItem['operation'];
    items: OutboxItem[];
    keys: Set<string>;
  }> = [];
  for (const item of items) {
    const key = item.operation === 'upsert' ? item.externalId : externalIdOf(item);
    let group = groups.find(
      (g) => g.object === item.object && g.operation === item.operation && !g.keys.has(key),
    );
    if (!group) {
      group = { object: item.object, operation: item.operation, items: [], keys: new Set() };
      groups.push(group);
    }
    group.items.push(item);
    group.keys.add(key);
  }
  return groups.map(({ object, operation, items: list }) => ({ object, operation, items: list }));
}

/** One Salesforce record's write: the items (slots) it carries and their fields merged. */
export interface WriteUnit {
  readonly items: OutboxItem[];
  readonly fields: Record<string, unknown>;
}

/**
 * The records one group writes. Upserts of the same record are merged: the base payload first, then
 * each slot's fields in slot order (a slot's field wins: `#parent` re-points a child on purpose, and
 * the journey slots carry only fields the projection never sets). Each item keeps its own payload and
 * hash, so change detection and the audit stay per slot. Other operations: one unit per item.
 */
export function writeUnits(
  operation: OutboxItem['operation'],
  items: readonly OutboxItem[],
  payloads: ReadonlyArray<Record<string, unknown>>,
): WriteUnit[] {
  if (operation !== 'upsert') return items.map((item, i) => ({ items: [item], fields: payloads[i]! }));
  const byRecord = new Map<string, Array<{ item: OutboxItem; fields: Record<string, unknown> }>>();
  items.forEach((item, i) => {
    const key = externalIdOf(item);
    const list = byRecord.get(key) ?? [];
    list.push({ item, fields: payloads[i]! });
    byRecord.set(key, list);
  });
  return [...byRecord.values()].map((list) => {
    list.sort((a, b) => slotRank(a.item) - slotRank(b.item));
    return {
      items: list.map((x) => x.item),
      fields: Object.assign({}, ...list.map((x) => x.fields)) as Record<string, unknown>,
    };
  });
}

function slotRank(item: OutboxItem): number {
  const slot = item.externalId.split('#')[1];
  return slot === undefined ? -1 : SLOTS.indexOf(slot as (typeof SLOTS)[number]);
}
