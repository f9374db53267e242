import { describe, expect, it } from 'vitest';
import { ScalarisedSearch } from '../../agents/parego.js';
import { hypervolume, ParetoArchive } from '../../agents/pareto.js';
import { createAgent } from '../../agents/registry.js';
import { SamstarError } from '../../src/util/errors.js';

/** Two maximised objectives with conflicting optima in [−1, 1]⁶: the Pareto set is the segment between a and b. */
const A = [-0.6, -0.6, 0.2, 0.5, -0.3, 0.1];
const B = [0.6, 0.4, -0.2, -0.5, 0.3, 0.3];
const objectives = (x: readonly number[]): number[] => [-x.reduce((s, v, i) => s + (v - A[i]) ** 2, 0), -x.reduce((s, v, i) => s + (v - B[i]) ** 2, 0)];
const bounds = { low: new Array(6).fill(-1), high: new Array(6).fill(1) };

function search(seed: number, inner: string, budget: number): { archive: ParetoArchive; asked: number[][]; weights: number[][] } {
  const agent = new ScalarisedSearch(bounds, seed, { objectives: 2, maxEvaluations: budget }, (s, b, start, round) =>
    createAgent(round === 0 ? 'random' : inner, bounds, s, inner === 'cmaes' && start ? { x0: start, sigma0: 0.15, maxEvaluations: b } : { maxEvaluations: b }),
  );
  const archive = new ParetoArchive();
  const asked: number[][] = [];
  while (agent.stop().length === 0) {
    const xs = agent.ask().slice(0, budget - archive.size);
    if (xs.length === 0) break;
    const ys = xs.map(objectives);
    xs.forEach((x, i) => archive.add(x, ys[i]));
    asked.push(...xs);
    if (archive.size >= budget) break;
    agent.tellVectors(xs, ys);
  }
  return { archive, asked, weights: agent.roundWeights() };
}

function randomFront(seed: number, budget: number): ParetoArchive {
  const agent = createAgent('random', bounds, seed, { maxEvaluations: budget });
  const archive = new ParetoArchive();
  while (archive.size < budget) {
    const xs = agent.ask().slice(0, budget - archive.size);
    xs.forEach((x) => archive.add(x, objectives(x)));
    agent.tell(xs, xs.map((x) => objectives(x)[0]));
  }
  return archive;
}

describe('ScalarisedSearch (ParEGO-style Chebyshev rounds)', () => {
  it('is deterministic for a seed, and spreads its rounds\' weights over the simplex', () => {
    const a = search(5, 'cmaes', 90);
    const b = search(5, 'cmaes', 90);
    expect(a.asked).toEqual(b.asked);
    expect(a.weights.length).toBeGreaterThanOrEqual(4);
    for (const w of a.weights) expect(w[0] + w[1]).toBeCloseTo(1, 12);
    // Golden-ratio spacing: no two of the first four λ₁ closer than 0.1.
    const firsts = a.weights.slice(0, 4).map((w) => w[0]).sort((x, y) => x - y);
    for (let i = 1; i < firsts.length; i++) expect(firsts[i] - firsts[i - 1]).toBeGreaterThan(0.1);
    expect(search(6, 'cmaes', 90).asked).not.toEqual(a.asked);
  });

  it('asks the same points whatever the budget (a resumed study may raise it)', () => {
    const short = search(8, 'cmaes', 40).asked;
    const long = search(8, 'cmaes', 90).asked;
    expect(long.slice(0, short.length)).toEqual(short);
  });

  it('finds a front with more hypervolume than random search at the same budget (3 seeds)', () => {
    const reference = [-4, -4];
    const ratios = [1, 2, 3].map((seed) => {
      const mo = hypervolume(search(seed, 'cmaes', 120).archive.front().map((e) => e.objectives), reference);
      const rnd = hypervolume(randomFront(seed, 120).front().map((e) => e.objectives), reference);
      return mo / rnd;
    });
    for (const r of ratios) expect(r).toBeGreaterThan(1);
  });

  it('refuses scalar rewards and wrong vectors', () => {
    const agent = new ScalarisedSearch(bounds, 1, { objectives: 2, maxEvaluations: 10 }, (s, b) => createAgent('random', bounds, s, { maxEvaluations: b }));
    const xs = agent.ask();
    expect(() => agent.tell()).toThrow(SamstarError);
    expect(() => agent.tellVectors(xs, xs.map(() => [1]))).toThrow(/expected 2/);
    expect(() => agent.tellVectors(xs.slice(1), xs.slice(1).map(() => [1, 2]))).toThrow(/the last ask/);
  });
});

describe('hypervolume', () => {
  it('matches a Monte Carlo estimate in 2 and 3 objectives and the exact value of boxes', () => {
    expect(hypervolume([[1, 1]], [0, 0])).toBe(1);
    expect(hypervolume([[2, 1], [1, 2]], [0, 0])).toBe(3);
    expect(hypervolume([[2, 1, 1], [1, 2, 1]], [0, 0, 0])).toBe(3);
    expect(hypervolume([[-1, 5]], [0, 0])).toBe(0);
    let seed = 7;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (const m of [2, 3]) {
      const points = Array.from({ length: 12 }, () => Array.from({ length: m }, () => next()));
      let inside = 0;
      const samples = 40000;
      for (let s = 0; s < samples; s++) {
        const y = Array.from({ length: m }, () => next());
        if (points.some((p) => p.every((v, k) => v >= y[k]))) inside++;
      }
      expect(hypervolume(points, new Array(m).fill(0))).toBeCloseTo(inside / samples, 1);
    }
  });
});
