import { describe, expect, it } from 'vitest';
import { BayesOpt, type BayesOptOptions } from '../../agents/bayesopt.js';
import {
  expectedImprovement,
  flatten,
  GaussianProcess,
  inverseFromCholesky,
  choleskyWithJitter,
  logMarginalLikelihood,
  logPrior,
} from '../../agents/gp.js';
import { normalCdf } from '../../agents/normal.js';
import { RandomSearch } from '../../agents/random.js';
import type { AskTellAgent, SearchBounds } from '../../agents/types.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { describeAgentConformance } from './conformance.js';

const box = (d: number, steps?: number[]): SearchBounds => ({ low: new Array(d).fill(-1), high: new Array(d).fill(1), steps });

/** Drive an agent until it stops or has spent `budget` evaluations; returns the best reward. */
function drive(agent: AskTellAgent, f: (x: number[]) => number, budget: number): number {
  let used = 0;
  while (used < budget && agent.stop().length === 0) {
    const xs = agent.ask().slice(0, budget - used);
    if (xs.length === 0) break;
    agent.tell(xs, xs.map(f));
    used += xs.length;
  }
  return agent.best()?.reward ?? -Infinity;
}

/** Branin on [−1, 1]² (mapped to [−5, 10] × [0, 15]), negated: maximum −0.397887. */
function branin(x: number[]): number {
  const a = 7.5 * (x[0] + 1) - 5;
  const b = 7.5 * (x[1] + 1);
  return -((b - (5.1 / (4 * Math.PI ** 2)) * a * a + (5 / Math.PI) * a - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(a) + 10);
}

/** Hartmann-4 style: a sum of four anisotropic Gaussian bumps on [−1, 1]⁴ (maximum ≈ 3.1 at the tallest bump). */
function bumps4(x: number[]): number {
  const centres = [
    [0.3, -0.4, 0.6, -0.2],
    [-0.6, 0.5, -0.3, 0.4],
    [0.7, 0.7, -0.7, 0.1],
    [-0.2, -0.8, 0.2, 0.8],
  ];
  const heights = [3, 2, 1.5, 1];
  const widths = [1.5, 4, 2.5, 3];
  let s = 0;
  for (let j = 0; j < 4; j++) {
    let r2 = 0;
    for (let k = 0; k < 4; k++) r2 += (k + 1) * (x[k] - centres[j][k]) ** 2;
    s += heights[j] * Math.exp(-widths[j] * r2);
  }
  return s;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('Gaussian process', () => {
  const rng = new Rng(11);
  const points = Array.from({ length: 15 }, () => [rng.next(), rng.next()]);
  const y = points.map((p) => Math.sin(4 * p[0]) + 2 * p[1] * p[1]);
  const theta = [Math.log(0.3), Math.log(0.4), Math.log(1), Math.log(1e-8)];

  it('interpolates its training points when the noise is small, with variance ≥ 0 that falls to the noise at the data', () => {
    const gp = new GaussianProcess(points, y, theta);
    points.forEach((p, i) => {
      const { mean, variance } = gp.predict(p);
      expect(mean).toBeCloseTo(y[i], 4);
      expect(variance).toBeGreaterThanOrEqual(0);
      expect(variance).toBeLessThanOrEqual(gp.noiseVariance * 1.0001 + 1e-12);
    });
    for (let t = 0; t < 200; t++) {
      const { variance } = gp.predict([rng.uniform(-0.5, 1.5), rng.uniform(-0.5, 1.5)]);
      expect(variance).toBeGreaterThanOrEqual(0);
      expect(variance).toBeLessThanOrEqual(gp.signalVariance * (1 + 1e-9));
    }
    // The O(n) training means agree with full predictions.
    const means = gp.trainingMeansStandardised();
    points.forEach((p, i) => expect(means[i]).toBeCloseTo(gp.predictStandardised(p).mean, 9));
    // Far from the data the posterior returns to the prior.
    expect(gp.predict([30, 30]).variance).toBeCloseTo(gp.signalVariance, 6);
    expect(gp.predict([30, 30]).mean).toBeCloseTo(gp.standardisation.mean, 6);
  });

  it('with a larger noise the variance at the data is about the noise variance and the mean smooths', () => {
    const noisy = [Math.log(0.3), Math.log(0.4), Math.log(1), Math.log(0.05)];
    const gp = new GaussianProcess(points, y, noisy);
    for (const p of points) {
      const v = gp.predict(p).variance;
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(gp.noiseVariance);
      expect(v).toBeGreaterThan(0.1 * gp.noiseVariance);
    }
  });

  it('log marginal likelihood gradients match central finite differences', () => {
    const r = new Rng(3);
    for (const dim of [1, 3]) {
      const X = Array.from({ length: 12 }, () => Array.from({ length: dim }, () => r.next()));
      const ys = X.map((x) => Math.cos(3 * x[0]) + (x[dim - 1] ?? 0) ** 2 + 0.05 * r.normal());
      const Xf = flatten(X, dim);
      for (let trial = 0; trial < 3; trial++) {
        const th = [...Array.from({ length: dim }, () => Math.log(0.2 + r.next())), r.uniform(-1, 1), r.uniform(-6, -1)];
        const { grad } = logMarginalLikelihood(Xf, ys, dim, th, true);
        const prior = logPrior(th, dim);
        for (let i = 0; i < dim + 2; i++) {
          const h = 1e-5;
          const up = [...th];
          const down = [...th];
          up[i] += h;
          down[i] -= h;
          const fd = (logMarginalLikelihood(Xf, ys, dim, up).value - logMarginalLikelihood(Xf, ys, dim, down).value) / (2 * h);
          expect(grad![i]).toBeCloseTo(fd, 4);
          const fdPrior = (logPrior(up, dim).value - logPrior(down, dim).value) / (2 * h);
          expect(prior.grad[i]).toBeCloseTo(fdPrior, 6);
        }
      }
    }
  });

  it('inverts through the Cholesky factor and adds jitter only when needed', () => {
    const K = new Float64Array([4, 2, 0.6, 2, 2, 0.5, 0.6, 0.5, 3]);
    const fac = choleskyWithJitter(K, 3)!;
    expect(fac.jitter).toBe(0);
    const inv = inverseFromCholesky(fac.L, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += K[i * 3 + k] * inv[k * 3 + j];
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
    const singular = new Float64Array([1, 1, 1, 1]);
    const fixed = choleskyWithJitter(singular, 2)!;
    expect(fixed.jitter).toBeGreaterThan(0);
  });

  it('fits longer length-scales along a dimension the function ignores (ARD)', () => {
    const r = new Rng(5);
    const X = Array.from({ length: 25 }, () => [r.next(), r.next()]);
    const ys = X.map((x) => Math.sin(6 * x[0]));
    const gp = GaussianProcess.fit(X, ys, { rng: new Rng(1) });
    const [l0, l1] = gp.lengthscales;
    expect(l1).toBeGreaterThan(3 * l0);
    expect(gp.noiseVariance).toBeLessThan(1e-2);
  });
});

describe('expected improvement (maximisation)', () => {
  it('is max(μ − best, 0) where σ = 0: zero at or below the incumbent', () => {
    expect(expectedImprovement(1, 0, 1)).toBe(0);
    expect(expectedImprovement(0.5, 0, 1)).toBe(0);
    expect(expectedImprovement(1.5, 0, 1)).toBeCloseTo(0.5, 12);
    expect(expectedImprovement(1, 0, 1, 0.01)).toBe(0);
  });

  it('equals σφ(0) at the incumbent and grows with σ at equal mean', () => {
    expect(expectedImprovement(2, 1, 2)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 7);
    for (const mean of [-3, -0.5, 0, 0.7]) {
      let previous = expectedImprovement(mean, 0, 0);
      for (const sd of [0.01, 0.05, 0.1, 0.3, 1, 3, 10]) {
        const ei = expectedImprovement(mean, sd, 0);
        // Strictly larger where the change is representable in doubles (below the incumbent until EI underflows,
        // above it while σ·h(−z) is not lost next to μ − best); never smaller.
        const z = mean / sd;
        if (mean <= 0 ? z > -30 : z < 7) expect(ei).toBeGreaterThan(previous);
        else expect(ei).toBeGreaterThanOrEqual(previous);
        previous = ei;
      }
    }
  });

  it('stays positive, accurate and decreasing far below the incumbent', () => {
    let previous = Infinity;
    for (let z = -3; z >= -30; z -= 0.5) {
      const ei = expectedImprovement(z, 1, 0);
      expect(ei).toBeGreaterThanOrEqual(0);
      expect(ei).toBeLessThan(previous);
      previous = ei;
    }
    // h(−7) = φ(7) − 7Φ(−7) = 9.13472e-12 − 7 · 1.27981e-12 ≈ 1.7605e-13
    expect(expectedImprovement(-7, 1, 0)).toBeGreaterThan(1.755e-13);
    expect(expectedImprovement(-7, 1, 0)).toBeLessThan(1.765e-13);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.975, 4);
  });
});

describe('BayesOpt agent', () => {
  it('starts with a Latin-hypercube design of max(5, 2d) points inside the box', () => {
    for (const d of [1, 2, 4]) {
      const agent = new BayesOpt(box(d), 1);
      const design = agent.ask();
      expect(design).toHaveLength(Math.max(5, 2 * d));
      const n = design.length;
      for (let k = 0; k < d; k++) {
        // One point per stratum in every dimension.
        const strata = design.map((x) => Math.floor(((x[k] + 1) / 2) * n)).sort((a, b) => a - b);
        expect(strata).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }
  });

  it('beats random search on Branin (2-D) and a 4-D bump function in the median over seeds, within 40 evaluations', () => {
    const seeds = [1, 2, 3];
    for (const [f, d] of [
      [branin, 2],
      [bumps4, 4],
    ] as const) {
      const bo = seeds.map((s) => drive(new BayesOpt(box(d), s, { maxEvaluations: 40 }), f, 40));
      const rs = seeds.map((s) => drive(new RandomSearch(box(d), s, { maxEvaluations: 40 }), f, 40));
      expect(median(bo)).toBeGreaterThan(median(rs));
      if (f === branin) expect(median(bo)).toBeGreaterThan(-0.6); // optimum −0.398; random search sits around −1…−3
    }
  });

  it('proposes only lattice points on stepped dimensions and finds a lattice optimum', () => {
    const steps = [2 / 7, 0, 0.5];
    const agent = new BayesOpt(box(3, steps), 4, { maxEvaluations: 30 });
    const f = (x: number[]): number => -((x[0] - 3 / 7) ** 2) - (x[1] - 0.2) ** 2 - (x[2] + 0.5) ** 2;
    const onLattice = (v: number, s: number): boolean => Math.abs((v + 1) / s - Math.round((v + 1) / s)) < 1e-9;
    while (agent.stop().length === 0) {
      const xs = agent.ask();
      for (const x of xs) {
        expect(onLattice(x[0], steps[0])).toBe(true);
        expect(onLattice(x[2], steps[2])).toBe(true);
        for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      }
      agent.tell(xs, xs.map(f));
    }
    const best = agent.best()!;
    expect(best.x[0]).toBeCloseTo(3 / 7, 9);
    expect(best.x[2]).toBeCloseTo(-0.5, 9);
    expect(Math.abs(best.x[1] - 0.2)).toBeLessThan(0.15);
  });

  it('fills a batch with distinct points (kriging believer and constant liar)', () => {
    for (const fantasy of ['believer', 'liar'] as const) {
      const agent = new BayesOpt(box(2), 2, { batch: 4, fantasy });
      const design = agent.ask();
      agent.tell(design, design.map(branin));
      const batch = agent.ask();
      expect(batch).toHaveLength(4);
      for (let i = 0; i < 4; i++) for (let j = 0; j < i; j++) expect(batch[i]).not.toEqual(batch[j]);
      agent.tell(batch, batch.map(branin));
    }
  });

  it('respects the budget (initial design truncated, then no more candidates) and reports `budget`', () => {
    const agent = new BayesOpt(box(3), 1, { maxEvaluations: 4 });
    const design = agent.ask();
    expect(design).toHaveLength(4);
    expect(agent.stop()).toEqual([]);
    agent.tell(design, design.map((x) => -x[0] * x[0]));
    expect(agent.stop()).toEqual(['budget']);
    expect(agent.ask()).toEqual([]);
  });

  it('reports `ei-small` after `eiPatience` asks with EI under the tolerance', () => {
    const agent = new BayesOpt(box(1), 1, { eiTolerance: 1e9, eiPatience: 2 });
    const f = (x: number[]): number => -x[0] * x[0];
    for (let i = 0; i < 2; i++) {
      const xs = agent.ask();
      agent.tell(xs, xs.map(f));
      expect(agent.stop()).toEqual([]);
    }
    const xs = agent.ask();
    agent.tell(xs, xs.map(f));
    expect(agent.stop()).toEqual(['ei-small']);
  });

  it('survives failed (NaN) evaluations: they count as the worst reward and best() ignores them', () => {
    const agent = new BayesOpt(box(2), 9, { maxEvaluations: 20 });
    const f = (x: number[]): number => (x[0] > 0.3 ? NaN : branin(x));
    drive(agent, f, 20);
    const best = agent.best()!;
    expect(Number.isFinite(best.reward)).toBe(true);
    expect(best.x[0]).toBeLessThanOrEqual(0.3);
    // Nothing told at all is finite: best() stays undefined, asks go on.
    const blind = new BayesOpt(box(2), 1);
    for (let i = 0; i < 3; i++) {
      const xs = blind.ask();
      expect(xs.length).toBeGreaterThan(0);
      blind.tell(xs, xs.map(() => NaN));
    }
    expect(blind.best()).toBeUndefined();
  });

  it('is deterministic under a seed and differs across seeds', () => {
    const trace = (seed: number): number[][] => {
      const agent = new BayesOpt(box(2), seed, { maxEvaluations: 12 });
      const all: number[][] = [];
      while (agent.stop().length === 0) {
        const xs = agent.ask();
        all.push(...xs);
        agent.tell(xs, xs.map(branin));
      }
      return all;
    };
    expect(trace(7)).toEqual(trace(7));
    expect(trace(7)).not.toEqual(trace(8));
  });

  it('checks tell() counts and its options', () => {
    const agent = new BayesOpt(box(2), 1);
    const xs = agent.ask();
    expect(() => agent.tell(xs.slice(1), xs.slice(1).map(branin))).toThrow(SamstarError);
    expect(() => agent.tell(xs, [1])).toThrow(SamstarError);
    expect(() => new BayesOpt(box(2), 1, { batch: 0 })).toThrow(/batch/);
    expect(() => new BayesOpt(box(2), 1, { fantasy: 'hope' } as unknown as BayesOptOptions)).toThrow(/fantasy/);
    expect(() => new BayesOpt({ low: [0, 1], high: [1, 0] }, 1)).toThrow(/bounds/);
  });

  it('exposes diagnostics (timing, fits, model) after model-based asks', () => {
    const agent = new BayesOpt(box(2), 3, { maxEvaluations: 10 });
    drive(agent, branin, 10);
    const d = agent.diagnostics();
    expect(d.evaluations).toBe(10);
    expect(d.fits).toBeGreaterThan(0);
    expect(d.lengthscales).toHaveLength(2);
    expect(Number.isFinite(d.lastMaxEi)).toBe(true);
    expect(agent.surrogate()).toBeDefined();
  });
});

// A 30-evaluation budget keeps the suite's ~20 BO runs fast; BO reaches the quadratic's tolerance well within it.
describeAgentConformance('bo', (bounds, seed) => new BayesOpt(bounds, seed, { maxEvaluations: 30 }), {
  gridCandidates: true,
  seedSensitive: true,
});
describeAgentConformance('bo (batches of 3, constant liar)', (bounds, seed) => new BayesOpt(bounds, seed, { maxEvaluations: 30, batch: 3, fantasy: 'liar' }), {
  gridCandidates: true,
  seeds: [1],
});
