/**
 * Proximal policy optimisation with the clipped surrogate (Schulman et al.
 * 2017), over the Gaussian policy of gaussian-policy.ts:
 *
 *   L = −E[min(r·Â, clip(r, 1 − ε, 1 + ε)·Â)] − c_H·H(π) + c_V·E[(V(s) − R)²],
 *   r = π_θ(a|s) / π_old(a|s),  Â = GAE(γ, λ) normalised per minibatch,
 *
 * several epochs of shuffled minibatches per batch, Adam, per-network
 * gradient-norm clipping, optional early stop on the KL (targetKl).
 * Contextual bandits (one-step episodes) reduce to Â = r − V(s).
 *
 * Defaults (the widely used PPO defaults — "reference" below, as in
 * stable-baselines3 — adapted to rewards that each cost a segmentation):
 *   rolloutSize 128   (reference 2048: here a batch is 128 segmentations; 64–256 is the useful range)
 *   minibatchSize 32  (reference 64: 4 minibatches per batch, so 10 epochs still give 40 steps)
 *   epochs 10, clipRange 0.2, gaeLambda 0.95, gamma 0.99, entropyCoef 0, valueCoef 0.5,
 *   maxGradNorm 0.5, adamEpsilon 1e-5, logStdInit 0, hidden [64, 64] (as the reference)
 *   learningRate 1e-3 (reference 3e-4: with ~40 steps per 128 samples and budgets of a few thousand
 *                      samples, 3e-4 moves log σ by at most ~0.1 per 1000 samples; 1e-3 with the
 *                      clip and the gradient-norm clip stays stable on the toy problems in the tests)
 */
import type { Scalar, Tensor1D } from '@tensorflow/tfjs';
import { z } from 'zod';
import { SamstarError } from '../../src/util/errors.js';
import type { Tf } from './backend.js';
import { type CommonAgentOptions, PolicyGradientAgent, type ResolvedCommonOptions } from './base.js';
import type { GaussianPolicy } from './gaussian-policy.js';
import { commonOptionShape } from './options.js';
import { definePolicyAgent, type LearnStats, type Transition } from './types.js';

export interface PpoOptions extends CommonAgentOptions {
  /** ε of the clipped surrogate (default 0.2). */
  readonly clipRange?: number;
  /** GAE λ (default 0.95). */
  readonly gaeLambda?: number;
  /** Stop a batch's epochs once a minibatch's KL estimate passes 1.5 · targetKl (default: never). */
  readonly targetKl?: number;
}

export const PPO_DEFAULTS: ResolvedCommonOptions & { clipRange: number; gaeLambda: number } = {
  learningRate: 1e-3,
  adamEpsilon: 1e-5,
  rolloutSize: 128,
  minibatchSize: 32,
  epochs: 10,
  gamma: 0.99,
  entropyCoef: 0,
  valueCoef: 0.5,
  maxGradNorm: 0.5,
  normalizeAdvantage: true,
  clipRange: 0.2,
  gaeLambda: 0.95,
};

/**
 * The clipped surrogate objective as a loss (to minimise):
 * −mean(min(r·A, clip(r, 1 − ε, 1 + ε)·A)), with r = exp(logProb − oldLogProb).
 * Its gradient with respect to logProb is −r·A/n where the unclipped term is
 * the minimum, and 0 where the ratio has left [1 − ε, 1 + ε] in the direction
 * the advantage favours (r > 1 + ε with A > 0, r < 1 − ε with A < 0).
 */
export function clippedSurrogate(tf: Tf, logProb: Tensor1D, oldLogProb: Tensor1D, advantages: Tensor1D, clipRange: number): { loss: Scalar; ratio: Tensor1D } {
  const ratio = tf.exp(tf.sub(logProb, oldLogProb)) as Tensor1D;
  const unclipped = tf.mul(ratio, advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange), advantages);
  const loss = tf.neg(tf.mean(tf.minimum(unclipped, clipped))) as Scalar;
  return { loss, ratio };
}

/** Clip fraction and KL estimate mean((r − 1) − log r) from log-probs (computed in JS: eager tfjs would run every statistic op). */
export function ratioStatistics(logProb: ArrayLike<number>, oldLogProb: ArrayLike<number>, clipRange: number): { clipFraction: number; approxKl: number; meanRatio: number } {
  let clipped = 0;
  let kl = 0;
  let sum = 0;
  for (let i = 0; i < logProb.length; i++) {
    const logRatio = logProb[i] - oldLogProb[i];
    const ratio = Math.exp(logRatio);
    if (Math.abs(ratio - 1) > clipRange) clipped++;
    kl += ratio - 1 - logRatio;
    sum += ratio;
  }
  const n = Math.max(1, logProb.length);
  return { clipFraction: clipped / n, approxKl: kl / n, meanRatio: sum / n };
}

