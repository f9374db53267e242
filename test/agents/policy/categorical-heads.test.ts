import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTf } from '../../../agents/policy/backend.js';
import { GaussianPolicy, resolvePolicyConfig } from '../../../agents/policy/gaussian-policy.js';
import { categoryIndex, categoryValue, headEntropyTf, headLayout, headLogProb, headLogProbTf } from '../../../agents/policy/heads.js';
import { PpoAgent } from '../../../agents/policy/ppo.js';
import { ReinforceAgent } from '../../../agents/policy/reinforce.js';
import { toTransition, type PolicyAgent, type Transition } from '../../../agents/policy/types.js';
import { KnobSpace } from '../../../src/segmenters/knobs.js';
import { Rng } from '../../../src/util/rng.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('categorical heads: layout and densities', () => {
  it('lays K outputs per categorical dimension and one per Gaussian dimension', () => {
    const layout = headLayout(3, [0, 3, 2]);
    expect(layout.outputSize).toBe(6);
    expect(layout.heads.map((h) => [h.offset, h.size])).toEqual([[0, 1], [1, 3], [4, 2]]);
    expect(headLayout(2).categorical).toBe(false);
    expect(() => headLayout(2, [3])).toThrow(/categories has 1 entries, the action has 2/);
  });

  it('encodes choice k as the value KnobSpace decodes back to choice k', () => {
    const space = new KnobSpace([{ name: 'polarity', kind: 'choice', choices: ['bright', 'dark', 'both'], default: 'bright', stage: 'propose', description: '' }]);
    for (let k = 0; k < 3; k++) {
      expect(space.fromNormalised([categoryValue(k, 3)]).polarity).toBe(['bright', 'dark', 'both'][k]);
      expect(categoryIndex(categoryValue(k, 3), 3)).toBe(k);
    }
  });

  it('log π is the Gaussian density plus log softmax, and the tfjs graph agrees with the JS one', async () => {
    const layout = headLayout(2, [0, 3]);
    const out = [0.3, 1.0, -0.5, 2.0];
    const logStd = [-0.4, 0];
    const action = [0.1, categoryValue(2, 3)];
    const z = (0.1 - 0.3) / Math.exp(-0.4);
    const gauss = -0.5 * z * z + 0.4 - 0.5 * Math.log(2 * Math.PI);
    const softmax = Math.exp(2) / (Math.exp(1) + Math.exp(-0.5) + Math.exp(2));
    expect(headLogProb(layout, action, out, logStd)).toBeCloseTo(gauss + Math.log(softmax), 10);
    const { tf } = await loadTf();
    const tfValue = tf.tidy(() => headLogProbTf(tf, layout, tf.tensor2d([action], [1, 2]), tf.tensor2d([out], [1, 4]), tf.tensor1d(logStd)).arraySync() as number[]);
    expect(tfValue[0]).toBeCloseTo(gauss + Math.log(softmax), 4);
    const p = [1, -0.5, 2].map((v) => Math.exp(v) / (Math.exp(1) + Math.exp(-0.5) + Math.exp(2)));
    const entropy = -0.4 + 0.5 * (Math.log(2 * Math.PI) + 1) - p.reduce((a, q) => a + q * Math.log(q), 0);
    expect(tf.tidy(() => headEntropyTf(tf, layout, tf.tensor2d([out], [1, 4]), tf.tensor1d(logStd)).arraySync() as number)).toBeCloseTo(entropy, 4);
  });

  it('samples choices with their softmax probabilities and acts on the most probable one when deterministic', () => {
    const policy = GaussianPolicy.create(resolvePolicyConfig(1, 1, { categories: [3], hidden: [] }), 1);
    // Linear network: logits = bias (weights 0): softmax of [0, ln 2, ln 5] is [1/8, 2/8, 5/8].
    policy.pi.weights[0].fill(0);
    policy.pi.biases[0].set([0, Math.log(2), Math.log(5)]);
    const counts = [0, 0, 0];
    const rng = new Rng(3);
    for (let i = 0; i < 8000; i++) counts[categoryIndex(policy.act([0], {}, rng).action[0], 3)]++;
    expect(counts.map((c) => c / 8000)).toEqual([expect.closeTo(0.125, 1), expect.closeTo(0.25, 1), expect.closeTo(0.625, 1)]);
    const det = policy.act([0], { deterministic: true });
    expect(det.action).toEqual([1]);
    expect(det.logProb).toBeCloseTo(Math.log(0.625), 6);
  });

  it('saves and loads the heads; an all-Gaussian policy writes no categories (its files stay as before)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samstar-heads-'));
    dirs.push(dir);
    const policy = GaussianPolicy.create(resolvePolicyConfig(2, 2, { categories: [0, 3] }), 5);
    const manifest = await policy.save(join(dir, 'cat'));
    expect(manifest.meta.policy.categories).toEqual([0, 3]);
    const back = await GaussianPolicy.load(join(dir, 'cat'));
    expect(back.act([0.2, -1], { deterministic: true })).toEqual(policy.act([0.2, -1], { deterministic: true }));
    const plain = await GaussianPolicy.create(resolvePolicyConfig(2, 2), 5).save(join(dir, 'plain'));
    expect('categories' in plain.meta.policy).toBe(false);
  });
});

