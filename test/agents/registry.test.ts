import { describe, expect, it } from 'vitest';
import { AGENT_NAMES, AGENTS, agentConfigSchema, createAgent, parseAgentConfig, parseAgentOptions } from '../../agents/registry.js';
import type { AskTellAgent, SearchBounds } from '../../agents/types.js';
import { describeAgentConformance } from './conformance.js';
import { thrown } from '../fixtures/thrown.js';

/**
 * Every black-box agent of the registry, whatever the list holds: the
 * conformance suite with its default expectations, each agent built the way the
 * runner builds it (createAgent with default options and a budget), plus the
 * registry's own promises. Stricter, agent-specific variants live in the
 * agents' test files.
 */
const BUDGET = 300;
for (const { name } of AGENTS) describeAgentConformance(`${name} (registry)`, (bounds, seed) => createAgent(name, bounds, seed, {}, { budget: BUDGET }), { budget: BUDGET });

const box = (d: number): SearchBounds => ({ low: new Array(d).fill(-1), high: new Array(d).fill(1) });


function askAll(agent: AskTellAgent): number[][] {
  const all: number[][] = [];
  for (let guard = 0; guard < 10_000 && agent.stop().length === 0; guard++) {
    const xs = agent.ask();
    if (xs.length === 0) break;
    all.push(...xs);
    agent.tell(xs, xs.map((x) => -x.reduce((s, v) => s + v * v, 0)));
  }
  return all;
}

describe('agent registry', () => {
  it.each(AGENTS.map((a) => [a.name, a] as const))('%s: a described entry with a strict schema, built under its own name', (name, definition) => {
    expect(definition.description.length).toBeGreaterThan(0);
    expect(definition.schema.safeParse({}).success).toBe(true);
    const e = thrown(() => parseAgentOptions(name, { notAnOption: 1 }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('agent.options.notAnOption');
    const agent = createAgent(name, box(2), 1, {}, { budget: 12 });
    expect(agent.name).toBe(name);
    expect(agent.dimension).toBe(2);
  });

  it.each([...AGENT_NAMES])('%s: the context budget becomes maxEvaluations unless the options set it', (name) => {
    // An agent may finish the batch it asked, so a budget allows at most one batch more.
    const run = askAll(createAgent(name, box(2), 1, {}, { budget: 10 }));
    expect(run.length).toBeGreaterThan(0);
    expect(run.length).toBeLessThanOrEqual(10 + 10);
    const stopped = createAgent(name, box(2), 1, { maxEvaluations: 5 }, { budget: 1000 });
    expect(askAll(stopped).length).toBeLessThanOrEqual(5 + 10);
  });

  it('names are unique; unknown names get a suggestion', () => {
    expect(new Set(AGENT_NAMES).size).toBe(AGENTS.length);
    expect(thrown(() => createAgent('bayes', box(2), 1)).hint).toContain(`known: ${AGENT_NAMES.join(', ')}`);
    expect(thrown(() => createAgent('radnom', box(2), 1)).hint).toContain('did you mean "random"');
  });

  it('names unknown option keys with a suggestion, and bad values with their path', () => {
    const e = thrown(() => parseAgentOptions('bo', { refitEvry: 3 }));
    expect(e.message).toContain('agent.options.refitEvry');
    expect(e.message).toContain('"bo"');
    expect(e.hint).toContain('did you mean "refitEvery"');
    expect(thrown(() => parseAgentOptions('cmaes', { sigma: 0.3 })).hint).toContain('"sigma0"');
    expect(thrown(() => parseAgentOptions('random', { batch: 0 })).message).toMatch(/agent\.options\.batch: .*\(found 0\)/);
    expect(thrown(() => parseAgentOptions('grid', { values: [[0, 'a']] })).message).toContain('agent.options.values.0.1');
  });

  it('parses { name, options } blocks and offers a zod schema with the same checks', () => {
    expect(parseAgentConfig({ name: 'bo', options: { batch: 2 } })).toEqual({ name: 'bo', options: { batch: 2 } });
    expect(parseAgentConfig('grid')).toEqual({ name: 'grid', options: {} });
    expect(thrown(() => parseAgentConfig({ name: 'bo', option: {} }, 'task.agent')).message).toContain('task.agent.option');
    const result = agentConfigSchema.safeParse({ name: 'grid', options: { pointPerDim: 3 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toContain('did you mean "pointsPerDim"');
    expect(agentConfigSchema.parse({ name: 'random' })).toEqual({ name: 'random', options: {} });
  });
});
