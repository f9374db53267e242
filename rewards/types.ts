import type { z } from 'zod';
import type { Frame } from '../src/image/frame.js';
import type { LabelImage } from '../src/masks/types.js';
import type { BoxTruth } from '../src/measure/boxes.js';
import type { Prediction } from '../src/measure/crops.js';
import type { Measurements } from '../src/measure/types.js';
import type { Segmentation } from '../src/masks/segmentation.js';

/** Ground truth: instance labels (a label image or a segmentation), or boxes. */
export type Truth = LabelImage | Segmentation | BoxTruth;

/**
 * Everything a reward term sees. `measurements` are computed once per evaluation and shared by
 * all terms; label matching is memoised per input (see context.ts).
 */
export interface RewardInput {
  readonly prediction: Prediction;
  readonly measurements: Measurements;
  /** The image: needed by the intensity terms (edge, contrast, coverage). */
  readonly frame?: Frame;
  readonly truth?: Truth;
}

/** What a term needs beyond the prediction. */
export interface TermNeeds {
  readonly frame?: boolean;
  /** Reads the ring measurements (ring_mean_intensity, intensity_contrast). */
  readonly ring?: boolean;
  /** 'labels': instance labels only; 'any': labels or boxes. */
  readonly truth?: 'labels' | 'any';
}

/**
 * A reward term: a pure function of the input and its validated config, with a documented range
 * and direction. Its file's header says what it returns for an empty segmentation;
 * test/rewards/conformance.test.ts checks every registered term (range, direction, a finite value
 * on an empty segmentation, the declared `needs`).
 */
export interface RewardTerm<C = unknown> {
  readonly type: string;
  readonly summary: string;
  readonly schema: z.ZodType<C>;
  /** A valid config for the term (the conformance suite builds it from this); leave out when `{}` is one. */
  readonly example?: Readonly<Record<string, unknown>>;
  readonly range: readonly [number, number];
  readonly better: 'higher' | 'lower';
  readonly needs: TermNeeds;
  readonly compute: (input: RewardInput, config: C) => number;
}

export function defineTerm<C>(term: RewardTerm<C>): RewardTerm<C> {
  return term;
}
