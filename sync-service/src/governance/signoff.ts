import { isMap, parseDocument } from 'yaml';
import { SyncError } from '../errors.js';
import { canonicalDataMapJson, dataMapSha256, sha256Hex } from './canonical.js';
import type { DataMap } from './data-map.js';
import { checkDocumentSignatures, type ApproverRegistry, type SignatureMode } from './signatures.js';
import { renewSignatures, writeSignoff, type DocumentSigner } from './signoff-block.js';

/**
 * The sign-off gate. A data map is signed when `signoff.sha256` equals the sha256 of the canonical
 * form of its `entries` and `derived` (canonical.ts) AND its `signoff.signatures` satisfy the approver
 * registry and its policy (signatures.ts: Ed25519 signatures of registered approvers over that hash;
 * the demo keys only outside production). The hash alone proves nothing (anyone can recompute it); the
 * signatures are the sign-off, and `approvedBy`/`approvedOn` only summarise them for people and metadata. The service refuses to sync an unsigned map
 * (dry-run may still preview it), and the refusal names the last approver, the date, and the entries
 * that changed.
 *
 * Naming the changed entries needs to know what was signed. Two sources, in this order:
 *  1. the signed map itself (`signedMap`: e.g. the map as it was at the sign-off commit, or a copy the
 *     store kept when `data-map sign` ran) - used only if its hash really is the signed hash;
 *  2. `signoff.entries`: per-entry digests that `signDataMap` writes next to the hash (entry key ->
 *     first 16 hex of the sha256 of the entry's canonical form). They sit outside the hashed part, so
 *     they cost nothing to the hash; editing them only degrades the report, never the gate.
 * With neither, the gate still refuses, and says it cannot name the entries.
 */

export type SignoffCheck =
  | {
      readonly ok: true;
      readonly sha256: string;
      readonly approvedBy: string;
      readonly approvedOn: string;
    }
  | {
      readonly ok: false;
      readonly currentSha256: string;
      /** Absent when the map was never signed. */
      readonly approvedBy: string | undefined;
      readonly approvedOn: string | undefined;
      readonly signedSha256: string | undefined;
      /** Entry keys added, removed or changed since the sign-off; undefined when it cannot be told. */
      readonly changedEntries: readonly string[] | undefined;
      readonly message: string;
    };

/** sha256 of the map's canonical form: what a sign-off must record. */
export function currentDataMapSha256(map: DataMap): string {
  return dataMapSha256(map.raw.entries, map.raw.derived);
}

/** Entry key -> short digest of the entry's canonical form (derived fields included, keyed `derived -> X`). */
export function entryDigests(map: DataMap): Record<string, string> {
  const out: Record<string, string> = {};
  map.entries.forEach((entry, i) => {
    // parseDataMap returns a map only when every entry is valid, so raw and parsed lists align.
    out[entry.key] = sha256Hex(canonicalDataMapJson([map.raw.entries[i]], [])).slice(0, 16);
  });
  map.derived.forEach((d) => {
    const raw = map.raw.derived.find((r) => (r as { target?: unknown }).target === d.target.path);
    out[d.key] = sha256Hex(canonicalDataMapJson([], [raw])).slice(0, 16);
  });
  return out;
}

export interface DataMapDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /**
   * Same key, different content; `fields` names what changed (classification, direction, ...) and
   * `values` gives each one's old and new value (the map's own words, never patient data).
   */
  readonly changed: readonly {
    readonly key: string;
    readonly fields: readonly string[];
    readonly values: readonly { readonly field: string; readonly before: string; readonly after: string }[];
  }[];
}

/** What the gate trusts: the replayed approver registry and the mode (production refuses demo keys). */
export interface SignoffTrust {
  readonly registry: ApproverRegistry;
  readonly mode: SignatureMode;
}

/** What changed from `before` to `after`, entry by entry (keys as in DataMapEntry.key). */
export function diffDataMaps(before: DataMap, after: DataMap): DataMapDiff {
  const describe = (map: DataMap): Map<string, Record<string, string>> => {
    const out = new Map<string, Record<string, string>>();
    for (const e of map.entries) {
      out.set(e.key, {
        classification: e.classification,
        direction: e.direction,
        transform: e.transform,
        rationale: e.rationale,
        sources: e.sources.join(','),
      });
    }
    for (const d of map.derived) {
      out.set(d.key, { classification: d.classification, from: d.from.join(','), rationale: d.rationale });
    }
    return out;
  };
  const a = describe(before);
  const b = describe(after);
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed: DataMapDiff['changed'][number][] = [];
  for (const [key, was] of a) {
    const now = b.get(key);
    if (now === undefined) continue;
    const fields = Object.keys({ ...was, ...now })
      .filter((f) => was[f] !== now[f])
      .sort();
    if (fields.length > 0) {
      const values = fields.map((field) => ({ field, before: was[field] ?? '', after: now[field] ?? '' }));
      changed.push({ key, fields, values });
    }
  }
  changed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { added, removed, changed };
}

