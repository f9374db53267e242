import type { Tensor1D } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadTf } from '../../../agents/policy/backend.js';
import { clippedSurrogate, PpoAgent, ratioStatistics } from '../../../agents/policy/ppo.js';
import { toTransition, type Transition } from '../../../agents/policy/types.js';
import { Rng } from '../../../src/util/rng.js';
import { actionError, makeToy, trainOnToy } from './toy.js';

const toy = makeToy();

/** One batch of the toy bandit from a fresh agent (normaliser fitted first). */
function toyBatch(agent: PpoAgent, n: number, seed: number): Transition[] {
  const rng = new Rng(seed);
  agent.fitNormalizer(Array.from({ length: 256 }, () => toy.observe(rng).s));
  return Array.from({ length: n }, () => {
    const { s, target } = toy.observe(rng);
    const out = agent.act(s);
    return toTransition(s, out, toy.reward(out.action, target), true);
  });
}

describe('PPO: the clipped objective', () => {
  it('has zero gradient where the ratio has left [1 − ε, 1 + ε] in the direction the advantage favours, −r·A/n elsewhere', async () => {
    const { tf } = await loadTf();
    const eps = 0.2;
    // Ratios from 0.3 to 3 (as after a huge learning-rate step), advantages of both signs.
    const ratios = [0.3, 0.7, 0.79, 0.81, 1, 1.1, 1.19, 1.21, 1.5, 3];
    const cases = ratios.flatMap((r) => [
      { r, a: 1.3 },
      { r, a: -0.7 },
    ]);
    const old = cases.map((_, i) => -1 - 0.1 * i);
    const logProb = cases.map((c, i) => old[i] + Math.log(c.r));
    const n = cases.length;
    const [grad] = tf.grads(((lp: Tensor1D) => clippedSurrogate(tf, lp, tf.tensor1d(old), tf.tensor1d(cases.map((c) => c.a)), eps).loss) as never)([tf.tensor1d(logProb)]);
    const g = Array.from(grad.dataSync());
    grad.dispose();
    let zero = 0;
    cases.forEach(({ r, a }, i) => {
      const clippedAway = (a > 0 && r > 1 + eps) || (a < 0 && r < 1 - eps);
      if (clippedAway) {
        expect(g[i]).toBe(0);
        zero++;
      } else {
        expect(g[i]).toBeCloseTo((-r * a) / n, 5);
      }
    });
    expect(zero).toBe(6);
    const stats = ratioStatistics(logProb, old, eps);
    expect(stats.clipFraction).toBeCloseTo(12 / 20, 12);
    expect(stats.meanRatio).toBeCloseTo(cases.reduce((s, c) => s + c.r, 0) / n, 6);
  });

  it('on-policy batches start at ratio 1; the clip bounds the ratio a large learning rate reaches; clip fraction reported', async () => {
    const run = async (learningRate: number, clipRange: number) => {
      const agent = new PpoAgent(toy.k, toy.d, 1, { learningRate, clipRange, logStdInit: -0.5, maxGradNorm: Infinity });
      return agent.learn(toyBatch(agent, 128, 4));
    };
    const gentle = await run(1e-4, 0.2);
    const clipped = await run(1e-2, 0.2);
    const unclipped = await run(1e-2, 1e9);
    expect(gentle.logProbMismatch).toBe(0);
    expect(gentle.clipFraction).toBeLessThan(0.05);
    expect(clipped.clipFraction).toBeGreaterThan(0.3);
    expect(unclipped.clipFraction).toBe(0);
    const spread = (s: { ratioRange: [number, number] }) => Math.max(-Math.log(s.ratioRange[0]), Math.log(s.ratioRange[1]));
    expect(spread(clipped)).toBeLessThan(0.5 * spread(unclipped));
    expect(clipped.approxKl).toBeLessThan(0.2 * unclipped.approxKl);
    expect(clipped.gradientSteps).toBe(40);
    expect(clipped.epochs).toBe(10);
  });

  it('stops early on targetKl', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 1, { learningRate: 1e-2, targetKl: 0.01, logStdInit: -0.5 });
    const stats = await agent.learn(toyBatch(agent, 128, 5));
    expect(stats.stoppedEarly).toBe(true);
    expect(stats.gradientSteps).toBeLessThan(40);
  });
});

