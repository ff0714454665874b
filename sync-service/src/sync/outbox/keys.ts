import { patientIdOf } from '../common/parents.js';
import type { OutboxItem } from '../../store/index.js';

/** The outbox key may carry a slot (`123#journey`); Salesforce only knows the external id. */
export function externalIdOf(item: OutboxItem): string {
  return item.externalId.split('#')[0] ?? item.externalId;
}

/** Where the payload says its record belongs to a patient (for `audit show --patient`). */
export function patientOf(item: OutboxItem, fields: Record<string, unknown>): string | null {
  if (item.object === 'Contact') return item.externalId.split('#')[0] ?? null;
  return patientIdOf(fields);
}

/**
 * Groups claimed items by object and operation, in claim order (priority first), and splits a group
 * wherever the same Salesforce record would appear twice in one call (Salesforce rejects duplicate
 * external ids in one collection request).
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
    const key = externalIdOf(item);
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
