import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';

/**
 * Sign-offs as Ed25519 signatures (issue #17, items 1 and 6). Pure: keys, texts and dates come in as
 * arguments; nothing here reads a file or the clock. `node:crypto` signs and verifies (computation).
 *
 * Three things are signed, all the same way: the canonical JSON (canonical.ts) of a small statement,
 *  - a document sign-off: `{document: 'data-map' | 'journey', sha256, approver, role, signedOn}`, where
 *    `sha256` is the hash of the document's canonical form, so the signature covers the whole canonical
 *    map (or journey config) through its hash;
 *  - a change of the approver registry (`config/approvers.yaml`): the change itself without its
 *    signature, which names the previous change's hash, so changes cannot be dropped or reordered.
 *
 * The registry is a log of changes, replayed from the first: the first change registers the first
 * approver and is signed by that approver's own key (the root of trust); every later change (add,
 * remove, policy) must be signed by an approver registered before it. A change signed by anybody else,
 * or an edited change, breaks the replay and the service refuses to sync. Production can pin the root:
 * `SYNC_APPROVERS_ROOT` (the first key's fingerprint) makes a rewritten-from-scratch registry fail too.
 *
 * The published demo keys (config/demo-keys/DEMO-ONLY-*.key) are known here by their public halves;
 * in production mode no signature, registry change or approver may use them.
 *
 * Messages name the approver, the document and what is wrong; never key material or signature bytes.
 */

export const ROLES = ['compliance-officer', 'integration-owner'] as const;
export type Role = (typeof ROLES)[number];

/** `production` refuses the demo keys; `demo` and `test` accept them (config: SYNC_MODE). */
export type SignatureMode = 'production' | 'demo' | 'test';

export type SignedDocument = 'data-map' | 'journey';

/** Public halves of the published demo keys (config/demo-keys/). Production refuses them everywhere. */
export const DEMO_PUBLIC_KEYS: ReadonlyMap<string, string> = new Map([
  ['ed25519:n0Nf1KjUIciiyXfU6yuyCGh83Qu7cG_2C-hrhKe_f0k', 'config/demo-keys/DEMO-ONLY-approver.key'],
  ['ed25519:ow1Qj2OgChV5IIHr3_TPNAX-88jgdspACiwrCHJUTfs', 'config/demo-keys/DEMO-ONLY-integration-owner.key'],
]);

// ---------------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------------

const PUBLIC_KEY = /^ed25519:[A-Za-z0-9_-]{43}$/;

/** A private key from PEM (PKCS#8, as `openssl genpkey -algorithm ed25519` writes). The error never quotes it. */
export function parsePrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new RangeError('the key file is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new RangeError('the key file is not an Ed25519 private key');
  return key;
}

/** `ed25519:<base64url of the 32 raw bytes>`: how the registry writes a public key. */
export function publicKeyText(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new RangeError('not an Ed25519 key');
  return `ed25519:${jwk.x}`;
}

function publicKeyObject(text: string): KeyObject {
  if (!PUBLIC_KEY.test(text)) throw new RangeError('not an ed25519:<base64url> public key');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: text.slice('ed25519:'.length) },
    format: 'jwk',
  });
}

/** A short, public name for a key (16 hex of the sha256 of its text); safe to print and to pin. */
export function keyFingerprint(publicKey: string): string {
  return sha256Hex(publicKey).slice(0, 16);
}

export function isDemoKey(publicKey: string): boolean {
  return DEMO_PUBLIC_KEYS.has(publicKey);
}

/** Base64 Ed25519 signature of the canonical JSON of `statement`. */
export function signStatement(privateKey: KeyObject, statement: unknown): string {
  return sign(null, Buffer.from(canonicalJson(statement), 'utf8'), privateKey).toString('base64');
}

