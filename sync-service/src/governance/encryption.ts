import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * Encryption at rest for PHI-bearing payloads (outbox, dead-letter, quarantine): AES-256-GCM with a
 * fresh 96-bit nonce per message. No I/O: the keys come in as Buffers (config parses
 * SYNC_ENCRYPTION_KEY; the process decides where old keys come from).
 *
 * Envelope (a single string, safe for TEXT columns):
 *   `v1.<keyId>.<nonce b64url>.<ciphertext b64url>.<tag b64url>`
 * The key id travels with the blob so keys can rotate: encryption always uses the keyring's active key,
 * decryption picks the key the blob names. The key id is derived from the key (first 16 hex of
 * sha256("sync-key-id:" + key)), so no separate id has to be configured or kept in step, and it reveals
 * nothing usable about the key. The version, key id and `aad` are authenticated: changing any of them,
 * or any byte of the ciphertext or tag, makes decryption fail.
 */

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Keyring {
  readonly active: { readonly id: string; readonly key: Buffer };
  /** Every key that may still be needed to decrypt, by id (the active key included). */
  readonly keys: ReadonlyMap<string, Buffer>;
}

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('sync-key-id:').update(key).digest('hex').slice(0, 16);
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new RangeError('an AES-256 key is 32 bytes');
}

/**
 * Parses a comma-separated list of base64 keys (e.g. retired keys kept for decryption during a
 * rotation). Errors name the position in the list, never the key.
 */
export function parseKeyList(raw: string | undefined): Buffer[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item, index) => {
    const text = item.trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      throw new RangeError(
        `key ${index + 1} of the list is not 32 bytes of base64 (openssl rand -base64 32)`,
      );
    }
    return key;
  });
}

/** The active key encrypts; the retired keys only decrypt what was written before the rotation. */
export function createKeyring(activeKey: Buffer, retiredKeys: readonly Buffer[] = []): Keyring {
  checkKey(activeKey);
  const keys = new Map<string, Buffer>();
  for (const key of retiredKeys) {
    checkKey(key);
    keys.set(keyIdOf(key), Buffer.from(key));
  }
  const active = { id: keyIdOf(activeKey), key: Buffer.from(activeKey) };
  keys.set(active.id, active.key);
  return { active, keys };
}

/**
 * Keys and associated data prepared once, not per row (issue #16: the per-row set-up of a raw key was
 * a fifth of a backfill's CPU). A KeyObject per key buffer (a Buffer handed to createCipheriv is
 * imported again on every call); the AAD bytes per (key, context) for the few fixed contexts the
 * store uses, capped so per-row contexts cannot grow it without bound.
 */
const preparedKeys = new WeakMap<Buffer, KeyObject>();
const aadCache = new Map<string, Buffer>();
const AAD_CACHE_LIMIT = 256;

function prepared(key: Buffer): KeyObject {
  let object = preparedKeys.get(key);
  if (object === undefined) {
    object = createSecretKey(key);
    preparedKeys.set(key, object);
  }
  return object;
}

function additionalData(keyId: string, aad: string): Buffer {
  const text = `${VERSION}.${keyId}.${aad}`;
  const cached = aadCache.get(text);
  if (cached !== undefined) return cached;
  const bytes = Buffer.from(text, 'utf8');
  if (aadCache.size < AAD_CACHE_LIMIT) aadCache.set(text, bytes);
  return bytes;
}

/**
 * Random nonces drawn from the CSPRNG 256 at a time (issue #16: one `randomBytes` call per row was 4 %
 * of a backfill's CPU). Each nonce is still 96 fresh random bits, handed out once: the pool only
 * batches the system calls, never reuses or derives bytes.
 */
const NONCES_PER_DRAW = 256;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;

function freshNonce(): Buffer {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_BYTES * NONCES_PER_DRAW);
    nonceOffset = 0;
  }
  const nonce = noncePool.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/**
 * Encrypts text. `aad` binds the blob to where it is stored (e.g. `outbox:<id>`), so a blob copied into
 * another row does not decrypt there; the same `aad` must be given to decrypt.
 */
export function encrypt(plaintext: string, keyring: Keyring, aad = ''): string {
  const nonce = freshNonce();
  const cipher = createCipheriv(ALGORITHM, prepared(keyring.active.key), nonce, {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(additionalData(keyring.active.id, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    VERSION,
    keyring.active.id,
    nonce.toString('base64url'),
    ciphertext.toString('base64url'),
    tag.toString('base64url'),
  ].join('.');
}

export function keyIdOfBlob(blob: string): string | undefined {
  const parts = blob.split('.');
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
}

export function decrypt(blob: string, keyring: Keyring, aad = ''): string {
  const parts = blob.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION)
    throw new DecryptionError('not an encrypted payload envelope (v1)');
  const [, keyId = '', nonceText = '', cipherText = '', tagText = ''] = parts;
  const key = keyring.keys.get(keyId);
  if (key === undefined) {
    throw new DecryptionError(`payload was encrypted with key ${keyId}, which is not in the keyring`);
  }
  const nonce = Buffer.from(nonceText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES)
    throw new DecryptionError('malformed envelope');
  const decipher = createDecipheriv(ALGORITHM, prepared(key), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(additionalData(keyId, aad));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(Buffer.from(cipherText, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new DecryptionError('payload failed authentication (tampered, or wrong key or context)');
  }
}

/** True when a blob should be re-encrypted under the active key (background rotation). */
export function needsReencryption(blob: string, keyring: Keyring): boolean {
  return keyIdOfBlob(blob) !== keyring.active.id;
}

/** Decrypts with whichever key the blob names and encrypts again under the active key. */
export function reencrypt(blob: string, keyring: Keyring, aad = ''): string {
  return needsReencryption(blob, keyring) ? encrypt(decrypt(blob, keyring, aad), keyring, aad) : blob;
}
