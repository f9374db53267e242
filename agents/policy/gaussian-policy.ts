/**
 * A diagonal Gaussian policy over the normalised knob box [−1, 1]^d:
 *
 *   a ~ N(μ(s), diag(σ²)),  μ = tanh MLP (64×64 by default, linear output),
 *   log σ = a trainable vector that does not depend on s (init 0 → σ = 1),
 *
 * plus a separate value network V(s) of the same shape and the observation
 * normalisation statistics. Actions are clipped to the box when sent to the
 * environment; log-probs are those of the unclipped sample.
 *
 * The parameters live here as Float32Arrays and the forward pass is plain JS
 * (a 64×64 MLP is a few thousand multiply-adds: microseconds, where a tfjs call
 * costs ~0.1 ms of dispatch), so acting and deployment never import tfjs.
 * Weights are initialised from the project's Rng (orthogonal, gains
 * √2 for hidden layers, 0.01 for the policy output, 1 for the value output, as
 * in the PPO reference implementations), so a seed gives the same network on
 * every backend. Training (base.ts) gets gradients from tfjs and applies Adam
 * to these arrays in JS.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import type { Tf } from './backend.js';
import { gaussianHeadsEntropy, headAction, type HeadLayout, headLayout, headLogProb } from './heads.js';
// The Gaussian densities live with the other action heads (heads.ts); re-exported where callers have always found them.
export { gaussianEntropy, gaussianEntropyTf, gaussianLogProb, gaussianLogProbTf } from './heads.js';
import { RunningStats, type RunningStatsJSON } from './running-stats.js';
import type { ActOptions, ActResult } from './types.js';
import { type NamedArray, readWeights, type WeightsManifest, writeWeights } from './weights.js';

export interface GaussianPolicyConfig {
  readonly observationSize: number;
  readonly actionSize: number;
  /** Hidden layer widths of the policy and of the value network (default [64, 64]; [] = linear). */
  readonly hidden: readonly number[];
  /** Initial log standard deviation, per dimension (default 0: σ = 1, half the box width). */
  readonly logStdInit: number;
  /** Normalise observations with running statistics (default true). */
  readonly normalizeObservations: boolean;
  /** Normalised observations are clipped to ±observationClip (default 10). */
  readonly observationClip: number;
  /**
   * Per action dimension: K ≥ 2 makes it a categorical head over K choices
   * (heads.ts), 0 a Gaussian head. Empty (the default, and every policy saved
   * before categorical heads existed): all Gaussian.
   */
  readonly categories: readonly number[];
}

export const DEFAULT_POLICY_CONFIG = { hidden: [64, 64], logStdInit: 0, normalizeObservations: true, observationClip: 10, categories: [] } as const;

/** What weights.json's `meta` holds for a Gaussian policy (agents add `agent`). */
export interface PolicyMeta {
  readonly kind: 'gaussian-mlp';
  readonly activation: 'tanh';
  readonly policy: GaussianPolicyConfig;
  readonly normalizer: RunningStatsJSON;
  readonly agent?: {
    readonly name: string;
    readonly seed: number;
    readonly options: Record<string, unknown>;
    /**
     * Training state besides the weights, so that a load() continues where
     * save() stopped (all optional: older artefacts have only the first or
     * nothing): REINFORCE's `runningMean` baseline; `optimizer`
     * ({ kind: "adam", step }, moments in weights.bin as adam/m/… and
     * adam/v/…); `rng` ({ act, learn }: the sampling and shuffling streams'
     * positions). Deployment ignores it.
     */
    readonly state?: Record<string, unknown>;
    readonly updates: number;
    readonly samples: number;
  };
}

/** A dense tanh MLP: weights[l] is [in, out] row-major (x·W + b, the tfjs layout). */
export class Mlp {
  readonly sizes: readonly number[];
  readonly weights: Float32Array[];
  readonly biases: Float32Array[];
  private readonly buffers: Float64Array[];

