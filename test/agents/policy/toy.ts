/**
 * A contextual bandit with a known optimum, for the policy-gradient tests:
 * observation s = offset + scale·z (z ~ N(0, I_k), deliberately not normalised),
 * reward = −‖clip(a) − W·z‖² with W fixed, so the best action for s is W·z
 * (inside the box) and a policy that learns it has learnt the map W.
 */
import { Rng } from '../../../src/util/rng.js';
import type { LearnStats, PolicyAgent, Transition } from '../../../agents/policy/types.js';
import { toTransition } from '../../../agents/policy/types.js';

export interface Toy {
  readonly k: number;
  readonly d: number;
  readonly W: number[][];
  observe(rng: Rng): { s: number[]; target: number[] };
  reward(action: readonly number[], target: readonly number[]): number;
}

export function makeToy(k = 4, d = 3, seed = 7): Toy {
  const rng = new Rng(seed);
  const W = Array.from({ length: d }, () => Array.from({ length: k }, () => rng.uniform(-0.3, 0.3)));
  const offset = Array.from({ length: k }, (_, i) => 5 * (i + 1));
  const scale = Array.from({ length: k }, (_, i) => 3 + i);
  return {
    k,
    d,
    W,
    observe(r: Rng) {
      const z = Array.from({ length: k }, () => r.normal());
      return { s: z.map((v, i) => offset[i] + scale[i] * v), target: W.map((row) => row.reduce((a, w, i) => a + w * z[i], 0)) };
    },
    reward(action, target) {
      return -action.reduce((a, v, i) => a + (v - target[i]) ** 2, 0);
    },
  };
}

/** Root-mean-square error per dimension of the deterministic action against the optimum, over `n` fixed test contexts. */
export function actionError(agent: PolicyAgent, toy: Toy, n = 256): number {
  const rng = new Rng(12345);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const { s, target } = toy.observe(rng);
    const a = agent.act(s, { deterministic: true }).action;
    sum += a.reduce((acc, v, j) => acc + (v - target[j]) ** 2, 0) / toy.d;
  }
  return Math.sqrt(sum / n);
}

export interface ToyRun {
  readonly curve: number[];
  readonly stats: LearnStats[];
  readonly errors: number[];
}

/** Train for `samples` rewards in batches of agent.rolloutSize; record the mean reward per batch and the action error every `every` batches. */
export async function trainOnToy(agent: PolicyAgent, toy: Toy, samples: number, seed = 99, every = 0): Promise<ToyRun> {
  const rng = new Rng(seed);
  const curve: number[] = [];
  const stats: LearnStats[] = [];
  const errors: number[] = [];
  for (let done = 0; done < samples; ) {
    const batch: Transition[] = [];
    for (let i = 0; i < agent.rolloutSize && done < samples; i++, done++) {
      const { s, target } = toy.observe(rng);
      const out = agent.act(s);
      batch.push(toTransition(s, out, toy.reward(out.action, target), true));
    }
    const st = await agent.learn(batch);
    stats.push(st);
    curve.push(st.meanReward);
    if (every > 0 && stats.length % every === 0) errors.push(actionError(agent, toy));
  }
  return { curve, stats, errors };
}
