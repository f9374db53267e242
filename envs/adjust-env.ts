import type { KnobEnvOptions, KnobStepInfo } from './step-info.js';
import type { CompiledReward } from '../rewards/index.js';
import { FEATURE_BOUNDS, FEATURE_NAMES, featureSpec, frameFeatures, type FeatureSpec } from '../src/image/features.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import { KnobMapping } from '../src/segmenters/knob-mapping.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmentation, Segmenter } from '../src/segmenters/types.js';
import { SamstarError } from '../src/util/errors.js';
import { LruCache } from '../src/util/lru.js';
import { Rng } from '../src/util/rng.js';
import { segmentAndScore } from './evaluator.js';
import { Box } from './spaces.js';
import { frameSourceOf, type FrameSource } from './tune-env.js';
import type { Env, ResetResult, StepResult } from './types.js';

/**
 * Multi-step knob adjustment on one frame (AdjustEnv), and the pieces it
 * shares with StreamEnv: the segmentation statistics that go into
 * observations, the frame store, and knob-vector checks.
 */

// ---------------------------------------------------------------------------
// Shared helpers (also used by stream-env.ts)

/** What an observation says about the current segmentation, besides the reward terms. */
export const SEGMENTATION_STAT_NAMES = ['seg_count', 'seg_mean_area', 'seg_coverage', 'reward_total'] as const;

/** Statistics of one segmentation and its reward. */
export interface SegmentationStats {
  /** Instances. */
  readonly count: number;
  /** Mean instance area, pixels (0 without instances). */
  readonly meanArea: number;
  /** Fraction of the frame's pixels inside at least one mask. */
  readonly coverage: number;
  readonly total: number;
  readonly terms: Record<string, number>;
}

/** Instances, mean area and covered fraction (the union of the masks, overlaps counted once). */
export function segmentationStats(segmentation: Segmentation, reward: { total: number; terms: Record<string, number> }): SegmentationStats {
  const n = segmentation.instances.length;
  const pixels = segmentation.width * segmentation.height;
  let areaSum = 0;
  // Union of the RLEs in their own (column-major) index space: the order does not matter for a count.
  const covered = new Uint8Array(pixels);
  let union = 0;
  for (const instance of segmentation.instances) {
    areaSum += instance.area;
    const counts = instance.segmentation.counts;
    let position = 0;
    for (let r = 0; r < counts.length; r++) {
      const run = counts[r];
      if (r % 2 === 1) {
        for (let k = position; k < position + run && k < pixels; k++) {
          if (!covered[k]) {
            covered[k] = 1;
            union++;
          }
        }
      }
      position += run;
    }
  }
  return { count: n, meanArea: n ? areaSum / n : 0, coverage: pixels ? union / pixels : 0, total: reward.total, terms: { ...reward.terms } };
}

/** Observation entries for the statistics: count, mean area, coverage, total, then each reward term in config order. */
export function statsVector(stats: SegmentationStats | undefined, termNames: readonly string[]): number[] {
  if (!stats) return [0, 0, 0, 0, ...termNames.map(() => 0)];
  return [stats.count, stats.meanArea, stats.coverage, stats.total, ...termNames.map((t) => finiteOr0(stats.terms[t]))];
}

/** Names and bounds of statsVector's entries. */
export function statsSpace(termNames: readonly string[]): { names: string[]; low: number[]; high: number[] } {
  return {
    names: [...SEGMENTATION_STAT_NAMES, ...termNames.map((t) => `reward_${t}`)],
    low: [0, 0, 0, -Infinity, ...termNames.map(() => -Infinity)],
    high: [Infinity, Infinity, 1, Infinity, ...termNames.map(() => Infinity)],
  };
}

/** The reward's term names, in config order. */
export function rewardTermNames(reward: CompiledReward): string[] {
  return reward.terms.map((t) => t.name);
}

