import { describe, expect, it } from 'vitest';
import { createPolicyAgent, POLICY_AGENT_NAMES, POLICY_AGENTS } from '../../../agents/policy/registry.js';
import { describePolicyAgentConformance } from './conformance.js';

// Every registered policy agent, whatever the list holds.
for (const definition of POLICY_AGENTS) describePolicyAgentConformance(definition);

describe('policy agent registry', () => {
  it('names are unique, and createPolicyAgent refuses a black-box agent', () => {
    expect(new Set(POLICY_AGENT_NAMES).size).toBe(POLICY_AGENTS.length);
    expect(() => createPolicyAgent('cmaes', 2, 1, 1, {})).toThrow(/not a policy-gradient agent/);
  });
});
