/**
 * The generated practice is a fixture other tests, the demo and the benchmarks rely on: the same
 * (seed, patients, now) must give byte-identical data. These digests were taken from the JSON of
 * `generatePractice` before the generator was split into modules (issue #14); any change to the order
 * of PRNG draws, a default or a field shows up here. Change a digest only on purpose, and say why.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Practice } from './practice.js';
import { defaultNow, generatePractice } from './practice.js';

const digest = (p: Practice): string => createHash('sha256').update(JSON.stringify(p)).digest('hex');
const make = (seed: number, patients: number): Practice =>
  generatePractice({ seed, patients, now: defaultNow(seed) });

const GOLDEN: readonly (readonly [seed: number, patients: number, sha256: string])[] = [
  [1, 300, '4e12cf044b940b1c03b701c82177061f13643005d782792c7ac8642a978a6775'],
  [2, 50, '133618f013bd6fbc968137acfbe869cf31652b3b7d75bad777220c950b4f46e2'],
  [7, 1000, '2fdfedbdb26f54a81c7e65c971605ac4475e193bba5e8934ac9ed1d9a4c8cd13'],
  [-3, 10, 'bef5cb1dc06b2cce4534f4a09d082f0e923cedfbe4ac506f1e457ae6b044baa8'],
  [123456, 0, 'eb4014b467655233f9d8378a0b76119f5e7bd6cc7bba82af0c491381529fd7cd'],
];

describe('the generated practice is byte-identical for the same seed and size', () => {
  for (const [seed, patients, sha256] of GOLDEN) {
    it(`seed ${seed}, ${patients} patients`, () => {
      expect(digest(make(seed, patients))).toBe(sha256);
    });
  }

  it('control: the digest sees a one-field change and a different clock', () => {
    const p = make(2, 50);
    const first = p.appointments[0];
    if (!first) throw new Error('seed 2 has no appointments');
    first.startsAt += 1;
    expect(digest(p)).not.toBe(GOLDEN[1]?.[2]);
    const later = generatePractice({ seed: 2, patients: 50, now: defaultNow(2) + 1 });
    expect(digest(later)).not.toBe(GOLDEN[1]?.[2]);
  });
});
