import type { KnobValues } from '../src/segmenters/knobs.js';

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