/** True when `signature` is `publicKey`'s signature of the canonical JSON of `statement`. */
export function verifyStatement(publicKey: string, statement: unknown, signature: string): boolean {
  try {
    return verify(
      null,
      Buffer.from(canonicalJson(statement), 'utf8'),
      publicKeyObject(publicKey),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The approver registry: config/approvers.yaml, a signed log of changes
// ---------------------------------------------------------------------------------------------------

export interface Policy {
  /** Per document, the roles that must each sign, by different approvers. */
  readonly 'data-map': readonly Role[];
  readonly journey: readonly Role[];
}

export const DEFAULT_POLICY: Policy = { 'data-map': ['compliance-officer'], journey: ['compliance-officer'] };

const role = z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` });
const date = z
  .union([z.string(), z.date()])
  .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v.trim()))
  .refine((v) => /^\d{4}-\d{2}-\d{2}$/.test(v), 'must be a date YYYY-MM-DD');
const name = z.string().trim().min(1, 'must not be empty');
const policySchema = z.object({
  'data-map': z.array(role).min(1, 'needs at least one role'),
  journey: z.array(role).min(1, 'needs at least one role'),
});
const common = {
  seq: z.number().int().positive(),
  on: date,
  by: name,
  previous: z
    .string()
    .regex(/^(genesis|[0-9a-f]{64})$/, 'must be "genesis" or the previous change\'s sha256'),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'must be a base64 Ed25519 signature'),
};
const changeSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('add'),
    name,
    role,
    publicKey: z.string().regex(PUBLIC_KEY, 'must be ed25519:<base64url>'),
    ...common,
  }),
  z.object({ op: z.literal('remove'), name, ...common }),
  z.object({ op: z.literal('policy'), policy: policySchema, ...common }),
]);
export type ApproverChange = z.infer<typeof changeSchema>;
export type UnsignedChange = DistributiveOmit<ApproverChange, 'seq' | 'previous' | 'signature'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface Approver {
  readonly name: string;
  readonly role: Role;
  readonly publicKey: string;
  readonly fingerprint: string;
  readonly demo: boolean;
}

export interface ApproverRegistry {
  readonly approvers: ReadonlyMap<string, Approver>;
  readonly policy: Policy;
  /** sha256 of the last change (what the next change names as `previous`), and its seq. */
  readonly head: { readonly seq: number; readonly sha256: string } | undefined;
  /** Fingerprint of the first approver's key: the root of trust. */
  readonly rootFingerprint: string | undefined;
}

export const EMPTY_REGISTRY: ApproverRegistry = {
  approvers: new Map(),
  policy: DEFAULT_POLICY,
  head: undefined,
  rootFingerprint: undefined,
};

export type RegistryResult =
  | { readonly ok: true; readonly registry: ApproverRegistry }
  | { readonly ok: false; readonly problems: readonly string[] };

function changeSha256(change: ApproverChange): string {
  return sha256Hex(canonicalJson(change));
}

function unsignedOf(change: ApproverChange): Omit<ApproverChange, 'signature'> {
  const { signature: _signature, ...rest } = change;
  return rest;
}

function describe(change: { seq: number; op: string; name?: string }): string {
  return `approver change ${change.seq} (${change.op}${change.name === undefined ? '' : ` ${change.name}`})`;
}

/**
 * Replays the registry's change log (the parsed `changes:` list of config/approvers.yaml). Every
 * problem stops the replay at that change: what follows a broken link cannot be trusted.
 */
export function replayApprovers(
  rawChanges: unknown,
  options: { mode: SignatureMode; pinnedRoot?: string | undefined },
): RegistryResult {
  if (!Array.isArray(rawChanges) || rawChanges.length === 0) {
    return {
      ok: false,
      problems: [
        'config/approvers.yaml has no changes: register the first approver with `data-map approvers init`',
      ],
    };
  }
  let registry: ApproverRegistry = EMPTY_REGISTRY;
  for (const [index, raw] of rawChanges.entries()) {
    const parsed = changeSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'change'}: ${i.message}`);
      return { ok: false, problems: [`approver change ${index + 1}: ${issues.join('; ')}`] };
    }
    const applied = applyChange(registry, parsed.data, options);
    if (!applied.ok) return applied;
    registry = applied.registry;
  }
  return { ok: true, registry };
}

