import { describe, expect, it } from 'vitest';
import { explainedVariance, generalizedAdvantages, normalizeInPlace } from '../../../agents/policy/advantages.js';
import { minibatches } from '../../../agents/policy/base.js';

describe('advantages and returns', () => {
  it('one-step episodes: A = r − V(s) whatever γ and λ', () => {
    const rewards = [1, -2, 0.5];
    const values = [0.2, 0.1, -0.4];
    const { advantages, returns } = generalizedAdvantages(
      { rewards, values, nextValues: [9, 9, 9], episodeEnd: [true, true, true], terminal: [true, true, true] },
      0.99,
      0.95,
    );
    expect(Array.from(advantages)).toEqual(rewards.map((r, i) => r - values[i]));
    expect(Array.from(returns)).toEqual(rewards);
  });

  it('multi-step GAE matches the hand computation, with a truncated end bootstrapped and not carried over', () => {
    const g = 0.9;
    const l = 0.8;
    // Episode 1: steps 0–2, terminal at 2. Episode 2: steps 3–4, truncated at 4 (bootstrap V(s5) = 2).
    const rewards = [1, 0, 2, -1, 3];
    const values = [0.5, 0.4, 0.3, 0.2, 0.1];
    const nextValues = [0.4, 0.3, 0, 0.1, 2];
    const episodeEnd = [false, false, true, false, true];
    const terminal = [false, false, true, false, false];
    const { advantages, returns } = generalizedAdvantages({ rewards, values, nextValues, episodeEnd, terminal }, g, l);
    const d2 = 2 - 0.3;
    const d1 = 0 + g * 0.3 - 0.4;
    const d0 = 1 + g * 0.4 - 0.5;
    const d4 = 3 + g * 2 - 0.1;
    const d3 = -1 + g * 0.1 - 0.2;
    const expected = [d0 + g * l * (d1 + g * l * d2), d1 + g * l * d2, d2, d3 + g * l * d4, d4];
    expected.forEach((e, i) => expect(advantages[i]).toBeCloseTo(e, 12));
    expected.forEach((e, i) => expect(returns[i]).toBeCloseTo(e + values[i], 12));
    // λ = 1, V = 0: discounted Monte-Carlo returns.
    const mc = generalizedAdvantages({ rewards, values: [0, 0, 0, 0, 0], nextValues: [0, 0, 0, 0, 0], episodeEnd, terminal }, g, 1);
    expect(mc.returns[0]).toBeCloseTo(1 + g * 0 + g * g * 2, 12);
    expect(mc.returns[3]).toBeCloseTo(-1 + g * 3, 12);
  });

  it('normalises, measures explained variance, splits minibatches without a tiny tail', () => {
    const a = normalizeInPlace(Float64Array.from([1, 2, 3, 4]));
    expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(0, 12);
    expect(a.reduce((s, v) => s + v * v, 0) / 4).toBeCloseTo(1, 6);
    expect(Array.from(normalizeInPlace(Float64Array.from([5])))).toEqual([5]);
    expect(explainedVariance([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(explainedVariance([0, 0, 0], [1, 2, 3])).toBeCloseTo(0, 12);
    expect(explainedVariance([1, 1], [2, 2])).toBeNaN();
    const idx = Array.from({ length: 100 }, (_, i) => i);
    expect(minibatches(idx, 64).map((b) => b.length)).toEqual([50, 50]);
    expect(minibatches(idx, 32).map((b) => b.length)).toEqual([25, 25, 25, 25]);
    expect(minibatches(idx, Infinity).map((b) => b.length)).toEqual([100]);
    expect(minibatches(idx.slice(0, 5), 64).map((b) => b.length)).toEqual([5]);
  });
});
