import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DecryptionError,
  createKeyring,
  decrypt,
  encrypt,
  keyIdOf,
  keyIdOfBlob,
  needsReencryption,
  parseKeyList,
  reencrypt,
} from './encryption.js';

const PAYLOAD = JSON.stringify({ FirstName: 'Ada', Email: 'ada@example.com', note: 'ünïcødé ✓' });

function flipChar(text: string, at: number): string {
  const c = text[at] === 'A' ? 'B' : 'A';
  return text.slice(0, at) + c + text.slice(at + 1);
}

describe('AES-256-GCM envelope', () => {
  const keyring = createKeyring(randomBytes(32));

  it('round-trips and does not contain the plaintext', () => {
    const blob = encrypt(PAYLOAD, keyring, 'outbox:1');
    expect(blob).toMatch(/^v1\.[0-9a-f]{16}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(blob).not.toContain('Ada');
    expect(decrypt(blob, keyring, 'outbox:1')).toBe(PAYLOAD);
  });

  it('uses a fresh nonce each time', () => {
    expect(encrypt(PAYLOAD, keyring)).not.toBe(encrypt(PAYLOAD, keyring));
  });

  it('never hands out a nonce twice across draws of the nonce pool (256 a draw)', () => {
    const blobs = Array.from({ length: 1_000 }, () => encrypt(PAYLOAD, keyring, 'outbox:1'));
    const nonces = blobs.map((b) => b.split('.')[2]!);
    expect(new Set(nonces).size).toBe(1_000);
    for (const blob of blobs.slice(250, 260)) expect(decrypt(blob, keyring, 'outbox:1')).toBe(PAYLOAD);
    // Control: the same check sees a nonce used twice.
    expect(new Set([...nonces, nonces[300]!]).size).toBe(1_000);
  });

  it('detects tampering with the ciphertext, the tag, the nonce or the key id', () => {
    const blob = encrypt(PAYLOAD, keyring);
    const [v, id, nonce, cipher, tag] = blob.split('.') as [string, string, string, string, string];
    const variants = [
      [v, id, nonce, flipChar(cipher, 3), tag],
      [v, id, nonce, cipher, flipChar(tag, 2)],
      [v, id, flipChar(nonce, 1), cipher, tag],
    ];
    for (const parts of variants) {
      expect(() => decrypt(parts.join('.'), keyring)).toThrow(DecryptionError);
    }
    expect(() => decrypt([v, 'ffffffffffffffff', nonce, cipher, tag].join('.'), keyring)).toThrow(
      /not in the keyring/,
    );
  });

  it('binds the blob to its context (aad)', () => {
    const blob = encrypt(PAYLOAD, keyring, 'outbox:1');
    expect(() => decrypt(blob, keyring, 'outbox:2')).toThrow(/failed authentication/);
  });

  it('rejects something that is not an envelope, and keys of the wrong size', () => {
    expect(() => decrypt('plain text', keyring)).toThrow(/not an encrypted payload/);
    expect(() => createKeyring(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('does not decrypt under a different key with the same id slot', () => {
    const other = createKeyring(randomBytes(32));
    expect(() => decrypt(encrypt(PAYLOAD, keyring), other)).toThrow(/not in the keyring/);
  });
});

describe('key rotation', () => {
  it('decrypts old blobs with a retired key and re-encrypts them under the active key', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = createKeyring(oldKey);
    const blob = encrypt(PAYLOAD, before, 'dlq:7');
    expect(keyIdOfBlob(blob)).toBe(keyIdOf(oldKey));

    const after = createKeyring(newKey, [oldKey]);
    expect(decrypt(blob, after, 'dlq:7')).toBe(PAYLOAD);
    expect(needsReencryption(blob, after)).toBe(true);
    const rotated = reencrypt(blob, after, 'dlq:7');
    expect(keyIdOfBlob(rotated)).toBe(keyIdOf(newKey));
    expect(needsReencryption(rotated, after)).toBe(false);
    expect(reencrypt(rotated, after, 'dlq:7')).toBe(rotated);

    // Once the old key is dropped, only the re-encrypted blob can be read.
    const newOnly = createKeyring(newKey);
    expect(decrypt(rotated, newOnly, 'dlq:7')).toBe(PAYLOAD);
    expect(() => decrypt(blob, newOnly, 'dlq:7')).toThrow(/not in the keyring/);
  });
});

describe('parseKeyList', () => {
  it('parses comma-separated base64 keys and names a bad one by position only', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    expect(parseKeyList(` ${a.toString('base64')} ,${b.toString('base64')}`)).toEqual([a, b]);
    expect(parseKeyList(undefined)).toEqual([]);
    expect(parseKeyList('  ')).toEqual([]);
    const secretish = randomBytes(16).toString('base64');
    expect(() => parseKeyList(`${a.toString('base64')},${secretish}`)).toThrow(
      /^key 2 of the list is not 32 bytes/,
    );
    let message = '';
    try {
      parseKeyList(secretish);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^key 1 of the list/);
    expect(message).not.toContain(secretish);
  });
});
