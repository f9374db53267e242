import { describe, expect, it } from 'vitest';
import { averageRanks, holm, mannWhitneyNullDistribution, mannWhitneyU, quantile, spread, tieGroups } from '../../src/compare/stats.js';

/**
 * Mann–Whitney U against cases worked by hand (and matching scipy.stats.mannwhitneyu with
 * method='exact' / 'asymptotic', use_continuity=True, alternative='two-sided').
 */
describe('Mann–Whitney U', () => {
  it('ranks ties by their average rank', () => {
    expect(averageRanks([10, 20, 20, 30, 20])).toEqual([1, 3, 3, 5, 3]);
    expect(tieGroups([1, 2, 2, 3, 3, 3, 4])).toEqual([2, 3]);
  });

  it('has the null distribution of U for n1 = n2 = 3 (counts 1 1 2 3 3 3 3 2 1 1 over C(6,3) = 20)', () => {
    const p = mannWhitneyNullDistribution(3, 3);
    expect(Array.from(p, (v) => Math.round(v * 20))).toEqual([1, 1, 2, 3, 3, 3, 3, 2, 1, 1]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // n1 = 2, n2 = 3: C(5,2) = 10 orderings; U counts 1 1 2 2 2 1 1.
    expect(Array.from(mannWhitneyNullDistribution(2, 3), (v) => Math.round(v * 10))).toEqual([1, 1, 2, 2, 2, 1, 1]);
  });

  it('completely separated samples of 3: U = 0, exact p = 2/20 = 0.1', () => {
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6]);
    expect(r).toMatchObject({ n1: 3, n2: 3, u1: 0, u2: 9, method: 'exact', ties: false, effect: 0 });
    expect(r.p).toBeCloseTo(0.1, 12);
    // Symmetric in the order of the samples, apart from U and the effect.
    const s = mannWhitneyU([4, 5, 6], [1, 2, 3]);
    expect(s.u1).toBe(9);
    expect(s.effect).toBe(1);
    expect(s.p).toBeCloseTo(0.1, 12);
  });

  it('interleaved samples: x = 1 3 5, y = 2 4 6 → R1 = 9, U1 = 3, p = 2·P(U ≤ 3) = 2·7/20 = 0.7', () => {
    const r = mannWhitneyU([1, 3, 5], [2, 4, 6]);
    expect(r.u1).toBe(3);
    expect(r.u2).toBe(6);
    expect(r.p).toBeCloseTo(0.7, 12);
  });

  it('five against five, separated: p = 2/C(10,5) = 2/252', () => {
    const r = mannWhitneyU([0.61, 0.62, 0.63, 0.64, 0.65], [0.7, 0.71, 0.72, 0.73, 0.74]);
    expect(r.p).toBeCloseTo(2 / 252, 12);
  });

  it('unequal sizes, 2 vs 3 (null counts 1 1 2 2 2 1 1 over 10): U1 = 4 → p = 0.8; U1 = 1 → p = 0.4', () => {
    // x = 2, 5; y = 1, 3, 4 → pairs x > y: (2>1), (5>1), (5>3), (5>4) = 4 = U1; U2 = 2; p = 2·P(U ≤ 2) = 2·(1+1+2)/10 = 0.8.
    const r = mannWhitneyU([2, 5], [1, 3, 4]);
    expect(r.u1).toBe(4);
    expect(r.p).toBeCloseTo(0.8, 12);
    // x = 1, 3; y = 2, 4, 5 → U1 = 1 (3 > 2); p = 2·P(U ≤ 1) = 2·2/10 = 0.4.
    expect(mannWhitneyU([1, 3], [2, 4, 5]).p).toBeCloseTo(0.4, 12);
  });

  it('with ties: normal approximation with tie and continuity correction, worked by hand', () => {
    // x = 1 2 2 3, y = 2 3 4 5. Pooled ranks: 1→1; 2,2,2→3; 3,3→5.5; 4→7; 5→8.
    // R1 = 1 + 3 + 3 + 5.5 = 12.5, U1 = 12.5 − 10 = 2.5, U2 = 13.5.
    // σ² = 16/12 · (9 − (24 + 6)/56) = 11.285714…, z = (13.5 − 8 − 0.5)/σ = 1.488351…
    // p = 2·(1 − Φ(1.488351)) ≈ 2 · 0.068332 = 0.13666.
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 5]);
    expect(r.method).toBe('normal');
    expect(r.ties).toBe(true);
    expect(r.u1).toBe(2.5);
    expect(r.u2).toBe(13.5);
    expect(r.z!).toBeCloseTo(5 / Math.sqrt((16 / 12) * (9 - 30 / 56)), 12);
    expect(r.z!).toBeCloseTo(1.488351, 5);
    expect(r.p).toBeCloseTo(0.13666, 4);
    expect(r.effect).toBeCloseTo(2.5 / 16, 12);
  });

  it('normal approximation without ties when asked: x = 1..4 vs 5..8 (U = 0, σ² = 16·9/12 = 12, z = 7.5/√12)', () => {
    const r = mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8], { method: 'normal' });
    expect(r.z!).toBeCloseTo(7.5 / Math.sqrt(12), 12);
    // 2·(1 − Φ(2.165064)) = 0.030383
    expect(r.p).toBeCloseTo(0.030383, 5);
    // The exact p for the same data: 2/C(8,4) = 2/70.
    expect(mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]).p).toBeCloseTo(2 / 70, 12);
  });

  it('every value tied: p = 1; an empty sample: p = 1 and no effect', () => {
    expect(mannWhitneyU([0.5, 0.5], [0.5, 0.5, 0.5]).p).toBe(1);
    const empty = mannWhitneyU([], [1, 2]);
    expect(empty.p).toBe(1);
    expect(empty.effect).toBeNull();
  });

  it('refuses non-finite values', () => {
    expect(() => mannWhitneyU([1, Number.NaN], [2])).toThrow(/finite/);
  });
});

describe('spread, quantile, Holm', () => {
  it('mean ± sample std, median, min, max of the finite values', () => {
    const s = spread([2, 4, 4, 4, 5, 5, 7, 9, Number.NaN]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.std).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.median).toBe(4.5);
    expect([s.min, s.max]).toEqual([2, 9]);
    expect(spread([3]).std).toBe(0);
    expect(spread([]).mean).toBeNull();
  });

  it('quantile interpolates linearly (numpy default)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 0], 0.25)).toBe(2.5);
  });

  it('Holm adjusts in step-down order and stays monotone', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
  });
});
