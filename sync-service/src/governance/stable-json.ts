/**
 * Transitional re-export: the canonical JSON lives in canonical.ts (one encoder, issue #14).
 * `sync/` still imports this path and is being moved by another change; once those imports point at
 * canonical.js, delete this file. No logic here.
 */
export { canonicalJson as stableJson, payloadSha256, sha256Hex } from './canonical.js';
