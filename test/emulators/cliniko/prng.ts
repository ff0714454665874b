/**
 * A small seeded PRNG (mulberry32) so that a given `--seed` always produces the same practice.
 * Math.random is never used by the emulator: runs must be reproducible in tests and benchmarks.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // Spread small seeds (1, 2, 3...) so neighbouring seeds do not start from similar states.
    this.state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick on an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Pick by weight; weights need not sum to 1. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, w] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (!last) throw new Error('Prng.weighted on an empty list');
    return last[0];
  }

  /** Tri-state flag as Cliniko stores consent: true, false or never answered (null). */
  triState(pTrue: number, pFalse: number): boolean | null {
    const r = this.next();
    if (r < pTrue) return true;
    if (r < pTrue + pFalse) return false;
    return null;
  }
}
