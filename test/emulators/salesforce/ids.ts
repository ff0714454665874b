/**
 * Salesforce record ids: a 3-character key prefix naming the object, 12 more characters, then a
 * 3-character case-safe suffix. The suffix encodes, for each 5-character chunk of the 15-character id,
 * which characters are upper-case letters (bit i set when character i is A-Z), as one character of
 * `A..Z0..5`. Clients (jsforce, Data Loader, the sync service) may compare 15 and 18-character forms.
 */
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charAt(chunk * 5 + i);
      if (ch >= 'A' && ch <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/** `prefix` + pod-like `5g` + 10 base62 digits of `counter` + checksum. */
export function makeId(prefix: string, counter: number): string {
  let digits = '';
  let n = counter;
  for (let i = 0; i < 10; i++) {
    digits = BASE62.charAt(n % 62) + digits;
    n = Math.floor(n / 62);
  }
  const id15 = `${prefix}5g${digits}`;
  return id15 + checksumSuffix(id15);
}

const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Normalises a 15 or 18-character id to 18 characters; undefined when it is not an id at all. */
export function to18(id: string): string | undefined {
  if (!ID_SHAPE.test(id)) return undefined;
  const id15 = id.slice(0, 15);
  const full = id15 + checksumSuffix(id15);
  if (id.length === 18 && id.slice(15).toUpperCase() !== full.slice(15)) return undefined;
  return full;
}

/** Key prefixes of the standard objects the emulator defines (as in a real org). */
export const STANDARD_KEY_PREFIXES: Record<string, string> = {
  Organization: '00D',
  User: '005',
  Account: '001',
  Contact: '003',
  PermissionSet: '0PS',
  PermissionSetAssignment: '0Pa',
  FieldPermissions: '01k',
  ObjectPermissions: '110',
  Lead: '00Q',
  Opportunity: '006',
  Campaign: '701',
  CampaignMember: '00v',
  Task: '00T',
  Event: '00U',
  Case: '500',
  Profile: '00e',
  PermissionSetGroup: '0PG',
  PermissionSetGroupComponent: '0PH',
};
/** Every history object shares this prefix in a real org. */
export const HISTORY_KEY_PREFIX = '017';
/** Published platform events get ids with this prefix. */
export const EVENT_ID_PREFIX = 'e00';
