import { describe, expect, it } from 'vitest';
import { ReinforceAgent } from '../../../agents/policy/reinforce.js';
import { actionError, makeToy, trainOnToy } from './toy.js';

const toy = makeToy();

describe('REINFORCE on a contextual bandit with a known optimum (reward = −‖a − W·z‖²)', () => {
  it('converges towards the optimal map with a learned value baseline', async () => {
    const agent = new ReinforceAgent(toy.k, toy.d, 1, { rolloutSize: 16, logStdInit: -0.5 });
    const before = actionError(agent, toy);
    const run = await trainOnToy(agent, toy, 6144);
    const after = actionError(agent, toy);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(run.curve.slice(0, 16));
    const last = mean(run.curve.slice(-16));
    console.log(`REINFORCE toy: action RMS error ${before.toFixed(3)} → ${after.toFixed(3)}, mean reward ${first.toFixed(3)} → ${last.toFixed(3)}, σ ${run.stats.at(-1)!.std.toFixed(3)}`);
    expect(before).toBeGreaterThan(0.3);
    expect(after).toBeLessThan(0.18);
    expect(last).toBeGreaterThan(first + 0.3);
    expect(run.stats.every((s) => s.gradientSteps === 1 && s.clipFraction === 0)).toBe(true);
  });

  it('learns with the running-mean baseline too (no value network)', async () => {
    const agent = new ReinforceAgent(toy.k, toy.d, 2, { rolloutSize: 16, logStdInit: -0.5, baseline: 'mean', normalizeAdvantage: false });
    const before = actionError(agent, toy);
    const vf = agent.policy.vf.weights.map((w) => Float32Array.from(w));
    const run = await trainOnToy(agent, toy, 2048);
    expect(actionError(agent, toy)).toBeLessThan(before);
    expect(agent.runningMean).toBeLessThan(0);
    expect(run.stats.at(-1)!.valueLoss).toBe(0);
    expect(Number.isNaN(run.stats.at(-1)!.explainedVariance)).toBe(true);
    // The value network is not trained without a value baseline.
    expect(agent.policy.vf.weights).toEqual(vf);
  });

  it('validates its options', () => {
    expect(() => new ReinforceAgent(2, 1, 1, { baseline: 'median' as never })).toThrow(/baseline must be/);
    expect(() => new ReinforceAgent(2, 1, 1, { learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new ReinforceAgent(2, 1, 1, { hidden: [64, 0] })).toThrow(/hidden\[1\]/);
  });
});
