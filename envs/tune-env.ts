import type { CompiledReward } from '../rewards/index.js';
import { FEATURE_BOUNDS, FEATURE_NAMES, featureSpec, frameFeatures, type FeatureSpec } from '../src/image/features.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import { KnobMapping } from '../src/segmenters/knob-mapping.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { SamstarError } from '../src/util/errors.js';
import { LruCache } from '../src/util/lru.js';
import { Rng } from '../src/util/rng.js';
import { InProcessEvaluator, type EvalFrame, type Evaluator, type FrameEvaluation } from './evaluator.js';
import { segmenterSpecOf, type SegmenterSpec } from './segmenter-spec.js';
import { Box } from './spaces.js';
import type { Env, ResetResult, StepResult } from './types.js';
import { WorkerPoolEvaluator } from './worker-evaluator.js';

/** Frames that are loaded on demand (a folder, a stream) instead of held in memory. */
export interface FrameSource {
  readonly length: number;
  /** A stable id of frame i (file name, "synth:frame-0003"): what records store. */
  id(index: number): string;
  load(index: number): Promise<{ frame: Frame; truth?: LabelImage }>;
}

export interface TuneEnvOptions {
  /** The segmenter (its knob space; the in-process evaluator runs on it). */
  readonly segmenter?: Segmenter;
  /** Or an evaluator built elsewhere (e.g. WorkerPoolEvaluator.start); the env then does not close it. */
  readonly evaluator?: Evaluator;
  /**
   * > 1: evaluate frame-parallel in that many worker threads, each with its own
   * segmenter built from `segmenterSpec` (derived from a SamSegmenter when absent).
   * The pool starts on the first evaluation and closes with the env. Default 1 (in-process).
   */
  readonly workers?: number;
  readonly segmenterSpec?: SegmenterSpec;
  /** The dataset: frames in memory, or a loader. */
  readonly frames: readonly Frame[] | FrameSource;
  /** Ground truth per frame (same order as frames; undefined where unknown). Loaders give their own. */
  readonly truths?: readonly (LabelImage | undefined)[];
  readonly reward: CompiledReward;
  /** The tuned knobs: the action box [−1, 1]^d maps onto this space (may narrow the segmenter's bounds). */
  readonly space: KnobSpace;
  /** Values of other knobs (not tuned); the segmenter's defaults fill the rest. */
  readonly fixed?: KnobValues;
  /** Frames per episode, drawn with the env's seeded Rng without replacement, or 'all' (default). */
  readonly framesPerEpisode?: number | 'all';
  /** Seed of the env's Rng until reset({ seed }) reseeds it (default 0). */
  readonly seed?: number;
  /** Byte budget of frames a loader-backed env keeps in memory (default 1 GiB). */
  readonly frameCacheBytes?: number;
}

/** The result of evaluating one knob vector on some frames: what step() puts in info, and evaluate() returns. */
export interface TuneEvaluation {
  /** Mean of the per-frame totals. */
  readonly reward: number;
  /** The full resolved knob vector the segmenter ran with. */
  readonly knobs: KnobValues;
  /** The tuned knobs only (a subset of `knobs`). */
  readonly tuned: KnobValues;
  /** Mean of each reward term over the frames. */
  readonly terms: Record<string, number>;
  /** Mean of each objective over the frames (vector rewards only). */
  readonly objectives?: number[];
  readonly perFrame: FrameEvaluation[];
  /** Frame ids, in evaluation order. */
  readonly frames: string[];
  /** Wall time of the whole evaluation, ms. */
  readonly evalMs: number;
}

export interface TuneStepInfo extends TuneEvaluation {
  /** The action as used (after clipping to [−1, 1]). */
  readonly action: number[];
  /** True when the action had entries outside [−1, 1] that were clipped. */
  readonly actionClipped: boolean;
  readonly [key: string]: unknown;
}

interface Episode {
  readonly indices: number[];
  readonly ids: string[];
  readonly observation: Float64Array;
  done: boolean;
}

