import { describe, expect, it } from 'vitest';
import { logGamma, samplePoisson } from '../../src/data/poisson.js';
import { Rng } from '../../src/util/rng.js';

describe('samplePoisson', () => {
  for (const mean of [0.7, 4, 15, 80, 2500]) {
    it(`mean ${mean}: sample mean and variance match`, () => {
      const rng = new Rng(Math.round(mean * 10));
      const n = 20_000;
      let s = 0;
      let s2 = 0;
      let bad = 0;
      for (let i = 0; i < n; i++) {
        const k = samplePoisson(rng, mean);
        if (!Number.isInteger(k) || k < 0) bad++;
        s += k;
        s2 += k * k;
      }
      expect(bad).toBe(0);
      const m = s / n;
      const v = s2 / n - m * m;
      expect(Math.abs(m - mean)).toBeLessThan(5 * Math.sqrt(mean / n));
      expect(Math.abs(v / mean - 1)).toBeLessThan(0.06);
    });
  }

  it('mean 25 (rejection branch): the histogram follows the Poisson pmf', () => {
    const rng = new Rng(9);
    const mean = 25;
    const n = 40_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = samplePoisson(rng, mean);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (let k = 10; k <= 40; k++) {
      const pmf = Math.exp(-mean + k * Math.log(mean) - logGamma(k + 1));
      expect(Math.abs((counts.get(k) ?? 0) / n - pmf)).toBeLessThan(4 * Math.sqrt(pmf / n) + 1e-4);
    }
  });

  it('is 0 for a non-positive mean; logGamma matches ln((n−1)!)', () => {
    expect(samplePoisson(new Rng(1), 0)).toBe(0);
    expect(samplePoisson(new Rng(1), -3)).toBe(0);
    let lnFactorial = 0;
    for (let n = 1; n <= 60; n++) {
      expect(logGamma(n)).toBeCloseTo(lnFactorial, 8);
      lnFactorial += Math.log(n);
    }
  });
});
