/**
 * Grid search: a fixed list of points asked in order, `batch` per ask, with
 * stop reason `exhausted` once every point was told (and `budget` when a
 * smaller `maxEvaluations` is given).
 *
 * Order of a full factorial: the FIRST dimension varies slowest and the LAST
 * fastest (like Python's itertools.product and micro-sam's grid search), e.g.
 * values [[a, b], [1, 2, 3]] give (a,1) (a,2) (a,3) (b,1) (b,2) (b,3).
 *
 * ## The micro-sam preset
 *
 * micro-sam grid-searches predicted-IoU × stability in knob units:
 * `MICRO_SAM_PRED_IOU` = 0.6, 0.625, …, 0.925 (14 values) and
 * `MICRO_SAM_STABILITY` = 0.6, 0.625, …, 0.95 (15 values), 210 points with
 * pred_iou outermost (`microSamGrid()`). Agents see the normalised box only,
 * so the caller maps each knob-unit point into it and hands the points over:
 *
 * ```ts
 * const space = samKnobSpace().subset(task.tunedKnobs);   // must include both knobs
 * const agent = microSamGridAgent((v) => space.toNormalised(v), { batch: 10 });
 * // …which is GridAgent.fromPoints(microSamGrid().map((v) => space.toNormalised(v)), …)
 * ```
 *
 * `KnobSpace.toNormalised` fills every other tuned knob with its default, so
 * the preset holds the other knobs at their defaults. The runner maps asked
 * points back with `fromNormalised`, which can leave binary noise in the last
 * digit (0.6 → 0.6000000000000001); the SAM filter compares in float32, so
 * that does not change which masks pass. `microSamGridAgent` checks that the
 * mapping keeps all 210 points distinct (it does not when either knob is not
 * tuned) and says so otherwise.
 */
import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { BestSoFar } from './best.js';
import { type Box, checkPositiveInt, checkTell, makeBox, snapValue } from './bo-box.js';
import { z } from 'zod';
import { type AgentBest, type AskTellAgent, defineAgent, type Assert, type SameKeys, type SearchBounds } from './types.js';

/** Most points a factorial grid may have (guards against 5^12-point accidents). */
export const MAX_GRID_POINTS = 1_000_000;

export interface GridOptions {
  /** Explicit values per dimension (box units; must lie inside the bounds). Takes precedence over pointsPerDim. */
  readonly values?: readonly (readonly number[])[];
  /** Evenly spaced values per dimension including both ends, one number for all or one per dimension (default 5); stepped dimensions snap to their lattice and drop duplicates. */
  readonly pointsPerDim?: number | readonly number[];
  /** Explicit points (box coordinates), asked in the given order; replaces the factorial. */
  readonly points?: readonly (readonly number[])[];
  /** Candidates per ask (default 1). */
  readonly batch?: number;
  /** Stop after this many evaluations (reason `budget`) even if points remain. */
  readonly maxEvaluations?: number;
  /** Ask the points in a seeded random order instead of the fixed one (default false). */
  readonly shuffle?: boolean;
}

export interface GridAgentOptions {
  readonly batch?: number;
  readonly maxEvaluations?: number;
  /** When given, every point must lie inside these bounds. */
  readonly bounds?: SearchBounds;
}

export class GridAgent implements AskTellAgent {
  readonly name = 'grid';
  readonly dimension: number;
  private readonly points: readonly (readonly number[])[];
  private readonly batch: number;
  private readonly maxEvaluations: number;
  private next = 0;
  private pending = 0;
  private told = 0;
  private readonly bestSeen = new BestSoFar();

  /** A grid over explicit points (copied), asked in this order. */
  constructor(points: readonly (readonly number[])[], options: GridAgentOptions = {}) {
    if (points.length === 0) throw new SamstarError('ARGUMENT_INVALID', 'grid: the point list is empty');
    const d = points[0].length;
    if (d === 0) throw new SamstarError('ARGUMENT_INVALID', 'grid: points have no coordinates');
    const box = options.bounds ? makeBox(options.bounds, 'grid') : undefined;
    if (box && box.dimension !== d) {
      throw new SamstarError('ARGUMENT_INVALID', `grid: points have ${d} coordinates, the bounds ${box.dimension} dimensions`);
    }
    points.forEach((p, j) => {
      if (p.length !== d) throw new SamstarError('ARGUMENT_INVALID', `grid: point ${j} has ${p.length} coordinates, point 0 has ${d}`);
      for (let i = 0; i < d; i++) {
        if (!Number.isFinite(p[i])) throw new SamstarError('ARGUMENT_INVALID', `grid: point ${j} coordinate ${i} is ${p[i]}`);
        if (box && !(p[i] >= box.low[i] - 1e-12 && p[i] <= box.high[i] + 1e-12)) {
          throw new SamstarError('ARGUMENT_INVALID', `grid: point ${j} coordinate ${i} = ${p[i]} is outside [${box.low[i]}, ${box.high[i]}]`);
        }
      }
    });
    checkPositiveInt('grid', 'batch', options.batch);
    checkPositiveInt('grid', 'maxEvaluations', options.maxEvaluations, true);
    this.dimension = d;
    // Clamp the 1e-12 slack away so candidates are inside the bounds exactly.
    this.points = points.map((p) => (box ? p.map((v, i) => Math.min(box.high[i], Math.max(box.low[i], v))) : [...p]));
    this.batch = options.batch ?? 1;
    this.maxEvaluations = options.maxEvaluations ?? Infinity;
  }

