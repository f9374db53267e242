import { toTransition, updateRecord, type ActResult, type LearnStats, type PolicyAgent, type Transition, type UpdateRecord } from '../../agents/policy/types.js';
import type { Env, Space } from '../../envs/types.js';
import { SamstarError } from '../util/errors.js';

/**
 * The generic Gym loop for policy-gradient agents on multi-step environments
 * (AdjustEnv, StreamEnv, any Env with Box spaces): collect rollouts of
 * `agent.rolloutSize` transitions with act(), learn from each, track episodes.
 * It lives in src/train because agents must not import envs nor envs agents;
 * this file is the only place that knows both.
 *
 * Episodes and bootstrapping (what agents/policy/advantages.ts needs):
 *  - terminated: the task ended; the transition is done and not bootstrapped.
 *    When an env reports both terminated and truncated, terminated wins (as
 *    Gymnasium): the state is terminal whatever the step budget said.
 *  - truncated only: a step/time limit cut the episode; the transition is done
 *    with `truncated: true` and `nextObservation` (the step's observation), so
 *    its return is bootstrapped with V(nextObservation).
 *  - a batch that stops mid-episode: its last transition carries
 *    `nextObservation`, so the agent bootstraps the unfinished tail instead of
 *    treating the cut as an episode end. The episode then continues into the
 *    next batch (the env is not reset at a batch boundary).
 *
 * Seeding: the first reset gets `{ seed }`, later resets none, so the env's own
 * seeded Rng carries on (Gymnasium's convention: seed once, then continue). The
 * run is reproducible for a seed when the env and the agent are deterministic.
 *
 * Actions: the agent answers in [−1, 1]^d; the env's action Box may have other
 * finite bounds, to which the action is mapped affinely (identity for the
 * project's envs, whose action boxes are [−1, 1]).
 */

/** Any env whose observations and actions are flat number vectors (Box spaces). */
export type VectorEnv = Env<ArrayLike<number>, ArrayLike<number>>;

/** The acting side of a policy: enough to evaluate (a trained agent, a loaded policy, a fixed baseline). */
export type Actor = Pick<PolicyAgent, 'act' | 'observationSize' | 'actionSize'> & { readonly name?: string };

export interface EpisodeEvent {
  /** 1-based count of finished episodes. */
  readonly episode: number;
  readonly return: number;
  readonly length: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
  /** Env steps taken so far in the run (this episode's included). */
  readonly steps: number;
}

export interface UpdateEvent {
  /** 1-based count of learn() calls. */
  readonly update: number;
  readonly stats: LearnStats;
  /** Env steps taken so far. */
  readonly steps: number;
  readonly episodes: number;
  /** Mean return of the last `lastEpisodes` finished episodes (null before the first ends). */
  readonly meanReturn: number | null;
}

export interface EnvTrainOptions {
  /** Env steps (transitions) to collect in all. */
  readonly steps: number;
  /** Seed of the first reset. */
  readonly seed: number;
  /** Stops after the step in flight; the partial rollout is not learnt. */
  readonly signal?: AbortSignal;
  /** How many of the most recent episodes the summary's meanReturn averages (default 10). */
  readonly lastEpisodes?: number;
  /**
   * Learn from the rollout left over when `steps` is not a multiple of
   * rolloutSize (default false: as `samstar train --agent ppo`, a partial
   * rollout is left unlearned so every update sees a batch of the same size).
   */
  readonly learnPartial?: boolean;
  /** Options for every reset after the seed (e.g. `{ frame: 2 }` for AdjustEnv), per episode (0-based). */
  readonly resetOptions?: (episode: number) => Record<string, unknown> | undefined;
  readonly onUpdate?: (event: UpdateEvent) => void;
  readonly onEpisode?: (event: EpisodeEvent) => void;
}

export interface LearningRecord extends UpdateRecord {
  readonly update: number;
  readonly steps: number;
}

