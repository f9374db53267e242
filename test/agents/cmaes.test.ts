import { describe, expect, it } from 'vitest';
import { CmaEs } from '../../agents/cmaes.js';
import { cmaesParameters } from '../../agents/cmaes-params.js';
import { boundTransform, boundTransformInverse, makeCoords } from '../../agents/cmaes-space.js';
import { normalCdf, normalQuantile } from '../../agents/normal.js';
import { symmetricEigen } from '../../agents/linalg.js';
import type { SearchBounds } from '../../agents/types.js';
import { Rng } from '../../src/util/rng.js';
import { describeAgentConformance } from './conformance.js';

const sphere = (x: number[]): number => x.reduce((s, v) => s + v * v, 0);
const ellipsoid = (x: number[]): number => x.reduce((s, v, i) => s + 10 ** ((6 * i) / (x.length - 1)) * v * v, 0);
const rastrigin = (x: number[]): number => 10 * x.length + x.reduce((s, v) => s + v * v - 10 * Math.cos(2 * Math.PI * v), 0);
const box = (n: number, steps?: number[]): SearchBounds => ({ low: new Array(n).fill(-1), high: new Array(n).fill(1), steps });

describeAgentConformance('cmaes', (bounds, seed) => new CmaEs(bounds, seed), { tolerance: 0.05, gridCandidates: true, seedSensitive: true });
// Passive CMA-ES after 300 evaluations on the 4-D quadratic, seeds 1–40: median distance 0.005, two seeds
// beyond 0.05 (0.07, 0.12: the mean wanders in the folded outside of the box), all within 0.15.
describeAgentConformance('cmaes (IPOP, passive)', (bounds, seed) => new CmaEs(bounds, seed, { restarts: 3, active: false }), { tolerance: 0.15, gridCandidates: true });

