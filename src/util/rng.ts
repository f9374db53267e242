/**
 * The one seedable random number generator of the project (sfc32, seeded via
 * splitmix32). Library code takes an `Rng` argument and never calls Math.random,
 * so every run is reproducible from its seed.
 */
import { SamstarError } from './errors.js';

/**
 * A generator's position as JSON-safe numbers (getState/setState): what a
 * saved training run needs so that its sampling and shuffling continue where
 * they stopped instead of replaying the stream from the seed.
 */
export interface RngState {
  /** The four sfc32 state words (unsigned 32-bit integers). */
  readonly s: readonly number[];
  /** The second Box–Muller value normal() has cached, when one is pending (part of the stream: dropping it would shift every later normal()). */
  readonly spareNormal?: number;
}

export class Rng {
  // State in a typed array: V8 keeps plain uint32 fields as heap numbers, which made next() several times slower.
  private readonly s = new Uint32Array(4);
  private spareNormal: number | undefined;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s[0] = splitmix();
    this.s[1] = splitmix();
    this.s[2] = splitmix();
    this.s[3] = splitmix();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const s = this.s;
    const a = s[0];
    const b = s[1];
    const c = s[2];
    const d = s[3];
    const t = (a + b + d) >>> 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    const rotated = (c << 21) | (c >>> 11);
    s[2] = rotated + t;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** The current position (a copy): setState(getState()) on any Rng continues this stream exactly. */
  getState(): RngState {
    return { s: Array.from(this.s), ...(this.spareNormal === undefined ? {} : { spareNormal: this.spareNormal }) };
  }

  /**
   * Jump to a position from getState() (e.g. read back from JSON). Checked,
   * since it usually comes from a file: `where` names it in the error.
   */
  setState(state: RngState, where = 'rng state'): this {
    const words = state?.s;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new SamstarError('ARGUMENT_INVALID', `${where}: s must be 4 unsigned 32-bit integers, got ${JSON.stringify(words)}`);
    }
    const spare = state.spareNormal;
    if (spare !== undefined && !(typeof spare === 'number' && Number.isFinite(spare))) {
      throw new SamstarError('ARGUMENT_INVALID', `${where}: spareNormal must be a finite number when present, got ${JSON.stringify(spare)}`);
    }
    this.s.set(words);
    this.spareNormal = spare;
    return this;
  }

  /** An independent generator derived from this one (for sub-tasks that must not shift the parent's stream). */
  fork(): Rng {
    return new Rng(this.nextUint32());
  }
}