export interface EnvTrainSummary {
  readonly agent: string;
  readonly seed: number;
  /** Env steps taken (≤ options.steps; fewer when aborted). */
  readonly steps: number;
  /** Finished episodes (an episode still running at the end is not counted). */
  readonly episodes: number;
  readonly terminatedEpisodes: number;
  readonly truncatedEpisodes: number;
  readonly updates: number;
  /** Steps collected but never learnt from (a partial last rollout, or an abort). */
  readonly unlearnedSteps: number;
  readonly lastEpisodes: number;
  /** Mean return and length of the last `lastEpisodes` finished episodes (null without any). */
  readonly meanReturn: number | null;
  readonly meanLength: number | null;
  /** Return and length of every finished episode, in order. */
  readonly returns: number[];
  readonly lengths: number[];
  readonly learning: LearningRecord[];
  readonly aborted: boolean;
  readonly timing: {
    readonly wallMs: number;
    /** In env.reset and env.step. */
    readonly envMs: number;
    readonly actMs: number;
    readonly learnMs: number;
    /** envMs / steps (resets included: they are part of what a step costs over a run). */
    readonly msPerEnvStep: number | null;
  };
}

export interface EvaluateOnEnvOptions {
  readonly episodes: number;
  /** Seed of the first reset; the same seed gives the same episode starts (frames, contexts) for every policy. */
  readonly seed: number;
  readonly resetOptions?: (episode: number) => Record<string, unknown> | undefined;
  /** An episode still running after this many steps is cut and counted in `cutEpisodes` (default 10 000). */
  readonly maxEpisodeSteps?: number;
  readonly signal?: AbortSignal;
}

export interface EnvEvaluation {
  readonly episodes: number;
  readonly meanReturn: number;
  readonly stdReturn: number;
  readonly meanLength: number;
  readonly returns: number[];
  readonly lengths: number[];
  readonly terminatedEpisodes: number;
  readonly truncatedEpisodes: number;
  /** Episodes cut at maxEpisodeSteps (neither terminated nor truncated by the env). */
  readonly cutEpisodes: number;
  readonly steps: number;
  readonly wallMs: number;
  readonly msPerEnvStep: number | null;
}

/** Train `agent` on `env` for `options.steps` env steps; returns what happened. The env is not closed. */
export async function trainOnEnv(env: VectorEnv, agent: PolicyAgent, options: EnvTrainOptions): Promise<EnvTrainSummary> {
  const started = performance.now();
  checkCount('trainOnEnv', 'steps', options.steps, 1);
  checkSeed('trainOnEnv', options.seed);
  const lastEpisodes = options.lastEpisodes ?? 10;
  checkCount('trainOnEnv', 'lastEpisodes', lastEpisodes, 1);
  const rolloutSize = agent.rolloutSize;
  checkCount('trainOnEnv', `${agent.name}.rolloutSize`, rolloutSize, 1);
  const io = checkSpaces(env, agent, 'trainOnEnv');
  const signal = options.signal;

  let envMs = 0;
  let actMs = 0;
  let learnMs = 0;
  const returns: number[] = [];
  const lengths: number[] = [];
  const learning: LearningRecord[] = [];
  let terminatedEpisodes = 0;
  let truncatedEpisodes = 0;
  let steps = 0;
  let updates = 0;
  let aborted = false;

  const reset = async (episode: number): Promise<ArrayLike<number>> => {
    const t = performance.now();
    const extra = options.resetOptions?.(episode);
    const result = await env.reset({ ...(episode === 0 ? { seed: options.seed } : {}), ...(extra ? { options: extra } : {}) });
    envMs += performance.now() - t;
    return io.observation(result.observation, `reset of episode ${episode + 1}`);
  };

  const meanOfLast = (values: readonly number[]): number | null => (values.length ? mean(values.slice(-lastEpisodes)) : null);

  const learn = async (batch: Transition[], observationAfter: ArrayLike<number>): Promise<void> => {
    // A batch that stops mid-episode bootstraps its tail from the observation the env gave after the last step.
    const last = batch[batch.length - 1];
    if (!last.done) batch[batch.length - 1] = { ...last, nextObservation: observationAfter };
    const t = performance.now();
    const stats = await agent.learn(batch);
    learnMs += performance.now() - t;
    updates++;
    learning.push({ update: updates, steps, ...updateRecord(stats) });
    options.onUpdate?.({ update: updates, stats, steps, episodes: returns.length, meanReturn: meanOfLast(returns) });
  };

  let episode = 0;
  let observation = await reset(episode);
  let episodeReturn = 0;
  let episodeLength = 0;
  let batch: Transition[] = [];
  while (steps < options.steps) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    let t = performance.now();
    const acted: ActResult = agent.act(observation);
    actMs += performance.now() - t;
    t = performance.now();
    const result = await env.step(io.action(acted.action));
    envMs += performance.now() - t;
    steps++;
    const where = `step ${episodeLength + 1} of episode ${episode + 1}`;
    const next = io.observation(result.observation, where);
    if (typeof result.reward !== 'number' || !Number.isFinite(result.reward)) {
      throw new SamstarError('ARGUMENT_INVALID', `trainOnEnv: the env gave reward ${String(result.reward)} at ${where}`, {
        hint: 'an env must return a finite reward on every step (checkEnv reports this)',
      });
    }
    // terminated wins over truncated: a terminal state has no future to bootstrap.
    const terminated = result.terminated === true;
    const truncated = !terminated && result.truncated === true;
    const done = terminated || truncated;
    batch.push(toTransition(observation, acted, result.reward, done, truncated ? { truncated: true, nextObservation: next } : {}));
    episodeReturn += result.reward;
    episodeLength++;
    if (done) {
      returns.push(episodeReturn);
      lengths.push(episodeLength);
      if (terminated) terminatedEpisodes++;
      else truncatedEpisodes++;
      options.onEpisode?.({ episode: returns.length, return: episodeReturn, length: episodeLength, terminated, truncated, steps });
      episodeReturn = 0;
      episodeLength = 0;
    }
    if (batch.length === rolloutSize) {
      await learn(batch, next);
      batch = [];
    }
    if (done) {
      // Not after the last step: a reset would cost a segmentation nobody uses.
      if (steps < options.steps && !signal?.aborted) observation = await reset(++episode);
    } else {
      observation = next;
    }
  }
  let unlearnedSteps = batch.length;
  if (batch.length > 0 && options.learnPartial && !aborted) {
    await learn(batch, observation);
    unlearnedSteps = 0;
  }

  return {
    agent: agent.name,
    seed: options.seed,
    steps,
    episodes: returns.length,
    terminatedEpisodes,
    truncatedEpisodes,
    updates,
    unlearnedSteps,
    lastEpisodes,
    meanReturn: meanOfLast(returns),
    meanLength: meanOfLast(lengths),
    returns,
    lengths,
    learning,
    aborted,
    timing: { wallMs: performance.now() - started, envMs, actMs, learnMs, msPerEnvStep: steps ? envMs / steps : null },
  };
}