  /** A grid over explicit points, e.g. a knob-unit preset mapped into the normalised box by the caller. */
  static fromPoints(points: readonly (readonly number[])[], options: GridAgentOptions = {}): GridAgent {
    return new GridAgent(points, options);
  }

  /** The full factorial (or explicit `points`) of GridOptions over the bounds. */
  static fromOptions(bounds: SearchBounds, seed: number, options: GridOptions = {}): GridAgent {
    const box = makeBox(bounds, 'grid');
    let points: number[][];
    if (options.points) {
      points = options.points.map((p) => [...p]);
    } else {
      points = factorialPoints(gridValues(box, options));
    }
    if (options.shuffle) new Rng(seed).shuffle(points);
    return new GridAgent(points, { bounds, batch: options.batch, maxEvaluations: options.maxEvaluations });
  }

  /** Number of grid points. */
  get size(): number {
    return this.points.length;
  }

  /** All grid points in asking order (copies). */
  allPoints(): number[][] {
    return this.points.map((p) => [...p]);
  }

  ask(): number[][] {
    const limit = Math.min(this.points.length, this.maxEvaluations);
    const count = Math.max(0, Math.min(this.batch, limit - this.next));
    const out = this.points.slice(this.next, this.next + count).map((p) => [...p]);
    this.next += count;
    this.pending = count;
    return out;
  }

  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void {
    checkTell('grid', this.dimension, this.pending, candidates, rewards);
    this.pending = 0;
    this.told += candidates.length;
    this.bestSeen.tell(candidates, rewards);
  }

  stop(): string[] {
    const reasons: string[] = [];
    if (this.told >= this.points.length) reasons.push('exhausted');
    if (this.told >= this.maxEvaluations) reasons.push('budget');
    return reasons;
  }

  best(): AgentBest | undefined {
    return this.bestSeen.get();
  }
}

/** Per-dimension value lists from GridOptions (explicit `values`, else `pointsPerDim` evenly spaced, snapped to lattices). */
export function gridValues(box: Box, options: Pick<GridOptions, 'values' | 'pointsPerDim'>): number[][] {
  const d = box.dimension;
  if (options.values) {
    if (options.values.length !== d) {
      throw new SamstarError('ARGUMENT_INVALID', `grid: option "values" has ${options.values.length} lists, the box has ${d} dimensions`);
    }
    return options.values.map((list, i) => {
      if (list.length === 0) throw new SamstarError('ARGUMENT_INVALID', `grid: option "values" list ${i} is empty`);
      return list.map((v) => {
        if (!(Number.isFinite(v) && v >= box.low[i] - 1e-12 && v <= box.high[i] + 1e-12)) {
          throw new SamstarError('ARGUMENT_INVALID', `grid: value ${v} of dimension ${i} is outside [${box.low[i]}, ${box.high[i]}]`);
        }
        return Math.min(box.high[i], Math.max(box.low[i], v));
      });
    });
  }
  const per = options.pointsPerDim ?? 5;
  const counts = typeof per === 'number' ? new Array<number>(d).fill(per) : [...per];
  if (counts.length !== d) {
    throw new SamstarError('ARGUMENT_INVALID', `grid: option "pointsPerDim" has ${counts.length} entries, the box has ${d} dimensions`);
  }
  return counts.map((m, i) => {
    if (!(Number.isInteger(m) && m >= 1)) {
      throw new SamstarError('ARGUMENT_INVALID', `grid: option "pointsPerDim" = ${m} for dimension ${i}; expected a positive integer`);
    }
    const lo = box.low[i];
    const hi = box.high[i];
    if (m === 1 || hi === lo) return [snapValue(box, i, (lo + hi) / 2)];
    const list: number[] = [];
    for (let j = 0; j < m; j++) {
      const v = snapValue(box, i, j === m - 1 ? hi : lo + ((hi - lo) * j) / (m - 1));
      if (list.length === 0 || list[list.length - 1] !== v) list.push(v);
    }
    return list;
  });
}

