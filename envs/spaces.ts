import { SamstarError } from '../src/util/errors.js';
import type { Rng } from '../src/util/rng.js';
import type { Space } from './types.js';

/**
 * Gymnasium's spaces (Box, Discrete, Dict) in TypeScript. Every space has
 * `contains`, `sample(rng)` (the project's seedable Rng, never Math.random) and
 * a JSON form that `spaceFromJSON` reads back.
 *
 * Vectors are flat: a Box of shape [2, 3] holds 6 numbers in row-major order.
 * `contains` accepts plain number arrays and typed arrays alike (as Gymnasium
 * accepts lists for a float Box); `sample` returns a Float64Array.
 */

/** JSON cannot hold ±Infinity: unbounded ends are written as "inf" / "-inf". */
export type JsonBound = number | 'inf' | '-inf';

export interface BoxJSON {
  readonly type: 'box';
  readonly shape: number[];
  readonly low: JsonBound[];
  readonly high: JsonBound[];
  /** Optional names of the entries (e.g. knob or feature names), documentation only. */
  readonly names?: string[];
}

export interface DiscreteJSON {
  readonly type: 'discrete';
  readonly n: number;
  readonly start: number;
}

export interface DictJSON {
  readonly type: 'dict';
  readonly spaces: Record<string, SpaceJSON>;
}

export type SpaceJSON = BoxJSON | DiscreteJSON | DictJSON;

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isNumberArrayLike(value: unknown): value is ArrayLike<number> {
  if (ArrayBuffer.isView(value)) return !(value instanceof DataView) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array);
  return Array.isArray(value);
}

/**
 * A box in R^n: every entry between its own low and high (inclusive), finite.
 * `low`/`high` are numbers (broadcast over `shape`) or arrays of the flat size.
 */
export class Box implements Space<ArrayLike<number>> {
  readonly kind = 'box' as const;
  readonly shape: readonly number[];
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly size: number;
  readonly names?: readonly string[];

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: readonly number[], options: { names?: readonly string[] } = {}) {
    const inferred = shape ?? (typeof low !== 'number' ? [low.length] : typeof high !== 'number' ? [high.length] : undefined);
    if (!inferred) throw new SamstarError('ARGUMENT_INVALID', 'Box: give a shape when low and high are both scalars');
    if (inferred.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new SamstarError('ARGUMENT_INVALID', `Box: shape ${JSON.stringify(inferred)} must hold non-negative integers`);
    }
    this.shape = [...inferred];
    this.size = product(this.shape);
    this.low = broadcast(low, this.size, 'low');
    this.high = broadcast(high, this.size, 'high');
    for (let i = 0; i < this.size; i++) {
      if (Number.isNaN(this.low[i]) || Number.isNaN(this.high[i]) || this.low[i] > this.high[i]) {
        throw new SamstarError('ARGUMENT_INVALID', `Box: entry ${i} has low ${this.low[i]} > high ${this.high[i]} (or NaN)`);
      }
    }
    if (options.names) {
      if (options.names.length !== this.size) {
        throw new SamstarError('ARGUMENT_INVALID', `Box: ${options.names.length} names for ${this.size} entries`);
      }
      this.names = [...options.names];
    }
  }

  /** True when every entry is finite on both ends. */
  get bounded(): boolean {
    for (let i = 0; i < this.size; i++) if (!Number.isFinite(this.low[i]) || !Number.isFinite(this.high[i])) return false;
    return true;
  }

  contains(value: unknown): value is ArrayLike<number> {
    return this.explain(value) === undefined;
  }

  /** Why `value` is not in the box (undefined when it is): for checkEnv's messages. */
  explain(value: unknown): string | undefined {
    if (!isNumberArrayLike(value)) return `expected a number array or typed array, got ${describeValue(value)}`;
    if (value.length !== this.size) return `expected ${this.size} entries (shape [${this.shape.join(', ')}]), got ${value.length}`;
    for (let i = 0; i < this.size; i++) {
      const v = value[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return `entry ${i}${this.nameOf(i)} is ${String(v)}, not a finite number`;
      if (v < this.low[i] || v > this.high[i]) return `entry ${i}${this.nameOf(i)} = ${v} is outside [${this.low[i]}, ${this.high[i]}]`;
    }
    return undefined;
  }

  private nameOf(i: number): string {
    return this.names ? ` (${this.names[i]})` : '';
  }

  /**
   * Uniform on bounded entries; as Gymnasium: normal on (−∞, ∞), low + Exp(1)
   * on [low, ∞), high − Exp(1) on (−∞, high].
   */
  sample(rng: Rng): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i];
      const hi = this.high[i];
      const finiteLow = Number.isFinite(lo);
      const finiteHigh = Number.isFinite(hi);
      if (finiteLow && finiteHigh) out[i] = lo === hi ? lo : Math.min(hi, rng.uniform(lo, hi));
      else if (finiteLow) out[i] = lo - Math.log(1 - rng.next());
      else if (finiteHigh) out[i] = hi + Math.log(1 - rng.next());
      else out[i] = rng.normal();
    }
    return out;
  }

  /** Clip a vector into the box (NaN stays NaN: clipping cannot repair it). */
  clip(value: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = Math.min(this.high[i], Math.max(this.low[i], value[i]));
    return out;
  }

  toJSON(): BoxJSON {
    const json: BoxJSON = { type: 'box', shape: [...this.shape], low: [...this.low].map(toJsonBound), high: [...this.high].map(toJsonBound) };
    return this.names ? { ...json, names: [...this.names] } : json;
  }
}

