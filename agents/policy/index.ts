/**
 * Policy-gradient agents: REINFORCE and PPO over a Gaussian policy in the
 * normalised knob box, the policy itself (deployable without tfjs), its
 * observation statistics and its weights on disk.
 */
export { loadTf, switchBackend, type Tf, type TfBackendName, type TfRuntime } from './backend.js';
export { GaussianPolicy, type GaussianPolicyConfig, gaussianLogProb, gaussianEntropy, type PolicyMeta } from './gaussian-policy.js';
export { PpoAgent, type PpoOptions, PPO_DEFAULTS, clippedSurrogate, ratioStatistics, ppoOptionsSchema } from './ppo.js';
export { ReinforceAgent, type ReinforceOptions, type ReinforceBaseline, REINFORCE_DEFAULTS, reinforceOptionsSchema } from './reinforce.js';
export { POLICY_AGENTS, POLICY_AGENT_NAMES, type PolicyAgentName, isPolicyAgentName, getPolicyAgent, createPolicyAgent, loadPolicyAgent } from './registry.js';
export { RunningStats, type RunningStatsJSON } from './running-stats.js';
export type { ActOptions, ActResult, LearnStats, PolicyAgent, PolicyAgentDefinition, PolicyAgentLoader, Transition } from './types.js';
export { definePolicyAgent, toTransition } from './types.js';
export { WEIGHTS_BIN, WEIGHTS_JSON, readWeights, writeWeights } from './weights.js';