/**
 * Run `episodes` deterministic episodes (the policy's mean action) and report
 * their returns. The same seed (and resetOptions) gives every policy the same
 * episode starts, so two evaluations compare like with like. The agent does
 * not learn and its observation statistics are not touched.
 */
export async function evaluatePolicyOnEnv(env: VectorEnv, agent: Actor, options: EvaluateOnEnvOptions): Promise<EnvEvaluation> {
  const started = performance.now();
  checkCount('evaluatePolicyOnEnv', 'episodes', options.episodes, 1);
  checkSeed('evaluatePolicyOnEnv', options.seed);
  const maxEpisodeSteps = options.maxEpisodeSteps ?? 10_000;
  checkCount('evaluatePolicyOnEnv', 'maxEpisodeSteps', maxEpisodeSteps, 1);
  const io = checkSpaces(env, agent, 'evaluatePolicyOnEnv');
  const returns: number[] = [];
  const lengths: number[] = [];
  let terminatedEpisodes = 0;
  let truncatedEpisodes = 0;
  let cutEpisodes = 0;
  let steps = 0;
  let envMs = 0;
  for (let episode = 0; episode < options.episodes && !options.signal?.aborted; episode++) {
    const extra = options.resetOptions?.(episode);
    let t = performance.now();
    const reset = await env.reset({ ...(episode === 0 ? { seed: options.seed } : {}), ...(extra ? { options: extra } : {}) });
    envMs += performance.now() - t;
    let observation = io.observation(reset.observation, `reset of episode ${episode + 1}`);
    let total = 0;
    let length = 0;
    for (;;) {
      if (length >= maxEpisodeSteps) {
        cutEpisodes++;
        break;
      }
      const action = io.action(agent.act(observation, { deterministic: true }).action);
      t = performance.now();
      const result = await env.step(action);
      envMs += performance.now() - t;
      steps++;
      length++;
      observation = io.observation(result.observation, `step ${length} of episode ${episode + 1}`);
      if (!Number.isFinite(result.reward)) {
        throw new SamstarError('ARGUMENT_INVALID', `evaluatePolicyOnEnv: the env gave reward ${String(result.reward)} at step ${length} of episode ${episode + 1}`);
      }
      total += result.reward;
      if (result.terminated) {
        terminatedEpisodes++;
        break;
      }
      if (result.truncated) {
        truncatedEpisodes++;
        break;
      }
    }
    returns.push(total);
    lengths.push(length);
  }
  const m = returns.length ? mean(returns) : NaN;
  return {
    episodes: returns.length,
    meanReturn: m,
    stdReturn: returns.length ? Math.sqrt(mean(returns.map((r) => (r - m) ** 2))) : NaN,
    meanLength: lengths.length ? mean(lengths) : NaN,
    returns,
    lengths,
    terminatedEpisodes,
    truncatedEpisodes,
    cutEpisodes,
    steps,
    wallMs: performance.now() - started,
    msPerEnvStep: steps ? envMs / steps : null,
  };
}

