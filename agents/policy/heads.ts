/**
 * Action heads of a policy: one per action dimension, either a Gaussian head
 * (continuous knobs: one network output, the mean; σ from the shared log σ
 * vector) or a categorical head (choice knobs: K network outputs, the logits of
 * a softmax over the K choices).
 *
 * A categorical head's action value is the choice's own point of the
 * normalised knob box, 2k/(K − 1) − 1 for choice k, which is exactly what
 * KnobSpace decodes back to choice k. So actions keep one number per knob,
 * and policies, transitions and deployment keep their shapes; only the
 * network's output grows by K − 1 per categorical head.
 *
 * Why categorical heads: a Gaussian over a choice's normalised value samples
 * the middle choice most and reaches the outer ones only past a rounding
 * boundary, so "polarity: dark" or "both" is hard to learn and the
 * deterministic policy (the mean) drifts between choices; a softmax learns a
 * probability per choice and the deterministic policy takes the most probable.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { SamstarError } from '../../src/util/errors.js';
import type { Rng } from '../../src/util/rng.js';
import type { Tf } from './backend.js';

const LOG_2PI = Math.log(2 * Math.PI);

export interface ActionHead {
  /** Action dimension. */
  readonly dim: number;
  /** First network output of this head. */
  readonly offset: number;
  /** 1 for a Gaussian head, K ≥ 2 for a categorical head over K choices. */
  readonly size: number;
}

export interface HeadLayout {
  readonly heads: readonly ActionHead[];
  /** Network outputs in all. */
  readonly outputSize: number;
  readonly categorical: boolean;
}

/**
 * The layout for `actionSize` dimensions; `categories[i]` ≥ 2 makes dimension
 * i categorical over that many choices, 0 or 1 (or absent) leaves it Gaussian.
 */
export function headLayout(actionSize: number, categories: readonly number[] = []): HeadLayout {
  if (categories.length > 0 && categories.length !== actionSize) {
    throw new SamstarError('ARGUMENT_INVALID', `policy: categories has ${categories.length} entries, the action has ${actionSize} dimensions`, {
      hint: 'one entry per tuned knob: its number of choices, or 0 for a continuous knob',
    });
  }
  const heads: ActionHead[] = [];
  let offset = 0;
  for (let dim = 0; dim < actionSize; dim++) {
    const k = categories[dim] ?? 0;
    if (!Number.isInteger(k) || k < 0) throw new SamstarError('ARGUMENT_INVALID', `policy: categories[${dim}] must be a whole number ≥ 0, got ${k}`);
    const size = k >= 2 ? k : 1;
    heads.push({ dim, offset, size });
    offset += size;
  }
  return { heads, outputSize: offset, categorical: heads.some((h) => h.size > 1) };
}

/** The normalised value of choice k of K (KnobSpace's own encoding of a choice knob). */
export function categoryValue(k: number, size: number): number {
  return size === 1 ? 0 : (2 * k) / (size - 1) - 1;
}

/** The choice an action value stands for (as KnobSpace rounds it). */
export function categoryIndex(value: number, size: number): number {
  const u = (Math.max(-1, Math.min(1, value)) + 1) / 2;
  return Math.min(size - 1, Math.round(u * (size - 1)));
}

/** log softmax(logits)[k], stably. */
function logSoftmaxAt(out: ArrayLike<number>, offset: number, size: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < size; j++) max = Math.max(max, out[offset + j]);
  let sum = 0;
  for (let j = 0; j < size; j++) sum += Math.exp(out[offset + j] - max);
  return out[offset + k] - max - Math.log(sum);
}

/**
 * Raw action from network outputs: the means / most probable choices when
 * deterministic, else a sample. Gaussian dimensions draw rng.normal() in
 * dimension order, as a purely Gaussian policy always has (so seeds replay).
 */
