/**
 * The policy-gradient agents, as a plain list. Each agent's file declares its
 * name, description, option schema, factory and loader with definePolicyAgent
 * (types.ts); adding one is that file plus one line in POLICY_AGENTS below, and
 * test/agents/policy/registry.test.ts then runs the conformance suite on it.
 * `samstar train` trains a contextual policy with these (frame features → the
 * tuned knobs) instead of running the black-box runner.
 */
import { SamstarError } from '../../src/util/errors.js';
import { GaussianPolicy } from './gaussian-policy.js';
import type { PolicyGradientAgent } from './base.js';
import { ppo } from './ppo.js';
import { reinforce } from './reinforce.js';
import type { PolicyAgentDefinition } from './types.js';

export const POLICY_AGENTS = [ppo, reinforce] as const;

export type PolicyAgentName = (typeof POLICY_AGENTS)[number]['name'];
export const POLICY_AGENT_NAMES: readonly PolicyAgentName[] = POLICY_AGENTS.map((a) => a.name);

export function isPolicyAgentName(name: string): name is PolicyAgentName {
  return (POLICY_AGENT_NAMES as readonly string[]).includes(name);
}

/** The definition of a policy agent by name. */
export function getPolicyAgent(name: PolicyAgentName): PolicyAgentDefinition {
  return POLICY_AGENTS.find((a) => a.name === name) as PolicyAgentDefinition;
}

/** Build the policy-gradient agent of a task (options as stored: "Infinity" strings allowed). */
export function createPolicyAgent(name: string, observationSize: number, actionSize: number, seed: number, options: Record<string, unknown>): PolicyGradientAgent {
  if (!isPolicyAgentName(name)) {
    throw new SamstarError('CONFIG_INVALID', `agent "${name}" is not a policy-gradient agent (${POLICY_AGENT_NAMES.join(', ')})`);
  }
  const agent = getPolicyAgent(name);
  return agent.create(observationSize, actionSize, seed, agent.schema.parse(options));
}

/** Load whichever agent saved `dir` (by the agent name in weights.json). */
export async function loadPolicyAgent(dir: string, options: { seed?: number } = {}): Promise<PolicyGradientAgent> {
  const { meta } = await GaussianPolicy.loadWithMeta(dir);
  const name = meta.agent?.name;
  if (typeof name === 'string' && isPolicyAgentName(name)) return getPolicyAgent(name).load(dir, options);
  throw new SamstarError('MODEL_INVALID', `${dir}/weights.json: agent ${JSON.stringify(name)} is not a policy-gradient agent (known: ${POLICY_AGENT_NAMES.join(', ')})`, {
    hint: 'a bare policy can still be deployed with GaussianPolicy.load(dir)',
  });
}
