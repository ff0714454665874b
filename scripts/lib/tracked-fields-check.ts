import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ORG_SETUP_DIR } from './metadata-generate.js';
import { MAX_TRACKED_FIELDS } from './metadata-rules.js';
import { bool, parseMetadataXml, text } from '../../lib/metadata/xml.js';

/**
 * The pre-deploy check for history tracking (force-app-org-setup/README.md): Salesforce tracks at
 * most 20 fields per object, counting the fields the org already tracks, and refuses a deploy that
 * goes over with "exceeded the allowed number of fields to track on a given entity". The org's
 * tracked fields are read with SOQL on FieldDefinition (IsFieldHistoryTracked = true) before
 * deploying, so the admin hears it before the deploy fails half-way, with the fields named.
 *
 * For scripts/deploy.ts: `await checkTrackedFieldHeadroom(repoRoot, (soql) => conn.query(soql))`
 * before deploying force-app-org-setup; it throws a TrackedFieldsError when any object would go over.
 */

/** Salesforce's own error text when a deploy would track more fields than the object allows. */
export const SALESFORCE_TRACKED_FIELDS_MESSAGE =
  'exceeded the allowed number of fields to track on a given entity';

/** The SOQL that lists an object's history-tracked fields in the target org. */
export function trackedFieldsQuery(object: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(object))
    throw new Error(`not an object API name: ${JSON.stringify(object)}`);
  return (
    'SELECT QualifiedApiName FROM FieldDefinition ' +
    `WHERE EntityDefinition.QualifiedApiName = '${object}' AND IsFieldHistoryTracked = true`
  );
}

/**
 * The field names out of a query result, after checking its shape: an error answer or a partial
 * page must never read as "the org tracks nothing".
 */
export function parseTrackedFields(object: string, result: unknown): string[] {
  const where = `FieldDefinition query for ${object}`;
  if (typeof result !== 'object' || result === null) throw new Error(`${where}: the answer is not an object`);
  const r = result as { done?: unknown; totalSize?: unknown; records?: unknown };
  if (!Array.isArray(r.records) || typeof r.totalSize !== 'number')
    throw new Error(`${where}: the answer has no records list and totalSize`);
  if (r.done !== true || r.records.length !== r.totalSize)
    throw new Error(`${where}: the answer is incomplete (${r.records.length} of ${r.totalSize} records)`);
  return r.records.map((rec: unknown, i) => {
    const name = (rec as { QualifiedApiName?: unknown } | null)?.QualifiedApiName;
    if (typeof name !== 'string' || name === '')
      throw new Error(`${where}: record ${i} has no QualifiedApiName`);
    return name;
  });
}

/**
 * The query answer inside `sf data query --json` output: `{ status: 0, result: { records, totalSize,
 * done } }`. A failed query (`status` not 0) throws with the CLI's message (it names the problem,
 * not data).
 */
export function sfQueryResult(stdout: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error('sf data query did not print JSON');
  }
  const p = parsed as { status?: unknown; result?: unknown; message?: unknown; name?: unknown };
  if (p.status !== 0) {
    const why =
      typeof p.message === 'string' ? p.message : typeof p.name === 'string' ? p.name : 'unknown error';
    throw new Error(`sf data query failed: ${why}`);
  }
  return p.result;
}

export interface TrackedFieldsVerdict {
  readonly object: string;
  readonly ok: boolean;
  /** Tracked after the deploy: the org's fields and ours, each field once. */
  readonly total: number;
  readonly limit: number;
  /** Our fields the org does not track yet. */
  readonly adding: readonly string[];
  readonly alreadyTracked: readonly string[];
  /** Set when not ok: Salesforce's message, then the numbers and what to do. */
  readonly message?: string;
}

/** Whether tracking `toTrack` on top of what the org tracks stays within `limit` (field names match case-insensitively). */
export function checkTrackedFieldCapacity(input: {
  readonly object: string;
  readonly alreadyTracked: readonly string[];
  readonly toTrack: readonly string[];
  readonly limit?: number;
}): TrackedFieldsVerdict {
  const limit = input.limit ?? MAX_TRACKED_FIELDS;
  const tracked = new Set(input.alreadyTracked.map((f) => f.toLowerCase()));
  const adding = [...new Set(input.toTrack)].filter((f) => !tracked.has(f.toLowerCase())).sort();
  const total = tracked.size + adding.length;
  const base = {
    object: input.object,
    total,
    limit,
    adding,
    alreadyTracked: [...input.alreadyTracked].sort(),
  };
  if (total <= limit) return { ...base, ok: true };
  return {
    ...base,
    ok: false,
    message:
      `${input.object}: ${SALESFORCE_TRACKED_FIELDS_MESSAGE}. The org tracks ${tracked.size} ${input.object} ` +
      `field(s) (${base.alreadyTracked.join(', ') || 'none'}); ${ORG_SETUP_DIR} would add ${adding.length} ` +
      `(${adding.join(', ')}), ${total} of ${limit}. Stop tracking ${total - limit} field(s) in Setup, ` +
      `or track fewer (CONTACT_TRACKED_FIELDS in scripts/lib/metadata-generate.ts), then deploy again.`,
  };
}

/** The fields each object in the org-setup folder tracks: object -> field names. */
export function orgSetupTrackedFields(repoRoot: string): Map<string, string[]> {
  const objectsDir = path.join(repoRoot, ORG_SETUP_DIR, 'main', 'default', 'objects');
  const out = new Map<string, string[]>();
  if (!existsSync(objectsDir)) return out;
  for (const object of readdirSync(objectsDir).sort()) {
    const fieldsDir = path.join(objectsDir, object, 'fields');
    if (!existsSync(fieldsDir)) continue;
    const fields: string[] = [];
    for (const file of readdirSync(fieldsDir).sort()) {
      if (!file.endsWith('.field-meta.xml')) continue;
      const { node } = parseMetadataXml(readFileSync(path.join(fieldsDir, file), 'utf8'));
      if (bool(node, 'trackHistory'))
        fields.push(text(node, 'fullName') ?? file.replace(/\.field-meta\.xml$/, ''));
    }
    if (fields.length > 0) out.set(object, fields);
  }
  return out;
}

export class TrackedFieldsError extends Error {
  constructor(readonly verdicts: readonly TrackedFieldsVerdict[]) {
    super(verdicts.flatMap((v) => (v.message === undefined ? [] : [v.message])).join('\n'));
    this.name = 'TrackedFieldsError';
  }
}

/**
 * Reads what the target org tracks for every object the org-setup folder tracks fields on, and
 * throws a TrackedFieldsError (Salesforce's message, numbers, field names) if any would exceed the
 * limit. `query` runs SOQL against the target org, e.g. `(soql) => conn.query(soql)` with jsforce.
 */
export async function checkTrackedFieldHeadroom(
  repoRoot: string,
  query: (soql: string) => Promise<unknown>,
  limit = MAX_TRACKED_FIELDS,
): Promise<TrackedFieldsVerdict[]> {
  const verdicts: TrackedFieldsVerdict[] = [];
  for (const [object, toTrack] of orgSetupTrackedFields(repoRoot)) {
    const alreadyTracked = parseTrackedFields(object, await query(trackedFieldsQuery(object)));
    verdicts.push(checkTrackedFieldCapacity({ object, alreadyTracked, toTrack, limit }));
  }
  if (verdicts.some((v) => !v.ok)) throw new TrackedFieldsError(verdicts);
  return verdicts;
}
