/**
 * What REINFORCE and PPO share: the Gaussian policy and its value network,
 * seeded random streams, act(), the observation statistics, the whole of
 * learn() but the loss (batch preparation, advantages, epochs of shuffled
 * minibatches, gradient steps with per-network gradient-norm clipping and one
 * Adam optimiser, the post-update statistics), save() and load(). An agent
 * file holds its options and its loss (a LossSpec given to train()).
 *
 * Training: tfjs computes the gradients of the loss (tf.grads over tensors
 * made from the policy's arrays); clipping and Adam run in JS on those arrays,
 * so there are no tfjs variables to keep in step or dispose.
 *
 * Random streams: a seed makes three independent Rngs — weight init, act()
 * sampling (Rng.normal, never tf.random) and minibatch shuffling — so the same
 * seed and the same rewards give the same run on the same backend.
 *
 * Resuming: save() writes, besides the weights and statistics, everything
 * learn() and act() carry from call to call — Adam's moments and step count,
 * the sampling and shuffling streams' positions, the update counters and the
 * agent's own state (REINFORCE's running mean) — so that train N updates →
 * save → load → train M updates is bit for bit train N + M (same backend).
 * The moments go into the same weights.json/weights.bin pair as the weights,
 * as float64 tensors adam/m/<parameter> and adam/v/<parameter>, not into a
 * file of their own: the pair is already written atomically and tied by its
 * checksum, so weights and optimiser state cannot come from different saves;
 * folders keep their two files (policy artefacts and tests list them); and
 * readers that only deploy skip tensors they do not ask for. Their step count
 * and the streams go into meta.agent.state (see PolicyMeta). Artefacts
 * without them (older saves) load with a fresh Adam and streams from the seed.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { SamstarError } from '../../src/util/errors.js';
import { Rng, type RngState } from '../../src/util/rng.js';
import { Adam, clipGradientNorm } from './adam.js';
import { explainedVariance, generalizedAdvantages, normalizeInPlace } from './advantages.js';
import { loadTf, type Tf, type TfRuntime } from './backend.js';
import {
  type DenseFn,
  denseFor,
  forwardTf,
  GaussianPolicy,
  type GaussianPolicyConfig,
  parameterArrays,
  parameterGroups,
  parameterNames,
  parameterShapes,
  type PolicyMeta,
  resolvePolicyConfig,
} from './gaussian-policy.js';
import { categoricalEntropy, headEntropyTf, headLogProb, headLogProbTf } from './heads.js';
import type { ActOptions, ActResult, LearnStats, PolicyAgent, Transition } from './types.js';
import type { NamedArray } from './weights.js';

/** Options both agents take (each agent documents its defaults). */
export interface CommonAgentOptions {
  /** Hidden widths of the policy and value networks (default [64, 64]). */
  readonly hidden?: readonly number[];
  /** Initial log σ (default 0: σ = 1 in the [−1, 1] box, as in the PPO reference setups). */
  readonly logStdInit?: number;
  /** Running mean/variance normalisation of observations (default true). */
  readonly normalizeObservations?: boolean;
  /** Clip of normalised observations (default 10). */
  readonly observationClip?: number;
  /** Adam learning rate. */
  readonly learningRate?: number;
  /** Adam ε (default 1e-5, as Stable-Baselines3's PPO). */
  readonly adamEpsilon?: number;
  /** Transitions per learn() the agent asks the runner for. */
  readonly rolloutSize?: number;
  /** Minibatch size of the gradient steps. */
  readonly minibatchSize?: number;
  /** Passes over each batch. */
  readonly epochs?: number;
  /** Discount (irrelevant for one-step episodes; default 0.99). */
  readonly gamma?: number;
  /** Entropy bonus coefficient (default 0). */
  readonly entropyCoef?: number;
  /** Weight of the value loss (default 0.5). */
  readonly valueCoef?: number;
  /** Clip the gradient norm of each network (policy incl. log σ; value) to this (default 0.5; Infinity = off). */
  readonly maxGradNorm?: number;
  /** Normalise advantages per minibatch to mean 0, std 1 (default true). */
  readonly normalizeAdvantage?: boolean;
  /** Per action dimension: the number of choices of a categorical head (choice knobs), 0 for a Gaussian head (default: all Gaussian). */
  readonly categories?: readonly number[];
}

