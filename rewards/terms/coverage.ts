import { z } from 'zod';
import { SamstarError } from '../../src/util/errors.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Coverage of the foreground: Dice between the union of the masks and the intensity foreground
 * (Otsu threshold, polarity and threshold set in the config's `measure` block),
 * 2·|masks ∩ fg| / (|masks| + |fg|). Rewards covering the particles and punishes masks on the
 * background. Range [0, 1], higher is better; 0 for an empty segmentation.
 */
const schema = z.strictObject({});

export type CoverageConfig = z.infer<typeof schema>;

export function coverageReward(input: RewardInput, _config: CoverageConfig): number {
  const f = input.measurements.frame;
  if (f.foreground_pixels === undefined || f.covered_foreground_pixels === undefined) {
    throw new SamstarError('ARGUMENT_INVALID', 'the coverage reward needs measurements made with the image');
  }
  if (f.count === 0) return 0;
  const total = f.covered_pixels + f.foreground_pixels;
  return total > 0 ? (2 * f.covered_foreground_pixels) / total : 0;
}

export const coverage = defineTerm({
  type: 'coverage',
  summary: 'Dice of the mask union with the intensity foreground',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { frame: true },
  compute: coverageReward,
});