/** Checks one signed change against the registry before it and returns the registry after it. */
export function applyChange(
  registry: ApproverRegistry,
  change: ApproverChange,
  options: { mode: SignatureMode; pinnedRoot?: string | undefined },
): RegistryResult {
  const what = describe(change);
  const fail = (message: string): RegistryResult => ({ ok: false, problems: [`${what}: ${message}`] });
  const expectedSeq = (registry.head?.seq ?? 0) + 1;
  if (change.seq !== expectedSeq)
    return fail(`expected seq ${expectedSeq}; a change was removed, added or reordered`);
  if (change.previous !== (registry.head?.sha256 ?? 'genesis')) {
    return fail('does not follow the change before it (its `previous` hash differs); the log was edited');
  }
  // Who signs: the first change is signed by the key it registers; later ones by a registered approver.
  const genesis = registry.head === undefined;
  let signerKey: string;
  if (genesis) {
    if (change.op !== 'add') return fail('the first change must register an approver');
    if (change.by !== change.name)
      return fail(`the first approver signs their own registration, not ${change.by}`);
    signerKey = change.publicKey;
  } else {
    const signer = registry.approvers.get(change.by);
    if (signer === undefined) return fail(`signed by ${change.by}, who is not a registered approver`);
    signerKey = signer.publicKey;
  }
  if (!verifyStatement(signerKey, unsignedOf(change), change.signature)) {
    return fail(
      `the signature of ${change.by} does not verify (the change was edited, or signed with another key)`,
    );
  }
  if (options.mode === 'production' && isDemoKey(signerKey)) {
    return fail(
      `signed by ${change.by} with a published demo key, which production refuses; register your own approvers (docs/governance.md, "Your own keys")`,
    );
  }
  const approvers = new Map(registry.approvers);
  let policy = registry.policy;
  let rootFingerprint = registry.rootFingerprint;
  switch (change.op) {
    case 'add': {
      if (approvers.has(change.name)) return fail(`${change.name} is already registered`);
      if ([...approvers.values()].some((a) => a.publicKey === change.publicKey)) {
        return fail(`the key of ${change.name} is already registered to another approver`);
      }
      if (options.mode === 'production' && isDemoKey(change.publicKey)) {
        return fail(`${change.name}'s key is a published demo key, which production refuses`);
      }
      const fingerprint = keyFingerprint(change.publicKey);
      if (genesis) {
        rootFingerprint = fingerprint;
        if (options.pinnedRoot !== undefined && options.pinnedRoot !== fingerprint) {
          return fail(
            `the first approver's key (${fingerprint}) is not the pinned root SYNC_APPROVERS_ROOT (${options.pinnedRoot}); the registry was replaced`,
          );
        }
      }
      approvers.set(change.name, {
        name: change.name,
        role: change.role,
        publicKey: change.publicKey,
        fingerprint,
        demo: isDemoKey(change.publicKey),
      });
      break;
    }
    case 'remove':
      if (!approvers.has(change.name)) return fail(`${change.name} is not a registered approver`);
      approvers.delete(change.name);
      if (approvers.size === 0) return fail('removing the last approver would leave nobody able to sign');
      break;
    case 'policy':
      policy = change.policy;
      break;
  }
  return {
    ok: true,
    registry: { approvers, policy, head: { seq: change.seq, sha256: changeSha256(change) }, rootFingerprint },
  };
}

/**
 * Builds and signs the next change of the registry. The signer must be registered (or, for the first
 * change, be the approver it adds: pass that approver's own key). The caller appends it to the file and
 * audits it; `applyChange` is run here too, so a change the service would refuse is never written.
 */
export function signApproverChange(
  registry: ApproverRegistry,
  change: UnsignedChange,
  privateKey: KeyObject,
  mode: SignatureMode,
): ApproverChange {
  const signerKey = publicKeyText(privateKey);
  if (registry.head !== undefined) {
    const signer = registry.approvers.get(change.by);
    if (signer === undefined) throw new RangeError(`${change.by} is not a registered approver`);
    if (signer.publicKey !== signerKey)
      throw new RangeError(`the key file is not ${change.by}'s registered key`);
  }
  const unsigned = {
    ...change,
    seq: (registry.head?.seq ?? 0) + 1,
    previous: registry.head?.sha256 ?? 'genesis',
  };
  const signed: ApproverChange = { ...unsigned, signature: signStatement(privateKey, unsigned) };
  const applied = applyChange(registry, signed, { mode });
  if (!applied.ok) throw new RangeError(applied.problems.join('; '));
  return signed;
}

/** The approver whose registered key is `privateKey`'s public half, if any. */
export function approverOfKey(registry: ApproverRegistry, privateKey: KeyObject): Approver | undefined {
  const key = publicKeyText(privateKey);
  return [...registry.approvers.values()].find((a) => a.publicKey === key);
}

