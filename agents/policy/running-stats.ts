/**
 * Running mean and variance of observation vectors (Welford, with Chan et
 * al.'s parallel merge for whole batches), and the normalisation a policy
 * applies to its inputs: (x − mean) / sqrt(var + ε), clipped to ±clip.
 *
 * The statistics are part of the policy: saved with its weights and frozen at
 * deployment (`frozen = true` makes `update` a no-op), so a deployed policy
 * sees exactly the inputs it was trained on. The variance is the population
 * variance (divide by n), as in Stable-Baselines3's VecNormalize.
 */
import { SamstarError } from '../../src/util/errors.js';

export interface RunningStatsJSON {
  readonly count: number;
  readonly mean: number[];
  /** Population variance per dimension (for reading; `m2` is what restores the stats exactly). */
  readonly var: number[];
  /** Sum of squared deviations per dimension (var · count, kept so a load restores the bits exactly). */
  readonly m2?: number[];
  readonly clip: number;
  readonly epsilon: number;
  readonly frozen: boolean;
}

export class RunningStats {
  readonly size: number;
  /** Observations seen. Before the first one, normalise() is the identity (then clipped). */
  count = 0;
  readonly mean: Float64Array;
  /** Sum of squared deviations from the mean (Welford's M2). */
  private readonly m2: Float64Array;
  /** Normalised values are clipped to ±clip (default 10). */
  readonly clip: number;
  readonly epsilon: number;
  /** When true, update() and updateBatch() do nothing (deployment). */
  frozen = false;

  constructor(size: number, options: { clip?: number; epsilon?: number } = {}) {
    if (!Number.isInteger(size) || size < 1) {
      throw new SamstarError('ARGUMENT_INVALID', `running stats: size must be a positive integer, got ${size}`);
    }
    this.size = size;
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
    this.clip = options.clip ?? 10;
    this.epsilon = options.epsilon ?? 1e-8;
  }

  /** Population variance per dimension (1 before any observation, so normalise() is the identity). */
  variance(): Float64Array {
    const v = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) v[i] = this.count > 0 ? this.m2[i] / this.count : 1;
    return v;
  }

  /** Add one observation (Welford). */
  update(x: ArrayLike<number>): void {
    if (this.frozen) return;
    this.check(x);
    this.count++;
    const n = this.count;
    for (let i = 0; i < this.size; i++) {
      const delta = x[i] - this.mean[i];
      this.mean[i] += delta / n;
      this.m2[i] += delta * (x[i] - this.mean[i]);
    }
  }

  /** Add a batch of observations at once (Chan et al.'s merge of batch moments: fewer rounding steps than one by one). */
  updateBatch(xs: readonly ArrayLike<number>[]): void {
    if (this.frozen || xs.length === 0) return;
    const nb = xs.length;
    const bMean = new Float64Array(this.size);
    const bM2 = new Float64Array(this.size);
    for (const x of xs) {
      this.check(x);
      for (let i = 0; i < this.size; i++) bMean[i] += x[i];
    }
    for (let i = 0; i < this.size; i++) bMean[i] /= nb;
    for (const x of xs) {
      for (let i = 0; i < this.size; i++) {
        const d = x[i] - bMean[i];
        bM2[i] += d * d;
      }
    }
    const na = this.count;
    const n = na + nb;
    for (let i = 0; i < this.size; i++) {
      const delta = bMean[i] - this.mean[i];
      this.mean[i] += (delta * nb) / n;
      this.m2[i] += bM2[i] + (delta * delta * na * nb) / n;
    }
    this.count = n;
  }

  /** (x − mean) / sqrt(var + ε), clipped to ±clip, into `out` (allocated when omitted). */
  normalize(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.size)): Float64Array {
    this.check(x);
    const c = this.clip;
    for (let i = 0; i < this.size; i++) {
      const z = this.count > 0 ? (x[i] - this.mean[i]) / Math.sqrt(this.m2[i] / this.count + this.epsilon) : x[i];
      out[i] = z > c ? c : z < -c ? -c : z;
    }
    return out;
  }

  /** Take over another instance's statistics (same size). */
  copyFrom(other: RunningStats): void {
    if (other.size !== this.size) throw new SamstarError('ARGUMENT_INVALID', `running stats: cannot copy ${other.size} dimensions into ${this.size}`);
    this.count = other.count;
    this.mean.set(other.mean);
    this.m2.set(other.m2);
    this.frozen = other.frozen;
  }

  toJSON(): RunningStatsJSON {
    return {
      count: this.count,
      mean: Array.from(this.mean),
      var: Array.from(this.variance()),
      m2: Array.from(this.m2),
      clip: this.clip,
      epsilon: this.epsilon,
      frozen: this.frozen,
    };
  }

  static fromJSON(json: RunningStatsJSON, where = 'running stats'): RunningStats {
    const bad = (what: string): never => {
      throw new SamstarError('MODEL_INVALID', `${where}: ${what}`, { hint: 'the policy weights were written by another version or edited by hand; save the policy again' });
    };
    if (typeof json !== 'object' || json === null) bad('missing');
    if (!Array.isArray(json.mean) || !Array.isArray(json.var) || json.mean.length !== json.var.length || json.mean.length < 1) bad('mean/var must be arrays of the same non-zero length');
    if (!Number.isInteger(json.count) || json.count < 0) bad(`count must be a non-negative integer, got ${json.count}`);
    if (json.m2 !== undefined && (!Array.isArray(json.m2) || json.m2.length !== json.mean.length)) bad('m2 must be an array as long as mean');
    if (![...json.mean, ...json.var, ...(json.m2 ?? []), json.clip, json.epsilon].every((v) => typeof v === 'number' && Number.isFinite(v))) bad('non-finite numbers');
    const stats = new RunningStats(json.mean.length, { clip: json.clip, epsilon: json.epsilon });
    stats.count = json.count;
    for (let i = 0; i < stats.size; i++) {
      stats.mean[i] = json.mean[i];
      // m2 restores the exact bits; var·count is the fallback (for count 0, var is the identity's 1 and M2 stays 0).
      stats.m2[i] = json.m2 !== undefined ? json.m2[i] : json.count > 0 ? json.var[i] * json.count : 0;
    }
    stats.frozen = json.frozen === true;
    return stats;
  }

  private check(x: ArrayLike<number>): void {
    if (x.length !== this.size) {
      throw new SamstarError('ARGUMENT_INVALID', `observation has ${x.length} values, the policy expects ${this.size}`, {
        hint: 'the feature spec of the frames must match the one the policy was trained with',
      });
    }
    for (let i = 0; i < this.size; i++) {
      if (!Number.isFinite(x[i])) {
        throw new SamstarError('ARGUMENT_INVALID', `observation[${i}] is ${x[i]} (not a finite number)`, {
          hint: 'a frame feature could not be computed; check the frame (empty, constant, or corrupt image)',
        });
      }
    }
  }
}