  constructor(sizes: readonly number[]) {
    this.sizes = [...sizes];
    this.weights = [];
    this.biases = [];
    this.buffers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.weights.push(new Float32Array(sizes[l] * sizes[l + 1]));
      this.biases.push(new Float32Array(sizes[l + 1]));
      this.buffers.push(new Float64Array(sizes[l + 1]));
    }
  }

  get layers(): number {
    return this.weights.length;
  }

  /** Orthogonal weights from `rng` (hidden layers × hiddenGain, last layer × outputGain), zero biases. */
  init(rng: Rng, hiddenGain: number, outputGain: number): this {
    for (let l = 0; l < this.layers; l++) {
      const gain = l === this.layers - 1 ? outputGain : hiddenGain;
      this.weights[l].set(orthogonal(this.sizes[l], this.sizes[l + 1], gain, rng));
      this.biases[l].fill(0);
    }
    return this;
  }

  /**
   * Forward pass in float64 over the float32 parameters. Returns an internal
   * buffer, valid until the next call: copy what you keep.
   */
  forward(x: ArrayLike<number>): Float64Array {
    let input: ArrayLike<number> = x;
    for (let l = 0; l < this.layers; l++) {
      const nIn = this.sizes[l];
      const nOut = this.sizes[l + 1];
      const w = this.weights[l];
      const out = this.buffers[l];
      for (let j = 0; j < nOut; j++) out[j] = this.biases[l][j];
      for (let i = 0; i < nIn; i++) {
        const xi = input[i];
        if (xi === 0) continue;
        const row = i * nOut;
        for (let j = 0; j < nOut; j++) out[j] += xi * w[row + j];
      }
      if (l < this.layers - 1) for (let j = 0; j < nOut; j++) out[j] = Math.tanh(out[j]);
      input = out;
    }
    return this.buffers[this.layers - 1];
  }

  arrays(prefix: string): NamedArray[] {
    const out: NamedArray[] = [];
    for (let l = 0; l < this.layers; l++) {
      out.push({ name: `${prefix}/w${l}`, shape: [this.sizes[l], this.sizes[l + 1]], data: this.weights[l] });
      out.push({ name: `${prefix}/b${l}`, shape: [this.sizes[l + 1]], data: this.biases[l] });
    }
    return out;
  }

  /** Copy values from a saved tensor map (shapes checked). */
  assign(prefix: string, tensors: Map<string, NamedArray>, where: string): void {
    for (const t of this.arrays(prefix)) {
      const saved = tensors.get(t.name);
      if (!saved) throw new SamstarError('MODEL_INVALID', `${where}: tensor "${t.name}" is missing`, { hint: 'save the policy again' });
      if (saved.shape.length !== t.shape.length || saved.shape.some((s, i) => s !== t.shape[i])) {
        throw new SamstarError('MODEL_INVALID', `${where}: tensor "${t.name}" has shape [${saved.shape.join(', ')}], the topology needs [${t.shape.join(', ')}]`);
      }
      t.data.set(saved.data);
    }
  }
}

/**
 * An orthogonal [rows, cols] matrix × gain (orthonormal columns when rows ≥ cols,
 * rows otherwise), by modified Gram–Schmidt on Gaussian draws from `rng` —
 * the construction of torch.nn.init.orthogonal_ (QR with the sign of R's
 * diagonal made positive, which Gram–Schmidt gives directly).
 */
