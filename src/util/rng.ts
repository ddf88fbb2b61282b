/**
 * A small, fast, seedable random number generator (xoshiro128**) whose whole state is four
 * uint32 words, so it can be saved with a checkpoint and restored exactly (resume gives the same
 * batches). Every random choice in curricula (splits, shuffles, sampler orders, dropout seeds,
 * weight initialisation seeds, Random scores) goes through one of these, never Math.random.
 */
export type RngState = [number, number, number, number];

/** splitmix32: spreads a 32-bit seed over the state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a hash of a string, used to derive independent child streams by name. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.setState(seed);
    } else {
      if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
      const mix = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
      for (let i = 0; i < 4; i++) this.s[i] = mix();
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    }
  }

  /** An independent generator derived from a seed and a purpose, e.g. `Rng.derive(seed, "split")`. */
  static derive(seed: number, purpose: string): Rng {
    return new Rng((Math.floor(seed) ^ hashString(purpose)) >>> 0);
  }

  getState(): RngState {
    return [this.s[0] as number, this.s[1] as number, this.s[2] as number, this.s[3] as number];
  }

  setState(state: RngState): void {
    if (state.length !== 4) throw new Error(`Rng state must hold 4 words, got ${state.length}`);
    for (let i = 0; i < 4; i++) this.s[i] = (state[i] as number) >>> 0;
  }

  /** Next uniformly distributed uint32. */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const s2 = s[2] as number;
    const s3 = s[3] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = s2 ^ s0;
    s[3] = s3 ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int needs a positive integer, got ${n}`);
    // Rejection sampling avoids modulo bias.
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Standard normal variate (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