function finiteOr0(v: number | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** One frame held by an env: id, pixels, optional truth. */
export interface HeldFrame {
  readonly id: string;
  readonly frame: Frame;
  readonly truth?: LabelImage;
}

/** Frames in memory or from a loader, with a byte-bounded cache for loaders. */
export class FrameStore {
  readonly source: FrameSource;
  private readonly cache: LruCache<HeldFrame>;

  constructor(frames: readonly Frame[] | FrameSource, truths: readonly (LabelImage | undefined)[] | undefined, where: string, cacheBytes = 2 ** 30) {
    if (Array.isArray(frames)) {
      if (truths && truths.length !== frames.length) {
        throw new SamstarError('ARGUMENT_INVALID', `${where}: ${truths.length} truths for ${frames.length} frames (give one per frame, undefined where unknown)`);
      }
      this.source = frameSourceOf(frames as readonly Frame[], truths);
    } else {
      this.source = frames as FrameSource;
    }
    if (this.source.length < 1) throw new SamstarError('ARGUMENT_INVALID', `${where}: no frames`);
    this.cache = new LruCache<HeldFrame>(cacheBytes, (f) => f.frame.pixels.byteLength * 2 + (f.truth?.data.byteLength ?? 0));
  }

  get length(): number {
    return this.source.length;
  }

  async get(index: number): Promise<HeldFrame> {
    const key = String(index);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const { frame, truth } = await this.source.load(index);
    const held: HeldFrame = { id: this.source.id(index), frame, truth };
    this.cache.set(key, held);
    return held;
  }

  checkIndex(i: unknown, where: string): asserts i is number {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new SamstarError('ARGUMENT_INVALID', `${where}: frame index ${String(i)} is outside [0, ${this.length - 1}]`);
    }
  }

  clear(): void {
    this.cache.clear();
  }
}