export type ResolvedCommonOptions = Required<Omit<CommonAgentOptions, 'hidden' | 'logStdInit' | 'normalizeObservations' | 'observationClip' | 'categories'>>;

/** A batch made ready for the gradient steps (float32 rows, normalised with the statistics act() used). */
export interface PreparedBatch {
  readonly n: number;
  readonly inputs: Float32Array;
  readonly actions: Float32Array;
  readonly oldLogProb: Float32Array;
  readonly rewards: Float64Array;
  readonly values: Float64Array;
  readonly nextValues: Float64Array;
  readonly episodeEnd: boolean[];
  readonly terminal: boolean[];
  /** Normalised inputs as float64 rows, for the JS forward passes. */
  readonly rows: Float64Array[];
  readonly logProbMismatch: number;
}

/** One minibatch's graph as an agent's loss sees it: the forward pass (made by train()) and the minibatch's targets. */
export interface MinibatchGraph {
  /** Mean actions [B, d] and the value network's estimates [B] (absent when the LossSpec does not use the value network). */
  readonly mean: Tensor2D;
  readonly value?: Tensor1D;
  /** log σ, the trainable [d] vector. */
  readonly logStd: Tensor;
  /** log π(a|s) of the minibatch's actions under the parameters being differentiated. */
  readonly logProb: Tensor1D;
  /** The policy's entropy, mean over the minibatch (Gaussian heads' from log σ, categorical heads' from their logits); built on demand. */
  readonly entropy: () => Scalar;
  /** log π_old(a|s): the transitions' logProb. */
  readonly oldLogProb: Tensor1D;
  /** Advantages, normalised over the minibatch when normalizeAdvantage. */
  readonly advantages: Tensor1D;
  /** Targets of the value network. */
  readonly returns: Tensor1D;
}

/** What an agent adds to the shared learn() (train()): its advantages, its loss, its per-step checks. */
export interface LossSpec {
  /** λ of the advantages: PPO's GAE λ; 1 (Monte-Carlo returns) for REINFORCE. */
  readonly lambda: number;
  /** The value network bootstraps the advantages and is trained with the policy. */
  readonly value: boolean;
  /** Shuffle the batch before each epoch (from the learn stream). */
  readonly shuffle: boolean;
  /** The advantages the loss uses, from GAE's (A = G − V, or G without the value network) and the returns; GAE's by default. */
  readonly advantages?: (fromGae: Float64Array, returns: Float64Array) => Float64Array;
  /** The minibatch loss; `stats` comes back as numbers, [0] the policy loss and [1] the value loss, anything after for afterStep. */
  readonly loss: (tf: Tf, graph: MinibatchGraph) => { loss: Scalar; stats: Tensor };
  /** After each step, with its stats and the minibatch's old log-probs: a clip fraction to average, whether to stop the batch's epochs. */
  readonly afterStep?: (stats: Float32Array, oldLogProb: Float32Array) => { clipFraction?: number; stop?: boolean };
}

/** meta.agent.state as save() writes it (every field optional on load: older artefacts lack them). */
interface SavedTrainingState {
  readonly optimizer?: { readonly kind: 'adam'; readonly step: number };
  readonly rng?: { readonly act: RngState; readonly learn: RngState };
}

function check(agent: string, name: string, value: number, ok: (v: number) => boolean, what: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || !ok(value)) {
    throw new SamstarError('ARGUMENT_INVALID', `${agent}: option ${name} must be ${what}, got ${String(value)}`);
  }
}