/**
 * A toy where the best category depends on a feature: observation s = (f, noise), f = ±1 (raw scale
 * 10, offset 3: not normalised); action (a0 continuous, a1 one of 3 choices); reward
 * −(a0 − 0.4 f)² + [choice = (f > 0 ? "third" : "first")]. A policy must read f to pick the choice.
 */
function categoricalToy(agent: PolicyAgent, samples: number, seed: number): Promise<number> {
  const rng = new Rng(seed);
  const observe = () => {
    const f = rng.next() < 0.5 ? -1 : 1;
    return { s: [3 + 10 * f, rng.normal()], f };
  };
  const reward = (a: readonly number[], f: number) => -((a[0] - 0.4 * f) ** 2) + (categoryIndex(a[1], 3) === (f > 0 ? 2 : 0) ? 1 : 0);
  agent.fitNormalizer(Array.from({ length: 256 }, () => observe().s));
  return (async () => {
    for (let done = 0; done < samples; ) {
      const batch: Transition[] = [];
      for (let i = 0; i < agent.rolloutSize && done < samples; i++, done++) {
        const { s, f } = observe();
        const out = agent.act(s);
        batch.push(toTransition(s, out, reward(out.action, f), true));
      }
      await agent.learn(batch);
    }
    // Deterministic score on both contexts: 1 + 1 at the optimum.
    return [-1, 1].reduce((sum, f) => sum + reward(agent.act([3 + 10 * f, 0], { deterministic: true }).action, f), 0) / 2;
  })();
}

describe('categorical heads train on a toy where the best choice depends on a feature', () => {
  it('PPO learns the choice per context (and the continuous knob beside it)', async () => {
    const agent = new PpoAgent(2, 2, 1, { categories: [0, 3], logStdInit: -0.5 });
    const before = [-1, 1].map((f) => categoryIndex(agent.act([3 + 10 * f, 0], { deterministic: true }).action[1], 3));
    const score = await categoricalToy(agent, 1024, 11);
    const after = [-1, 1].map((f) => agent.act([3 + 10 * f, 0], { deterministic: true }).action);
    console.log(`categorical toy, PPO: choices before ${before.join('/')}, after ${after.map((a) => categoryIndex(a[1], 3)).join('/')}, a0 ${after.map((a) => a[0].toFixed(2)).join('/')}, score ${score.toFixed(3)} (optimum 1)`);
    expect(after.map((a) => categoryIndex(a[1], 3))).toEqual([0, 2]);
    expect(score).toBeGreaterThan(0.95);
  });

  it('a policy of categorical heads only trains (log σ takes no part and stays as it was)', async () => {
    const agent = new PpoAgent(2, 1, 3, { categories: [3], rolloutSize: 32 });
    const rng = new Rng(5);
    const batch: Transition[] = Array.from({ length: 32 }, () => {
      const s = [rng.normal(), rng.normal()];
      const out = agent.act(s);
      return toTransition(s, out, categoryIndex(out.action[0], 3) === 1 ? 1 : 0, true);
    });
    const stats = await agent.learn(batch);
    expect(Number.isFinite(stats.policyLoss)).toBe(true);
    expect(Array.from(agent.policy.logStd)).toEqual([0]);
  });

  it('REINFORCE learns it too', async () => {
    const agent = new ReinforceAgent(2, 2, 1, { categories: [0, 3], logStdInit: -0.5 });
    const score = await categoricalToy(agent, 2048, 12);
    const after = [-1, 1].map((f) => categoryIndex(agent.act([3 + 10 * f, 0], { deterministic: true }).action[1], 3));
    console.log(`categorical toy, REINFORCE: choices ${after.join('/')}, score ${score.toFixed(3)}`);
    expect(after).toEqual([0, 2]);
    expect(score).toBeGreaterThan(0.9);
  });
});