export function orthogonal(rows: number, cols: number, gain: number, rng: Rng): Float32Array {
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  // m vectors of length n.
  const q: Float64Array[] = [];
  for (let k = 0; k < m; k++) {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += u[i] * v[i];
        for (let i = 0; i < n; i++) v[i] -= dot * u[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) v[i] /= norm;
    q.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? q[c][r] : q[r][c]);
  }
  return out;
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new SamstarError('ARGUMENT_INVALID', `policy: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

export function resolvePolicyConfig(observationSize: number, actionSize: number, options: Partial<GaussianPolicyConfig> = {}): GaussianPolicyConfig {
  const hidden = options.hidden ?? DEFAULT_POLICY_CONFIG.hidden;
  if (!Array.isArray(hidden)) throw new SamstarError('ARGUMENT_INVALID', 'policy: hidden must be an array of layer widths, e.g. [64, 64]');
  hidden.forEach((h, i) => positiveInt(`hidden[${i}]`, h));
  const logStdInit = options.logStdInit ?? DEFAULT_POLICY_CONFIG.logStdInit;
  if (!Number.isFinite(logStdInit)) throw new SamstarError('ARGUMENT_INVALID', `policy: logStdInit must be finite, got ${logStdInit}`);
  const observationClip = options.observationClip ?? DEFAULT_POLICY_CONFIG.observationClip;
  if (!(observationClip > 0)) throw new SamstarError('ARGUMENT_INVALID', `policy: observationClip must be > 0, got ${observationClip}`);
  const categories = options.categories ?? DEFAULT_POLICY_CONFIG.categories;
  if (!Array.isArray(categories)) throw new SamstarError('ARGUMENT_INVALID', 'policy: categories must be an array (choices per action dimension, 0 = continuous)');
  headLayout(positiveInt('actionSize', actionSize), categories); // validates
  return {
    observationSize: positiveInt('observationSize', observationSize),
    actionSize: positiveInt('actionSize', actionSize),
    hidden: [...hidden],
    logStdInit,
    normalizeObservations: options.normalizeObservations ?? DEFAULT_POLICY_CONFIG.normalizeObservations,
    observationClip,
    categories: categories.some((k) => k >= 2) ? [...categories] : [],
  };
}

export class GaussianPolicy {
  readonly config: GaussianPolicyConfig;
  /** Mean network: observation → action mean. */
  readonly pi: Mlp;
  /** Value network: observation → V(s). */
  readonly vf: Mlp;
  /** State-independent log standard deviation, one per action dimension. */
  readonly logStd: Float32Array;
  readonly normalizer: RunningStats;
  /** Which outputs of `pi` belong to which action dimension (all Gaussian unless config.categories says otherwise). */
  readonly heads: HeadLayout;

  private constructor(config: GaussianPolicyConfig) {
    this.config = config;
    this.heads = headLayout(config.actionSize, config.categories);
    this.pi = new Mlp([config.observationSize, ...config.hidden, this.heads.outputSize]);
    this.vf = new Mlp([config.observationSize, ...config.hidden, 1]);
    this.logStd = new Float32Array(config.actionSize).fill(config.logStdInit);
    this.normalizer = new RunningStats(config.observationSize, { clip: config.observationClip });
  }

  /** A fresh policy with weights drawn from `seed` (orthogonal init). */
  static create(config: GaussianPolicyConfig, seed: number | Rng): GaussianPolicy {
    const policy = new GaussianPolicy(config);
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    policy.pi.init(rng.fork(), Math.SQRT2, 0.01);
    policy.vf.init(rng.fork(), Math.SQRT2, 1);
    return policy;
  }

  get observationSize(): number {
    return this.config.observationSize;
  }

  get actionSize(): number {
    return this.config.actionSize;
  }

  /** The network input for an observation (validated; normalised when configured, else passed through). */
  normalize(observation: ArrayLike<number>): Float64Array {
    const z = this.normalizer.normalize(observation);
    if (!this.config.normalizeObservations) for (let i = 0; i < z.length; i++) z[i] = observation[i];
    return z;
  }

  /** The policy network's outputs for a normalised input: the means of Gaussian heads, the logits of categorical ones (see `heads`). */
  meanOf(input: ArrayLike<number>): number[] {
    return Array.from(this.pi.forward(input));
  }

  /** log π(action | s) for a normalised input and a raw action. */
  logProbOfInput(input: ArrayLike<number>, action: ArrayLike<number>): number {
    return headLogProb(this.heads, action, this.pi.forward(input), this.logStd);
  }

  valueOf(input: ArrayLike<number>): number {
    return this.vf.forward(input)[0];
  }

  /**
   * Choose an action. Deterministic: the mean clipped to the box (no randomness,
   * no value estimate). Otherwise a sample mean + σ·ε with ε ~ N(0, I) from `rng`.
   */
  act(observation: ArrayLike<number>, options: ActOptions = {}, rng?: Rng): ActResult {
    const input = this.normalize(observation);
    const out = this.meanOf(input);
    if (options.deterministic) {
      const raw = headAction(this.heads, out, this.logStd, true);
      return { action: raw.map(clipUnit), rawAction: raw, logProb: headLogProb(this.heads, raw, out, this.logStd) };
    }
    if (!rng) throw new SamstarError('ARGUMENT_INVALID', 'policy: a stochastic act() needs an Rng', { hint: 'pass { deterministic: true } or an Rng' });
    const raw = headAction(this.heads, out, this.logStd, false, rng);
    return { action: raw.map(clipUnit), rawAction: raw, logProb: headLogProb(this.heads, raw, out, this.logStd), value: this.valueOf(input) };
  }

  /** log π(action | observation) for a raw (unclipped) action. */
  logProb(observation: ArrayLike<number>, action: ArrayLike<number>): number {
    return this.logProbOfInput(this.normalize(observation), action);
  }

  /** Entropy of the Gaussian heads (the categorical heads' depends on the state: see categoricalEntropy). */
  entropy(): number {
    return gaussianHeadsEntropy(this.heads, this.logStd);
  }

  /** Mean σ over the Gaussian heads (NaN when every head is categorical). */
  meanStd(): number {
    let s = 0;
    let n = 0;
    for (const h of this.heads.heads) {
      if (h.size > 1) continue;
      s += Math.exp(this.logStd[h.dim]);
      n++;
    }
    return n ? s / n : NaN;
  }

  /** All parameters, by name (views of the live arrays, not copies). */
  arrays(): NamedArray[] {
    return [...this.pi.arrays('pi'), ...this.vf.arrays('vf'), { name: 'log_std', shape: [this.actionSize], data: this.logStd }];
  }

  meta(agent?: PolicyMeta['agent']): PolicyMeta {
    // `categories` only where some head is categorical: all-Gaussian weights.json stay as they were.
    const { categories, ...rest } = this.config;
    const policy = categories.length ? this.config : (rest as GaussianPolicyConfig);
    return { kind: 'gaussian-mlp', activation: 'tanh', policy, normalizer: this.normalizer.toJSON(), ...(agent ? { agent } : {}) };
  }

  /** Write weights.json + weights.bin into `dir`; `extra` tensors (an agent's optimiser state) go into the same pair, after the policy's. */
  async save(dir: string, agent?: PolicyMeta['agent'], extra: readonly NamedArray[] = []): Promise<WeightsManifest<PolicyMeta>> {
    return writeWeights(dir, [...this.arrays(), ...extra], this.meta(agent));
  }

  /** Load a policy saved by save() (or by an agent): deployment without tfjs. */
  static async load(dir: string): Promise<GaussianPolicy> {
    return (await GaussianPolicy.loadWithMeta(dir)).policy;
  }

  /** The policy, the whole `meta` and all saved tensors by name (an agent's load() takes its optimiser state from them). */
  static async loadWithMeta(dir: string): Promise<{ policy: GaussianPolicy; meta: PolicyMeta; tensors: Map<string, NamedArray> }> {
    const { manifest, tensors } = await readWeights<PolicyMeta>(dir);
    const where = `${dir}/weights.json`;
    const meta = manifest.meta;
    if (meta?.kind !== 'gaussian-mlp') {
      throw new SamstarError('MODEL_INVALID', `${where}: meta.kind is ${JSON.stringify(meta?.kind)}, expected "gaussian-mlp"`);
    }
    let config: GaussianPolicyConfig;
    try {
      config = resolvePolicyConfig(meta.policy?.observationSize, meta.policy?.actionSize, meta.policy ?? {});
    } catch (e) {
      throw new SamstarError('MODEL_INVALID', `${where}: ${(e as Error).message}`, { cause: e });
    }
    const policy = new GaussianPolicy(config);
    policy.pi.assign('pi', tensors, where);
    policy.vf.assign('vf', tensors, where);
    const logStd = tensors.get('log_std');
    if (!logStd || logStd.data.length !== config.actionSize) throw new SamstarError('MODEL_INVALID', `${where}: tensor "log_std" is missing or has the wrong length`);
    policy.logStd.set(logStd.data);
    const stats = RunningStats.fromJSON(meta.normalizer, `${where} normalizer`);
    if (stats.size !== config.observationSize) throw new SamstarError('MODEL_INVALID', `${where}: normalizer has ${stats.size} dimensions, the policy ${config.observationSize}`);
    policy.normalizer.copyFrom(stats);
    return { policy, meta, tensors };
  }
}

function clipUnit(v: number): number {
  return v > 1 ? 1 : v < -1 ? -1 : v;
}

// ---------------------------------------------------------------------------
// Training graph (tfjs passed in: imported lazily). The tensors are made from
// parameterArrays() for each gradient step; base.ts applies Adam in JS.

/** The policy's parameter arrays in a fixed order: policy W, policy b, value W, value b, log σ (live views). */
export function parameterArrays(policy: GaussianPolicy): Float32Array[] {
  return [...policy.pi.weights, ...policy.pi.biases, ...policy.vf.weights, ...policy.vf.biases, policy.logStd];
}

/** Names of parameterArrays(policy), as arrays() names them on disk (pi/w0, …, vf/b1, log_std). */
export function parameterNames(policy: GaussianPolicy): string[] {
  const names = (prefix: string, m: Mlp) => ({ w: m.weights.map((_, l) => `${prefix}/w${l}`), b: m.biases.map((_, l) => `${prefix}/b${l}`) });
  const pi = names('pi', policy.pi);
  const vf = names('vf', policy.vf);
  return [...pi.w, ...pi.b, ...vf.w, ...vf.b, 'log_std'];
}

/** Shapes of parameterArrays(policy): W [in, out], b [out], log σ [d]. */
export function parameterShapes(policy: GaussianPolicy): number[][] {
  const shapes = (m: Mlp) => ({
    w: m.weights.map((_, l) => [m.sizes[l], m.sizes[l + 1]]),
    b: m.biases.map((_, l) => [m.sizes[l + 1]]),
  });
  const pi = shapes(policy.pi);
  const vf = shapes(policy.vf);
  return [...pi.w, ...pi.b, ...vf.w, ...vf.b, [policy.actionSize]];
}

/** Indices into parameterArrays() of the policy's parameters (with log σ) and of the value network's. */
export function parameterGroups(policy: GaussianPolicy): { policy: number[]; value: number[] } {
  const L = policy.pi.layers;
  const all = Array.from({ length: 4 * L + 1 }, (_, i) => i);
  return { policy: [...all.slice(0, 2 * L), 4 * L], value: all.slice(2 * L, 4 * L) };
}

export type DenseFn = (x: Tensor2D, w: Tensor, b: Tensor) => Tensor2D;

const denseCache = new WeakMap<object, DenseFn>();

/**
 * x·W + b. On the wasm backend with a hand-written gradient: tfjs's own
 * matMul gradient multiplies with transposed operands, which the wasm backend
 * runs ~3.5× slower than a plain product (XNNPACK only takes the plain form),
 * so the gradient transposes explicitly (a cheap kernel) and multiplies plainly.
 * Elsewhere (cpu: transposes are slow; tensorflow: both are fast) the built-in.
 */
export function denseFor(tf: Tf, backend: string): DenseFn {
  const plain: DenseFn = (x, w, b) => tf.add(tf.matMul(x, w as Tensor2D), b) as Tensor2D;
  if (backend !== 'wasm') return plain;
  const cached = denseCache.get(tf);
  if (cached) return cached;
  const dense = tf.customGrad(((x: Tensor2D, w: Tensor2D, b: Tensor, save: (t: Tensor[]) => void) => {
    save([x, w]);
    return {
      value: tf.add(tf.matMul(x, w), b) as Tensor2D,
      gradFunc: (dy: Tensor2D, saved: Tensor[]) => {
        const [xs, ws] = saved as Tensor2D[];
        return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)];
      },
    };
  }) as never) as unknown as DenseFn;
  denseCache.set(tf, dense);
  return dense;
}

function mlpTf(tf: Tf, dense: DenseFn, weights: readonly Tensor[], biases: readonly Tensor[], x: Tensor2D): Tensor2D {
  let h = x;
  for (let l = 0; l < weights.length; l++) {
    h = dense(h, weights[l], biases[l]);
    if (l < weights.length - 1) h = tf.tanh(h);
  }
  return h;
}

/** Mean actions [B, d] and values [B] for normalised observations [B, k]; `params` as parameterArrays(). */
export function forwardTf(tf: Tf, dense: DenseFn, params: readonly Tensor[], observations: Tensor2D, options: { value?: boolean } = {}): { mean: Tensor2D; value?: Tensor1D } {
  const L = (params.length - 1) / 4;
  const mean = mlpTf(tf, dense, params.slice(0, L), params.slice(L, 2 * L), observations);
  if (options.value === false) return { mean };
  const value = tf.reshape(mlpTf(tf, dense, params.slice(2 * L, 3 * L), params.slice(3 * L, 4 * L), observations), [-1]) as Tensor1D;
  return { mean, value };
}
