import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { AdminToken } from '../config/index.js';
import { bearerToken, roleForToken } from './auth.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const digest = (token: string) => crypto.createHash('sha256').update(token).digest();
const tokens: AdminToken[] = [
  { role: 'viewer', sha256: digest('v'.repeat(32)) },
  { role: 'operator', sha256: digest('o'.repeat(32)) },
];

describe('admin token comparison', () => {
  it('compares sha256 digests with crypto.timingSafeEqual against every token, match or not', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    expect(roleForToken(tokens, 'v'.repeat(32))).toBe('viewer');
    // No early exit on the first match: both configured tokens were compared.
    expect(spy).toHaveBeenCalledTimes(2);
    for (const [a, b] of spy.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
    spy.mockClear();
    expect(roleForToken(tokens, 'nope')).toBeUndefined();
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockClear();
    expect(roleForToken(tokens, 'o'.repeat(32))).toBe('operator');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('keeps the stronger role when one token is configured twice', () => {
    const twice: AdminToken[] = [
      { role: 'operator', sha256: digest('x'.repeat(30)) },
      { role: 'viewer', sha256: digest('x'.repeat(30)) },
    ];
    expect(roleForToken(twice, 'x'.repeat(30))).toBe('operator');
  });

  it('reads only well-formed Bearer headers', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
