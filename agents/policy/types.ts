/**
 * The policy-agent contract, next to the black-box ask/tell contract of
 * ../types.ts. A policy agent looks at an observation (a frame's feature
 * vector, or the state of a multi-step environment) and answers with an action
 * in the normalised knob box [−1, 1]^d; it learns from batches of transitions
 * the runner collected with `act`. Like every agent it sees numbers only.
 *
 * Typical contextual-bandit loop (one step per frame, done = true each step):
 *
 * ```ts
 * const agent = new PpoAgent(featureCount, knobCount, seed);
 * agent.fitNormalizer(allFrameFeatures);                 // optional warm-up of the input statistics
 * const batch: Transition[] = [];
 * for (const frame of frames) {
 *   const obs = features(frame);
 *   const out = agent.act(obs);                          // out.action ∈ [−1, 1]^d goes to the env
 *   const reward = await evaluate(frame, out.action);
 *   batch.push(toTransition(obs, out, reward, true));    // stores out.rawAction, NOT out.action
 *   if (batch.length === agent.rolloutSize) { await agent.learn(batch); batch.length = 0; }
 * }
 * await agent.save(dir);
 * const deployed = await PpoAgent.load(dir);             // or GaussianPolicy.load(dir): no tfjs needed
 * deployed.act(obs, { deterministic: true }).action;     // the knobs for this frame
 * ```
 */
import type { z } from 'zod';
import type { PolicyGradientAgent } from './base.js';

export interface ActOptions {
  /** Return the mean action (clipped to the box) instead of a sample: deployment. Default false. */
  readonly deterministic?: boolean;
}

export interface ActResult {
  /** The action to send to the environment: `rawAction` clipped to [−1, 1]^d. */
  readonly action: number[];
  /**
   * The unclipped Gaussian sample (the mean when deterministic). `logProb` is its
   * log-density; this, not `action`, is what a Transition must store.
   */
  readonly rawAction: number[];
  /** log π(rawAction | observation) under the current policy. */
  readonly logProb: number;
  /** The value network's estimate V(observation) (stochastic mode only; absent when deterministic). */
  readonly value?: number;
}

/**
 * One step of experience. A batch is a concatenation of whole or partial
 * trajectories, each contiguous and in time order (for contextual bandits
 * every transition is its own episode: done = true).
 */
export interface Transition {
  readonly observation: ArrayLike<number>;
  /** The UNCLIPPED action, i.e. `ActResult.rawAction` (the sample whose log-prob is `logProb`). */
  readonly action: ArrayLike<number>;
  readonly reward: number;
  /** `ActResult.logProb`: log-density of `action` under the policy that acted. */
  readonly logProb: number;
  /** The episode ended after this step (terminated or truncated). */
  readonly done: boolean;
  /** `ActResult.value`; recomputed with the current value network when absent. */
  readonly value?: number;
  /**
   * The episode was cut by a step/time limit rather than reaching a terminal
   * state: its return is bootstrapped with V(nextObservation). Default false.
   */
  readonly truncated?: boolean;
  /**
   * The observation after this step. Needed only to bootstrap: for a truncated
   * episode end, and for the last transition of a batch that stops mid-episode.
   */
  readonly nextObservation?: ArrayLike<number>;
}

/** What one learn() call did; all figures are means over the batch or the gradient steps. */
export interface LearnStats {
  /** Policy-gradient (or clipped-surrogate) loss, mean over gradient steps, before each step. */
  readonly policyLoss: number;
  /** Mean squared error of the value network against its targets (0 without a value network). */
  readonly valueLoss: number;
  /** Entropy of the Gaussian (nats, summed over action dimensions) after the update. */
  readonly entropy: number;
  /** KL(old ‖ new) estimate over the batch after the update: mean((r − 1) − log r), r = π_new/π_old. */
  readonly approxKl: number;
  /** Fraction of samples whose ratio was outside [1 − ε, 1 + ε] at the gradient steps (PPO; 0 for REINFORCE). */
  readonly clipFraction: number;
  /** Mean probability ratio π_new/π_old over the batch after the update. */
  readonly meanRatio: number;
  /** Smallest and largest ratio over the batch after the update. */
  readonly ratioRange: [number, number];
  /** 1 − Var(target − V)/Var(target) before the update (NaN without a value network). */
  readonly explainedVariance: number;
  /** Mean |log π(a|s) − logProb| over the batch before the update: 0 when the batch is on-policy (a check that transitions store rawAction). */
  readonly logProbMismatch: number;
  /** Mean standard deviation of the policy after the update. */
  readonly std: number;
  readonly meanReward: number;
  readonly meanAdvantage: number;
  readonly gradientSteps: number;
  readonly epochs: number;
  /** PPO stopped its epochs early because the KL passed 1.5 · targetKl. */
  readonly stoppedEarly: boolean;
  readonly samples: number;
  /** The tfjs backend that trained ("wasm", "cpu" or "tensorflow"). */
  readonly backend: string;
  readonly milliseconds: number;
}

