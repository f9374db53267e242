import { z } from 'zod';
import { detectionScores } from '../match-scores.js';
import { boxMatchSchema, iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * f1 = 2TP / (2TP + FP + FN).
 * Label truth: Hungarian matching on IoU, pairs with IoU ≥ iou_threshold. Box truth: matching by
 * centre distance or box IoU (box_match). Range [0, 1], higher is better; 1 when there is nothing
 * to find and nothing was found, 0 when TP = 0 otherwise.
 */
const schema = z.strictObject({
  iou_threshold: iouThreshold.default(0.5),
  box_match: boxMatchSchema,
});

export type F1Config = z.infer<typeof schema>;

export function f1Reward(input: RewardInput, config: F1Config): number {
  return detectionScores(input, config).f1;
}

export const f1 = defineTerm({
  type: 'f1',
  summary: '2TP / (2TP + FP + FN)',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'any' },
  compute: f1Reward,
});