function changedFromDigests(map: DataMap, signed: Readonly<Record<string, string>>): string[] {
  const now = entryDigests(map);
  const keys = new Set([...Object.keys(now), ...Object.keys(signed)]);
  return [...keys].filter((k) => now[k] !== signed[k]).sort();
}

/**
 * Checks the map against its sign-off. `signedMap`, when given, is the map as signed (see above); it is
 * ignored unless its own hash equals the recorded one.
 */
export function checkSignoff(
  map: DataMap,
  trust: SignoffTrust,
  options: { signedMap?: DataMap } = {},
): SignoffCheck {
  const currentSha256 = currentDataMapSha256(map);
  const signoff = map.signoff;
  if (signoff === undefined) {
    return {
      ok: false,
      currentSha256,
      approvedBy: undefined,
      approvedOn: undefined,
      signedSha256: undefined,
      changedEntries: undefined,
      message:
        'The data map has never been signed off. Review it and run `npm run sync -- data-map sign --key <your private key file>`.',
    };
  }
  if (signoff.sha256 === currentSha256) {
    const signatures = checkDocumentSignatures(
      'data-map',
      currentSha256,
      signoff.signatures ?? [],
      trust.registry,
      trust.mode,
    );
    if (signatures.ok) {
      return {
        ok: true,
        sha256: currentSha256,
        approvedBy: signoff.approvedBy,
        approvedOn: signoff.approvedOn,
      };
    }
    return {
      ok: false,
      currentSha256,
      approvedBy: signoff.approvedBy,
      approvedOn: signoff.approvedOn,
      signedSha256: signoff.sha256,
      changedEntries: [],
      message:
        `The data map's hash matches its sign-off, but the sign-off is not valid: ${signatures.problems.join('; ')}. ` +
        'A registered approver must sign it (`npm run sync -- data-map sign --key <private key file>`); dry-run still works.',
    };
  }
  let changedEntries: string[] | undefined;
  const signedMap = options.signedMap;
  if (signedMap !== undefined && currentDataMapSha256(signedMap) === signoff.sha256) {
    const diff = diffDataMaps(signedMap, map);
    changedEntries = [...diff.added, ...diff.removed, ...diff.changed.map((c) => c.key)].sort();
  } else if (signoff.entries !== undefined) {
    changedEntries = changedFromDigests(map, signoff.entries);
  }
  const what =
    changedEntries === undefined
      ? 'The entries that changed cannot be named (no signed copy or per-entry digests); run `npm run sync -- data-map diff`.'
      : changedEntries.length === 0
        ? 'Every entry matches its digest from the sign-off, so the recorded hash or digests were edited by hand; review with `npm run sync -- data-map diff`.'
        : `Changed since then: ${changedEntries.join('; ')}.`;
  return {
    ok: false,
    currentSha256,
    approvedBy: signoff.approvedBy,
    approvedOn: signoff.approvedOn,
    signedSha256: signoff.sha256,
    changedEntries,
    message:
      `The data map does not match its sign-off by ${signoff.approvedBy} on ${signoff.approvedOn}. ${what} ` +
      'A new sign-off is needed before the service syncs (`npm run sync -- data-map sign --key <private key file>`); dry-run still works.',
  };
}

/** checkSignoff for the runner: throws DATA_MAP_NOT_SIGNED with the check's message. */
export function assertSigned(
  map: DataMap,
  trust: SignoffTrust,
  options: { signedMap?: DataMap } = {},
): string {
  const check = checkSignoff(map, trust, options);
  if (check.ok) return check.sha256;
  throw new SyncError('DATA_MAP_NOT_SIGNED', check.message, {
    record: { system: 'config', object: 'data-map' },
  });
}

/**
 * Records an approver's signature: returns the YAML text with `signoff` replaced (the current hash,
 * per-entry digests, the signatures, and `approvedBy`/`approvedOn` summarising them); everything else,
 * comments included, is left as written. Signatures other approvers made over the same hash are kept
 * (a two-approver policy collects them one by one) if they verify under the registry; any over an older
 * hash, or by someone the registry does not know, are dropped. The caller has
 * already checked the map (the deny-list refuses at parse), writes the file and appends a
 * `data-map-sign` audit entry.
 */
export function signDataMap(
  yamlText: string,
  map: DataMap,
  /** Other approvers' signatures are kept only if they verify under `signer.registry`. */
  signer: DocumentSigner,
): string {
  const { signedOn } = signer;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(signedOn) || Number.isNaN(Date.parse(`${signedOn}T00:00:00Z`))) {
    throw new RangeError('the sign-off date must be YYYY-MM-DD');
  }
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0 || !isMap(doc.contents))
    throw new RangeError('the data map text is not a YAML mapping');
  const check = currentDataMapSha256(map);
  const reparsed = doc.toJS() as { entries?: unknown[]; derived?: unknown[] };
  // Guard against signing a different text than the map that was reviewed.
  if (dataMapSha256(reparsed.entries ?? [], reparsed.derived ?? []) !== check) {
    throw new RangeError('the YAML text is not the map that was parsed; parse it again before signing');
  }
  const signatures = renewSignatures('data-map', check, map.signoff, signer);
  return writeSignoff(doc, check, signatures, { entries: entryDigests(map) });
}
