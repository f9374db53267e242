/**
 * Agents by name, with a zod schema for each agent's options, so a task
 * config's `agent: { name, options }` can be validated before a run starts.
 *
 *   cmaes   CMA-ES (active, IPOP restarts)          ./cmaes.ts
 *   bo      Bayesian optimisation (GP + EI)          ./bayesopt.ts
 *   grid    grid search / the micro-sam preset       ./grid.ts
 *   random  random search                            ./random.ts
 *
 * Errors are SamstarErrors (CONFIG_INVALID) that name the path
 * (`agent.options.refitEvry`), the agent, and suggest the nearest known name.
 *
 * Typical use by the runner:
 *
 * ```ts
 * const { name, options } = parseAgentConfig(config.agent, 'agent');
 * const agent = createAgent(name, space.bounds, seed, options, {
 *   budget: config.budget,                                  // → maxEvaluations unless set
 *   toNormalised: (v) => space.toNormalised(v),             // for grid preset "micro-sam"
 * });
 * ```
 */
import { z } from 'zod';
import { SamstarError, suggestName } from '../src/util/errors.js';
import { valueAt } from '../src/util/zod-paths.js';
import { BayesOpt, type BayesOptOptions } from './bayesopt.js';
import { CmaEs, type CmaEsOptions } from './cmaes.js';
import { GridAgent, type GridOptions, microSamGridAgent } from './grid.js';
import { RandomSearch, type RandomSearchOptions } from './random.js';
import type { AskTellAgent, SearchBounds } from './types.js';

const positiveInt = z.number().int().positive();
const finite = z.number().finite();

const cmaesOptionsSchema = z.strictObject({
  x0: z.union([z.array(finite), z.literal('centre'), z.literal('uniform')]).optional(),
  sigma0: z.number().positive().finite().optional(),
  popsize: z.number().int().min(2).optional(),
  maxEvaluations: positiveInt.optional(),
  fTarget: finite.optional(),
  rewardTarget: finite.optional(),
  restarts: z.number().int().min(0).optional(),
  popsizeIncrease: z.number().min(1).finite().optional(),
  active: z.boolean().optional(),
  tolFun: z.number().nonnegative().finite().optional(),
  tolX: z.number().nonnegative().finite().optional(),
  tolConditionCov: z.number().positive().optional(),
  tolUpSigma: z.number().positive().optional(),
  tolStagnation: z.number().int().positive().optional(),
  margin: z.number().nonnegative().max(0.5).optional(),
});

const boOptionsSchema = z.strictObject({
  maxEvaluations: positiveInt.optional(),
  initialPoints: positiveInt.optional(),
  batch: positiveInt.optional(),
  fantasy: z.enum(['believer', 'liar']).optional(),
  refitEvery: positiveInt.optional(),
  fitRestarts: z.number().int().min(0).optional(),
  candidates: positiveInt.optional(),
  localStarts: positiveInt.optional(),
  xi: z.number().nonnegative().finite().optional(),
  eiTolerance: z.number().nonnegative().finite().optional(),
  eiPatience: positiveInt.optional(),
});

const gridOptionsSchema = z.strictObject({
  values: z.array(z.array(finite).min(1)).optional(),
  pointsPerDim: z.union([positiveInt, z.array(positiveInt)]).optional(),
  points: z.array(z.array(finite)).min(1).optional(),
  batch: positiveInt.optional(),
  maxEvaluations: positiveInt.optional(),
  shuffle: z.boolean().optional(),
  /** Named preset: 'micro-sam' = the 210-point pred_iou × stability grid (needs `toNormalised` in the context). */
  preset: z.literal('micro-sam').optional(),
});

const randomOptionsSchema = z.strictObject({
  maxEvaluations: positiveInt.optional(),
  batch: positiveInt.optional(),
});

export type GridRegistryOptions = GridOptions & { readonly preset?: 'micro-sam' };

/** What the runner can lend an agent beyond bounds, seed and options. */
export interface AgentContext {
  /** The run's evaluation budget: becomes `maxEvaluations` unless the options set it. */
  readonly budget?: number;
  /** Knob values → normalised point (the task's KnobSpace.toNormalised); needed by grid preset "micro-sam". */
  readonly toNormalised?: (values: Record<string, number>) => number[];
}

interface AgentEntry {
  readonly description: string;
  readonly schema: z.ZodObject;
  readonly create: (bounds: SearchBounds, seed: number, options: Record<string, unknown>, context: AgentContext) => AskTellAgent;
}

