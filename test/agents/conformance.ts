/**
 * The conformance suite every ask/tell agent must pass (CMA-ES, BO, grid,
 * random, …). Call it from an agent's test file:
 *
 *   describeAgentConformance('cmaes', (bounds, seed) => new CmaEs(bounds, seed));
 *
 * It registers vitest tests on plain functions only: shapes and bounds of the
 * candidates, the tell() contract, improvement on a concave quadratic,
 * determinism under a seed, NaN rewards, and best().
 */
import { describe, expect, it } from 'vitest';
import type { AskTellAgent, SearchBounds } from '../../agents/types.js';

export interface ConformanceOptions {
  /** Evaluations for the quadratic test (default 300). */
  budget?: number;
  /** Dimension of the quadratic test (default 4). */
  dimension?: number;
  /** Max Euclidean distance of best() from the optimum after the budget (default 0.5: random search passes). */
  tolerance?: number;
  /** Also require candidates of integer dimensions (bounds.steps) to lie on their grid (default false). */
  gridCandidates?: boolean;
  /** Different seeds must give different first asks (default false: a grid agent ignores its seed). */
  seedSensitive?: boolean;
  /** Seeds tried by the tests (default [1, 2, 3]). */
  seeds?: number[];
}

export type AgentUnderTest = (bounds: SearchBounds, seed: number) => AskTellAgent;

interface Loop {
  asks: number[][][];
  told: { x: number[]; reward: number }[];
  evaluations: number;
}

/** Drive the agent with `reward` until `budget` evaluations are told or it stops. */
function drive(agent: AskTellAgent, reward: (x: number[], index: number) => number, budget: number, onAsk?: (xs: number[][]) => void): Loop {
  const loop: Loop = { asks: [], told: [], evaluations: 0 };
  let rounds = 0;
  while (loop.evaluations < budget && rounds < 10 * budget) {
    rounds++;
    const xs = agent.ask();
    expect(Array.isArray(xs)).toBe(true);
    expect(xs.length).toBeGreaterThan(0);
    onAsk?.(xs);
    loop.asks.push(xs.map((x) => [...x]));
    const rewards = xs.map((x) => reward(x, loop.evaluations++));
    agent.tell(xs, rewards);
    xs.forEach((x, k) => loop.told.push({ x: [...x], reward: rewards[k] }));
    if (agent.stop().length > 0) break;
  }
  return loop;
}

function inBounds(bounds: SearchBounds, x: readonly number[], grid: boolean): string | undefined {
  if (x.length !== bounds.low.length) return `dimension ${x.length}, expected ${bounds.low.length}`;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) return `x[${i}] = ${v} is not finite`;
    if (v < bounds.low[i] || v > bounds.high[i]) return `x[${i}] = ${v} outside [${bounds.low[i]}, ${bounds.high[i]}]`;
    const step = bounds.steps?.[i] ?? 0;
    if (grid && step > 0) {
      const k = (v - bounds.low[i]) / step;
      if (Math.abs(k - Math.round(k)) > 1e-6) return `x[${i}] = ${v} is not on the grid ${bounds.low[i]} + k·${step}`;
    }
  }
  return undefined;
}