export function headAction(layout: HeadLayout, out: ArrayLike<number>, logStd: ArrayLike<number>, deterministic: boolean, rng?: Rng): number[] {
  return layout.heads.map((h) => {
    if (h.size === 1) return deterministic ? out[h.offset] : out[h.offset] + Math.exp(logStd[h.dim]) * rng!.normal();
    let k = 0;
    if (deterministic) {
      for (let j = 1; j < h.size; j++) if (out[h.offset + j] > out[h.offset + k]) k = j;
    } else {
      const u = rng!.next();
      let cumulative = 0;
      k = h.size - 1;
      for (let j = 0; j < h.size; j++) {
        cumulative += Math.exp(logSoftmaxAt(out, h.offset, h.size, j));
        if (u < cumulative) {
          k = j;
          break;
        }
      }
    }
    return categoryValue(k, h.size);
  });
}

/** log π(action) for network outputs `out`: Gaussian densities plus categorical log-probabilities. */
export function headLogProb(layout: HeadLayout, action: ArrayLike<number>, out: ArrayLike<number>, logStd: ArrayLike<number>): number {
  let sum = 0;
  for (const h of layout.heads) {
    if (h.size === 1) {
      const z = (action[h.dim] - out[h.offset]) / Math.exp(logStd[h.dim]);
      sum += -0.5 * z * z - logStd[h.dim] - 0.5 * LOG_2PI;
    } else {
      sum += logSoftmaxAt(out, h.offset, h.size, categoryIndex(action[h.dim], h.size));
    }
  }
  return sum;
}

/** Entropy of the Gaussian heads (state-independent): Σ (log σ + ½ log 2πe) over them. */
export function gaussianHeadsEntropy(layout: HeadLayout, logStd: ArrayLike<number>): number {
  let sum = 0;
  for (const h of layout.heads) if (h.size === 1) sum += logStd[h.dim] + 0.5 * (LOG_2PI + 1);
  return sum;
}

/** Entropy of the categorical heads for network outputs `out` (0 without any). */
export function categoricalEntropy(layout: HeadLayout, out: ArrayLike<number>): number {
  let sum = 0;
  for (const h of layout.heads) {
    if (h.size === 1) continue;
    for (let j = 0; j < h.size; j++) {
      const lp = logSoftmaxAt(out, h.offset, h.size, j);
      sum -= Math.exp(lp) * lp;
    }
  }
  return sum;
}

/**
 * Output-layer biases that start a policy at the normalised knobs `x` (its
 * output weights start near 0): the mean of a Gaussian head at x[i] (clipped
 * to the box); a categorical head's logits at 2 for x[i]'s choice and 0 for the
 * others (probability e²/(e² + K − 1): 0.79 for three choices), so it starts
 * from the warm start's choice but still explores the rest.
 */
export function warmStartBias(layout: HeadLayout, x: readonly number[]): Float32Array {
  const bias = new Float32Array(layout.outputSize);
  for (const h of layout.heads) {
    if (h.size === 1) bias[h.offset] = Math.min(1, Math.max(-1, x[h.dim]));
    else bias[h.offset + categoryIndex(x[h.dim], h.size)] = 2;
  }
  return bias;
}

/** log N(x; mean, diag(exp(logStd)²)) in closed form. */
export function gaussianLogProb(x: ArrayLike<number>, mean: ArrayLike<number>, logStd: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < logStd.length; i++) {
    const z = (x[i] - mean[i]) / Math.exp(logStd[i]);
    sum += -0.5 * z * z - logStd[i] - 0.5 * LOG_2PI;
  }
  return sum;
}

/** Entropy of the diagonal Gaussian: Σ (log σ + ½ log 2πe). */
export function gaussianEntropy(logStd: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < logStd.length; i++) sum += logStd[i] + 0.5 * (LOG_2PI + 1);
  return sum;
}

// ---------------------------------------------------------------------------
// Training graph. Columns are picked with constant 0/1 matrices and matMul,
// not gather/slice: their gradients are plain products on every backend
// (gather's gradient needs a scatter kernel that the wasm backend lacks).

function selection(tf: Tf, rows: number, columns: readonly number[]): Tensor2D {
  const m = new Float32Array(rows * columns.length);
  columns.forEach((c, j) => {
    m[c * columns.length + j] = 1;
  });
  return tf.tensor2d(m, [rows, columns.length]);
}

