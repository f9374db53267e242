import { describe, expect, it } from 'vitest';
import {
  histogramDistribution,
  kolmogorovSmirnov,
  lognormalDistribution,
  normalDistribution,
  wasserstein1,
  type Distribution,
} from '../../rewards/distributions.js';
import { normalCdf, normalPdf, normalQuantile } from '../../rewards/normal.js';

/** W1 by brute-force integration of |F_n − F| on a fine grid. */
function numericW1(sample: number[], d: Distribution, lo: number, hi: number, steps = 200_000): number {
  const x = [...sample].sort((a, b) => a - b);
  let k = 0, sum = 0;
  const h = (hi - lo) / steps;
  for (let i = 0; i < steps; i++) {
    const t = lo + (i + 0.5) * h;
    while (k < x.length && x[k] <= t) k++;
    sum += Math.abs(k / x.length - d.cdf(t)) * h;
  }
  return sum;
}

describe('normal distribution functions', () => {
  it('Φ and Φ⁻¹ are accurate and inverse', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 13);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 15);
    expect(normalCdf(5)).toBeCloseTo(0.9999997133484281, 15);
    for (const p of [1e-10, 0.001, 0.02, 0.3, 0.5, 0.77, 0.99, 1 - 1e-9]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
    expect(normalPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
  });
});

describe('Wasserstein-1 against a target', () => {
  it('a single point vs a normal is E|c − X| (closed form)', () => {
    const d = normalDistribution(10, 2);
    for (const c of [10, 11.3, 4]) {
      const z = (c - 10) / 2;
      const expected = 2 * (2 * normalPdf(z) + z * (2 * normalCdf(z) - 1));
      expect(wasserstein1([c], d)).toBeCloseTo(expected, 10);
    }
  });

  it('matches numerical integration for normal, log-normal and histogram targets', () => {
    const sample = [3.1, 5.5, 6, 7.2, 9.9, 12, 12.5, 20];
    const cases: [Distribution, number, number][] = [
      [normalDistribution(9, 3), -20, 40],
      [lognormalDistribution(8, 0.4), 0, 80],
      [histogramDistribution([0, 4, 8, 16, 30], [1, 3, 2, 0.5]), 0, 40],
    ];
    for (const [d, lo, hi] of cases) expect(wasserstein1(sample, d)).toBeCloseTo(numericW1(sample, d, lo, hi), 4);
  });

  it('is 0-ish for the target quantiles and grows with a shift', () => {
    const d = lognormalDistribution(12, 0.3);
    const n = 400;
    const quantiles = Array.from({ length: n }, (_, i) => d.quantile((i + 0.5) / n));
    const w0 = wasserstein1(quantiles, d);
    expect(w0).toBeLessThan(0.05);
    expect(wasserstein1(quantiles.map((q) => q + 2), d)).toBeCloseTo(2, 1);
    expect(wasserstein1(quantiles.map((q) => q * 1.5), d)).toBeGreaterThan(5);
  });

  it('histogram target: partial means add up to the mean', () => {
    const d = histogramDistribution([0, 2, 6], [1, 1]);
    expect(d.mean).toBeCloseTo(0.5 * 1 + 0.5 * 4, 12);
    expect(d.partialMean(6)).toBeCloseTo(d.mean, 12);
    expect(d.partialMean(2)).toBeCloseTo(0.5, 12);
    expect(d.quantile(0.75)).toBeCloseTo(4, 12);
  });
});

describe('Kolmogorov–Smirnov', () => {
  it('one point at the median of a normal gives D = 1/2', () => {
    expect(kolmogorovSmirnov([5], normalDistribution(5, 1))).toBeCloseTo(0.5, 12);
    expect(kolmogorovSmirnov([], normalDistribution(5, 1))).toBe(1);
    expect(kolmogorovSmirnov([100, 101], normalDistribution(5, 1))).toBeCloseTo(1, 12);
  });
});
