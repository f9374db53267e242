import { z } from 'zod';
import { detectionScores } from '../match-scores.js';
import { boxMatchSchema, iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Detection scores as reward terms: precision = TP / (TP + FP), recall = TP / (TP + FN),
 * f1 = 2TP / (2TP + FP + FN). Label truth: Hungarian matching on IoU, pairs with
 * IoU ≥ iou_threshold. Box truth: matching by centre distance or box IoU (box_match).
 * Range [0, 1], higher is better; 1 when there is nothing to find and nothing was found,
 * 0 when TP = 0 otherwise. One schema and one matching serve all three.
 */
const schema = z.strictObject({
  iou_threshold: iouThreshold.default(0.5),
  box_match: boxMatchSchema,
});

export type DetectionConfig = z.infer<typeof schema>;
type Score = 'precision' | 'recall' | 'f1';

function detectionReward(score: Score): (input: RewardInput, config: DetectionConfig) => number {
  return (input, config) => detectionScores(input, config)[score];
}

export const precisionReward = detectionReward('precision');
export const recallReward = detectionReward('recall');
export const f1Reward = detectionReward('f1');

const SUMMARIES: Record<Score, string> = {
  precision: 'TP / (TP + FP): the share of predicted instances that match a true one',
  recall: 'TP / (TP + FN): the share of true instances that are found',
  f1: '2TP / (2TP + FP + FN)',
};

function detectionTerm(score: Score, compute: (input: RewardInput, config: DetectionConfig) => number) {
  return defineTerm({ type: score, summary: SUMMARIES[score], schema, range: [0, 1], better: 'higher', needs: { truth: 'any' }, compute });
}

export const precision = detectionTerm('precision', precisionReward);
export const recall = detectionTerm('recall', recallReward);
export const f1 = detectionTerm('f1', f1Reward);
