/**
 * Adam (Kingma & Ba 2015) on Float32Array parameters, in the PyTorch form
 * Stable-Baselines3 uses:
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
 *   p ← p − lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + ε).
 *
 * The update runs in JS, not in tfjs: a tfjs optimiser costs ~10 kernels per
 * parameter tensor per step, more than the whole forward pass of a 64×64
 * network; in JS it is a loop over ~10k numbers. Moments are float64.
 */
import { SamstarError } from '../../src/util/errors.js';

/** What Adam carries from step to step: saved with an agent so that training resumes exactly. */
export interface AdamState {
  /** Steps taken (the bias corrections 1 − β^t depend on it). */
  readonly step: number;
  /** First and second moments, one array per parameter array. */
  readonly m: readonly Float64Array[];
  readonly v: readonly Float64Array[];
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Steps taken. */
  t = 0;
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];

  constructor(sizes: readonly number[], options: { learningRate: number; beta1?: number; beta2?: number; epsilon?: number }) {
    this.learningRate = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.m = sizes.map((n) => new Float64Array(n));
    this.v = sizes.map((n) => new Float64Array(n));
  }

  /** The moments (live views, not copies: write them out before the next step) and the step count. */
  state(): AdamState {
    return { step: this.t, m: this.m, v: this.v };
  }

  /** Continue from a saved state (same parameter sizes as at construction); `where` names its source in errors. */
  restore(state: AdamState, where: string): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new SamstarError('MODEL_INVALID', `${where}: step must be a non-negative integer, got ${String(state.step)}`);
    const check = (name: 'm' | 'v', saved: readonly Float64Array[], own: Float64Array[]) => {
      if (saved.length !== own.length) throw new SamstarError('MODEL_INVALID', `${where}: ${saved.length} ${name} arrays for ${own.length} parameter arrays`);
      own.forEach((o, k) => {
        if (saved[k].length !== o.length) throw new SamstarError('MODEL_INVALID', `${where}: ${name}[${k}] has ${saved[k].length} values, the parameter ${o.length}`);
        // v ≥ 0 always: a negative one would make the step's square root NaN.
        if (!saved[k].every((x) => Number.isFinite(x) && (name === 'm' || x >= 0))) throw new SamstarError('MODEL_INVALID', `${where}: ${name}[${k}] holds ${name === 'v' ? 'negative or ' : ''}non-finite values`);
      });
    };
    check('m', state.m, this.m);
    check('v', state.v, this.v);
    this.t = state.step;
    this.m.forEach((o, k) => o.set(state.m[k]));
    this.v.forEach((o, k) => o.set(state.v[k]));
  }

  /** One step: `params[i] -= …` from `grads[i]` (same lengths as at construction). */
  step(params: readonly Float32Array[], grads: readonly ArrayLike<number>[]): void {
    this.t++;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const lr = this.learningRate / c1;
    const sc2 = Math.sqrt(c2);
    for (let k = 0; k < params.length; k++) {
      const p = params[k];
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= (lr * m[i]) / (Math.sqrt(v[i]) / sc2 + eps);
      }
    }
  }
}

/** Euclidean norm of a group of gradient arrays. */
export function gradientNorm(grads: readonly ArrayLike<number>[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/** Scale a group of gradients in place so its norm is at most `max` (PyTorch's clip_grad_norm_). Returns the norm before. */
export function clipGradientNorm(grads: readonly Float32Array[], max: number): number {
  const norm = gradientNorm(grads);
  if (Number.isFinite(max) && norm > max) {
    const scale = max / (norm + 1e-6);
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}
