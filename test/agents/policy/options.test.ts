import { describe, expect, it } from 'vitest';
import { ppoOptionsSchema, reinforceOptionsSchema } from '../../../agents/policy/options.js';
import { PPO_DEFAULTS, PpoAgent } from '../../../agents/policy/ppo.js';
import { REINFORCE_DEFAULTS, ReinforceAgent } from '../../../agents/policy/reinforce.js';

describe('policy agent option schemas', () => {
  it('accept the defaults and every option an agent saves, reject misspelt names', () => {
    const ppo = new PpoAgent(3, 2, 1, { maxGradNorm: Infinity, targetKl: 0.02 });
    const reinforce = new ReinforceAgent(3, 2, 1, { baseline: 'mean' });
    reinforce.runningMean = -0.5;
    expect(ppoOptionsSchema.parse(ppo.options())).toMatchObject({ maxGradNorm: Infinity, targetKl: 0.02, clipRange: PPO_DEFAULTS.clipRange });
    expect(reinforceOptionsSchema.parse(reinforce.options())).toMatchObject({ minibatchSize: Infinity, baseline: 'mean', baselineDecay: REINFORCE_DEFAULTS.baselineDecay });
    expect(ppoOptionsSchema.safeParse({ clipRnage: 0.1 }).success).toBe(false);
    expect(reinforceOptionsSchema.safeParse({ baseline: 'median' }).success).toBe(false);
  });
});
