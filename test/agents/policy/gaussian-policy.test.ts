import type { Tensor } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadTf } from '../../../agents/policy/backend.js';
import {
  denseFor,
  forwardTf,
  GaussianPolicy,
  gaussianEntropy,
  gaussianEntropyTf,
  gaussianLogProb,
  gaussianLogProbTf,
  orthogonal,
  parameterArrays,
  parameterShapes,
  resolvePolicyConfig,
} from '../../../agents/policy/gaussian-policy.js';
import { Rng } from '../../../src/util/rng.js';

describe('Gaussian policy maths', () => {
  it('log-prob matches the closed form of the normal density, in JS and in tfjs', async () => {
    const rng = new Rng(1);
    const { tf } = await loadTf();
    for (let trial = 0; trial < 20; trial++) {
      const d = 1 + (trial % 4);
      const mean = Array.from({ length: d }, () => rng.normal());
      const logStd = Array.from({ length: d }, () => rng.uniform(-2, 1));
      const x = Array.from({ length: d }, () => rng.normal() * 2);
      // Product of 1-D densities 1/(σ√(2π)) · exp(−(x−μ)²/(2σ²)).
      let density = 1;
      for (let i = 0; i < d; i++) {
        const s = Math.exp(logStd[i]);
        density *= Math.exp(-((x[i] - mean[i]) ** 2) / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI));
      }
      expect(gaussianLogProb(x, mean, logStd)).toBeCloseTo(Math.log(density), 10);
      const lp = tf.tidy(() => gaussianLogProbTf(tf, tf.tensor2d([x]), tf.tensor2d([mean]), tf.tensor1d(logStd)).arraySync() as number[]);
      // float32 in tfjs: relative precision.
      expect(Math.abs(lp[0] - Math.log(density))).toBeLessThan(1e-5 * Math.max(1, Math.abs(Math.log(density))));
    }
  });

  it('entropy matches the closed form and a Monte-Carlo estimate', async () => {
    const logStd = [-1, 0, 0.5];
    const closed = logStd.reduce((a, l) => a + l + 0.5 * Math.log(2 * Math.PI * Math.E), 0);
    expect(gaussianEntropy(logStd)).toBeCloseTo(closed, 12);
    const { tf } = await loadTf();
    expect(tf.tidy(() => gaussianEntropyTf(tf, tf.tensor1d(logStd)).arraySync() as number)).toBeCloseTo(closed, 5);
    const rng = new Rng(2);
    let sum = 0;
    const n = 20000;
    for (let k = 0; k < n; k++) {
      const x = logStd.map((l) => Math.exp(l) * rng.normal());
      sum -= gaussianLogProb(x, [0, 0, 0], logStd);
    }
    expect(sum / n).toBeCloseTo(closed, 1);
  });

  it('initialises orthogonal weights deterministically from the seed', () => {
    for (const [rows, cols] of [[64, 64], [5, 64], [64, 3]] as const) {
      const w = orthogonal(rows, cols, 2, new Rng(3));
      // Orthonormal columns (rows ≥ cols) or rows (rows < cols), times the gain.
      const m = Math.min(rows, cols);
      for (let a = 0; a < m; a++) {
        for (let b = a; b < m; b++) {
          let dot = 0;
          for (let i = 0; i < Math.max(rows, cols); i++) dot += rows >= cols ? w[i * cols + a] * w[i * cols + b] : w[a * cols + i] * w[b * cols + i];
          expect(dot).toBeCloseTo(a === b ? 4 : 0, 4);
        }
      }
    }
    const config = resolvePolicyConfig(6, 3);
    const a = GaussianPolicy.create(config, 11);
    const b = GaussianPolicy.create(config, 11);
    const c = GaussianPolicy.create(config, 12);
    expect(parameterArrays(a)).toEqual(parameterArrays(b));
    expect(parameterArrays(a)[0]).not.toEqual(parameterArrays(c)[0]);
    expect(Array.from(a.logStd)).toEqual([0, 0, 0]);
  });

  it('act: the action is the clipped sample, logProb and value are those of the unclipped sample', () => {
    const policy = GaussianPolicy.create(resolvePolicyConfig(3, 4, { logStdInit: 0.7 }), 5);
    const rng = new Rng(6);
    let clipped = 0;
    for (let k = 0; k < 50; k++) {
      const obs = [rng.normal(), rng.normal(), rng.normal()];
      const out = policy.act(obs, {}, rng);
      const mean = policy.meanOf(policy.normalize(obs));
      expect(out.logProb).toBeCloseTo(gaussianLogProb(out.rawAction, mean, policy.logStd), 12);
      expect(out.value).toBeCloseTo(policy.valueOf(policy.normalize(obs)), 12);
      out.action.forEach((a, i) => {
        expect(a).toBe(Math.max(-1, Math.min(1, out.rawAction[i])));
        if (a !== out.rawAction[i]) clipped++;
      });
      const det = policy.act(obs, { deterministic: true });
      expect(det.rawAction).toEqual(mean);
      expect(det.value).toBeUndefined();
    }
    expect(clipped).toBeGreaterThan(0);
  });

  it('the tfjs graph (forward, log-prob, value) has the gradient of the JS forward pass (finite differences)', async () => {
    const { tf, backend } = await loadTf();
    const policy = GaussianPolicy.create(resolvePolicyConfig(3, 2, { hidden: [8, 8], logStdInit: -0.3 }), 7);
    const rng = new Rng(8);
    // Random non-zero biases so every parameter matters.
    for (const b of [...policy.pi.biases, ...policy.vf.biases]) for (let i = 0; i < b.length; i++) b[i] = 0.3 * rng.normal();
    const rows = Array.from({ length: 6 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const actions = Array.from({ length: 6 }, () => [rng.normal(), rng.normal()]);
    // Objective: mean log-prob + 0.7 · mean value.
    const objectiveJs = (): number => {
      let sum = 0;
      rows.forEach((r, n) => {
        sum += gaussianLogProb(actions[n], policy.meanOf(r), policy.logStd) + 0.7 * policy.valueOf(r);
      });
      return sum / rows.length;
    };
    const arrays = parameterArrays(policy);
    const shapes = parameterShapes(policy);
    const dense = denseFor(tf, backend);
    const tensors = arrays.map((a, i) => tf.tensor(a, shapes[i]));
    const obs = tf.tensor2d(rows);
    const act = tf.tensor2d(actions);
    const grads = tf.grads((...p: Tensor[]) => {
      const { mean, value } = forwardTf(tf, dense, p, obs);
      return tf.add(tf.mean(gaussianLogProbTf(tf, act, mean, p[p.length - 1])), tf.mul(0.7, tf.mean(value!))) as never;
    })(tensors);
    const analytic = grads.map((g) => Array.from(g.dataSync()));
    tf.dispose([...tensors, ...grads, obs, act]);
    let checked = 0;
    for (let k = 0; k < arrays.length; k++) {
      const a = arrays[k];
      for (const i of [0, Math.floor(a.length / 2), a.length - 1]) {
        const keep = a[i];
        const h = 1e-2;
        a[i] = keep + h;
        const up = objectiveJs();
        a[i] = keep - h;
        const down = objectiveJs();
        a[i] = keep;
        const numeric = (up - down) / (Math.fround(keep + h) - Math.fround(keep - h));
        expect(Math.abs(analytic[k][i] - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
        checked++;
      }
    }
    expect(checked).toBe(3 * arrays.length);
  });
});
