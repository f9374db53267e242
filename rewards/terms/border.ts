import { z } from 'zod';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Border and background-mask penalty, area-weighted:
 *   Σ_i area_i · max(touching_weight · touches_border_i, large_weight · large_i) / Σ_i area_i,
 * where large_i means the mask covers at least `large_area_fraction` of the frame or its box spans
 * at least `span_fraction` of both the frame's width and height (the background mask SAM often
 * returns). Area weighting makes one background mask weigh what it covers, not 1/N.
 * Range [0, 1] (weights ≤ 1), lower is better; 1 (worst) for an empty segmentation.
 */
const weight = z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1');
const schema = z.strictObject({
  touching_weight: weight.default(0.5),
  large_weight: weight.default(1),
  large_area_fraction: z.number().gt(0, 'must be > 0').max(1, 'must be ≤ 1').default(0.5),
  span_fraction: z.number().gt(0, 'must be > 0').max(1, 'must be ≤ 1').default(0.9),
});

export type BorderConfig = z.infer<typeof schema>;

export function borderPenalty(input: RewardInput, config: BorderConfig): number {
  const { instances, frame } = input.measurements;
  if (instances.length === 0) return 1;
  const pixels = frame.width * frame.height;
  let weighted = 0;
  let total = 0;
  for (const m of instances) {
    const [r0, c0, r1, c1] = m.bbox;
    const large =
      m.area >= config.large_area_fraction * pixels ||
      (r1 - r0 >= config.span_fraction * frame.height && c1 - c0 >= config.span_fraction * frame.width);
    const w = Math.max(m.touches_border ? config.touching_weight : 0, large ? config.large_weight : 0);
    weighted += w * m.area;
    total += m.area;
  }
  return weighted / total;
}

export const border = defineTerm({
  type: 'border',
  summary: 'penalty: area share of masks touching the frame edge or spanning most of the image',
  schema,
  range: [0, 1],
  better: 'lower',
  needs: {},
  compute: borderPenalty,
});