export function resolveCommon(agent: string, options: CommonAgentOptions, defaults: ResolvedCommonOptions): ResolvedCommonOptions {
  const o = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ResolvedCommonOptions;
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  check(agent, 'learningRate', o.learningRate, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  check(agent, 'adamEpsilon', o.adamEpsilon, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  check(agent, 'rolloutSize', o.rolloutSize, posInt, 'a positive integer');
  check(agent, 'minibatchSize', o.minibatchSize, (v) => posInt(v) || v === Infinity, 'a positive integer (or Infinity: the whole batch)');
  check(agent, 'epochs', o.epochs, posInt, 'a positive integer');
  check(agent, 'gamma', o.gamma, (v) => v >= 0 && v <= 1, 'in [0, 1]');
  check(agent, 'entropyCoef', o.entropyCoef, Number.isFinite, 'a finite number');
  check(agent, 'valueCoef', o.valueCoef, (v) => v >= 0 && Number.isFinite(v), 'a non-negative number');
  check(agent, 'maxGradNorm', o.maxGradNorm, (v) => v > 0, 'a positive number (Infinity: no clipping)');
  if (typeof o.normalizeAdvantage !== 'boolean') throw new SamstarError('ARGUMENT_INVALID', `${agent}: option normalizeAdvantage must be true or false`);
  return o;
}

/** Options as JSON: Infinity (no clipping, whole-batch minibatches) becomes the string "Infinity". */
export function toJsonOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => [k, v === Infinity ? 'Infinity' : v]));
}

export function fromJsonOptions(options: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options ?? {}).map(([k, v]) => [k, v === 'Infinity' ? Infinity : v]));
}

/** Split shuffled indices into ⌈n / size⌉ minibatches of nearly equal size (no tiny tail). */
export function minibatches(indices: number[], size: number): number[][] {
  const count = Math.max(1, Math.ceil(indices.length / Math.min(size, indices.length)));
  const out: number[][] = [];
  let start = 0;
  for (let b = 0; b < count; b++) {
    const end = Math.round(((b + 1) * indices.length) / count);
    out.push(indices.slice(start, end));
    start = end;
  }
  return out;
}

/** Rows `index` of a row-major [*, width] array. */
export function gatherRows(data: Float32Array, width: number, index: readonly number[]): Float32Array {
  const out = new Float32Array(index.length * width);
  for (let r = 0; r < index.length; r++) out.set(data.subarray(index[r] * width, (index[r] + 1) * width), r * width);
  return out;
}

export function gather(data: ArrayLike<number>, index: readonly number[]): Float32Array {
  const out = new Float32Array(index.length);
  for (let r = 0; r < index.length; r++) out[r] = data[index[r]];
  return out;
}

export abstract class PolicyGradientAgent implements PolicyAgent {
  abstract readonly name: string;
  readonly policy: GaussianPolicy;
  readonly seed: number;
  readonly observationSize: number;
  readonly actionSize: number;
  protected readonly common: ResolvedCommonOptions;
  /** The options as given (saved with the resolved ones, so that load() rebuilds the agent as it was asked for). */
  protected readonly given: CommonAgentOptions;
  protected readonly actRng: Rng;
  protected readonly learnRng: Rng;
  /** learn() calls and transitions learnt from so far. */
  updates = 0;
  samples = 0;
  /** Adam state over parameterArrays(policy) (saved with the agent; restored by load()). */
  protected readonly adam: Adam;

  /**
   * @param policy an existing policy to continue training (load()); a fresh one is drawn from `seed` otherwise.
   */
  constructor(agent: string, observationSize: number, actionSize: number, seed: number, options: CommonAgentOptions, defaults: ResolvedCommonOptions, policy?: GaussianPolicy) {
    if (!Number.isFinite(seed)) throw new SamstarError('ARGUMENT_INVALID', `${agent}: seed must be a number, got ${seed}`);
    this.common = resolveCommon(agent, options, defaults);
    this.given = options;
    const rng = new Rng(seed);
    const initRng = rng.fork();
    this.actRng = rng.fork();
    this.learnRng = rng.fork();
    this.seed = seed;
    if (policy) {
      if (policy.observationSize !== observationSize || policy.actionSize !== actionSize) {
        throw new SamstarError('ARGUMENT_INVALID', `${agent}: policy is ${policy.observationSize}→${policy.actionSize}, expected ${observationSize}→${actionSize}`);
      }
      this.policy = policy;
    } else {
      const config: GaussianPolicyConfig = resolvePolicyConfig(observationSize, actionSize, options);
      this.policy = GaussianPolicy.create(config, initRng);
    }
    this.observationSize = this.policy.observationSize;
    this.actionSize = this.policy.actionSize;
    this.adam = new Adam(
      parameterArrays(this.policy).map((a) => a.length),
      { learningRate: this.common.learningRate, epsilon: this.common.adamEpsilon },
    );
  }

  get rolloutSize(): number {
    return this.common.rolloutSize;
  }

