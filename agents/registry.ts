/**
 * The black-box agents, as a plain list. Each agent's file declares its name,
 * description, option schema and factory with defineAgent (types.ts); adding an
 * agent is that file plus one line in AGENTS below, and
 * test/agents/registry.test.ts then runs the conformance suite on it.
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
 * const agent = createAgent(name, space.searchBounds(), seed, options, {
 *   budget: config.budget,                                  // → maxEvaluations unless set
 *   toNormalised: (v) => space.toNormalised(v),             // for grid preset "micro-sam"
 * });
 * ```
 */
import { z } from 'zod';
import { SamstarError, suggestName } from '../src/util/errors.js';
import { configError } from '../src/util/config-error.js';
import { bo } from './bayesopt.js';
import { cmaes } from './cmaes.js';
import { grid } from './grid.js';
import { random } from './random.js';
import type { AgentContext, AgentDefinition, AskTellAgent, SearchBounds } from './types.js';

export type { AgentContext } from './types.js';
export type { GridRegistryOptions } from './grid.js';

/** Every black-box agent, in the order help texts list them. */
export const AGENTS = [cmaes, bo, grid, random] as const;

export type AgentName = (typeof AGENTS)[number]['name'];
export const AGENT_NAMES: readonly AgentName[] = AGENTS.map((a) => a.name);

export function isAgentName(name: string): name is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(name);
}

/** The option names an agent accepts. */
export function agentOptionNames(name: AgentName): string[] {
  return Object.keys(getAgent(name).schema.shape);
}

/** The definition of a black-box agent by name. */
export function getAgent(name: AgentName): AgentDefinition {
  return AGENTS.find((a) => a.name === name) as AgentDefinition;
}

/**
 * Validate an agent's options (unknown keys and bad values are
 * CONFIG_INVALID errors naming `${source}.options.<key>`). Returns the parsed
 * options.
 */
export function parseAgentOptions(name: string, options: unknown, source = 'agent'): Record<string, unknown> {
  const agent = checkName(name, source);
  const schema = getAgent(agent).schema;
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data as Record<string, unknown>;
  throw configError(result.error.issues, { title: `invalid options for agent "${agent}"`, schema, data: options, prefix: [source, 'options'] });
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
  return getAgent(agent).create(bounds, seed, parsed, context);
}

function checkName(name: string, source: string): AgentName {
  if (isAgentName(name)) return name;
  throw new SamstarError('CONFIG_INVALID', `${source}.name: unknown agent "${name}"`, { hint: suggestName(name, AGENT_NAMES) });
}