// ---------------------------------------------------------------------------------------------------
// Document sign-offs (data map, journey config)
// ---------------------------------------------------------------------------------------------------

export interface DocumentSignature {
  readonly approver: string;
  readonly role: string;
  /** YYYY-MM-DD */
  readonly signedOn: string;
  readonly signature: string;
}

/** What an approver signs for a document: its hash, who, in which role, on which date. */
export function documentStatement(
  document: SignedDocument,
  sha256: string,
  signature: Omit<DocumentSignature, 'signature'>,
): Record<string, string> {
  return {
    document,
    sha256,
    approver: signature.approver,
    role: signature.role,
    signedOn: signature.signedOn,
  };
}

export function signDocument(
  document: SignedDocument,
  sha256: string,
  approver: Approver,
  privateKey: KeyObject,
  signedOn: string,
): DocumentSignature {
  if (publicKeyText(privateKey) !== approver.publicKey)
    throw new RangeError(`the key file is not ${approver.name}'s registered key`);
  const unsigned = { approver: approver.name, role: approver.role, signedOn };
  return { ...unsigned, signature: signStatement(privateKey, documentStatement(document, sha256, unsigned)) };
}

/**
 * The signatures that verify for this document and hash under the registry (registered approver, same
 * role, good signature), whatever the mode or policy: what a new signature may be added next to. A
 * signature by someone no longer registered, or from a previous registry, is dropped on re-signing.
 */
export function verifiedSignatures(
  document: SignedDocument,
  sha256: string,
  signatures: readonly DocumentSignature[],
  registry: ApproverRegistry,
): DocumentSignature[] {
  return signatures.filter((s) => {
    const approver = registry.approvers.get(s.approver);
    return (
      approver !== undefined &&
      approver.role === s.role &&
      verifyStatement(approver.publicKey, documentStatement(document, sha256, s), s.signature)
    );
  });
}

export type SignatureCheck =
  | { readonly ok: true; readonly signers: readonly { readonly approver: string; readonly role: Role }[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Verifies a document's signatures against the registry and its policy: each signature must be by a
 * registered approver, in their registered role, over this very hash, with a key the mode accepts; and
 * each role the policy lists for the document needs a valid signature by a different approver.
 */
export function checkDocumentSignatures(
  document: SignedDocument,
  sha256: string,
  signatures: readonly DocumentSignature[],
  registry: ApproverRegistry,
  mode: SignatureMode,
): SignatureCheck {
  const problems: string[] = [];
  const valid: Approver[] = [];
  for (const s of signatures) {
    const approver = registry.approvers.get(s.approver);
    if (approver === undefined) {
      problems.push(`${s.approver} signed the ${document} but is not a registered approver`);
      continue;
    }
    if (approver.role !== s.role) {
      problems.push(
        `${s.approver} signed the ${document} as ${s.role} but is registered as ${approver.role}`,
      );
      continue;
    }
    if (!verifyStatement(approver.publicKey, documentStatement(document, sha256, s), s.signature)) {
      problems.push(
        `the signature of ${s.approver} (${s.signedOn}) does not match this ${document}: it changed since, or the signature was made with another key`,
      );
      continue;
    }
    if (mode === 'production' && approver.demo) {
      problems.push(
        `${s.approver} signed the ${document} with a published demo key, which production refuses; sign with your own key (docs/governance.md, "Your own keys")`,
      );
      continue;
    }
    if (!valid.some((v) => v.name === approver.name)) valid.push(approver);
  }
  // Each required role needs its own approver: match roles to distinct valid signers.
  const unused = [...valid];
  const missing: Role[] = [];
  for (const needed of registry.policy[document]) {
    const at = unused.findIndex((a) => a.role === needed);
    if (at < 0) missing.push(needed);
    else unused.splice(at, 1);
  }
  if (missing.length > 0) {
    const have =
      valid.length === 0
        ? 'no valid signature'
        : `valid signatures by ${valid.map((v) => `${v.name} (${v.role})`).join(', ')}`;
    problems.push(
      `the policy needs the ${document} signed by ${registry.policy[document].join(' and ')} (different approvers); missing ${missing.join(', ')}; ${have}`,
    );
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, signers: valid.map((v) => ({ approver: v.name, role: v.role })) };
}
