// TEMPORARY merge shim (issue #14): the keyring cipher moved to ../runtime/cipher.ts (see runtime/README.md).
// Only reverse.test.ts (moved in a parallel branch) still imports it from here; the lead repoints it
// after both branches merge and deletes this file.
export { keyringCipher } from '../runtime/cipher.js';
