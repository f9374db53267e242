import { z } from 'zod';
import { foregroundDice } from '../../src/measure/matching.js';
import { overlapsOf } from '../context.js';
import { defineTerm, type RewardInput } from '../types.js';

/**
 * Foreground Dice 2|P ∩ T| / (|P| + |T|) between the union of the predicted masks and the
 * truth's foreground (pixel level; instances are not matched). Range [0, 1], higher is better;
 * 1 when both are empty; needs label truth.
 */
const schema = z.strictObject({});

export type DiceConfig = z.infer<typeof schema>;

export function diceReward(input: RewardInput, _config: DiceConfig): number {
  return foregroundDice(overlapsOf(input));
}

export const dice = defineTerm({
  type: 'dice',
  summary: 'pixel Dice of the predicted foreground with the true foreground',
  schema,
  range: [0, 1],
  better: 'higher',
  needs: { truth: 'labels' },
  compute: diceReward,
});