/**
 * TuneEnv: an episode is one evaluation of a full knob vector on a frame or a
 * batch of frames. The black-box view that CMA-ES, BO, grid and random search use.
 *
 *  - reset({ seed }) reseeds the env's Rng (when a seed is given) and draws the
 *    episode's frames (or takes all); observation = the mean frame features of
 *    those frames (FEATURE_NAMES order, a Box); info = { frames, frameIndices, features }.
 *    `options.frames` (indices) picks the frames explicitly.
 *  - step(action): action ∈ [−1, 1]^d (the tuned knobs, normalised). Entries
 *    outside are clipped, with info.actionClipped = true (as Gymnasium's
 *    ClipAction would); NaN entries or a wrong length throw. The knob vector
 *    (fixed ∪ tuned) is evaluated on every frame of the episode; reward = mean
 *    total; info = TuneStepInfo; terminated = true.
 *  - evaluate(knobs, frameIndices?) evaluates knob values directly (agents that
 *    work in knob space, the training runner): the same code path and the same
 *    record as step's info.
 */
export class TuneEnv implements Env<ArrayLike<number>, ArrayLike<number>> {
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly space: KnobSpace;
  readonly fixed: KnobValues;
  readonly reward: CompiledReward;
  readonly featureSpec: FeatureSpec = featureSpec();
  /** Point in [−1, 1]^d ↔ full knob values: the one mapping (src/segmenters/knob-mapping.ts), owned here. */
  readonly mapping: KnobMapping;
  private readonly frameCount: number;
  private readonly framesPerEpisode: number | 'all';
  private readonly inMemory?: readonly EvalFrame[];
  private readonly source?: FrameSource;
  private readonly loaded: LruCache<EvalFrame>;
  private readonly knobSpace: KnobSpace;
  private evaluatorPromise?: Promise<Evaluator>;
  private readonly ownsEvaluator: boolean;
  private readonly workerSetup?: { workers: number; spec: SegmenterSpec };
  private rng: Rng;
  private episode?: Episode;
  private closed = false;