/** Per-row log π(actions) [B] for network outputs [B, outputSize]. */
export function headLogProbTf(tf: Tf, layout: HeadLayout, actions: Tensor2D, out: Tensor2D, logStd: Tensor): Tensor1D {
  const gaussian = layout.heads.filter((h) => h.size === 1);
  const d = layout.heads.length;
  const terms: Tensor1D[] = [];
  if (gaussian.length) {
    const mean = layout.categorical ? tf.matMul(out, selection(tf, layout.outputSize, gaussian.map((h) => h.offset))) : out;
    const act = layout.categorical ? tf.matMul(actions, selection(tf, d, gaussian.map((h) => h.dim))) : actions;
    const ls = layout.categorical ? tf.reshape(tf.matMul(tf.reshape(logStd, [1, d]), selection(tf, d, gaussian.map((h) => h.dim))), [-1]) : logStd;
    terms.push(gaussianLogProbTf(tf, act as Tensor2D, mean as Tensor2D, ls));
  }
  const rows = actions.shape[0];
  const values = actions.arraySync() as number[][];
  for (const h of layout.heads) {
    if (h.size === 1) continue;
    const logits = tf.matMul(out, selection(tf, layout.outputSize, Array.from({ length: h.size }, (_, j) => h.offset + j)));
    const logp = tf.sub(logits, tf.logSumExp(logits, 1, true));
    const chosen = new Float32Array(rows * h.size);
    for (let r = 0; r < rows; r++) chosen[r * h.size + categoryIndex(values[r][h.dim], h.size)] = 1;
    terms.push(tf.sum(tf.mul(logp, tf.tensor2d(chosen, [rows, h.size])), 1) as Tensor1D);
  }
  const sum = terms.reduce((a, b) => tf.add(a, b) as Tensor1D);
  // Without a Gaussian head log σ takes no part; tfjs refuses a gradient for a parameter outside the
  // graph, so tie it in with weight 0 (its gradient is then exactly 0).
  return gaussian.length ? sum : (tf.add(sum, tf.mul(0, tf.sum(logStd))) as Tensor1D);
}

/** Mean entropy over the minibatch: the Gaussian heads' (from log σ) plus the categorical heads' (from the outputs). */
export function headEntropyTf(tf: Tf, layout: HeadLayout, out: Tensor2D, logStd: Tensor): Scalar {
  const d = layout.heads.length;
  const gaussian = layout.heads.filter((h) => h.size === 1);
  let entropy: Scalar = tf.scalar(0);
  if (gaussian.length) {
    const ls = layout.categorical ? tf.reshape(tf.matMul(tf.reshape(logStd, [1, d]), selection(tf, d, gaussian.map((h) => h.dim))), [-1]) : logStd;
    entropy = gaussianEntropyTf(tf, ls);
  }
  for (const h of layout.heads) {
    if (h.size === 1) continue;
    const logits = tf.matMul(out, selection(tf, layout.outputSize, Array.from({ length: h.size }, (_, j) => h.offset + j)));
    const logp = tf.sub(logits, tf.logSumExp(logits, 1, true));
    entropy = tf.add(entropy, tf.mean(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)))) as Scalar;
  }
  return entropy;
}

/** Per-row log N(actions; mean, diag(exp(logStd)²)). */
export function gaussianLogProbTf(tf: Tf, actions: Tensor2D, mean: Tensor2D, logStd: Tensor): Tensor1D {
  const z = tf.mul(tf.sub(actions, mean), tf.exp(tf.neg(logStd)));
  const d = actions.shape[1];
  return tf.sub(tf.mul(-0.5, tf.sum(tf.square(z), 1)), tf.add(tf.sum(logStd), 0.5 * d * LOG_2PI)) as Tensor1D;
}

export function gaussianEntropyTf(tf: Tf, logStd: Tensor): Scalar {
  return tf.add(tf.sum(logStd), 0.5 * (LOG_2PI + 1) * logStd.shape[0]!) as Scalar;
}
