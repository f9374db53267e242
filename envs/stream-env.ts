import type { KnobEnvOptions, KnobStepInfo } from './step-info.js';
import type { CompiledReward } from '../rewards/index.js';
import { featureSpec, frameFeatures, type FeatureSpec } from '../src/image/features.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { KnobMapping } from '../src/segmenters/knob-mapping.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmenter } from '../src/segmenters/types.js';
import { SamstarError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import {
  clip1,
  FrameStore,
  knobEnvParts,
  knobObservationSpace,
  normalisedStart,
  pick,
  readAction,
  segmentWithStats,
  statsVector,
  type KnobEnvMotion,
  type SegmentationStats,
} from './adjust-env.js';
import { Box } from './spaces.js';
import type { FrameSource } from './tune-env.js';
import type { Env, ResetResult, StepResult } from './types.js';

/** `frames` is the stream, in order (a time-lapse, a folder sorted by acquisition). */
export interface StreamEnvOptions extends KnobEnvOptions, KnobEnvMotion {
  /**
   * Frames per episode: a contiguous window whose first frame is drawn with the
   * env's seeded Rng, or 'all' (default: the whole stream from frame 0).
   * `reset({ options: { start } })` picks the first frame explicitly.
   */
  readonly episodeLength?: number | 'all';
  /**
   * 'delta' (default): the knobs carry over from frame to frame and the action
   * moves them, x ← clip(x + stepSize·a). 'absolute': the action is the knob
   * vector for this frame (the previous one is still observed).
   */
  readonly actionMode?: 'delta' | 'absolute';
  /** Per-step move in normalised units in 'delta' mode (default 0.25). */
  readonly stepSize?: number;
  /** Normalised knobs at the start of an episode (default: the tuned space's defaults); `reset({ options: { knobs } })` overrides. */
  readonly start?: readonly number[];
  readonly seed?: number;
}

export interface StreamStepInfo extends KnobStepInfo {
  /** Position in the episode (0-based) of the frame just segmented. */
  readonly position: number;
}

interface StreamEpisode {
  readonly indices: number[];
  position: number;
  x: number[];
  previous?: SegmentationStats;
  features: Float64Array;
  done: boolean;
}

/**
 * StreamEnv: an episode is an ordered run of frames, one step per frame, and
 * the knobs carry over from one frame to the next (as in a live acquisition,
 * where the last frame's setting is the best guess for the next one).
 *
 *  - reset: the episode's frames (all, or a seeded window of episodeLength, or
 *    `options.start`), the start knobs (`options.knobs` / `start` / defaults).
 *  - Action: Box [−1, 1]^d over the tuned knobs: a move of the carried knobs
 *    ('delta', default) or the knobs themselves ('absolute'). Out-of-range
 *    entries are clipped (info.actionClipped); NaN or a wrong length throws.
 *  - Reward: the reward total of the frame segmented with the knobs in force
 *    (per frame, not a difference).
 *  - Observation: the next frame's features, the knobs in force (normalised,
 *    `knob_<name>`), the statistics of the previous frame's segmentation
 *    (seg_count, seg_mean_area, seg_coverage, reward_total, reward_<term>;
 *    zeros before the first frame), `has_previous` (0/1) and `progress`
 *    (fraction of the episode's frames done). After the last frame the
 *    features are those of the last frame.
 *  - terminated after the episode's last frame (the stream ended); never truncated.
 * Deterministic under a seed.
 */
export class StreamEnv implements Env<ArrayLike<number>, ArrayLike<number>> {
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly space: KnobSpace;
  readonly fixed: KnobValues;
  /** Normalised tuned knobs ↔ full knob values (src/segmenters/knob-mapping.ts). */
  readonly mapping: KnobMapping;
  readonly reward: CompiledReward;
  readonly actionMode: 'delta' | 'absolute';
  readonly stepSize: number;
  readonly featureSpec: FeatureSpec = featureSpec();
  readonly termNames: readonly string[];
  private readonly segmenter: Segmenter;
  private readonly frames: FrameStore;
  private readonly episodeLength: number | 'all';
  private readonly start: number[];
  private rng: Rng;
  private episode?: StreamEpisode;
  private closed = false;

  constructor(options: StreamEnvOptions) {
    this.segmenter = options.segmenter;
    this.reward = options.reward;
    this.space = options.space;
    this.actionMode = options.actionMode ?? 'delta';
    if (this.actionMode !== 'delta' && this.actionMode !== 'absolute') throw new SamstarError('ARGUMENT_INVALID', `StreamEnv: actionMode must be 'delta' or 'absolute', got ${String(this.actionMode)}`);
    ({ fixed: this.fixed, mapping: this.mapping, stepSize: this.stepSize, frames: this.frames, start: this.start, rng: this.rng, termNames: this.termNames } = knobEnvParts('StreamEnv', options));
    const length = options.episodeLength ?? 'all';
    if (length !== 'all' && (!Number.isInteger(length) || length < 1 || length > this.frames.length)) {
      throw new SamstarError('ARGUMENT_INVALID', `StreamEnv: episodeLength must be 'all' or an integer in [1, ${this.frames.length}], got ${length}`);
    }
    this.episodeLength = length;

    this.actionSpace = new Box(-1, 1, [this.space.dimension], { names: this.space.names });
    this.observationSpace = knobObservationSpace(this.space, this.termNames, ['has_previous', 'progress']);
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
    const n = this.frames.length;
    const length = this.episodeLength === 'all' ? n : this.episodeLength;
    let first: number;
    const requested = options.options?.start;
    if (requested !== undefined) {
      this.frames.checkIndex(requested, 'reset: options.start');
      if (requested + length > n) throw new SamstarError('ARGUMENT_INVALID', `reset: options.start ${requested} leaves fewer than ${length} frames`);
      first = requested;
    } else {
      first = this.episodeLength === 'all' ? 0 : this.rng.int(n - length + 1);
    }
    const indices = Array.from({ length }, (_, i) => first + i);
    const knobsOption = options.options?.knobs;
    const x = knobsOption === undefined ? [...this.start] : normalisedStart('reset: options.knobs', this.space, knobsOption as number[]);
    const held = await this.frames.get(indices[0]);
    this.episode = { indices, position: 0, x, features: Float64Array.from(frameFeatures(held.frame)), done: false };
    return { observation: this.observe(), info: { frames: await this.ids(indices), frameIndices: indices, knobs: this.resolve(x) } };
  }

  async step(action: ArrayLike<number>): Promise<StepResult<Float64Array> & { readonly info: StreamStepInfo }> {
    this.assertOpen();
    const episode = this.episode;
    if (!episode || episode.done) {
      throw new SamstarError('ARGUMENT_INVALID', episode ? 'step() after the episode ended' : 'step() before reset()', { hint: 'call reset() to start an episode' });
    }
    const d = this.space.dimension;
    const { used, clipped } = readAction(action, d, this.space.names);
    const x = this.actionMode === 'delta' ? episode.x.map((v, i) => clip1(v + this.stepSize * used[i])) : used;
    const index = episode.indices[episode.position];
    const held = await this.frames.get(index);
    const knobs = this.resolve(x);
    const result = await segmentWithStats(this.segmenter, this.reward, held, knobs);
    const position = episode.position;
    episode.x = x;
    episode.previous = result.stats;
    episode.position++;
    const terminated = episode.position >= episode.indices.length;
    episode.done = terminated;
    if (!terminated) episode.features = Float64Array.from(frameFeatures((await this.frames.get(episode.indices[episode.position])).frame));
    const s = result.stats;
    const info: StreamStepInfo = {
      frame: held.id,
      frameIndex: index,
      position,
      action: used,
      actionClipped: clipped,
      x: [...x],
      knobs,
      tuned: pick(knobs, this.space.names),
      total: s.total,
      terms: s.terms,
      count: s.count,
      meanArea: s.meanArea,
      coverage: s.coverage,
      segmentMs: result.segmentMs,
    };
    return { observation: this.observe(), reward: s.total, terminated, truncated: false, info };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.frames.clear();
  }

  resolve(x: readonly number[]): KnobValues {
    return this.mapping.knobsOf(x);
  }

  private async ids(indices: readonly number[]): Promise<string[]> {
    return indices.map((i) => this.frames.source.id(i));
  }

  private observe(): Float64Array {
    const e = this.episode!;
    return Float64Array.from([
      ...e.features,
      ...e.x,
      ...statsVector(e.previous, this.termNames),
      e.previous ? 1 : 0,
      e.position / e.indices.length,
    ]);
  }

  private assertOpen(): void {
    if (this.closed) throw new SamstarError('ARGUMENT_INVALID', 'the StreamEnv is closed');
  }
}