  constructor(options: TuneEnvOptions) {
    this.reward = options.reward;
    this.space = options.space;
    this.fixed = { ...(options.fixed ?? {}) };
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: workers must be a positive integer, got ${workers}`);
    if (options.evaluator) {
      this.knobSpace = options.evaluator.knobs;
      this.evaluatorPromise = Promise.resolve(options.evaluator);
      this.ownsEvaluator = false;
    } else if (options.segmenter) {
      this.knobSpace = options.segmenter.knobs;
      this.ownsEvaluator = true;
      if (workers > 1) {
        const spec = options.segmenterSpec ?? segmenterSpecOf(options.segmenter);
        if (!spec) {
          throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: workers = ${workers} needs a segmenterSpec to build the "${options.segmenter.name}" segmenter in each worker`, {
            hint: "pass segmenterSpec: { kind: 'module', module, export } (registered segmenters are derived automatically)",
          });
        }
        this.workerSetup = { workers, spec };
      } else {
        this.evaluatorPromise = Promise.resolve(new InProcessEvaluator(options.segmenter, options.reward));
      }
    } else {
      throw new SamstarError('ARGUMENT_INVALID', 'TuneEnv: give a segmenter or an evaluator');
    }
    // The tuned knobs must be the segmenter's, within its bounds, and not also fixed (checked by the mapping).
    this.mapping = new KnobMapping(this.knobSpace, this.space, this.fixed, 'TuneEnv knobs');

    if (Array.isArray(options.frames)) {
      const frames = options.frames as readonly Frame[];
      if (options.truths && options.truths.length !== frames.length) {
        throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: ${options.truths.length} truths for ${frames.length} frames (give one per frame, undefined where unknown)`);
      }
      const ids = uniqueIds(frames.map((f) => f.source));
      this.inMemory = frames.map((frame, i) => ({ id: ids[i], frame, truth: options.truths?.[i] }));
      this.frameCount = frames.length;
      if (this.reward.needsTruth) {
        const missing = this.inMemory.filter((f) => !f.truth).map((f) => f.id);
        if (missing.length) {
          throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: the reward ${this.reward.config.source} needs ground truth, which frame(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} lack`, {
            hint: 'pass truths (label images) for every frame, or use a physics reward that needs no labels',
          });
        }
      }
    } else {
      this.source = options.frames as FrameSource;
      this.frameCount = this.source.length;
    }
    if (this.frameCount < 1) throw new SamstarError('ARGUMENT_INVALID', 'TuneEnv: no frames');
    const per = options.framesPerEpisode ?? 'all';
    if (per !== 'all' && (!Number.isInteger(per) || per < 1 || per > this.frameCount)) {
      throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: framesPerEpisode must be 'all' or an integer in [1, ${this.frameCount}], got ${per}`);
    }
    this.framesPerEpisode = per;
    this.loaded = new LruCache<EvalFrame>(options.frameCacheBytes ?? 2 ** 30, (f) => f.frame.pixels.byteLength * 2 + (f.truth?.data.byteLength ?? 0));
    this.rng = new Rng(options.seed ?? 0);

    this.actionSpace = new Box(-1, 1, [this.space.dimension], { names: this.space.names });
    this.observationSpace = new Box(
      FEATURE_BOUNDS.map((b) => b[0]),
      FEATURE_BOUNDS.map((b) => b[1]),
      [FEATURE_NAMES.length],
      { names: FEATURE_NAMES },
    );
  }

  /** Number of frames in the dataset. */
  get length(): number {
    return this.frameCount;
  }

  /** The segmenter's full knob space. */
  get segmenterKnobs(): KnobSpace {
    return this.knobSpace;
  }

  async reset(options: { seed?: number; options?: Record<string, unknown> } = {}): Promise<ResetResult<Float64Array>> {
    this.assertOpen();
    if (options.seed !== undefined) {
      if (!Number.isFinite(options.seed)) throw new SamstarError('ARGUMENT_INVALID', `reset: seed must be a finite number, got ${options.seed}`);
      this.rng = new Rng(options.seed);
    }
    const indices = this.drawFrames(options.options?.frames);
    const items = await Promise.all(indices.map((i) => this.frame(i)));
    const observation = new Float64Array(FEATURE_NAMES.length);
    for (const item of items) {
      const f = frameFeatures(item.frame);
      for (let k = 0; k < f.length; k++) observation[k] += f[k] / items.length;
    }
    const ids = items.map((it) => it.id);
    this.episode = { indices, ids, observation, done: false };
    return { observation: Float64Array.from(observation), info: { frames: ids, frameIndices: indices } };
  }

  async step(action: ArrayLike<number>): Promise<StepResult<Float64Array> & { readonly info: TuneStepInfo }> {
    this.assertOpen();
    const episode = this.episode;
    if (!episode || episode.done) {
      throw new SamstarError('ARGUMENT_INVALID', episode ? 'step() after the episode ended' : 'step() before reset()', {
        hint: 'call reset() to start an episode (each TuneEnv episode is one step)',
      });
    }
    const d = this.space.dimension;
    if (!action || typeof action.length !== 'number' || action.length !== d) {
      throw new SamstarError('ARGUMENT_INVALID', `step: the action must be ${d} numbers (${this.space.names.join(', ')}), got ${action && typeof action.length === 'number' ? action.length : typeof action}`);
    }
    const used: number[] = [];
    let clipped = false;
    for (let i = 0; i < d; i++) {
      const v = action[i];
      if (typeof v !== 'number' || Number.isNaN(v)) {
        throw new SamstarError('ARGUMENT_INVALID', `step: action[${i}] (${this.space.names[i]}) is ${String(v)}, not a number`);
      }
      const c = Math.min(1, Math.max(-1, v));
      if (c !== v) clipped = true;
      used.push(c);
    }
    const evaluation = await this.evaluateResolved(this.mapping.knobsOf(used), episode.indices);
    episode.done = true;
    // `actionClipped` is the ACTION_CLIPPED convention checkEnv looks for.
    const info: TuneStepInfo = { ...evaluation, action: used, actionClipped: clipped };
    return { observation: Float64Array.from(episode.observation), reward: evaluation.reward, terminated: true, truncated: false, info };
  }

  /**
   * Evaluate knob values directly (tuned knobs, and optionally overrides of
   * fixed ones), on the given frames (default: all). Values are validated
   * against the segmenter's knob space (out-of-range values throw, no clipping).
   */
  async evaluate(knobs: Record<string, unknown>, frameIndices?: readonly number[]): Promise<TuneEvaluation> {
    this.assertOpen();
    const indices = frameIndices ? [...frameIndices] : Array.from({ length: this.frameCount }, (_, i) => i);
    for (const i of indices) this.checkIndex(i);
    return this.evaluateResolved(this.mapping.resolve(knobs), indices);
  }

  /**
   * The full knob values of a normalised point (the tuned knobs, clipped to the
   * box, with the fixed ones and the segmenter's defaults): what step() evaluates,
   * and what the training runner records and hands to evaluate().
   */
  knobsOf(x: readonly number[]): KnobValues {
    return this.mapping.knobsOf(x);
  }

  /** The evaluator (starting the worker pool on first use). */
  async evaluator(): Promise<Evaluator> {
    if (!this.evaluatorPromise) {
      const setup = this.workerSetup!;
      this.evaluatorPromise = WorkerPoolEvaluator.start({ workers: setup.workers, segmenter: setup.spec, reward: this.reward });
      // A failed start must not stick: the next call tries again.
      this.evaluatorPromise.catch(() => (this.evaluatorPromise = undefined));
    }
    return this.evaluatorPromise;
  }

  /** Frame ids, by index. */
  frameIds(): string[] {
    return Array.from({ length: this.frameCount }, (_, i) => (this.inMemory ? this.inMemory[i].id : this.source!.id(i)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsEvaluator && this.evaluatorPromise) {
      const evaluator = await this.evaluatorPromise.catch(() => undefined);
      await evaluator?.close();
    }
    this.loaded.clear();
  }

  /** `values`: full knob values from the mapping. */
  private async evaluateResolved(values: KnobValues, indices: readonly number[]): Promise<TuneEvaluation> {
    const started = performance.now();
    const items = await Promise.all(indices.map((i) => this.frame(i)));
    const evaluator = await this.evaluator();
    const perFrame = await evaluator.evaluate(values, items);
    const n = perFrame.length;
    const terms: Record<string, number> = {};
    for (const r of perFrame) for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v / n;
    let objectives: number[] | undefined;
    if (perFrame.length && perFrame[0].objectives) {
      objectives = perFrame[0].objectives.map((_, j) => perFrame.reduce((a, r) => a + (r.objectives?.[j] ?? NaN), 0) / n);
    }
    const reward = perFrame.reduce((a, r) => a + r.total, 0) / n;
    const tuned = this.mapping.tunedOf(values);
    return {
      reward,
      knobs: values,
      tuned,
      terms,
      ...(objectives ? { objectives } : {}),
      perFrame,
      frames: items.map((it) => it.id),
      evalMs: performance.now() - started,
    };
  }

  private drawFrames(requested: unknown): number[] {
    if (requested !== undefined) {
      if (!Array.isArray(requested) || requested.length === 0) {
        throw new SamstarError('ARGUMENT_INVALID', 'reset: options.frames must be a non-empty array of frame indices');
      }
      for (const i of requested) this.checkIndex(i);
      return [...(requested as number[])];
    }
    const all = Array.from({ length: this.frameCount }, (_, i) => i);
    if (this.framesPerEpisode === 'all') return all;
    // Partial Fisher–Yates: k draws from the env's Rng, then in dataset order.
    const k = this.framesPerEpisode;
    for (let i = 0; i < k; i++) {
      const j = i + this.rng.int(this.frameCount - i);
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, k).sort((a, b) => a - b);
  }

  private checkIndex(i: unknown): asserts i is number {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.frameCount) {
      throw new SamstarError('ARGUMENT_INVALID', `frame index ${String(i)} is outside [0, ${this.frameCount - 1}]`);
    }
  }

  private async frame(index: number): Promise<EvalFrame> {
    if (this.inMemory) return this.inMemory[index];
    const key = String(index);
    const hit = this.loaded.get(key);
    if (hit) return hit;
    const id = this.source!.id(index);
    const { frame, truth } = await this.source!.load(index);
    if (this.reward.needsTruth && !truth) {
      throw new SamstarError('ARGUMENT_INVALID', `TuneEnv: the reward ${this.reward.config.source} needs ground truth, which frame ${id} lacks`);
    }
    const item: EvalFrame = { id, frame, truth };
    this.loaded.set(key, item);
    return item;
  }

  private assertOpen(): void {
    if (this.closed) throw new SamstarError('ARGUMENT_INVALID', 'the TuneEnv is closed');
  }
}

/** Frame sources as ids; duplicates get "#2", "#3", … so records stay distinguishable. */
function uniqueIds(sources: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return sources.map((s) => {
    const n = (seen.get(s) ?? 0) + 1;
    seen.set(s, n);
    return n === 1 ? s : `${s}#${n}`;
  });
}

/** A FrameSource over frames in memory (with optional truths), e.g. to share one dataset between envs. */
export function frameSourceOf(frames: readonly Frame[], truths?: readonly (LabelImage | undefined)[]): FrameSource {
  const ids = uniqueIds(frames.map((f) => f.source));
  return {
    length: frames.length,
    id: (i) => ids[i],
    load: async (i) => ({ frame: frames[i], truth: truths?.[i] }),
  };
}

export type { FrameEvaluation } from './evaluator.js';