  act(observation: ArrayLike<number>, options: ActOptions = {}): ActResult {
    return this.policy.act(observation, options, this.actRng);
  }

  fitNormalizer(observations: readonly ArrayLike<number>[]): void {
    this.policy.normalizer.updateBatch(observations);
  }

  freezeNormalizer(frozen = true): void {
    this.policy.normalizer.frozen = frozen;
  }

  abstract learn(batch: readonly Transition[]): Promise<LearnStats>;

  /** The agent's own options after resolution (clipRange, baseline, …), saved next to the common ones. */
  protected abstract ownOptions(): Record<string, unknown>;

  /** This agent's options as stored in weights.json (enough to rebuild it with load()). */
  options(): Record<string, unknown> {
    return toJsonOptions({ ...this.given, ...this.common, ...this.ownOptions() });
  }

  /** The agent's own state besides the weights and what train() keeps (REINFORCE's running mean), saved in meta.agent.state. */
  protected agentState(): Record<string, unknown> {
    return {};
  }

  /** Take back agentState() from a saved meta.agent.state (which may predate any of its fields). */
  protected restoreAgentState(_state: Record<string, unknown>): void {}

  /** Write weights.json + weights.bin into `dir`: the policy, and all that load() needs to continue training exactly (see the header). */
  async save(dir: string): Promise<void> {
    const names = parameterNames(this.policy);
    const shapes = parameterShapes(this.policy);
    const adam = this.adam.state();
    const moments = (which: 'm' | 'v', arrays: readonly Float64Array[]): NamedArray[] => arrays.map((data, i) => ({ name: `adam/${which}/${names[i]}`, shape: shapes[i], data }));
    const training: SavedTrainingState = {
      optimizer: { kind: 'adam', step: adam.step },
      rng: { act: this.actRng.getState(), learn: this.learnRng.getState() },
    };
    await this.policy.save(
      dir,
      { name: this.name, seed: this.seed, options: this.options(), state: { ...this.agentState(), ...training }, updates: this.updates, samples: this.samples },
      [...moments('m', adam.m), ...moments('v', adam.v)],
    );
  }

  /**
   * What PpoAgent.load and ReinforceAgent.load share: read `dir`, check that
   * `name` saved it, `build` the agent from the policy and the saved options,
   * then restore the counters, the agent's state, Adam and — unless a `seed`
   * asks for fresh streams — the sampling and shuffling streams.
   */
  protected static async loadSaved<A extends PolicyGradientAgent>(
    dir: string,
    name: string,
    seed: number | undefined,
    build: (policy: GaussianPolicy, seed: number, options: Record<string, unknown>) => A,
  ): Promise<A> {
    const { policy, meta, tensors } = await GaussianPolicy.loadWithMeta(dir);
    const saved = PolicyGradientAgent.savedAgent(meta, name, dir);
    const agent = build(policy, seed ?? saved.seed, fromJsonOptions(saved.options));
    agent.updates = saved.updates;
    agent.samples = saved.samples;
    const state = saved.state ?? {};
    agent.restoreAgentState(state);
    agent.restoreTraining(state as SavedTrainingState, tensors, `${dir}/weights.json`, seed === undefined);
    return agent;
  }