export class PpoAgent extends PolicyGradientAgent {
  readonly name = 'ppo';
  private readonly clipRange: number;
  private readonly gaeLambda: number;
  private readonly targetKl: number | undefined;

  constructor(observationSize: number, actionSize: number, seed: number, options: PpoOptions = {}, policy?: GaussianPolicy) {
    super('ppo', observationSize, actionSize, seed, options, PPO_DEFAULTS, policy);
    this.clipRange = options.clipRange ?? PPO_DEFAULTS.clipRange;
    this.gaeLambda = options.gaeLambda ?? PPO_DEFAULTS.gaeLambda;
    this.targetKl = options.targetKl;
    if (!(this.clipRange > 0)) throw new SamstarError('ARGUMENT_INVALID', `ppo: option clipRange must be > 0, got ${this.clipRange}`);
    if (!(this.gaeLambda >= 0 && this.gaeLambda <= 1)) throw new SamstarError('ARGUMENT_INVALID', `ppo: option gaeLambda must be in [0, 1], got ${this.gaeLambda}`);
    if (this.targetKl !== undefined && !(this.targetKl > 0)) throw new SamstarError('ARGUMENT_INVALID', `ppo: option targetKl must be > 0, got ${this.targetKl}`);
  }

  protected ownOptions(): Record<string, unknown> {
    return { clipRange: this.clipRange, gaeLambda: this.gaeLambda, targetKl: this.targetKl };
  }

  /**
   * Restore an agent saved by save(): policy, statistics, options, Adam state
   * and random streams, so that training continues exactly where it stopped.
   * A `seed` gives fresh streams from that seed instead (Adam is still
   * restored); `overrides` replace saved options.
   */
  static async load(dir: string, options: { seed?: number; overrides?: PpoOptions } = {}): Promise<PpoAgent> {
    return PolicyGradientAgent.loadSaved(dir, 'ppo', options.seed, (policy, seed, saved) => new PpoAgent(policy.observationSize, policy.actionSize, seed, { ...(saved as PpoOptions), ...options.overrides }, policy));
  }

  learn(batch: readonly Transition[]): Promise<LearnStats> {
    const o = this.common;
    return this.train(batch, {
      lambda: this.gaeLambda,
      value: true,
      shuffle: true,
      loss: (tf, g) => {
        const surrogate = clippedSurrogate(tf, g.logProb, g.oldLogProb, g.advantages, this.clipRange);
        const vLoss = tf.mean(tf.square(tf.sub(g.value as Tensor1D, g.returns))) as Scalar;
        const terms = [surrogate.loss, tf.mul(o.valueCoef, vLoss) as Scalar];
        if (o.entropyCoef !== 0) terms.push(tf.mul(-o.entropyCoef, g.entropy()) as Scalar);
        // The log-probs ride along for the clip fraction and the KL estimate (ratioStatistics).
        return { loss: tf.addN(terms) as Scalar, stats: tf.concat([tf.stack([surrogate.loss, vLoss]), g.logProb]) };
      },
      afterStep: (stats, oldLogProb) => {
        const ratios = ratioStatistics(stats.subarray(2), oldLogProb, this.clipRange);
        // As Stable-Baselines3: the KL is measured before the step; the step that saw it too large is still taken.
        return { clipFraction: ratios.clipFraction, stop: this.targetKl !== undefined && ratios.approxKl > 1.5 * this.targetKl };
      },
    });
  }
}

/** PpoOptions as a task config writes them (`agent: { name: ppo, options: {...} }`). */
export const ppoOptionsSchema = z.strictObject({
  ...commonOptionShape,
  clipRange: z.number().positive().finite().optional(),
  gaeLambda: z.number().min(0).max(1).optional(),
  targetKl: z.number().positive().finite().optional(),
});

/** The policy registry's `ppo` (registry.ts). */
export const ppo = definePolicyAgent({
  name: 'ppo',
  description: 'proximal policy optimisation (clipped surrogate, GAE) over a Gaussian policy',
  schema: ppoOptionsSchema,
  agentClass: PpoAgent,
});
