/**
 * Policy-gradient agents: REINFORCE and PPO over a Gaussian policy in the
 * normalised knob box, the policy itself (deployable without tfjs), its
 * observation statistics and its weights on disk.
 */
import { SamstarError } from '../../src/util/errors.js';
import { GaussianPolicy } from './gaussian-policy.js';
import { PpoAgent } from './ppo.js';
import { ReinforceAgent } from './reinforce.js';

export { loadTf, switchBackend, type Tf, type TfBackendName, type TfRuntime } from './backend.js';
export { GaussianPolicy, type GaussianPolicyConfig, gaussianLogProb, gaussianEntropy, type PolicyMeta } from './gaussian-policy.js';
export { PpoAgent, type PpoOptions, PPO_DEFAULTS, clippedSurrogate, ratioStatistics } from './ppo.js';
export { ReinforceAgent, type ReinforceOptions, type ReinforceBaseline, REINFORCE_DEFAULTS } from './reinforce.js';
export { policyAgentOptionSchemas, ppoOptionsSchema, reinforceOptionsSchema } from './options.js';
export { RunningStats, type RunningStatsJSON } from './running-stats.js';
export type { ActOptions, ActResult, LearnStats, PolicyAgent, PolicyAgentLoader, Transition } from './types.js';
export { toTransition } from './types.js';
export { WEIGHTS_BIN, WEIGHTS_JSON, readWeights, writeWeights } from './weights.js';

export const POLICY_AGENTS = { ppo: PpoAgent, reinforce: ReinforceAgent } as const;
export type PolicyAgentName = keyof typeof POLICY_AGENTS;

/** Load whichever agent saved `dir` (by the agent name in weights.json). */
export async function loadPolicyAgent(dir: string, options: { seed?: number } = {}): Promise<PpoAgent | ReinforceAgent> {
  const { meta } = await GaussianPolicy.loadWithMeta(dir);
  const name = meta.agent?.name;
  if (name === 'ppo') return PpoAgent.load(dir, options);
  if (name === 'reinforce') return ReinforceAgent.load(dir, options);
  throw new SamstarError('MODEL_INVALID', `${dir}/weights.json: agent ${JSON.stringify(name)} is not a policy-gradient agent (known: ${Object.keys(POLICY_AGENTS).join(', ')})`, {
    hint: 'a bare policy can still be deployed with GaussianPolicy.load(dir)',
  });
}
