import { describe, expect, it } from 'vitest';
import { idFromLink, isSameApi, relationId } from './links.js';

describe('idFromLink', () => {
  it('returns the trailing id as a string, exact beyond 2^53', () => {
    const big = '1234567890123456789';
    expect(idFromLink(`https://api.au1.cliniko.com/v1/patients/${big}`)).toBe(big);
    expect(Number(big).toString()).not.toBe(big); // why ids must never become numbers
  });

  it('checks the collection when asked', () => {
    const url = 'https://api.au2.cliniko.com/v1/practitioners/77';
    expect(idFromLink(url, 'practitioners')).toBe('77');
    expect(idFromLink(url, 'patients')).toBeUndefined();
  });

  it('ignores query strings and trailing slashes, and rejects non-id endings', () => {
    expect(idFromLink('http://127.0.0.1:4010/v1/patients/12/?x=1')).toBe('12');
    expect(idFromLink('https://api.au1.cliniko.com/v1/patients/12/invoices')).toBeUndefined();
    expect(idFromLink('not a url')).toBeUndefined();
    expect(idFromLink(null)).toBeUndefined();
    expect(idFromLink('')).toBeUndefined();
  });
});

describe('relationId', () => {
  it('reads links.self of a relation object and tolerates a missing relation', () => {
    expect(relationId({ links: { self: 'https://api.au1.cliniko.com/v1/businesses/5' } }, 'businesses')).toBe(
      '5',
    );
    expect(relationId(null)).toBeUndefined();
    expect(relationId({ links: null })).toBeUndefined();
  });
});

describe('isSameApi', () => {
  const base = 'http://127.0.0.1:4010/v1';
  it('accepts URLs under the configured API root only', () => {
    expect(isSameApi('http://127.0.0.1:4010/v1/patients?page=2', base)).toBe(true);
    expect(isSameApi('http://127.0.0.1:4011/v1/patients?page=2', base)).toBe(false);
    expect(isSameApi('https://127.0.0.1:4010/v1/patients', base)).toBe(false);
    expect(isSameApi('http://127.0.0.1:4010/v10/patients', base)).toBe(false);
    expect(isSameApi('http://evil.example/v1/patients', base)).toBe(false);
  });
});