/** A normalised knob vector given as an option (start point): right length, finite, clipped to the box. */
export function normalisedStart(where: string, space: KnobSpace, start: readonly number[] | undefined): number[] {
  if (start === undefined) return space.toNormalised(space.defaults()).map(clip1);
  if (start.length !== space.dimension || start.some((v) => !Number.isFinite(v))) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: the start point must be ${space.dimension} finite numbers in [−1, 1] (${space.names.join(', ')}), got ${JSON.stringify(start)}`);
  }
  return start.map(clip1);
}

export function clip1(v: number): number {
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

/**
 * Read an action vector of `size` entries: a wrong length or a non-number entry
 * throws (naming the entry); entries outside [−1, 1] are clipped and reported.
 */
export function readAction(action: ArrayLike<number>, size: number, names: readonly string[]): { used: number[]; clipped: boolean } {
  if (!action || typeof action.length !== 'number' || action.length !== size) {
    throw new SamstarError('ARGUMENT_INVALID', `step: the action must be ${size} numbers (${names.join(', ')}), got ${action && typeof action.length === 'number' ? action.length : typeof action}`);
  }
  const used: number[] = [];
  let clipped = false;
  for (let i = 0; i < size; i++) {
    const v = action[i];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new SamstarError('ARGUMENT_INVALID', `step: action[${i}] (${names[i]}) is ${String(v)}, not a number`);
    const c = clip1(v);
    if (c !== v) clipped = true;
    used.push(c);
  }
  return { used, clipped };
}

/** segmentAndScore (evaluator.ts), with the statistics of the segmentation that the observations carry. */
export async function segmentWithStats(
  segmenter: Segmenter,
  reward: CompiledReward,
  held: HeldFrame,
  knobs: KnobValues,
): Promise<{ segmentation: Segmentation; stats: SegmentationStats; segmentMs: number; rewardMs: number }> {
  const { segmentation, result, segmentMs, rewardMs } = await segmentAndScore(segmenter, reward, held, knobs);
  return { segmentation, stats: segmentationStats(segmentation, result), segmentMs, rewardMs };
}

/** Knob-space names as `knob:<name>` observation entries. */
export function knobObservationNames(space: KnobSpace): string[] {
  return space.names.map((n) => `knob_${n}`);
}

// ---------------------------------------------------------------------------
// AdjustEnv

/** The extra options both knob environments take (each documents its own defaults). */
export interface KnobEnvMotion {
  readonly stepSize?: number;
  readonly start?: readonly number[];
  readonly seed?: number;
}

/**
 * What AdjustEnv and StreamEnv build alike from their options, checked, defaults filled:
 * the step size (0.25), the fixed knobs and the point → knobs mapping (which checks the tuned
 * space against the segmenter's), the frame store, the start knobs, the seeded Rng and the
 * reward's term names. `where` names the env in errors.
 */
export function knobEnvParts(where: string, options: KnobEnvOptions & KnobEnvMotion): { fixed: KnobValues; mapping: KnobMapping; stepSize: number; frames: FrameStore; start: number[]; rng: Rng; termNames: string[] } {
  const stepSize = options.stepSize ?? 0.25;
  if (!(stepSize > 0 && stepSize <= 2)) throw new SamstarError('ARGUMENT_INVALID', `${where}: stepSize must be in (0, 2], got ${stepSize}`);
  if (options.space.dimension < 1) throw new SamstarError('ARGUMENT_INVALID', `${where}: tune at least one knob`);
  const fixed = { ...(options.fixed ?? {}) };
  const mapping = new KnobMapping(options.segmenter.knobs, options.space, fixed, `${where} knobs`);
  const frames = new FrameStore(options.frames, options.truths, where);
  return { fixed, mapping, stepSize, frames, start: normalisedStart(where, options.space, options.start), rng: new Rng(options.seed ?? 0), termNames: rewardTermNames(options.reward) };
}

/** The observation box of a knob environment: frame features, the tuned knobs in [−1, 1], the segmentation statistics, then `extra` entries in [0, 1]. */
export function knobObservationSpace(space: KnobSpace, termNames: readonly string[], extra: readonly string[]): Box {
  const stats = statsSpace(termNames);
  return new Box(
    [...FEATURE_BOUNDS.map((b) => b[0]), ...space.names.map(() => -1), ...stats.low, ...extra.map(() => 0)],
    [...FEATURE_BOUNDS.map((b) => b[1]), ...space.names.map(() => 1), ...stats.high, ...extra.map(() => 1)],
    [FEATURE_NAMES.length + space.dimension + stats.names.length + extra.length],
    { names: [...FEATURE_NAMES, ...knobObservationNames(space), ...stats.names, ...extra] },
  );
}

export interface AdjustEnvOptions extends KnobEnvOptions, KnobEnvMotion {
  /** Steps per episode before it is truncated (default 8). */
  readonly maxSteps?: number;
  /** A knob moves by stepSize·a per step, in normalised units (default 0.25: 8 full steps cross the box). */
  readonly stepSize?: number;
  /** Normalised knob vector every episode starts from (default: the tuned space's defaults). `reset({ options: { knobs } })` overrides it. */
  readonly start?: readonly number[];
  /** Seed of the frame draws until reset({ seed }) reseeds (default 0). */
  readonly seed?: number;
}

export interface AdjustStepInfo extends KnobStepInfo {
  /** Steps taken in this episode (this one included). */
  readonly step: number;
  /** The agent chose to stop (last action entry > 0): the knobs did not change. */
  readonly stopped: boolean;
}

interface AdjustEpisode {
  readonly held: HeldFrame;
  readonly index: number;
  readonly features: Float64Array;
  x: number[];
  stats: SegmentationStats;
  steps: number;
  done: boolean;
}

/**
 * AdjustEnv: several steps on one frame. The agent nudges the tuned knobs and
 * sees what the segmentation became, until it stops or runs out of steps.
 *
 *  - reset({ seed, options: { frame?, knobs? } }): draws a frame with the env's
 *    seeded Rng (or takes `options.frame`), starts at `options.knobs` / the
 *    `start` option / the space's defaults, and segments once.
 *  - Action: Box [−1, 1]^(d+1). Entries 0…d−1 move the tuned knobs
 *    (x ← clip(x + stepSize·a, −1, 1)); entry d is **stop**: > 0 ends the
 *    episode (terminated) without changing the knobs. Out-of-range entries are
 *    clipped (info.actionClipped); NaN or a wrong length throws.
 *  - Reward: the change of the reward total, total(after) − total(before); the
 *    return of an episode is total(final) − total(start), so stopping at the
 *    best setting found is optimal. A stop step's reward is 0. info.total is the
 *    absolute total.
 *  - Observation (Box, named entries): the frame features (FEATURE_NAMES), the
 *    current tuned knobs normalised (`knob_<name>`), statistics of the current
 *    segmentation (seg_count, seg_mean_area in px, seg_coverage in [0, 1],
 *    reward_total, `reward_<term>` per reward term), and `steps_left` =
 *    1 − steps/maxSteps.
 *  - truncated after maxSteps steps; terminated when the agent stops.
 * Deterministic: the frame draws come from the seed; the segmenter is deterministic.
 */
export class AdjustEnv implements Env<ArrayLike<number>, ArrayLike<number>> {
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly space: KnobSpace;
  readonly fixed: KnobValues;
  /** Normalised tuned knobs ↔ full knob values (src/segmenters/knob-mapping.ts). */
  readonly mapping: KnobMapping;
  readonly reward: CompiledReward;
  readonly maxSteps: number;
  readonly stepSize: number;
  readonly featureSpec: FeatureSpec = featureSpec();
  readonly termNames: readonly string[];
  private readonly segmenter: Segmenter;
  private readonly frames: FrameStore;
  private readonly start: number[];
  private rng: Rng;
  private episode?: AdjustEpisode;
  private closed = false;

  constructor(options: AdjustEnvOptions) {
    this.segmenter = options.segmenter;
    this.reward = options.reward;
    this.space = options.space;
    this.maxSteps = options.maxSteps ?? 8;
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 1) throw new SamstarError('ARGUMENT_INVALID', `AdjustEnv: maxSteps must be a positive integer, got ${this.maxSteps}`);
    ({ fixed: this.fixed, mapping: this.mapping, stepSize: this.stepSize, frames: this.frames, start: this.start, rng: this.rng, termNames: this.termNames } = knobEnvParts('AdjustEnv', options));

    this.actionSpace = new Box(-1, 1, [this.space.dimension + 1], { names: [...this.space.names, 'stop'] });
    this.observationSpace = knobObservationSpace(this.space, this.termNames, ['steps_left']);
  }

  get length(): number {
    return this.frames.length;
  }

  async reset(options: { seed?: number; options?: Record<string, unknown> } = {}): Promise<ResetResult<Float64Array>> {
    this.assertOpen();
    if (options.seed !== undefined) {
      if (!Number.isFinite(options.seed)) throw new SamstarError('ARGUMENT_INVALID', `reset: seed must be a finite number, got ${options.seed}`);
      this.rng = new Rng(options.seed);
    }
    const requested = options.options?.frame;
    let index: number;
    if (requested !== undefined) {
      this.frames.checkIndex(requested, 'reset: options.frame');
      index = requested;
    } else {
      index = this.rng.int(this.frames.length);
    }
    const knobsOption = options.options?.knobs;
    const x = knobsOption === undefined ? [...this.start] : normalisedStart('reset: options.knobs', this.space, knobsOption as number[]);
    const held = await this.frames.get(index);
    const features = Float64Array.from(frameFeatures(held.frame));
    const { stats } = await segmentWithStats(this.segmenter, this.reward, held, this.resolve(x));
    this.episode = { held, index, features, x, stats, steps: 0, done: false };
    return { observation: this.observe(), info: { frame: held.id, frameIndex: index, knobs: this.resolve(x), total: stats.total, terms: stats.terms, count: stats.count } };
  }

  async step(action: ArrayLike<number>): Promise<StepResult<Float64Array> & { readonly info: AdjustStepInfo }> {
    this.assertOpen();
    const episode = this.episode;
    if (!episode || episode.done) {
      throw new SamstarError('ARGUMENT_INVALID', episode ? 'step() after the episode ended' : 'step() before reset()', { hint: 'call reset() to start an episode' });
    }
    const d = this.space.dimension;
    const { used, clipped } = readAction(action, d + 1, this.actionSpace.names!);
    const stopped = used[d] > 0;
    const before = episode.stats.total;
    let segmentMs = 0;
    if (!stopped) {
      const x = episode.x.map((v, i) => clip1(v + this.stepSize * used[i]));
      const result = await segmentWithStats(this.segmenter, this.reward, episode.held, this.resolve(x));
      episode.x = x;
      episode.stats = result.stats;
      segmentMs = result.segmentMs;
    }
    episode.steps++;
    const terminated = stopped;
    const truncated = !terminated && episode.steps >= this.maxSteps;
    episode.done = terminated || truncated;
    const knobs = this.resolve(episode.x);
    const info: AdjustStepInfo = {
      frame: episode.held.id,
      frameIndex: episode.index,
      step: episode.steps,
      stopped,
      action: used,
      actionClipped: clipped,
      x: [...episode.x],
      knobs,
      tuned: pick(knobs, this.space.names),
      total: episode.stats.total,
      terms: episode.stats.terms,
      count: episode.stats.count,
      meanArea: episode.stats.meanArea,
      coverage: episode.stats.coverage,
      segmentMs,
    };
    return { observation: this.observe(), reward: episode.stats.total - before, terminated, truncated, info };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.frames.clear();
  }

  /** Normalised tuned knobs → the full knob vector (fixed ∪ tuned ∪ defaults). */
  resolve(x: readonly number[]): KnobValues {
    return this.mapping.knobsOf(x);
  }

  private observe(): Float64Array {
    const e = this.episode!;
    return Float64Array.from([...e.features, ...e.x, ...statsVector(e.stats, this.termNames), 1 - e.steps / this.maxSteps]);
  }

  private assertOpen(): void {
    if (this.closed) throw new SamstarError('ARGUMENT_INVALID', 'the AdjustEnv is closed');
  }
}

export function pick(values: KnobValues, names: readonly string[]): KnobValues {
  const out: KnobValues = {};
  for (const n of names) out[n] = values[n];
  return out;
}