/** Full factorial of per-dimension value lists, first dimension slowest, last fastest. */
export function factorialPoints(values: readonly (readonly number[])[]): number[][] {
  let total = 1;
  for (const list of values) total *= list.length;
  if (total > MAX_GRID_POINTS) {
    throw new SamstarError('ARGUMENT_INVALID', `grid: the factorial has ${total} points (at most ${MAX_GRID_POINTS})`, {
      hint: 'use fewer pointsPerDim, fewer tuned knobs, or a sampling agent (random, bo, cmaes)',
    });
  }
  const d = values.length;
  const out: number[][] = [];
  const idx = new Array<number>(d).fill(0);
  for (let t = 0; t < total; t++) {
    out.push(idx.map((k, i) => values[i][k]));
    for (let i = d - 1; i >= 0; i--) {
      if (++idx[i] < values[i].length) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** micro-sam's predicted-IoU values: 0.6, 0.625, …, 0.925 (14; numpy's arange(0.6, 0.925, 0.025) overshoot kept). */
export const MICRO_SAM_PRED_IOU: readonly number[] = Array.from({ length: 14 }, (_, i) => Math.round((0.6 + 0.025 * i) * 1000) / 1000);
/** micro-sam's stability values: 0.6, 0.625, …, 0.95 (15). */
export const MICRO_SAM_STABILITY: readonly number[] = Array.from({ length: 15 }, (_, i) => Math.round((0.6 + 0.025 * i) * 1000) / 1000);

/** One micro-sam grid point in knob units. */
export interface MicroSamGridPoint {
  readonly pred_iou_thresh: number;
  readonly stability_score_thresh: number;
}

/** The 210 micro-sam points in knob units, pred_iou outermost, stability fastest. */
export function microSamGrid(): MicroSamGridPoint[] {
  return factorialPoints([MICRO_SAM_PRED_IOU, MICRO_SAM_STABILITY]).map(([p, s]) => ({ pred_iou_thresh: p, stability_score_thresh: s }));
}

/**
 * The micro-sam preset as an agent: each knob-unit point mapped into the
 * normalised box by `toNormalised` (the runner passes its KnobSpace's
 * `toNormalised`). Throws when the mapping merges points, i.e. when the tuned
 * knobs do not include both pred_iou_thresh and stability_score_thresh.
 */
export function microSamGridAgent(
  toNormalised: (values: Record<string, number>) => number[],
  options: GridAgentOptions = {},
): GridAgent {
  const points = microSamGrid().map((v) => toNormalised({ ...v }));
  const distinct = new Set(points.map((p) => p.join(',')));
  if (distinct.size !== points.length) {
    throw new SamstarError('CONFIG_INVALID', `grid preset "micro-sam": only ${distinct.size} of its 210 points are distinct in the tuned knob box`, {
      hint: 'the micro-sam preset needs pred_iou_thresh and stability_score_thresh among the tuned knobs',
    });
  }
  return GridAgent.fromPoints(points, options);
}

const positiveInt = z.number().int().positive();
const finite = z.number().finite();

/** GridOptions as a task config writes them, plus the named preset. */
const schema = z.strictObject({
  values: z.array(z.array(finite).min(1)).optional(),
  pointsPerDim: z.union([positiveInt, z.array(positiveInt)]).optional(),
  points: z.array(z.array(finite)).min(1).optional(),
  batch: positiveInt.optional(),
  maxEvaluations: positiveInt.optional(),
  shuffle: z.boolean().optional(),
  /** Named preset: 'micro-sam' = the 210-point pred_iou × stability grid (needs `toNormalised` in the context). */
  preset: z.literal('micro-sam').optional(),
});
export type GridRegistryOptions = GridOptions & { readonly preset?: 'micro-sam' };
/** Fails tsc when the schema and GridRegistryOptions stop having the same keys. */
type SchemaMatchesOptions = Assert<SameKeys<z.infer<typeof schema>, GridRegistryOptions>>;

/** The registry's `grid` (registry.ts); the seed only matters with `shuffle`. */
export const grid = defineAgent({
  name: 'grid',
  description: 'grid search (full factorial, explicit points, or preset "micro-sam")',
  schema,
  create: (bounds, seed, options, context) => {
    const { preset, ...rest } = options;
    if (preset !== 'micro-sam') return GridAgent.fromOptions(bounds, seed, rest);
    if (!context.toNormalised) {
      throw new SamstarError('CONFIG_INVALID', 'grid preset "micro-sam" needs the knob space to map knob values into the box', {
        hint: 'pass { toNormalised } in the agent context (the runner does this)',
      });
    }
    for (const key of ['values', 'pointsPerDim', 'points', 'shuffle'] as const) {
      if (rest[key] !== undefined) {
        throw new SamstarError('CONFIG_INVALID', `grid: option "${key}" cannot be combined with preset "micro-sam"`);
      }
    }
    return microSamGridAgent(context.toNormalised, { bounds, batch: rest.batch, maxEvaluations: rest.maxEvaluations });
  },
});
