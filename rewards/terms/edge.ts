import { z } from 'zod';
import { gradientQuantile } from '../../src/measure/frame-stats.js';
import { SamstarError } from '../../src/util/errors.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Edge agreement: do mask boundaries sit where the intensity changes? Per instance, the mean
 * Sobel gradient on its inner boundary pixels (boundary_gradient) divided by a frame reference,
 * the `reference_quantile` of the gradient magnitude over the whole frame, capped at 1; the term
 * is the mean over instances. Range [0, 1], higher is better; 0 for an empty segmentation or a
 * flat image.
 */
const schema = z.strictObject({
  reference_quantile: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1').default(0.99),
});

export type EdgeConfig = z.infer<typeof schema>;

export function edgeReward(input: RewardInput, config: EdgeConfig): number {
  const { instances } = input.measurements;
  if (!input.frame) throw new SamstarError('ARGUMENT_INVALID', 'the edge reward needs the image');
  if (instances.length === 0) return 0;
  const reference = gradientQuantile(input.frame, config.reference_quantile);
  if (!(reference > 1e-9)) return 0;
  let sum = 0;
  for (const m of instances) {
    if (m.boundary_gradient === undefined) {
      throw new SamstarError('ARGUMENT_INVALID', 'the edge reward needs measurements made with the image');
    }
    sum += Math.min(1, m.boundary_gradient / reference);
  }
  return sum / instances.length;
}

export const edge = defineTerm({
  type: 'edge',
  summary: 'intensity gradient along mask boundaries, relative to the frame',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { frame: true },
  compute: edgeReward,
});
