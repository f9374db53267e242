import { z } from 'zod';
import { detectionScores } from '../match-scores.js';
import { boxMatchSchema, iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * recall = TP / (TP + FN): the share of true instances that are found.
 * Label truth: Hungarian matching on IoU, pairs with IoU ≥ iou_threshold. Box truth: matching by
 * centre distance or box IoU (box_match). Range [0, 1], higher is better; 1 when there is nothing
 * to find and nothing was found, 0 when TP = 0 otherwise.
 */
const schema = z.strictObject({
  iou_threshold: iouThreshold.default(0.5),
  box_match: boxMatchSchema,
});

export type RecallConfig = z.infer<typeof schema>;

export function recallReward(input: RewardInput, config: RecallConfig): number {
  return detectionScores(input, config).recall;
}

export const recall = defineTerm({
  type: 'recall',
  summary: 'TP / (TP + FN): the share of true instances that are found',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'any' },
  compute: recallReward,
});
