import type { Rng } from '../src/util/rng.js';

/**
 * Gymnasium's environment contract in TypeScript. Spaces describe valid
 * actions and observations, can sample with the project's seedable Rng, and
 * serialise to JSON (stored with studies and policies).
 */
export interface Space<T> {
  readonly kind: 'box' | 'discrete' | 'dict';
  contains(value: unknown): value is T;
  sample(rng: Rng): T;
  toJSON(): unknown;
}

export interface ResetResult<O> {
  readonly observation: O;
  readonly info: Record<string, unknown>;
}

export interface StepResult<O> {
  readonly observation: O;
  readonly reward: number;
  /** The task reached a terminal state. */
  readonly terminated: boolean;
  /** A time/step limit ended the episode. */
  readonly truncated: boolean;
  /**
   * Per-term rewards and anything else worth recording. Conventions shared by
   * the project's envs and checked by `checkEnv`: an action outside the action
   * space that the env clips instead of rejecting sets `actionClipped: true`
   * (see ACTION_CLIPPED).
   */
  readonly info: Record<string, unknown>;
}

/** The info key an env sets (to true) when it clipped an out-of-range action instead of rejecting it. */
export const ACTION_CLIPPED = 'actionClipped';

export interface Env<O = unknown, A = unknown> {
  readonly observationSpace: Space<O>;
  readonly actionSpace: Space<A>;
  reset(options?: { seed?: number; options?: Record<string, unknown> }): Promise<ResetResult<O>>;
  step(action: A): Promise<StepResult<O>>;
  close(): Promise<void>;
}
