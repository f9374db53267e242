import type { CompiledReward } from '../rewards/index.js';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { KnobSpace, KnobValues } from '../src/segmenters/knobs.js';
import type { Segmenter } from '../src/segmenters/types.js';
import type { FrameSource } from './tune-env.js';

/** What every knob-setting environment (AdjustEnv, StreamEnv) is built from. */
export interface KnobEnvOptions {
  /** The segmenter (in-process: its stage caches make filter-knob steps cheap). */
  readonly segmenter: Segmenter;
  readonly frames: readonly Frame[] | FrameSource;
  readonly truths?: readonly (LabelImage | undefined)[];
  readonly reward: CompiledReward;
  /** The knobs the agent moves. */
  readonly space: KnobSpace;
  /** Values of other knobs; the segmenter's defaults fill the rest. */
  readonly fixed?: KnobValues;
}

/** What a step of a knob-setting environment (AdjustEnv, StreamEnv) reports in `info`. */
export interface KnobStepInfo {
  readonly frame: string;
  readonly frameIndex: number;
  readonly action: number[];
  readonly actionClipped: boolean;
  /** The normalised tuned knobs after the step. */
  readonly x: number[];
  /** The full resolved knob vector the segmenter ran with. */
  readonly knobs: KnobValues;
  /** The tuned knobs only. */
  readonly tuned: KnobValues;
  /** The reward total of the segmentation this step produced. */
  readonly total: number;
  readonly terms: Record<string, number>;
  readonly count: number;
  readonly meanArea: number;
  readonly coverage: number;
  readonly segmentMs: number;
  readonly [key: string]: unknown;
}