export interface PolicyAgent {
  readonly name: string;
  readonly observationSize: number;
  readonly actionSize: number;
  /** How many transitions the agent wants per learn() call (advice for the runner). */
  readonly rolloutSize: number;
  /** Choose an action for one observation. Synchronous, pure JS (no tfjs): cheap enough per frame. */
  act(observation: ArrayLike<number>, options?: ActOptions): ActResult;
  /** One update from a batch collected with act(). Updates the observation statistics afterwards unless frozen. */
  learn(batch: readonly Transition[]): Promise<LearnStats>;
  /** Feed observations to the normalisation statistics without learning (e.g. all training frames' features up front). */
  fitNormalizer(observations: readonly ArrayLike<number>[]): void;
  /** Freeze (or unfreeze) the observation statistics; a loaded policy keeps the state it was saved with. */
  freezeNormalizer(frozen?: boolean): void;
  /** Write weights.json + weights.bin into `dir` (created if missing). */
  save(dir: string): Promise<void>;
}

/**
 * Everything the framework knows about one policy-gradient agent, declared in
 * the agent's own file and listed in registry.ts (as black-box agents'
 * defineAgent): its task-config name, a one-line description, the zod schema of
 * its options (strict; "Infinity" strings become Infinity), how to build it from
 * parsed options and how to load one it saved. test/agents/policy/registry.test.ts
 * runs the policy-agent conformance suite over every entry.
 */
export interface PolicyAgentDefinition<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  readonly create: (observationSize: number, actionSize: number, seed: number, options: z.infer<S>) => PolicyGradientAgent;
  readonly load: (dir: string, options?: { seed?: number }) => Promise<PolicyGradientAgent>;
}

/** A policy-agent class: built as `new A(observationSize, actionSize, seed, options)`, restored by `A.load(dir)`. */
export interface PolicyAgentClass<O> {
  new (observationSize: number, actionSize: number, seed: number, options: O): PolicyGradientAgent;
  load(dir: string, options?: { seed?: number }): Promise<PolicyGradientAgent>;
}

/** The definition of an agent class with the usual constructor and `load`. */
export function definePolicyAgent<S extends z.ZodObject>(entry: {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  readonly agentClass: PolicyAgentClass<z.infer<S>>;
}): PolicyAgentDefinition<S> {
  const { agentClass, ...rest } = entry;
  return {
    ...rest,
    create: (observationSize, actionSize, seed, options) => new agentClass(observationSize, actionSize, seed, options),
    load: (dir, options) => agentClass.load(dir, options),
  };
}

/** The static side of an agent class: `PpoAgent.load(dir)`. */
export interface PolicyAgentLoader<A extends PolicyAgent = PolicyAgent> {
  load(dir: string, options?: { seed?: number }): Promise<A>;
}

/** Build a Transition from what act() returned (stores rawAction, value and logProb correctly). */
export function toTransition(
  observation: ArrayLike<number>,
  acted: ActResult,
  reward: number,
  done: boolean,
  extra: { truncated?: boolean; nextObservation?: ArrayLike<number> } = {},
): Transition {
  return {
    observation,
    action: acted.rawAction,
    reward,
    logProb: acted.logProb,
    done,
    ...(acted.value === undefined ? {} : { value: acted.value }),
    ...(extra.truncated === undefined ? {} : { truncated: extra.truncated }),
    ...(extra.nextObservation === undefined ? {} : { nextObservation: extra.nextObservation }),
  };
}

/** What a training run keeps of each update (summary.json's `learning` list): the figures worth plotting. */
export interface UpdateRecord {
  readonly meanReward: number;
  readonly policyLoss: number;
  readonly valueLoss: number;
  readonly entropy: number;
  readonly std: number;
  readonly approxKl: number;
  readonly clipFraction: number;
  readonly explainedVariance: number;
  readonly ms: number;
}

export function updateRecord(stats: LearnStats): UpdateRecord {
  return {
    meanReward: stats.meanReward,
    policyLoss: stats.policyLoss,
    valueLoss: stats.valueLoss,
    entropy: stats.entropy,
    std: stats.std,
    approxKl: stats.approxKl,
    clipFraction: stats.clipFraction,
    explainedVariance: stats.explainedVariance,
    ms: stats.milliseconds,
  };
}
