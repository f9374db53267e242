import { z } from 'zod';
import { matchAt } from '../context.js';
import { iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Segmentation accuracy SA(τ) = TP / (TP + FP + FN) at IoU threshold τ: predictions and true
 * instances are paired one-to-one by Hungarian matching on IoU (src/measure/matching.ts), a pair
 * with IoU ≥ τ is a TP, the unpaired rest are FP and FN (micro-sam's definition; msa.ts averages
 * it over τ = 0.50 … 0.95). Range [0, 1], higher is better; needs label truth.
 */
const schema = z.strictObject({ iou_threshold: iouThreshold.default(0.5) });

export type SaConfig = z.infer<typeof schema>;

export function saReward(input: RewardInput, config: SaConfig): number {
  return matchAt(input, config.iou_threshold).sa;
}

export const sa = defineTerm({
  type: 'sa',
  summary: 'segmentation accuracy TP / (TP + FP + FN) at one IoU threshold',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'labels' },
  compute: saReward,
});