interface SpaceIo {
  /** Check an observation from the env (length, finite entries); returns a copy. */
  observation(value: ArrayLike<number>, where: string): Float64Array;
  /** The agent's [−1, 1]^d action in the env's action box. */
  action(unit: readonly number[]): ArrayLike<number>;
}

interface BoxLike {
  readonly kind: 'box';
  readonly shape: readonly number[];
  readonly size: number;
  readonly low: ArrayLike<number>;
  readonly high: ArrayLike<number>;
}

function asBox(space: Space<unknown> | undefined, which: string, where: string): BoxLike {
  const box = space as Partial<BoxLike> | undefined;
  if (!box || box.kind !== 'box' || !Array.isArray(box.shape) || typeof box.size !== 'number' || !box.low || !box.high) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: the env's ${which} space is ${space ? `a ${String(space.kind)} space` : 'missing'}; policy agents need a Box (a flat vector of numbers)`);
  }
  return box as BoxLike;
}

function shapeText(box: BoxLike): string {
  return `Box of shape [${box.shape.join(', ')}] (${box.size} numbers)`;
}

/**
 * The env's Box sizes must be the agent's: a mismatch names both. Multi-
 * dimensional boxes are taken flat (row-major), as envs/spaces.ts stores them.
 */
function checkSpaces(env: VectorEnv, agent: Actor, where: string): SpaceIo {
  const who = agent.name ?? 'agent';
  const obs = asBox(env.observationSpace, 'observation', where);
  const act = asBox(env.actionSpace, 'action', where);
  if (obs.size !== agent.observationSize) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: the env's observation space is a ${shapeText(obs)} but the ${who} agent takes ${agent.observationSize} observation numbers`, {
      hint: `build the agent with observationSize ${obs.size} (env.observationSpace.size)`,
    });
  }
  if (act.size !== agent.actionSize) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: the env's action space is a ${shapeText(act)} but the ${who} agent gives ${agent.actionSize} action numbers`, {
      hint: `build the agent with actionSize ${act.size} (env.actionSpace.size)`,
    });
  }
  const low = Array.from(act.low);
  const high = Array.from(act.high);
  const bad = low.findIndex((lo, i) => !Number.isFinite(lo) || !Number.isFinite(high[i]));
  if (bad >= 0) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: entry ${bad} of the env's action space is unbounded ([${low[bad]}, ${high[bad]}]); the agent's [−1, 1] actions need finite bounds to map onto`);
  }
  const unit = low.every((lo, i) => lo === -1 && high[i] === 1);
  return {
    observation(value, at) {
      if (!value || typeof value.length !== 'number' || value.length !== obs.size) {
        throw new SamstarError('ARGUMENT_INVALID', `${where}: the env's observation at ${at} has ${value && typeof value.length === 'number' ? value.length : 'no'} numbers; its observation space is a ${shapeText(obs)}`);
      }
      for (let i = 0; i < value.length; i++) {
        if (!Number.isFinite(value[i])) {
          throw new SamstarError('ARGUMENT_INVALID', `${where}: entry ${i} of the env's observation at ${at} is ${value[i]}`, { hint: 'a policy network cannot take non-finite inputs' });
        }
      }
      // A copy: transitions keep observations until learn(), and an env may reuse one buffer for every step.
      return Float64Array.from(value);
    },
    action(a) {
      if (unit) return a;
      // Affine map of [−1, 1] onto [low, high] per entry.
      return a.map((v, i) => low[i] + ((v + 1) / 2) * (high[i] - low[i]));
    },
  };
}

function checkCount(where: string, name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SamstarError('ARGUMENT_INVALID', `${where}: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  }
}

function checkSeed(where: string, seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new SamstarError('ARGUMENT_INVALID', `${where}: seed must be a finite number, got ${String(seed)}`);
}

function mean(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}
