import type { z } from 'zod';

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

/** What the runner can lend an agent beyond bounds, seed and options. */
export interface AgentContext {
  /** The run's evaluation budget: becomes `maxEvaluations` unless the options set it (registry.ts). */
  readonly budget?: number;
  /** Knob values → normalised point (the task's KnobSpace.toNormalised); needed by grid preset "micro-sam". */
  readonly toNormalised?: (values: Record<string, number>) => number[];
}

/**
 * Everything the framework knows about one black-box agent, declared in the
 * agent's own file and listed in registry.ts (as reward terms' defineTerm):
 * its task-config name, a one-line description, the zod schema of its options
 * (a strict object: every option optional, a misspelt one an error), and how to
 * build it from parsed options. test/agents/registry.test.ts runs the
 * conformance suite over every entry of the registry.
 */
export interface AgentDefinition<S extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly description: string;
  readonly schema: S;
  readonly create: (bounds: SearchBounds, seed: number, options: z.infer<S>, context: AgentContext) => AskTellAgent;
}

export function defineAgent<S extends z.ZodObject>(definition: AgentDefinition<S>): AgentDefinition<S> {
  return definition;
}

/**
 * Compile-time guard for an agent file: `true` only when a schema's keys and
 * the agent's option keys are the same set, so tsc fails when an agent gains an
 * option its schema lacks (or the other way round). Use as
 * `type SchemaMatchesOptions = Assert<SameKeys<z.infer<typeof schema>, MyOptions>>;`.
 */
export type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
/** Compiles only when T is `true`. */
export type Assert<T extends true> = T;