  /** Adam's moments and step, and (when `streams`) the Rng positions, from a saved meta.agent.state and its tensors. */
  private restoreTraining(state: SavedTrainingState, tensors: Map<string, NamedArray>, where: string, streams: boolean): void {
    const hint = 'save the agent again (or remove agent.state.optimizer / agent.state.rng from weights.json to continue with a fresh Adam / fresh streams from the seed)';
    const optimizer = state.optimizer;
    if (optimizer !== undefined) {
      if (typeof optimizer !== 'object' || optimizer === null || optimizer.kind !== 'adam') {
        throw new SamstarError('MODEL_INVALID', `${where}: agent.state.optimizer must be { kind: "adam", step }, got ${JSON.stringify(optimizer)}`, { hint });
      }
      const names = parameterNames(this.policy);
      const moments = (which: 'm' | 'v'): Float64Array[] =>
        names.map((n) => {
          const t = tensors.get(`adam/${which}/${n}`);
          if (!t || !(t.data instanceof Float64Array)) {
            throw new SamstarError('MODEL_INVALID', `${where}: agent.state.optimizer is set but tensor "adam/${which}/${n}" is ${t ? 'not float64' : 'missing'}`, { hint });
          }
          return t.data;
        });
      try {
        this.adam.restore({ step: optimizer.step, m: moments('m'), v: moments('v') }, `${where}: agent.state.optimizer`);
      } catch (e) {
        throw e instanceof SamstarError && e.hint === undefined ? new SamstarError(e.code, e.message, { cause: e, hint }) : e;
      }
    }
    if (streams && state.rng !== undefined) {
      const rng = state.rng;
      try {
        if (typeof rng !== 'object' || rng === null) throw new SamstarError('MODEL_INVALID', `${where}: agent.state.rng must be { act, learn }, got ${JSON.stringify(rng)}`);
        this.actRng.setState(rng.act, `${where}: agent.state.rng.act`);
        this.learnRng.setState(rng.learn, `${where}: agent.state.rng.learn`);
      } catch (e) {
        // Rng.setState says ARGUMENT_INVALID (it cannot know its input came from a file); here it is a bad artefact.
        throw e instanceof SamstarError ? new SamstarError('MODEL_INVALID', e.message, { cause: e, hint }) : e;
      }
    }
  }

  /** tfjs with its backend (imported on the first learn()). */
  protected trainState(): Promise<TfRuntime> {
    return loadTf();
  }

  /**
   * learn() but for what `spec` says: prepare the batch, compute advantages
   * and returns (GAE with spec.lambda), then spec's loss over `epochs`
   * passes of minibatches (shuffled when spec.shuffle), one clipped Adam step
   * each, and the statistics of the update.
   */
  protected async train(batch: readonly Transition[], spec: LossSpec): Promise<LearnStats> {
    const started = performance.now();
    const runtime = await this.trainState();
    const { tf } = runtime;
    const o = this.common;
    const p = this.prepare(batch, spec.value);
    const gae = generalizedAdvantages({ rewards: p.rewards, values: p.values, nextValues: p.nextValues, episodeEnd: p.episodeEnd, terminal: p.terminal }, o.gamma, spec.lambda);
    const returns = gae.returns;
    const advantages = spec.advantages ? spec.advantages(gae.advantages, returns) : gae.advantages;
    const k = this.observationSize;
    const d = this.actionSize;
    let policyLoss = 0;
    let valueLoss = 0;
    let clipFraction = 0;
    let steps = 0;
    let epochs = 0;
    let stoppedEarly = false;
    const order = Array.from({ length: p.n }, (_, i) => i);
    for (let epoch = 0; epoch < o.epochs && !stoppedEarly; epoch++) {
      epochs++;
      if (spec.shuffle) this.learnRng.shuffle(order);
      for (const index of minibatches(order, o.minibatchSize)) {
        const adv = Float64Array.from(index, (i) => advantages[i]);
        if (o.normalizeAdvantage) normalizeInPlace(adv);
        const old = gather(p.oldLogProb, index);
        const stats = this.step(
          runtime,
          (params, dense) => {
            const obs = tf.tensor2d(gatherRows(p.inputs, k, index), [index.length, k]);
            const act = tf.tensor2d(gatherRows(p.actions, d, index), [index.length, d]);
            const logStd = params[params.length - 1];
            const { mean, value } = forwardTf(tf, dense, params, obs, { value: spec.value });
            return spec.loss(tf, {
              mean,
              value,
              logStd,
              logProb: headLogProbTf(tf, this.policy.heads, act, mean, logStd),
              entropy: () => headEntropyTf(tf, this.policy.heads, mean, logStd),
              oldLogProb: tf.tensor1d(old),
              advantages: tf.tensor1d(Float32Array.from(adv)),
              returns: tf.tensor1d(gather(returns, index)),
            });
          },
          spec.value,
        );
        policyLoss += stats[0];
        valueLoss += stats[1];
        steps++;
        const after = spec.afterStep?.(stats, old) ?? {};
        clipFraction += after.clipFraction ?? 0;
        if (after.stop) {
          stoppedEarly = true;
          break;
        }
      }
    }
    let advantageSum = 0;
    for (const a of advantages) advantageSum += a;
    return this.finish(
      batch,
      p,
      runtime,
      {
        policyLoss: policyLoss / steps,
        valueLoss: valueLoss / steps,
        clipFraction: clipFraction / steps,
        explainedVariance: spec.value ? explainedVariance(p.values, returns) : NaN,
        meanAdvantage: advantageSum / p.n,
        gradientSteps: steps,
        epochs,
        stoppedEarly,
      },
      started,
    );
  }

