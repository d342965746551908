// The simulator's only source of randomness: xoshiro128** seeded through
// splitmix32. Everything the simulator decides (order of completions, faults,
// client behaviour, payload bytes) comes from a Prng derived from one seed, so
// a seed replays exactly. Never use Math.random in the simulator.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** Next 32-bit unsigned value. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [0, n) (n <= 2^32). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. Always consumes one draw (keeps streams aligned). */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  /** Skewed towards small values: lo + (hi-lo) * u^k. Useful for sizes and delays. */
  skewed(lo: number, hi: number, k = 3): number {
    return lo + Math.floor((hi - lo) * Math.pow(this.float(), k));
  }

  /** An independent stream derived from this one (consumes two draws). */
  fork(): Prng {
    return new Prng((this.next() ^ Math.imul(this.next(), 0x27d4eb2d)) | 0);
  }

  /** Fills `out` with pseudo-random bytes. */
  fill(out: Uint8Array): void {
    let i = 0;
    const n = out.length;
    while (i + 4 <= n) {
      const v = this.next();
      out[i] = v & 0xff;
      out[i + 1] = (v >>> 8) & 0xff;
      out[i + 2] = (v >>> 16) & 0xff;
      out[i + 3] = v >>> 24;
      i += 4;
    }
    if (i < n) {
      let v = this.next();
      while (i < n) {
        out[i++] = v & 0xff;
        v >>>= 8;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