describe("CMA-ES defaults (Hansen 2016, with pycma's c_μ)", () => {
  /** The formulas, written out independently of cmaes-params.ts (c_μ with pycma's extra 1/4). */
  function expected(n: number) {
    const lambda = 4 + Math.floor(3 * Math.log(n));
    const mu = Math.floor(lambda / 2);
    const w = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
    const mueff = w.reduce((a, b) => a + b) ** 2 / w.reduce((a, b) => a + b * b, 0);
    const cs = (mueff + 2) / (n + mueff + 5);
    return {
      lambda,
      mu,
      mueff,
      cs,
      ds: 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs,
      cc: (4 + mueff / n) / (n + 4 + (2 * mueff) / n),
      c1: 2 / ((n + 1.3) ** 2 + mueff),
      cmu: Math.min(1 - 2 / ((n + 1.3) ** 2 + mueff), (2 * (0.25 + mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff)),
    };
  }

  it.each([2, 10, 20])('n = %i matches the formulas', (n) => {
    const p = cmaesParameters(n);
    const e = expected(n);
    expect(p.lambda).toBe(e.lambda);
    expect(p.mu).toBe(e.mu);
    for (const key of ['mueff', 'cs', 'ds', 'cc', 'c1', 'cmu'] as const) expect(p[key], key).toBeCloseTo(e[key], 12);
  });

  it('pins n = 2, 10, 20 to the reference figures', () => {
    const p2 = cmaesParameters(2);
    expect([p2.lambda, p2.mu]).toEqual([6, 3]);
    expect(p2.mueff).toBeCloseTo(2.0286, 4);
    const p = cmaesParameters(10);
    expect([p.lambda, p.mu]).toEqual([10, 5]);
    expect(p.mueff).toBeCloseTo(3.167, 3);
    expect(p.cs).toBeCloseTo(0.284, 3);
    expect(p.cc).toBeCloseTo(0.295, 3);
    expect(p.c1).toBeCloseTo(0.0153, 4);
    expect(p.cmu).toBeCloseTo(0.0236, 4);
    expect(cmaesParameters(10, { cmu: 'tutorial' }).cmu).toBeCloseTo(0.0202, 4);
    expect(p.ds).toBeCloseTo(1 + p.cs, 12); // √((μ_eff − 1)/(n + 1)) < 1
    const p20 = cmaesParameters(20);
    expect([p20.lambda, p20.mu]).toEqual([12, 6]);
  });

  it.each([2, 10, 20])('active weights for n = %i: positive sum 1, negatives scaled as in the tutorial', (n) => {
    const p = cmaesParameters(n);
    const pos = [...p.weights].filter((w) => w > 0);
    const neg = [...p.weights].filter((w) => w < 0);
    expect(pos.length).toBe(p.mu);
    expect(pos.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    for (let i = 1; i < p.lambda; i++) expect(p.weights[i]).toBeLessThanOrEqual(p.weights[i - 1]);
    const negSum = -neg.reduce((a, b) => a + b, 0);
    const bound = Math.min(1 + p.c1 / p.cmu, 1 + (2 * p.mueffNeg) / (p.mueff + 2), (1 - p.c1 - p.cmu) / (n * p.cmu));
    expect(negSum).toBeCloseTo(bound, 12);
    expect(p.weightSum).toBeCloseTo(1 - negSum, 12);
    expect(cmaesParameters(n, { active: false }).weights.filter((w) => w < 0).length).toBe(0);
  });
});

describe('CMA-ES helpers', () => {
  it('Jacobi eigensolver reconstructs random symmetric matrices', () => {
    const rng = new Rng(5);
    for (const n of [1, 2, 5, 10, 30]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal() * (i === j ? 10 : 1);
      const values = new Float64Array(n);
      const v = new Float64Array(n * n);
      symmetricEigen(n, a, values, v, new Float64Array(n * n));
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let r = 0;
          let o = 0;
          for (let k = 0; k < n; k++) {
            r += v[i * n + k] * values[k] * v[j * n + k];
            o += v[k * n + i] * v[k * n + j];
          }
          expect(Math.abs(r - a[i * n + j])).toBeLessThan(1e-10);
          expect(Math.abs(o - (i === j ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('the bound transform is the identity inside, smooth near the edges, in the box everywhere', () => {
    const [c] = makeCoords({ low: [-1], high: [1] });
    expect(boundTransform(c, 0.5)).toBe(0.5);
    expect(boundTransform(c, -0.85)).toBe(-0.85);
    for (let x = -20; x <= 20; x += 0.0137) {
      const y = boundTransform(c, x);
      expect(y).toBeGreaterThanOrEqual(-1);
      expect(y).toBeLessThanOrEqual(1);
      // Continuity: no jumps (Lipschitz 1).
      expect(Math.abs(boundTransform(c, x + 1e-6) - y)).toBeLessThan(1.01e-6);
    }
    for (const y of [-1, -0.95, -0.9, 0, 0.93, 1]) expect(boundTransform(c, boundTransformInverse(c, y))).toBeCloseTo(y, 12);
    const [half] = makeCoords({ low: [0], high: [Infinity] });
    for (let x = -5; x <= 5; x += 0.1) expect(boundTransform(half, x)).toBeGreaterThanOrEqual(0);
    expect(boundTransform(half, 3)).toBe(3);
  });

  it('normal cdf and quantile agree', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    for (const p of [1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.8, 0.99, 0.999999]) expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 5);
  });
});

describe('CMA-ES convergence', () => {
  it('sphere and ellipsoid (10-D) reach 1e-8 in a sane number of evaluations', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const x0 = Array.from({ length: 10 }, () => rng.uniform(-2, 2));
      const s = CmaEs.minimise(sphere, { x0, sigma0: 1, fTarget: 1e-8, seed });
      expect(s.stops).toEqual(['target']);
      expect(s.evaluations).toBeGreaterThan(900);
      expect(s.evaluations).toBeLessThan(2000);
      const e = CmaEs.minimise(ellipsoid, { x0, sigma0: 1, fTarget: 1e-8, seed });
      expect(e.stops).toEqual(['target']);
      expect(e.evaluations).toBeGreaterThan(2500);
      expect(e.evaluations).toBeLessThan(6000);
    }
  });

  it('active CMA learns the ellipsoid faster than passive CMA', () => {
    let active = 0;
    let passive = 0;
    for (const seed of [1, 2, 3, 4]) {
      const x0 = new Array(10).fill(1);
      active += CmaEs.minimise(ellipsoid, { x0, sigma0: 1, fTarget: 1e-8, seed }).evaluations;
      passive += CmaEs.minimise(ellipsoid, { x0, sigma0: 1, fTarget: 1e-8, seed, active: false }).evaluations;
    }
    expect(passive / active).toBeGreaterThan(1.15);
  });

  it('is deterministic under a seed', () => {
    const a = CmaEs.minimise(rastrigin, { x0: [3, -2, 1], sigma0: 2, seed: 7, restarts: 2, maxEvaluations: 3000 });
    const b = CmaEs.minimise(rastrigin, { x0: [3, -2, 1], sigma0: 2, seed: 7, restarts: 2, maxEvaluations: 3000 });
    expect(b).toEqual(a);
    const c = CmaEs.minimise(rastrigin, { x0: [3, -2, 1], sigma0: 2, seed: 8, restarts: 2, maxEvaluations: 3000 });
    expect(c.x).not.toEqual(a.x);
  });
});

describe('CMA-ES bounds', () => {
  it('asks only points in the box and ends on the boundary when the optimum is outside', () => {
    for (const seed of [1, 2, 3]) {
      const bounds: SearchBounds = { low: [-1, 0, -5, 2], high: [1, 10, -4, 3] };
      const agent = new CmaEs(bounds, seed, { maxEvaluations: 3000 });
      const target = [2, 5, -10, 2.5]; // outside in coordinates 0 and 2, inside in 1 and 3
      let outside = 0;
      while (agent.stop().length === 0) {
        const xs = agent.ask();
        for (const x of xs) x.forEach((v, i) => (v < bounds.low[i] || v > bounds.high[i]) && outside++);
        agent.tell(xs, xs.map((x) => -x.reduce((s, v, i) => s + (v - target[i]) ** 2, 0)));
      }
      expect(outside).toBe(0);
      const best = agent.best()!.x;
      expect(best[0]).toBeCloseTo(1, 6);
      expect(best[1]).toBeCloseTo(5, 6);
      expect(best[2]).toBeCloseTo(-5, 6);
      expect(best[3]).toBeCloseTo(2.5, 6);
      // The internal mean may leave the box (the transform folds it back).
      expect(agent.diagnostics().mean[0]).toBeGreaterThan(1);
    }
  });

  it('default x0 is the box centre, default σ0 0.3 × the width per coordinate', () => {
    const agent = new CmaEs({ low: [0, -10], high: [1, 10] }, 1);
    const d = agent.diagnostics();
    expect(d.mean).toEqual([0.5, 0]);
    expect(d.stds[0]).toBeCloseTo(0.3, 12);
    expect(d.stds[1]).toBeCloseTo(6, 12);
    const u = new CmaEs({ low: [0, -10], high: [1, 10] }, 1, { x0: 'uniform' }).diagnostics().mean;
    expect(u).not.toEqual([0.5, 0]);
  });
});

describe('CMA-ES integer dimensions (margin)', () => {
  // 4 continuous coordinates (an ellipsoid, which drives σ down fast) and 4 integer ones
  // (step 0.25 on [−1, 1]) whose optimum needs several level moves from the centre.
  const nc = 4;
  const step = 0.25;
  const targets = [1, -0.75, 0.5, -1];
  const level = (v: number): number => Math.min(1, Math.max(-1, Math.round(v / step) * step));
  const f = (x: number[]): number => {
    let v = 0;
    for (let i = 0; i < nc; i++) v += 10 ** i * (x[i] - 0.3) ** 2;
    for (let j = 0; j < targets.length; j++) v += 1e-3 * Math.abs(level(x[nc + j]) - targets[j]);
    return v;
  };
  const steps = [0, 0, 0, 0, step, step, step, step];

  function solve(withSteps: boolean, seed: number, check?: (agent: CmaEs, xs: number[][]) => void): boolean {
    const agent = new CmaEs(box(8, withSteps ? steps : undefined), seed, { maxEvaluations: 5000 });
    while (agent.stop().length === 0) {
      const xs = agent.ask();
      agent.tell(
        xs,
        xs.map((x) => -f(x)),
      );
      check?.(agent, xs);
    }
    const best = agent.best()!.x;
    return targets.every((t, j) => level(best[nc + j]) === t);
  }

  it('reaches the integer optimum that rounding-only CMA-ES misses', () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
    const margin = seeds.filter((s) => solve(true, s)).length;
    const rounding = seeds.filter((s) => solve(false, s)).length;
    expect(margin).toBeGreaterThanOrEqual(6);
    expect(rounding).toBeLessThanOrEqual(2);
  });

  it('asks grid values only and never lets an integer coordinate freeze', () => {
    let minContinuousStd = Infinity;
    solve(true, 3, (agent, xs) => {
      for (const x of xs) for (let j = nc; j < 8; j++) expect(Math.abs(x[j] / step - Math.round(x[j] / step))).toBeLessThan(1e-12);
      const d = agent.diagnostics();
      const alpha = 1 / (8 * d.lambda);
      for (let j = nc; j < 8; j++) {
        // Probability that a sample leaves the mean's level: ≥ α (the margin).
        const m = d.mean[j];
        const k = Math.min(4, Math.max(-4, Math.round(m / step)));
        const below = k > -4 ? normalCdf(((k - 0.5) * step - m) / d.stds[j]) : 0;
        const above = k < 4 ? normalCdf((m - (k + 0.5) * step) / d.stds[j]) : 0;
        expect(below + above).toBeGreaterThan(0.98 * alpha);
      }
      minContinuousStd = Math.min(minContinuousStd, ...d.stds.slice(0, nc));
    });
    // Meanwhile the continuous coordinates converged far below the step.
    expect(minContinuousStd).toBeLessThan(1e-4 * step);
  });
});

describe('CMA-ES restarts (IPOP)', () => {
  it('doubles λ at each restart and reports stops only when restarts are used up', () => {
    const agent = new CmaEs({ low: [-Infinity, -Infinity], high: [Infinity, Infinity] }, 1, { x0: [1, 2], sigma0: 1, tolX: 1e-3, restarts: 3 });
    const lambdas: number[] = [];
    while (agent.stop().length === 0) {
      const xs = agent.ask();
      if (lambdas[lambdas.length - 1] !== xs.length) lambdas.push(xs.length);
      agent.tell(
        xs,
        xs.map((x) => -sphere(x)),
      );
    }
    expect(lambdas).toEqual([6, 12, 24, 48]);
    expect(agent.stop()).toEqual(['tolx']);
    const d = agent.diagnostics();
    expect(d.restarts).toBe(3);
    expect(d.runs.map((r) => r.lambda)).toEqual([6, 12, 24, 48]);
    expect(d.runs.every((r) => r.reasons.includes('tolx'))).toBe(true);
  });

  it('solves Rastrigin 2-D and 5-D more often than a single run', () => {
    for (const [n, seeds, budget] of [
      [2, 8, 20_000],
      [5, 5, 60_000],
    ] as const) {
      let single = 0;
      let ipop = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const rng = new Rng(100 + seed);
        const x0 = Array.from({ length: n }, () => rng.uniform(-5, 5));
        const options = { x0, sigma0: 2.5, fTarget: 1e-8, seed, maxEvaluations: budget };
        if (CmaEs.minimise(rastrigin, options).f <= 1e-8) single++;
        if (CmaEs.minimise(rastrigin, { ...options, restarts: 9 }).f <= 1e-8) ipop++;
      }
      expect(ipop, `n = ${n}`).toBeGreaterThan(single);
      expect(ipop, `n = ${n}`).toBeGreaterThanOrEqual(seeds - 1);
    }
  });
});

describe('CMA-ES stop reasons', () => {
  it('tolx on the sphere with a tight tolerance', () => {
    const r = CmaEs.minimise(sphere, { x0: [1, 2, 3], sigma0: 1, tolX: 1e-6, tolFun: 0, seed: 1 });
    expect(r.stops).toEqual(['tolx']);
    expect(r.f).toBeLessThan(1e-9);
  });

  it('tolfun on the sphere with the defaults', () => {
    expect(CmaEs.minimise(sphere, { x0: [1, 2, 3], sigma0: 1, seed: 1 }).stops).toContain('tolfun');
  });

  it('budget', () => {
    const r = CmaEs.minimise(sphere, { x0: [1, 2, 3], sigma0: 1, maxEvaluations: 100, seed: 1 });
    expect(r.stops).toEqual(['budget']);
    expect(r.evaluations).toBeGreaterThanOrEqual(100);
    expect(r.evaluations).toBeLessThan(100 + 7);
  });

  it('target (minimise and the reward face)', () => {
    expect(CmaEs.minimise(sphere, { x0: [1, 2, 3], sigma0: 1, fTarget: 1e-3, seed: 1 }).stops).toEqual(['target']);
    const agent = new CmaEs(box(3), 1, { rewardTarget: -1e-3 });
    while (agent.stop().length === 0) {
      const xs = agent.ask();
      agent.tell(
        xs,
        xs.map((x) => -sphere(x)),
      );
    }
    expect(agent.stop()).toEqual(['target']);
    expect(agent.best()!.reward).toBeGreaterThanOrEqual(-1e-3);
  });

  it('conditioncov when f depends on one coordinate only', () => {
    const r = CmaEs.minimise((x) => x[0] ** 2, { x0: [1, 2, 3], sigma0: 1, tolFun: 0, seed: 1 });
    expect(r.stops).toContain('conditioncov');
  });

  it('stagnation on a flat f (tolfun off), tolfun with the defaults', () => {
    for (const seed of [1, 2, 3]) {
      const flat = new CmaEs(box(3), seed, { tolFun: 0 });
      let generations = 0;
      while (flat.stop().length === 0 && generations < 5000) {
        const xs = flat.ask();
        flat.tell(
          xs,
          xs.map(() => 1),
        );
        generations++;
      }
      expect(flat.stop()).toEqual(['stagnation']);
      expect(generations).toBeGreaterThanOrEqual(120);
      const flatDefault = new CmaEs(box(3), seed);
      while (flatDefault.stop().length === 0) {
        const xs = flatDefault.ask();
        flatDefault.tell(
          xs,
          xs.map(() => 1),
        );
      }
      expect(flatDefault.stop()).toEqual(['tolfun']);
    }
  });
});

describe('CMA-ES contract details', () => {
  it('rejects tell() without ask() and wrong counts with clear errors', () => {
    const agent = new CmaEs(box(2), 1);
    expect(() => agent.tell([[0, 0]], [1])).toThrow(/without a pending ask/);
    const xs = agent.ask();
    expect(() => agent.tell(xs, [1])).toThrow(/got 6 candidates and 1 rewards, expected 6/);
    expect(() => agent.tell(xs.map((x) => x.slice(1)), xs.map(() => 0))).toThrow(/candidate 0 has 1 entries, expected 2/);
  });

  it('a repeated ask() before tell() returns the same candidates', () => {
    const agent = new CmaEs(box(3), 1);
    expect(agent.ask()).toEqual(agent.ask());
  });

  it('validates its inputs', () => {
    expect(() => new CmaEs({ low: [0, 1], high: [1] }, 1)).toThrow(/entries/);
    expect(() => new CmaEs({ low: [1], high: [0] }, 1)).toThrow(/not an interval/);
    expect(() => new CmaEs(box(2), 1, { x0: [0] })).toThrow(/x0 has 1 entries/);
    expect(() => new CmaEs(box(2), 1, { sigma0: -1 })).toThrow(/sigma0/);
    expect(() => CmaEs.minimise(sphere, {})).toThrow(/bounds or a numeric x0/);
  });

  it('overhead per candidate stays far below 0.1 ms at n = 10 (loose: 1 ms)', () => {
    const agent = new CmaEs(box(10), 1, { maxEvaluations: 3000 });
    const t0 = performance.now();
    let count = 0;
    while (agent.stop().length === 0) {
      const xs = agent.ask();
      agent.tell(
        xs,
        xs.map((x) => -sphere(x)),
      );
      count += xs.length;
    }
    expect((performance.now() - t0) / count).toBeLessThan(1);
  });
});
