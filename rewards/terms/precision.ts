import { z } from 'zod';
import { detectionScores } from '../match-scores.js';
import { boxMatchSchema, iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * precision = TP / (TP + FP): the share of predicted instances that match a true one.
 * Label truth: Hungarian matching on IoU, pairs with IoU ≥ iou_threshold. Box truth: matching by
 * centre distance or box IoU (box_match). Range [0, 1], higher is better; 1 when there is nothing
 * to find and nothing was found, 0 when TP = 0 otherwise.
 */
const schema = z.strictObject({
  iou_threshold: iouThreshold.default(0.5),
  box_match: boxMatchSchema,
});

export type PrecisionConfig = z.infer<typeof schema>;

export function precisionReward(input: RewardInput, config: PrecisionConfig): number {
  return detectionScores(input, config).precision;
}

export const precision = defineTerm({
  type: 'precision',
  summary: 'TP / (TP + FP): the share of predicted instances that match a true one',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'any' },
  compute: precisionReward,
});