describe('PPO on a contextual bandit with a known optimum (reward = −‖a − W·z‖²)', () => {
  it('converges to the optimal map within 2048 samples', async () => {
    const agent = new PpoAgent(toy.k, toy.d, 1, { logStdInit: -0.5 });
    const before = actionError(agent, toy);
    const run = await trainOnToy(agent, toy, 2048);
    const after = actionError(agent, toy);
    const first = run.curve.slice(0, 3).reduce((a, b) => a + b, 0) / 3;
    const last = run.curve.slice(-3).reduce((a, b) => a + b, 0) / 3;
    console.log(`PPO toy: action RMS error ${before.toFixed(3)} → ${after.toFixed(3)}, mean reward ${first.toFixed(3)} → ${last.toFixed(3)}, σ ${run.stats.at(-1)!.std.toFixed(3)}, backend ${run.stats[0].backend}`);
    expect(before).toBeGreaterThan(0.3);
    expect(after).toBeLessThan(0.12);
    expect(last).toBeGreaterThan(first + 0.3);
    expect(run.stats.every((s) => s.logProbMismatch === 0)).toBe(true);
  });

  it('the same seed gives the same learning curve; another seed another', async () => {
    const curve = async (seed: number) => {
      const agent = new PpoAgent(toy.k, toy.d, seed, { rolloutSize: 64, logStdInit: -0.5 });
      const run = await trainOnToy(agent, toy, 256, 5);
      return { losses: run.stats.map((s) => [s.policyLoss, s.valueLoss, s.approxKl, s.meanReward]), act: agent.act([5, 10, 15, 20], { deterministic: true }).action };
    };
    const a = await curve(3);
    const b = await curve(3);
    const c = await curve(4);
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
  });
});

describe('PPO on multi-step episodes (GAE)', () => {
  // Two steps: at s0 = [1, 0] choose a0, then s1 = [0, a0]; the only reward comes at the end:
  // −(a0 − 0.5)² − (a1 + 0.3)². a0 is learnt from a delayed reward only.
  const clip = (v: number) => Math.max(-1, Math.min(1, v));
  function episodes(agent: PpoAgent, n: number): Transition[] {
    const batch: Transition[] = [];
    while (batch.length < n) {
      const s0 = [1, 0];
      const o0 = agent.act(s0);
      const s1 = [0, clip(o0.action[0])];
      batch.push(toTransition(s0, o0, 0, false));
      const o1 = agent.act(s1);
      batch.push(toTransition(s1, o1, -((s1[1] - 0.5) ** 2) - (o1.action[0] + 0.3) ** 2, true));
    }
    return batch;
  }

  it('learns the first action from the delayed reward', async () => {
    const agent = new PpoAgent(2, 1, 3, { logStdInit: -0.5 });
    for (let it = 0; it < 16; it++) await agent.learn(episodes(agent, 128));
    const a0 = agent.act([1, 0], { deterministic: true }).action[0];
    const a1 = agent.act([0, 0.5], { deterministic: true }).action[0];
    console.log(`PPO two-step: a0 = ${a0.toFixed(3)} (optimum 0.5), a1 = ${a1.toFixed(3)} (optimum −0.3)`);
    expect(Math.abs(a0 - 0.5)).toBeLessThan(0.15);
    expect(Math.abs(a1 + 0.3)).toBeLessThan(0.1);
  });

  it('bootstraps where a batch stops mid-episode or an episode is truncated, and says when it cannot', async () => {
    const agent = new PpoAgent(2, 1, 3);
    const batch = episodes(agent, 6);
    const cut = batch.slice(0, 5); // ends after the first step of the third episode
    await expect(agent.learn(cut)).rejects.toThrow(/transition 4 ends the batch mid-episode but has no nextObservation/);
    const withNext = [...cut.slice(0, 4), { ...cut[4], nextObservation: [0, 0.2] }];
    await expect(agent.learn(withNext)).resolves.toMatchObject({ samples: 5 });
    const truncated = [{ ...batch[0], done: true, truncated: true }];
    await expect(agent.learn(truncated)).rejects.toThrow(/ends a truncated episode/);
    await expect(agent.learn([{ ...truncated[0], nextObservation: [0, 0.1] }])).resolves.toMatchObject({ samples: 1 });
  });

  it('takes typed-array observations and actions (TuneEnv observations are Float64Arrays)', async () => {
    const agent = new PpoAgent(2, 1, 3);
    const obs = Float64Array.from([0.5, -1]);
    const out = agent.act(obs);
    expect(agent.act(obs, { deterministic: true }).action).toEqual(agent.act([0.5, -1], { deterministic: true }).action);
    const stats = await agent.learn([toTransition(obs, out, 1, true), { ...toTransition(obs, out, 0, true), action: Float32Array.from(out.rawAction) }]);
    expect(stats.samples).toBe(2);
  });

  it('rejects NaN rewards, wrong action sizes and empty batches with a clear message', async () => {
    const agent = new PpoAgent(2, 1, 3);
    const [t] = episodes(agent, 2);
    await expect(agent.learn([])).rejects.toThrow(/batch is empty/);
    await expect(agent.learn([{ ...t, reward: NaN }])).rejects.toThrow(/reward is NaN/);
    await expect(agent.learn([{ ...t, action: [0, 0] }])).rejects.toThrow(/action must be 1 finite numbers/);
    await expect(agent.learn([{ ...t, observation: [1] }])).rejects.toThrow(/observation has 1 values, the policy expects 2/);
    expect(() => new PpoAgent(2, 1, 3, { clipRange: 0 })).toThrow(/clipRange/);
    expect(() => new PpoAgent(2, 1, 3, { minibatchSize: 0 })).toThrow(/minibatchSize/);
  });
});