  /**
   * Validate the batch and put it in float32 rows, normalised with the current
   * statistics (those act() used since the last learn). Values: the
   * transitions' own where present, else the current value network's; next
   * values for bootstrapping (needs nextObservation where a batch stops
   * mid-episode or an episode was truncated) when `withValues`.
   */
  private prepare(batch: readonly Transition[], withValues: boolean): PreparedBatch {
    const where = `${this.name}.learn`;
    if (!Array.isArray(batch) || batch.length === 0) throw new SamstarError('ARGUMENT_INVALID', `${where}: the batch is empty`);
    const n = batch.length;
    const k = this.observationSize;
    const d = this.actionSize;
    const inputs = new Float32Array(n * k);
    const actions = new Float32Array(n * d);
    const oldLogProb = new Float32Array(n);
    const rewards = new Float64Array(n);
    const values = new Float64Array(n);
    const nextValues = new Float64Array(n);
    const episodeEnd: boolean[] = [];
    const terminal: boolean[] = [];
    const rows: Float64Array[] = [];
    let mismatch = 0;
    for (let t = 0; t < n; t++) {
      const tr = batch[t];
      const at = `${where}: transition ${t}`;
      if (!tr.action || tr.action.length !== d || !Array.prototype.every.call(tr.action, Number.isFinite)) {
        throw new SamstarError('ARGUMENT_INVALID', `${at}: action must be ${d} finite numbers (the rawAction act() returned)`);
      }
      if (!Number.isFinite(tr.reward)) {
        throw new SamstarError('ARGUMENT_INVALID', `${at}: reward is ${tr.reward}`, { hint: 'drop failed evaluations from the batch, or give them a finite penalty reward' });
      }
      if (!Number.isFinite(tr.logProb)) throw new SamstarError('ARGUMENT_INVALID', `${at}: logProb is ${tr.logProb}`);
      if (typeof tr.done !== 'boolean') throw new SamstarError('ARGUMENT_INVALID', `${at}: done must be true or false`);
      const row = this.policy.normalize(tr.observation);
      rows.push(row);
      inputs.set(row, t * k);
      actions.set(tr.action, t * d);
      oldLogProb[t] = tr.logProb;
      rewards[t] = tr.reward;
      episodeEnd.push(tr.done);
      terminal.push(tr.done && tr.truncated !== true);
      mismatch += Math.abs(this.policy.logProbOfInput(row, tr.action) - tr.logProb);
      if (withValues) values[t] = tr.value !== undefined && Number.isFinite(tr.value) ? tr.value : this.policy.valueOf(row);
    }
    if (withValues) {
      for (let t = 0; t < n; t++) {
        if (terminal[t]) continue;
        const tr = batch[t];
        if (!episodeEnd[t] && t + 1 < n) {
          nextValues[t] = values[t + 1];
        } else if (tr.nextObservation !== undefined) {
          nextValues[t] = this.policy.valueOf(this.policy.normalize(tr.nextObservation));
        } else {
          throw new SamstarError('ARGUMENT_INVALID', `${where}: transition ${t} ${episodeEnd[t] ? 'ends a truncated episode' : 'ends the batch mid-episode'} but has no nextObservation to bootstrap from`, {
            hint: 'set nextObservation on truncated episode ends and on the last transition of a batch that stops mid-episode',
          });
        }
      }
    }
    return { n, inputs, actions, oldLogProb, rewards, values, nextValues, episodeEnd, terminal, rows, logProbMismatch: mismatch / n };
  }

