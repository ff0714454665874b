import { decrypt, encrypt, type Keyring } from '../governance/encryption.js';
import type { PayloadCipher } from '../store/index.js';

/**
 * The store's payload cipher: AES-256-GCM through the governance keyring (key id in every blob, so keys
 * rotate). The store sees only bytes.
 */
export function keyringCipher(keyring: Keyring): PayloadCipher {
  return {
    encrypt: (plaintext) => Buffer.from(encrypt(plaintext, keyring, 'sync-store'), 'utf8'),
    decrypt: (ciphertext) => decrypt(Buffer.from(ciphertext).toString('utf8'), keyring, 'sync-store'),
  };
}
