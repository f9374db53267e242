import { z } from 'zod';
import { MSA_THRESHOLDS } from '../../src/measure/matching.js';
import { matchAt } from '../context.js';
import { iouThreshold } from '../schema-parts.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Mean segmentation accuracy: the mean of SA(τ) over τ = 0.50, 0.55, …, 0.95 (or the given
 * thresholds), as micro-sam reports it. Range [0, 1], higher is better; needs label truth.
 */
const schema = z.strictObject({
  thresholds: z.array(iouThreshold).min(1, 'give at least one threshold').default([...MSA_THRESHOLDS]),
});

export type MsaConfig = z.infer<typeof schema>;

export function msaReward(input: RewardInput, config: MsaConfig): number {
  let sum = 0;
  for (const t of config.thresholds) sum += matchAt(input, t).sa;
  return sum / config.thresholds.length;
}

export const msa = defineTerm({
  type: 'msa',
  summary: 'mean of SA(τ) over τ = 0.50:0.05:0.95',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'labels' },
  compute: msaReward,
});