/** The integers start, start + 1, …, start + n − 1. */
export class Discrete implements Space<number> {
  readonly kind = 'discrete' as const;

  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new SamstarError('ARGUMENT_INVALID', `Discrete: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(start)) throw new SamstarError('ARGUMENT_INVALID', `Discrete: start must be an integer, got ${start}`);
  }

  contains(value: unknown): value is number {
    return typeof value === 'number' && Number.isInteger(value) && value >= this.start && value < this.start + this.n;
  }

  explain(value: unknown): string | undefined {
    if (this.contains(value)) return undefined;
    return `expected an integer in [${this.start}, ${this.start + this.n - 1}], got ${describeValue(value)}`;
  }

  sample(rng: Rng): number {
    return this.start + rng.int(this.n);
  }

  toJSON(): DiscreteJSON {
    return { type: 'discrete', n: this.n, start: this.start };
  }
}

type DictValue<S extends Record<string, Space<unknown>>> = { [K in keyof S]: S[K] extends Space<infer T> ? T : never };

/**
 * Named sub-spaces. Keys are kept sorted (as Gymnasium does), so sampling and
 * the JSON form do not depend on the order the caller wrote them in.
 * `contains` wants exactly these keys, each value in its space.
 */
export class Dict<S extends Record<string, Space<unknown>> = Record<string, Space<unknown>>> implements Space<DictValue<S>> {
  readonly kind = 'dict' as const;
  readonly spaces: Readonly<S>;
  readonly keys: readonly string[];

  constructor(spaces: S) {
    this.keys = Object.keys(spaces).sort();
    if (this.keys.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'Dict: give at least one sub-space');
    const sorted = {} as S;
    for (const k of this.keys) (sorted as Record<string, Space<unknown>>)[k] = spaces[k];
    this.spaces = sorted;
  }

  contains(value: unknown): value is DictValue<S> {
    return this.explain(value) === undefined;
  }

  explain(value: unknown): string | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
      return `expected an object with keys ${this.keys.join(', ')}, got ${describeValue(value)}`;
    }
    const given = Object.keys(value);
    const missing = this.keys.filter((k) => !(k in value));
    const extra = given.filter((k) => !this.keys.includes(k));
    if (missing.length || extra.length) {
      return `keys differ: ${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`;
    }
    for (const k of this.keys) {
      const space = this.spaces[k] as Space<unknown>;
      const v = (value as Record<string, unknown>)[k];
      if (!space.contains(v)) return `"${k}": ${explainSpace(space, v)}`;
    }
    return undefined;
  }

  sample(rng: Rng): DictValue<S> {
    const out: Record<string, unknown> = {};
    for (const k of this.keys) out[k] = (this.spaces[k] as Space<unknown>).sample(rng);
    return out as DictValue<S>;
  }

  toJSON(): DictJSON {
    const spaces: Record<string, SpaceJSON> = {};
    for (const k of this.keys) spaces[k] = (this.spaces[k] as Space<unknown>).toJSON() as SpaceJSON;
    return { type: 'dict', spaces };
  }
}

/** Why `value` is not in `space` (undefined when it is), for any space, ours or not. */
export function explainSpace(space: Space<unknown>, value: unknown): string | undefined {
  const withExplain = space as Space<unknown> & { explain?: (v: unknown) => string | undefined };
  if (typeof withExplain.explain === 'function') return withExplain.explain(value);
  return space.contains(value) ? undefined : `${describeValue(value)} is not in the ${space.kind} space`;
}

/** Read a space back from its JSON form (as stored with studies and policies). */
export function spaceFromJSON(json: unknown, path = 'space'): Box | Discrete | Dict {
  const bad = (what: string): SamstarError => new SamstarError('CONFIG_INVALID', `${path}: ${what}`);
  if (typeof json !== 'object' || json === null) throw bad(`expected an object with a "type", got ${describeValue(json)}`);
  const o = json as Record<string, unknown>;
  switch (o.type) {
    case 'box': {
      if (!Array.isArray(o.shape) || !Array.isArray(o.low) || !Array.isArray(o.high)) throw bad('a box needs shape, low and high arrays');
      const low = o.low.map((v, i) => fromJsonBound(v, `${path}.low[${i}]`));
      const high = o.high.map((v, i) => fromJsonBound(v, `${path}.high[${i}]`));
      const names = o.names === undefined ? undefined : Array.isArray(o.names) && o.names.every((n) => typeof n === 'string') ? (o.names as string[]) : undefined;
      if (o.names !== undefined && !names) throw bad('names must be an array of strings');
      return new Box(low, high, o.shape as number[], { names });
    }
    case 'discrete':
      if (typeof o.n !== 'number') throw bad('a discrete space needs n');
      return new Discrete(o.n, typeof o.start === 'number' ? o.start : 0);
    case 'dict': {
      if (typeof o.spaces !== 'object' || o.spaces === null) throw bad('a dict space needs "spaces"');
      const spaces: Record<string, Space<unknown>> = {};
      for (const [k, v] of Object.entries(o.spaces)) spaces[k] = spaceFromJSON(v, `${path}.spaces.${k}`);
      return new Dict(spaces);
    }
    default:
      throw bad(`unknown space type ${JSON.stringify(o.type)} (known: box, discrete, dict)`);
  }
}

function broadcast(value: number | ArrayLike<number>, size: number, what: string): Float64Array {
  if (typeof value === 'number') return new Float64Array(size).fill(value);
  if (value.length !== size) throw new SamstarError('ARGUMENT_INVALID', `Box: ${what} has ${value.length} entries, the shape holds ${size}`);
  return Float64Array.from(value);
}

function toJsonBound(v: number): JsonBound {
  return v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v;
}

function fromJsonBound(v: unknown, path: string): number {
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new SamstarError('CONFIG_INVALID', `${path}: expected a finite number, "inf" or "-inf", got ${JSON.stringify(v)}`);
}

/** A short description of a value for messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
