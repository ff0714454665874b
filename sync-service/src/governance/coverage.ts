import type { DataMap } from './data-map.js';

/**
 * `data-map coverage`: Cliniko fields seen in real payloads that the map does not mention at all.
 * Such fields are not shared (the projection is an allow-list), but the compliance officer should
 * classify them so the decision is on record. Counts only: no values are kept.
 */

export interface CoverageGap {
  readonly resource: string;
  readonly field: string;
  /** How many of the records seen carried the field. */
  readonly records: number;
}

export interface CoverageReport {
  /** Records seen per resource. */
  readonly recordsSeen: Readonly<Record<string, number>>;
  /** Resources seen that the map has no entry for at all. */
  readonly unmappedResources: readonly string[];
  readonly gaps: readonly CoverageGap[];
}

/** Streaming form, so a run can feed records as they pass without holding them. */
export class CoverageCollector {
  private readonly mentioned = new Map<string, Set<string>>();
  private readonly seen = new Map<string, Map<string, number>>();
  private readonly records = new Map<string, number>();

  constructor(map: DataMap) {
    for (const entry of map.entries) {
      const fields = this.mentioned.get(entry.resource) ?? new Set<string>();
      for (const s of entry.sources) fields.add(s);
      this.mentioned.set(entry.resource, fields);
    }
  }

  add(resource: string, record: unknown): void {
    this.records.set(resource, (this.records.get(resource) ?? 0) + 1);
    if (typeof record !== 'object' || record === null || Array.isArray(record)) return;
    const counts = this.seen.get(resource) ?? new Map<string, number>();
    this.seen.set(resource, counts);
    for (const key of Object.keys(record)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  report(): CoverageReport {
    const gaps: CoverageGap[] = [];
    const unmappedResources: string[] = [];
    for (const [resource, counts] of this.seen) {
      const mentioned = this.mentioned.get(resource);
      if (mentioned === undefined) unmappedResources.push(resource);
      for (const [field, records] of counts) {
        if (!mentioned?.has(field)) gaps.push({ resource, field, records });
      }
    }
    gaps.sort((a, b) => (a.resource + '.' + a.field < b.resource + '.' + b.field ? -1 : 1));
    return {
      recordsSeen: Object.fromEntries([...this.records].sort(([a], [b]) => (a < b ? -1 : 1))),
      unmappedResources: unmappedResources.sort(),
      gaps,
    };
  }
}

/** One-shot form over records already in hand. */
export function coverage(
  rawRecordsByResource: Readonly<Record<string, Iterable<unknown>>> | ReadonlyMap<string, Iterable<unknown>>,
  map: DataMap,
): CoverageReport {
  const collector = new CoverageCollector(map);
  const pairs =
    rawRecordsByResource instanceof Map ? [...rawRecordsByResource] : Object.entries(rawRecordsByResource);
  for (const [resource, records] of pairs as [string, Iterable<unknown>][]) {
    for (const record of records) collector.add(resource, record);
  }
  return collector.report();
}
