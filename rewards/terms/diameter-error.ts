import { z } from 'zod';
import { boxMatch, matchAt, overlapsOf, truthKind } from '../context.js';
import { boxMatchSchema, iouThreshold, toBoxMatchOptions } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Diameter error of the matched instances: mean over matched pairs of
 * min(1, |d_pred − d_true| / d_true).
 * Box truth: d_true = mean of the box's width and height; d_pred the same for the predicted
 * instance's box, or its equivalent diameter (`diameter: equivalent`). Label truth: pairs matched
 * at iou_threshold, d = equivalent diameters.
 * Range [0, 1], lower is better; 1 when nothing matched, 0 when there was nothing to find and
 * nothing was found.
 */
const schema = z.strictObject({
  iou_threshold: iouThreshold.default(0.5),
  box_match: boxMatchSchema,
  diameter: z.enum(['box', 'equivalent']).default('box'),
});

export type DiameterErrorConfig = z.infer<typeof schema>;

export function diameterError(input: RewardInput, config: DiameterErrorConfig): number {
  if (truthKind(input) === 'boxes') return boxMatch(input, toBoxMatchOptions(config.box_match, config.diameter)).diameter_error;
  const scores = matchAt(input, config.iou_threshold);
  if (scores.tp + scores.fp + scores.fn === 0) return 0;
  if (scores.tp === 0) return 1;
  const table = overlapsOf(input);
  let sum = 0;
  for (const { pred, truth } of scores.matches) {
    const dPred = Math.sqrt((4 * table.predAreas[pred]) / Math.PI);
    const dTrue = Math.sqrt((4 * table.truthAreas[truth]) / Math.PI);
    sum += Math.min(1, Math.abs(dPred - dTrue) / dTrue);
  }
  return sum / scores.tp;
}

export const diameterErrorTerm = defineTerm({
  type: 'diameter_error',
  summary: 'relative diameter error of the matched instances (box or label truth)',
  schema,
  range: [0, 1],
  better: 'lower',
  needs: { truth: 'any' },
  compute: diameterError,
});
