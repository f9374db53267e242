import { describe, expect, it } from 'vitest';
import { RunningStats } from '../../../agents/policy/running-stats.js';
import { Rng } from '../../../src/util/rng.js';

function batchMoments(xs: number[][]): { mean: number[]; variance: number[] } {
  const n = xs.length;
  const d = xs[0].length;
  const mean = Array.from({ length: d }, (_, i) => xs.reduce((a, x) => a + x[i], 0) / n);
  const variance = Array.from({ length: d }, (_, i) => xs.reduce((a, x) => a + (x[i] - mean[i]) ** 2, 0) / n);
  return { mean, variance };
}

function sample(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  // Large offset and mixed scales: the case where naive sum-of-squares loses precision.
  return Array.from({ length: n }, () => [1e6 + rng.normal(), 3 * rng.normal() - 7, 1e-3 * rng.normal(), rng.uniform(0, 1)]);
}

describe('RunningStats (observation normalisation)', () => {
  it('matches the batch mean and population variance, one by one and in merged batches', () => {
    const xs = sample(1000, 1);
    const { mean, variance } = batchMoments(xs);
    const single = new RunningStats(4);
    for (const x of xs) single.update(x);
    const merged = new RunningStats(4);
    merged.updateBatch(xs.slice(0, 1));
    merged.updateBatch(xs.slice(1, 317));
    merged.updateBatch(xs.slice(317));
    for (const stats of [single, merged]) {
      expect(stats.count).toBe(1000);
      const v = stats.variance();
      for (let i = 0; i < 4; i++) {
        expect(Math.abs(stats.mean[i] - mean[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(mean[i])));
        expect(v[i] / variance[i]).toBeCloseTo(1, 8);
      }
    }
  });

  it('normalises to zero mean and unit variance, clips at ±10, and is the identity before any data', () => {
    const stats = new RunningStats(2);
    expect(Array.from(stats.normalize([3, -4]))).toEqual([3, -4]);
    expect(Array.from(stats.normalize([30, -40]))).toEqual([10, -10]);
    const xs = sample(500, 2).map((x) => [x[1], x[3]]);
    stats.updateBatch(xs);
    const zs = xs.map((x) => Array.from(stats.normalize(x)));
    const { mean, variance } = batchMoments(zs);
    for (let i = 0; i < 2; i++) {
      expect(mean[i]).toBeCloseTo(0, 9);
      expect(variance[i]).toBeCloseTo(1, 6);
    }
    const far = stats.normalize([1e9, -1e9]);
    expect(Array.from(far)).toEqual([10, -10]);
  });

  it('is frozen at deployment and restores exactly from JSON', () => {
    const stats = new RunningStats(4);
    stats.updateBatch(sample(100, 3));
    const json = JSON.parse(JSON.stringify(stats.toJSON()));
    const restored = RunningStats.fromJSON(json);
    const probe = [1e6 + 0.3, -5, 0.002, 0.7];
    expect(Array.from(restored.normalize(probe))).toEqual(Array.from(stats.normalize(probe)));
    restored.frozen = true;
    restored.update(probe);
    restored.updateBatch([probe, probe]);
    expect(restored.count).toBe(100);
  });

  it('rejects observations of the wrong length or with non-finite values', () => {
    const stats = new RunningStats(3);
    expect(() => stats.update([1, 2])).toThrow(/2 values, the policy expects 3/);
    expect(() => stats.normalize([1, NaN, 2])).toThrow(/observation\[1\] is NaN/);
  });
});
