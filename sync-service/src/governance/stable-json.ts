import { createHash } from 'node:crypto';

/**
 * Canonical JSON for hashing payloads and audit entries: object keys sorted by code unit, no
 * whitespace, `undefined` members dropped (as JSON.stringify does). Two payloads that mean the same
 * thing hash the same whatever order their keys were built in. Non-finite numbers, functions, symbols
 * and bigints are refused: they have no JSON form, and silently writing `null` would hide a bug.
 *
 * (The data map's own canonical form lives in canonical.ts; this one is for runtime payloads.)
 */
export function stableJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('stableJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v: unknown) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
      }
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`stableJson: cannot encode a ${typeof value}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a value: the payload fingerprint used by audit and change detection. */
export function payloadSha256(value: unknown): string {
  return sha256Hex(stableJson(value));
}
