/**
 * The search space seen by CMA-ES: per-coordinate maps from the internal
 * (genotype) value to the evaluated (phenotype) value.
 *
 * - continuous, unbounded: identity;
 * - continuous, bounded: pycma's BoundTransform (BoxConstraintsLinQuadTransformation):
 *   identity on most of the box, quadratic near the edges, periodic mirroring
 *   outside, so every phenotype lies in the box while the internal mean may
 *   lie outside it. Width of the quadratic zone: a = min(w/2, (1 + |bound|)/20).
 * - integer (steps[i] > 0): nearest level of the grid low + k·step (extreme
 *   cells extend to ±∞), as in CMA-ES with Margin; the margin itself lives in cmaes.ts.
 * - fixed (low == high): the constant.
 */
import type { SearchBounds } from './types.js';

export const CoordKind = { Free: 0, Bounded: 1, Integer: 2, Fixed: 3 } as const;
export type CoordKind = (typeof CoordKind)[keyof typeof CoordKind];

export interface Coord {
  readonly kind: CoordKind;
  readonly low: number;
  readonly high: number;
  /** Width of the lower / upper quadratic zone (Bounded). */
  readonly al: number;
  readonly au: number;
  /** Integer grid: levels anchor + k·step for kMin ≤ k ≤ kMax (either may be infinite). */
  readonly anchor: number;
  readonly step: number;
  readonly kMin: number;
  readonly kMax: number;
}

export function makeCoords(bounds: SearchBounds): Coord[] {
  const n = bounds.low.length;
  if (n < 1) throw new RangeError('search bounds must have at least one dimension');
  if (bounds.high.length !== n) throw new RangeError(`bounds.low has ${n} entries, bounds.high ${bounds.high.length}`);
  if (bounds.steps && bounds.steps.length !== n) throw new RangeError(`bounds.steps has ${bounds.steps.length} entries, expected ${n}`);
  const coords: Coord[] = [];
  for (let i = 0; i < n; i++) {
    const low = bounds.low[i];
    const high = bounds.high[i];
    const step = bounds.steps?.[i] ?? 0;
    if (Number.isNaN(low) || Number.isNaN(high) || !(low <= high)) throw new RangeError(`bounds[${i}] = [${low}, ${high}] is not an interval`);
    if (!(step >= 0) || !Number.isFinite(step)) throw new RangeError(`bounds.steps[${i}] = ${step} must be a finite number ≥ 0`);
    const base = { low, high, al: 0, au: 0, anchor: 0, step: 0, kMin: 0, kMax: 0 };
    if (low === high) {
      coords.push({ ...base, kind: CoordKind.Fixed });
    } else if (step > 0) {
      let anchor = 0;
      let kMin = -Infinity;
      let kMax = Infinity;
      if (Number.isFinite(low)) {
        anchor = low;
        kMin = 0;
        if (Number.isFinite(high)) kMax = Math.floor((high - low) / step + 1e-9);
      } else if (Number.isFinite(high)) {
        anchor = high;
        kMax = 0;
      }
      coords.push({ ...base, kind: kMin === kMax ? CoordKind.Fixed : CoordKind.Integer, anchor, step, kMin, kMax });
    } else if (Number.isFinite(low) || Number.isFinite(high)) {
      const width = high - low;
      const al = Number.isFinite(low) ? Math.min(width / 2, (1 + Math.abs(low)) / 20) : 0;
      const au = Number.isFinite(high) ? Math.min(width / 2, (1 + Math.abs(high)) / 20) : 0;
      coords.push({ ...base, kind: CoordKind.Bounded, al, au });
    } else {
      coords.push({ ...base, kind: CoordKind.Free });
    }
  }
  return coords;
}

/** Genotype → phenotype for a Bounded coordinate (smooth, in [low, high]). */
export function boundTransform(c: Coord, x: number): number {
  const { low: lb, high: ub, al, au } = c;
  const hasL = lb !== -Infinity;
  const hasU = ub !== Infinity;
  if (!Number.isFinite(x)) return hasL && hasU ? (lb + ub) / 2 : hasL ? lb : ub;
  if (hasL && hasU) {
    const w = ub - lb;
    const start = lb - 2 * al - w / 2;
    if (x < start || x > ub + 2 * au + w / 2) {
      const period = 2 * (w + al + au);
      x -= period * Math.floor((x - start) / period);
    }
    if (x > ub + au) x -= 2 * (x - ub - au);
    if (x < lb - al) x += 2 * (lb - al - x);
    let y: number;
    if (x < lb + al) y = lb + (x - (lb - al)) ** 2 / (4 * al);
    else if (x <= ub - au) y = x;
    else y = ub - (x - (ub + au)) ** 2 / (4 * au);
    return y < lb ? lb : y > ub ? ub : y;
  }
  if (hasL) {
    if (x < lb - al) x = 2 * (lb - al) - x;
    return x < lb + al ? lb + (x - (lb - al)) ** 2 / (4 * al) : x;
  }
  if (x > ub + au) x = 2 * (ub + au) - x;
  return x > ub - au ? ub - (x - (ub + au)) ** 2 / (4 * au) : x;
}

/** A genotype that maps to the phenotype y (clamped into the box first). */
export function boundTransformInverse(c: Coord, y: number): number {
  const { low: lb, high: ub, al, au } = c;
  y = Math.min(ub, Math.max(lb, y));
  if (lb !== -Infinity && y < lb + al) return lb - al + 2 * Math.sqrt(al * (y - lb));
  if (ub !== Infinity && y > ub - au) return ub + au - 2 * Math.sqrt(au * (ub - y));
  return y;
}

/** Level index of x on an Integer coordinate (clamped to the grid). */
export function levelIndex(c: Coord, x: number): number {
  const k = Math.round((x - c.anchor) / c.step);
  return k < c.kMin ? c.kMin : k > c.kMax ? c.kMax : k;
}

/** The grid value nearest to x (inside the box). */
export function encodeInteger(c: Coord, x: number): number {
  const v = c.anchor + levelIndex(c, x) * c.step;
  return v < c.low ? c.low : v > c.high ? c.high : v;
}
