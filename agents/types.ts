/**
 * The black-box agent contract. Agents see numbers only — a box, candidates,
 * rewards — never images, models or reward configs, so each can be tested on
 * plain functions and reused on any problem. The training runner joins agents
 * to environments.
 *
 * Convention: agents MAXIMISE the reward they are told. (The standalone
 * `CmaEs` class also offers a minimising helper for classic benchmarks.)
 */
export interface SearchBounds {
  /** Per-dimension lower and upper bounds; the framework uses the normalised knob box [−1, 1]^d. */
  readonly low: readonly number[];
  readonly high: readonly number[];
  /**
   * Per-dimension grid step for integer/choice knobs in the same (normalised)
   * units, 0 for continuous ones. Agents must treat such dimensions honestly
   * (e.g. keep enough spread to move between levels), not only round at the end.
   */
  readonly steps?: readonly number[];
}

export interface AgentBest {
  readonly x: number[];
  readonly reward: number;
}

export interface AskTellAgent {
  readonly name: string;
  readonly dimension: number;
  /** Next candidates to evaluate (each inside the bounds). May return a different count per call. */
  ask(): number[][];
  /** Rewards for exactly the candidates of the last ask(), same order; NaN means "failed evaluation". */
  tell(candidates: readonly (readonly number[])[], rewards: readonly number[]): void;
  /** Why the agent would stop now (empty while it wants to go on): e.g. "budget", "tolx", "tolfun". */
  stop(): string[];
  /** Best candidate told so far (undefined before the first tell). */
  best(): AgentBest | undefined;
}

/** How every agent is built: bounds, a seed (one seedable Rng inside), options of its own. */
export type AgentFactory<O = Record<string, unknown>> = (bounds: SearchBounds, seed: number, options?: O) => AskTellAgent;