export const AGENT_NAMES = ['cmaes', 'bo', 'grid', 'random'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export const AGENTS: Readonly<Record<AgentName, AgentEntry>> = {
  cmaes: {
    description: 'CMA-ES with active weights and IPOP restarts',
    schema: cmaesOptionsSchema,
    create: (bounds, seed, options) => new CmaEs(bounds, seed, options as CmaEsOptions),
  },
  bo: {
    description: 'Bayesian optimisation: Matérn 5/2 GP, expected improvement',
    schema: boOptionsSchema,
    create: (bounds, seed, options) => new BayesOpt(bounds, seed, options as BayesOptOptions),
  },
  grid: {
    description: 'grid search (full factorial, explicit points, or preset "micro-sam")',
    schema: gridOptionsSchema,
    create: (bounds, seed, options, context) => {
      const { preset, ...rest } = options as GridRegistryOptions;
      if (preset === 'micro-sam') {
        if (!context.toNormalised) {
          throw new SamstarError('CONFIG_INVALID', 'grid preset "micro-sam" needs the knob space to map knob values into the box', {
            hint: 'pass { toNormalised } in the agent context (the runner does this)',
          });
        }
        for (const key of ['values', 'pointsPerDim', 'points', 'shuffle'] as const) {
          if (rest[key] !== undefined) {
            throw new SamstarError('CONFIG_INVALID', `grid: option "${key}" cannot be combined with preset "micro-sam"`);
          }
        }
        return microSamGridAgent(context.toNormalised, { bounds, batch: rest.batch, maxEvaluations: rest.maxEvaluations });
      }
      return GridAgent.fromOptions(bounds, seed, rest);
    },
  },
  random: {
    description: 'uniform random search',
    schema: randomOptionsSchema,
    create: (bounds, seed, options) => new RandomSearch(bounds, seed, options as RandomSearchOptions),
  },
};

/** Compile-time guard: each schema covers exactly its agent's options (fails tsc when an agent gains or loses an option). */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const schemasMatchOptions: [
  SameKeys<z.infer<typeof cmaesOptionsSchema>, CmaEsOptions>,
  SameKeys<z.infer<typeof boOptionsSchema>, BayesOptOptions>,
  SameKeys<z.infer<typeof gridOptionsSchema>, GridRegistryOptions>,
  SameKeys<z.infer<typeof randomOptionsSchema>, RandomSearchOptions>,
] = [true, true, true, true];
void schemasMatchOptions;

export function isAgentName(name: string): name is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(name);
}

/** The option names an agent accepts. */
export function agentOptionNames(name: AgentName): string[] {
  return Object.keys(AGENTS[name].schema.shape);
}

/**
 * Validate an agent's options (unknown keys and bad values are
 * CONFIG_INVALID errors naming `${source}.options.<key>`). Returns the parsed
 * options.
 */
export function parseAgentOptions(name: string, options: unknown, source = 'agent'): Record<string, unknown> {
  const agent = checkName(name, source);
  const entry = AGENTS[agent];
  const result = entry.schema.safeParse(options ?? {});
  if (result.success) return result.data as Record<string, unknown>;
  const issues = result.error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    const key = unknown.keys[0];
    const where = [`${source}.options`, ...unknown.path.map(String), key].join('.');
    throw new SamstarError('CONFIG_INVALID', `${where}: unknown option "${key}" for agent "${agent}"`, {
      hint: unknown.path.length === 0 ? suggestName(key, agentOptionNames(agent)) : undefined,
    });
  }
  const issue = issues[0];
  const path = [`${source}.options`, ...issue.path.map(String)].join('.');
  const value = valueAt(options, issue.path);
  const shown = value === undefined ? '' : ` = ${JSON.stringify(value)}`;
  throw new SamstarError('CONFIG_INVALID', `${path}${shown} is invalid for agent "${agent}": ${issue.message.replace(/^Invalid input: /, '')}`);
}

/** Validate `{ name, options? }` (e.g. a task config's `agent:` block); unknown keys are errors too. */
export function parseAgentConfig(input: unknown, source = 'agent'): { name: AgentName; options: Record<string, unknown> } {
  if (typeof input === 'string') return { name: checkName(input, source), options: {} };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SamstarError('CONFIG_INVALID', `${source}: expected { name, options } or an agent name, got ${JSON.stringify(input)}`, {
      hint: `known agents: ${AGENT_NAMES.join(', ')}`,
    });
  }
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'name' && key !== 'options') {
      throw new SamstarError('CONFIG_INVALID', `${source}.${key}: unknown key "${key}"`, { hint: suggestName(key, ['name', 'options']) });
    }
  }
  if (typeof record.name !== 'string') {
    throw new SamstarError('CONFIG_INVALID', `${source}.name: expected an agent name, got ${JSON.stringify(record.name)}`, {
      hint: `known agents: ${AGENT_NAMES.join(', ')}`,
    });
  }
  const name = checkName(record.name, source);
  return { name, options: parseAgentOptions(name, record.options, source) };
}

/**
 * A zod schema for `{ name, options? }` that runs the same checks as
 * parseAgentConfig (issue messages carry the suggestion), for embedding in a
 * task-config schema.
 */
export const agentConfigSchema = z.unknown().transform((input, ctx) => {
  try {
    return parseAgentConfig(input, 'agent');
  } catch (error) {
    if (!(error instanceof SamstarError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.describe() });
    return z.NEVER;
  }
});

/** Build an agent by name after validating its options. */
export function createAgent(name: string, bounds: SearchBounds, seed: number, options?: unknown, context: AgentContext = {}): AskTellAgent {
  const agent = checkName(name, 'agent');
  const parsed = parseAgentOptions(agent, options, 'agent');
  if (context.budget !== undefined && parsed.maxEvaluations === undefined) parsed.maxEvaluations = context.budget;
  return AGENTS[agent].create(bounds, seed, parsed, context);
}

function checkName(name: string, source: string): AgentName {
  if (isAgentName(name)) return name;
  throw new SamstarError('CONFIG_INVALID', `${source}.name: unknown agent "${name}"`, { hint: suggestName(name, AGENT_NAMES) });
}

