import { z } from 'zod';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Compute cost: the decoder prompts the segmentation took, divided by `per` (default 1024, SAM's
 * 32 × 32 grid on one crop, so SAM's default settings cost 1.0). A live stream has a time budget,
 * and the decoder runs once per prompt, so a reward like `quality − λ·prompts` lets a policy spend
 * a dense grid where particles are small and a sparse one where they are large.
 * Read from the segmentation's `stats.prompts` (the SAM segmenter reports it); segmentations
 * without prompts (the blob segmenter, label images) cost 0. Deterministic: prompts, not seconds,
 * so resumed runs replay the same rewards.
 * Range [0, ∞), lower is better; an empty segmentation still pays for its prompts.
 */
const schema = z.strictObject({
  /** Prompts that count as a cost of 1. */
  per: z.number().positive('must be > 0').default(1024),
});

export type PromptsConfig = z.infer<typeof schema>;

export function promptsCost(input: RewardInput, config: PromptsConfig): number {
  const prediction = input.prediction as { stats?: Readonly<Record<string, number>> };
  const prompts = prediction.stats?.prompts;
  return typeof prompts === 'number' && Number.isFinite(prompts) ? prompts / config.per : 0;
}

export const prompts = defineTerm({
  type: 'prompts',
  summary: 'compute cost: decoder prompts per frame / per (lower is better)',
  schema,
  range: [0, Infinity],
  better: 'lower',
  needs: {},
  compute: promptsCost,
});
