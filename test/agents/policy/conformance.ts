/**
 * The conformance suite every policy-gradient agent must pass, run by
 * registry.test.ts over every entry of agents/policy/registry.ts (so a new
 * agent is tested without touching a test file). On the toy contextual bandit
 * of toy.ts, with the agent's default options: actions of the right size
 * inside the box, determinism under a seed, a schema that accepts what the
 * agent saves and rejects misspelt options, learning that lowers the action
 * error, and save → load (by the registry) with identical deterministic actions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicyAgent } from '../../../agents/policy/registry.js';
import type { PolicyAgentDefinition } from '../../../agents/policy/types.js';
import { Rng } from '../../../src/util/rng.js';
import { actionError, makeToy, trainOnToy } from './toy.js';

const toy = makeToy();

function probes(n: number): number[][] {
  const rng = new Rng(77);
  return Array.from({ length: n }, () => toy.observe(rng).s);
}

export function describePolicyAgentConformance(definition: PolicyAgentDefinition): void {
  const create = (seed: number, options: Record<string, unknown> = {}) => definition.create(toy.k, toy.d, seed, definition.schema.parse(options));
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  describe(`policy agent conformance: ${definition.name}`, () => {
    it('is built from its definition with default options, under its own name', () => {
      expect(definition.description.length).toBeGreaterThan(0);
      const agent = create(1);
      expect(agent.name).toBe(definition.name);
      expect([agent.observationSize, agent.actionSize]).toEqual([toy.k, toy.d]);
      expect(agent.rolloutSize).toBeGreaterThan(0);
    });

    it('its schema accepts every option the agent saves and rejects a misspelt one', () => {
      expect(definition.schema.safeParse(create(1).options()).success).toBe(true);
      // Infinity is written "Infinity" in a config and must survive the save → parse round.
      expect(definition.schema.parse(create(1, { maxGradNorm: 'Infinity' }).options())).toMatchObject({ maxGradNorm: Infinity });
      expect(definition.schema.safeParse({ learningRte: 0.1 }).success).toBe(false);
    });

    it('acts inside the box with finite log-probabilities; deterministic acts are repeatable', () => {
      const agent = create(2);
      for (const s of probes(20)) {
        const out = agent.act(s);
        expect(out.action).toHaveLength(toy.d);
        expect(out.rawAction).toHaveLength(toy.d);
        for (const v of out.action) expect(Math.abs(v)).toBeLessThanOrEqual(1);
        expect(Number.isFinite(out.logProb)).toBe(true);
        expect(agent.act(s, { deterministic: true })).toEqual(agent.act(s, { deterministic: true }));
      }
    });

    it('the same seed gives the same actions, another seed others', () => {
      const s = probes(1)[0];
      expect(create(3).act(s).action).toEqual(create(3).act(s).action);
      expect(create(4).act(s).action).not.toEqual(create(3).act(s).action);
    });

    it('learning on the toy bandit lowers the action error', async () => {
      const agent = create(5, { logStdInit: -0.5 });
      const before = actionError(agent, toy);
      const run = await trainOnToy(agent, toy, 1024);
      for (const stats of run.stats) expect(Number.isFinite(stats.policyLoss)).toBe(true);
      expect(actionError(agent, toy)).toBeLessThan(before);
    });

    it('saves, and loads back through the registry with identical deterministic actions', async () => {
      const agent = create(6);
      await trainOnToy(agent, toy, agent.rolloutSize);
      const dir = await mkdtemp(join(tmpdir(), `samstar-${definition.name}-`));
      dirs.push(dir);
      await agent.save(dir);
      for (const loaded of [await loadPolicyAgent(dir), await definition.load(dir)]) {
        expect(loaded.name).toBe(definition.name);
        for (const s of probes(10)) expect(loaded.act(s, { deterministic: true }).action).toEqual(agent.act(s, { deterministic: true }).action);
      }
    });
  });
}