  /**
   * One gradient step: tfjs differentiates the loss `build` makes from tensors
   * of parameterArrays(policy) (the value network's only when `useValue`); the
   * gradient of each network (policy with log σ; value) is clipped to
   * maxGradNorm and Adam updates the policy's arrays. `stats` (any tensor built
   * alongside) comes back as numbers.
   */
  private step(runtime: TfRuntime, build: (params: Tensor[], dense: DenseFn) => { loss: Scalar; stats: Tensor }, useValue: boolean): Float32Array {
    const { tf } = runtime;
    const dense = denseFor(tf, runtime.backend);
    const arrays = parameterArrays(this.policy);
    const shapes = parameterShapes(this.policy);
    const groups = parameterGroups(this.policy);
    const trained = useValue ? [...groups.policy, ...groups.value] : groups.policy;
    const tensors = arrays.map((a, i) => tf.tensor(a, shapes[i]));
    let stats: Tensor | undefined;
    const gradTensors = tf.grads((...selected: Tensor[]) => {
      const params = tensors.slice();
      trained.forEach((index, k) => {
        params[index] = selected[k];
      });
      const out = build(params, dense);
      stats = tf.keep(out.stats);
      return out.loss;
    })(trained.map((i) => tensors[i]));
    const grads = arrays.map((a) => new Float32Array(a.length));
    trained.forEach((index, k) => grads[index].set(gradTensors[k].dataSync() as Float32Array));
    const numbers = Float32Array.from((stats as Tensor).dataSync() as Float32Array);
    tf.dispose([...tensors, ...gradTensors, stats as Tensor]);
    clipGradientNorm(groups.policy.map((i) => grads[i]), this.common.maxGradNorm);
    if (useValue) clipGradientNorm(groups.value.map((i) => grads[i]), this.common.maxGradNorm);
    this.adam.step(arrays, grads);
    return numbers;
  }

  /** Ratios π_new/π_old over the batch after the update, the KL estimate, then the statistics update. */
  private finish(
    batch: readonly Transition[],
    prepared: PreparedBatch,
    runtime: TfRuntime,
    figures: Pick<LearnStats, 'policyLoss' | 'valueLoss' | 'clipFraction' | 'explainedVariance' | 'meanAdvantage' | 'gradientSteps' | 'epochs' | 'stoppedEarly'>,
    started: number,
  ): LearnStats {
    let kl = 0;
    let ratioSum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let rewardSum = 0;
    let categorical = 0;
    for (let t = 0; t < prepared.n; t++) {
      const a = prepared.actions.subarray(t * this.actionSize, (t + 1) * this.actionSize);
      // One forward pass serves the log-probability and the categorical heads' entropy.
      const out = this.policy.meanOf(prepared.rows[t]);
      const lp = headLogProb(this.policy.heads, a, out, this.policy.logStd);
      if (this.policy.heads.categorical) categorical += categoricalEntropy(this.policy.heads, out);
      const logRatio = lp - batch[t].logProb;
      const ratio = Math.exp(logRatio);
      kl += ratio - 1 - logRatio;
      ratioSum += ratio;
      lo = Math.min(lo, ratio);
      hi = Math.max(hi, ratio);
      rewardSum += prepared.rewards[t];
    }
    if (this.policy.config.normalizeObservations) this.policy.normalizer.updateBatch(batch.map((t) => t.observation));
    this.updates++;
    this.samples += prepared.n;
    return {
      ...figures,
      entropy: this.policy.entropy() + categorical / prepared.n,
      approxKl: kl / prepared.n,
      meanRatio: ratioSum / prepared.n,
      ratioRange: [lo, hi],
      logProbMismatch: prepared.logProbMismatch,
      std: this.policy.meanStd(),
      meanReward: rewardSum / prepared.n,
      samples: prepared.n,
      backend: runtime.backend,
      milliseconds: performance.now() - started,
    };
  }

  /** The `agent` record of weights.json for a load(): checks the saved agent's name. */
  protected static savedAgent(meta: PolicyMeta, name: string, dir: string): NonNullable<PolicyMeta['agent']> {
    const agent = meta.agent;
    if (!agent || typeof agent.name !== 'string') {
      throw new SamstarError('MODEL_INVALID', `${dir}/weights.json: no agent record (a bare policy)`, { hint: 'load it with GaussianPolicy.load(dir) to deploy it' });
    }
    if (agent.name !== name) {
      throw new SamstarError('MODEL_INVALID', `${dir}/weights.json was saved by the ${agent.name} agent, not ${name}`, { hint: 'use loadPolicyAgent(dir), or the matching agent class' });
    }
    return agent;
  }
}
