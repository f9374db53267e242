import { z } from 'zod';
import { matchAt } from '../context.js';
import { iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Mean IoU of the pairs matched at iou_threshold. It measures mask quality, not detection: one
 * perfect mask among many misses still scores 1, so combine it with f1 or recall.
 * Range [0, 1], higher is better; 0 when nothing matches; needs label truth.
 */
const schema = z.strictObject({ iou_threshold: iouThreshold.default(0.5) });

export type MeanIouConfig = z.infer<typeof schema>;

export function meanIouReward(input: RewardInput, config: MeanIouConfig): number {
  return matchAt(input, config.iou_threshold).mean_iou;
}

export const meanIou = defineTerm({
  type: 'mean_iou',
  summary: 'mean IoU of the matched pairs',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'labels' },
  compute: meanIouReward,
});
