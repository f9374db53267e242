import { z } from 'zod';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Overlap penalty: the fraction of covered pixels claimed by more than one mask
 * (frame measurement overlap_fraction). Range [0, 1], lower is better; 1 (worst) for an empty
 * segmentation, so that predicting nothing never looks better than predicting something.
 * Always 0 for a label image (its instances cannot overlap).
 */
const schema = z.strictObject({});

export type OverlapConfig = z.infer<typeof schema>;

export function overlapPenalty(input: RewardInput, _config: OverlapConfig): number {
  const frame = input.measurements.frame;
  return frame.count === 0 ? 1 : frame.overlap_fraction;
}

export const overlap = defineTerm({
  type: 'overlap',
  summary: 'penalty: fraction of covered pixels claimed by more than one mask',
  schema,
  range: [0, 1],
  better: 'lower',
  needs: {},
  compute: overlapPenalty,
});