export function describeAgentConformance(name: string, factory: AgentUnderTest, options: ConformanceOptions = {}): void {
  const budget = options.budget ?? 300;
  const d = options.dimension ?? 4;
  const tolerance = options.tolerance ?? 0.5;
  const seeds = options.seeds ?? [1, 2, 3];
  const unit: SearchBounds = { low: new Array(d).fill(-1), high: new Array(d).fill(1) };
  const centre = Array.from({ length: d }, (_, i) => [0.3, -0.5, 0.1, 0.6, -0.2, 0.45][i % 6]);
  const quadratic = (x: readonly number[]): number => -x.reduce((s, v, i) => s + (v - centre[i]) ** 2, 0);

  describe(`agent conformance: ${name}`, () => {
    it('asks candidates of the right dimension inside the bounds (also when the optimum lies outside)', () => {
      const boxes: SearchBounds[] = [
        unit,
        { low: [0, -2, 10], high: [5, -1, 20] },
        { low: [-1, -1, -1, -1], high: [1, 1, 1, 1], steps: [0, 0.5, 0, 2 / 3] },
        { low: [-3], high: [7] },
      ];
      for (const bounds of boxes) {
        for (const seed of seeds) {
          const agent = factory(bounds, seed);
          expect(agent.dimension).toBe(bounds.low.length);
          expect(typeof agent.name).toBe('string');
          // Reward pulls every coordinate beyond its upper bound.
          const far = bounds.high.map((h, i) => h + (h - bounds.low[i]));
          const problems: string[] = [];
          drive(agent, (x) => -x.reduce((s, v, i) => s + (v - far[i]) ** 2, 0), 120, (xs) => {
            for (const x of xs) {
              const why = inBounds(bounds, x, options.gridCandidates ?? false);
              if (why) problems.push(why);
            }
          });
          expect(problems.slice(0, 5)).toEqual([]);
        }
      }
    });

    it('throws a clear error when tell() gets the wrong number of rewards, and stays usable', () => {
      const agent = factory(unit, seeds[0]);
      const xs = agent.ask();
      const rewards = xs.map(quadratic);
      expect(() => agent.tell(xs, [...rewards, 0])).toThrow(/\d/);
      expect(() => agent.tell([...xs, xs[0]], [...rewards, 0])).toThrow(/\d/);
      if (xs.length > 1) expect(() => agent.tell(xs.slice(1), rewards.slice(1))).toThrow(/\d/);
      expect(() => agent.tell(xs, rewards)).not.toThrow();
      expect(agent.best()).toBeDefined();
    });

    it(`improves on a concave quadratic within ${budget} evaluations in ${d}-D`, () => {
      for (const seed of seeds) {
        const agent = factory(unit, seed);
        const loop = drive(agent, (x) => quadratic(x), budget);
        const best = agent.best();
        expect(best).toBeDefined();
        const firstBatch = Math.max(...loop.told.slice(0, loop.asks[0].length).map((t) => t.reward));
        expect(best!.reward).toBeGreaterThanOrEqual(firstBatch);
        const dist = Math.sqrt(best!.x.reduce((s, v, i) => s + (v - centre[i]) ** 2, 0));
        expect(dist, `seed ${seed}: best ${best!.x.map((v) => v.toFixed(3)).join(', ')} after ${loop.evaluations} evaluations`).toBeLessThan(tolerance);
      }
    });

    it('is deterministic under a seed (same asks for the same rewards)', () => {
      const bounds: SearchBounds = { low: [-1, -1, -1], high: [1, 1, 1], steps: [0, 0, 0.5] };
      const reward = (x: number[]): number => -((x[0] - 0.2) ** 2) - Math.abs(x[1] + 0.4) - (x[2] - 0.5) ** 2;
      for (const seed of seeds) {
        const a = drive(factory(bounds, seed), reward, 100);
        const b = drive(factory(bounds, seed), reward, 100);
        expect(b.asks).toEqual(a.asks);
      }
      if (options.seedSensitive) {
        const a = factory(bounds, seeds[0]).ask();
        const b = factory(bounds, seeds[0] + 1000).ask();
        expect(b).not.toEqual(a);
      }
    });

    it('treats NaN rewards as failures (no crash, still in bounds, best() ignores them)', () => {
      const agent = factory(unit, seeds[0]);
      let round = 0;
      const problems: string[] = [];
      const loop = drive(
        agent,
        (x, i) => {
          if (round === 1) return Number.NaN; // one all-failed round
          return i % 3 === 0 ? Number.NaN : quadratic(x);
        },
        150,
        (xs) => {
          round++;
          for (const x of xs) {
            const why = inBounds(unit, x, false);
            if (why) problems.push(why);
          }
        },
      );
      expect(problems).toEqual([]);
      const finite = loop.told.filter((t) => !Number.isNaN(t.reward));
      const best = agent.best();
      if (finite.length === 0) return;
      expect(best).toBeDefined();
      expect(Number.isNaN(best!.reward)).toBe(false);
      expect(best!.reward).toBe(Math.max(...finite.map((t) => t.reward)));
    });

    it('best() is undefined before the first tell, then the best candidate told', () => {
      const agent = factory(unit, seeds[0]);
      expect(agent.best()).toBeUndefined();
      const loop = drive(agent, (x) => quadratic(x), 60);
      let top = loop.told[0];
      for (const t of loop.told) if (t.reward > top.reward) top = t;
      const best = agent.best()!;
      expect(best.reward).toBe(top.reward);
      expect(best.x).toEqual(top.x);
      // best() hands out a copy.
      best.x[0] = 1e9;
      expect(agent.best()!.x).toEqual(top.x);
    });

    it('stop() returns an array of strings', () => {
      const agent = factory(unit, seeds[0]);
      expect(agent.stop()).toEqual(expect.any(Array));
      drive(agent, (x) => quadratic(x), 30);
      for (const r of agent.stop()) expect(typeof r).toBe('string');
    });
  });
}
