/**
 * Box helpers shared by the Bayesian-optimisation, grid and random agents:
 * validating a `SearchBounds`, snapping integer/choice dimensions to their
 * step lattice, and mapping between the box and the unit cube.
 *
 * Lattice rule (the same everywhere): a dimension with step s > 0 takes the
 * values low + k·s for k = 0 … K, K = ⌊(high − low)/s⌋ (with a 1e-9 relative
 * tolerance, so a KnobSpace int knob whose step divides the box exactly
 * reaches `high`). A value snaps to the nearest level, clamped to [0, K].
 */
import { SamstarError } from '../src/util/errors.js';
import type { SearchBounds } from './types.js';

/** Validated, copied bounds with the step lattice resolved. */
export interface Box {
  readonly dimension: number;
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** Step per dimension, 0 for continuous ones. */
  readonly steps: readonly number[];
  /** Highest lattice index K per dimension (0 for continuous ones). */
  readonly levels: readonly number[];
}

/** Check the bounds (lengths, finiteness, low ≤ high, steps ≥ 0) and resolve the lattice; throws ARGUMENT_INVALID naming the agent. */
export function makeBox(bounds: SearchBounds, agent: string): Box {
  const { low, high } = bounds;
  if (!Array.isArray(low) || !Array.isArray(high) || low.length !== high.length) {
    throw new SamstarError('ARGUMENT_INVALID', `${agent}: bounds.low and bounds.high must be arrays of the same length (got ${low?.length} and ${high?.length})`);
  }
  const d = low.length;
  if (d === 0) throw new SamstarError('ARGUMENT_INVALID', `${agent}: the search box has no dimensions`);
  const steps = bounds.steps ?? new Array<number>(d).fill(0);
  if (steps.length !== d) {
    throw new SamstarError('ARGUMENT_INVALID', `${agent}: bounds.steps has ${steps.length} entries, the box has ${d} dimensions`);
  }
  const levels: number[] = [];
  for (let i = 0; i < d; i++) {
    if (!Number.isFinite(low[i]) || !Number.isFinite(high[i]) || low[i] > high[i]) {
      throw new SamstarError('ARGUMENT_INVALID', `${agent}: dimension ${i} has bounds [${low[i]}, ${high[i]}]; expected finite low ≤ high`);
    }
    if (!Number.isFinite(steps[i]) || steps[i] < 0) {
      throw new SamstarError('ARGUMENT_INVALID', `${agent}: dimension ${i} has step ${steps[i]}; expected a finite step ≥ 0 (0 = continuous)`);
    }
    levels.push(steps[i] > 0 ? Math.floor((high[i] - low[i]) / steps[i] + 1e-9) : 0);
  }
  return { dimension: d, low: [...low], high: [...high], steps: [...steps], levels };
}

/** Clamp into the box and snap stepped dimensions to their lattice (in place; returns x). */
export function snapToBox(box: Box, x: number[]): number[] {
  for (let i = 0; i < box.dimension; i++) x[i] = snapValue(box, i, x[i]);
  return x;
}

/** One coordinate clamped into [low, high] and, for a stepped dimension, snapped to the nearest lattice level. */
export function snapValue(box: Box, i: number, v: number): number {
  const lo = box.low[i];
  const hi = box.high[i];
  const s = box.steps[i];
  if (!(v >= lo)) v = lo; // also maps NaN to low
  if (v > hi) v = hi;
  if (s > 0) {
    const k = Math.min(box.levels[i], Math.max(0, Math.round((v - lo) / s)));
    // Round away binary noise so lattice values compare equal across agents.
    v = Math.min(hi, Number((lo + k * s).toPrecision(15)));
  }
  return v;
}

/** Box → unit cube [0, 1]^d (a degenerate dimension maps to 0). */
export function toUnit(box: Box, x: readonly number[], out: Float64Array = new Float64Array(box.dimension)): Float64Array {
  for (let i = 0; i < box.dimension; i++) {
    const w = box.high[i] - box.low[i];
    out[i] = w > 0 ? (x[i] - box.low[i]) / w : 0;
  }
  return out;
}

/** Unit cube → box, snapped to the lattice. */
export function fromUnit(box: Box, u: ArrayLike<number>): number[] {
  const x = new Array<number>(box.dimension);
  for (let i = 0; i < box.dimension; i++) x[i] = snapValue(box, i, box.low[i] + u[i] * (box.high[i] - box.low[i]));
  return x;
}

/** True when x has the box's dimension and lies inside it (lattice not checked). */
export function insideBox(box: Box, x: readonly number[]): boolean {
  if (x.length !== box.dimension) return false;
  for (let i = 0; i < box.dimension; i++) if (!(x[i] >= box.low[i] && x[i] <= box.high[i])) return false;
  return true;
}

/** Check a tell(): same count as the last ask, right dimension. Throws ARGUMENT_INVALID with the agent's name. */
export function checkTell(agent: string, dimension: number, asked: number, candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
  if (candidates.length !== rewards.length) {
    throw new SamstarError('ARGUMENT_INVALID', `${agent}.tell: ${candidates.length} candidates but ${rewards.length} rewards`);
  }
  if (candidates.length !== asked) {
    throw new SamstarError('ARGUMENT_INVALID', `${agent}.tell: told ${candidates.length} candidates, the last ask() gave ${asked}`, {
      hint: 'tell() takes the rewards of exactly the candidates of the last ask(), in the same order',
    });
  }
  for (let j = 0; j < candidates.length; j++) {
    if (candidates[j].length !== dimension) {
      throw new SamstarError('ARGUMENT_INVALID', `${agent}.tell: candidate ${j} has ${candidates[j].length} coordinates, expected ${dimension}`);
    }
  }
}

/** Positive integer option check (batch sizes, budgets). */
export function checkPositiveInt(agent: string, name: string, value: number | undefined, allowInfinity = false): void {
  if (value === undefined) return;
  const ok = (allowInfinity && value === Infinity) || (Number.isInteger(value) && value >= 1);
  if (!ok) throw new SamstarError('ARGUMENT_INVALID', `${agent}: option "${name}" = ${value}; expected a positive integer`);
}
