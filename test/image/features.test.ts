import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import {
  computeFeatures,
  FEATURE_BOUNDS,
  FEATURE_NAMES,
  FEATURE_SIGMAS,
  FEATURE_VERSION,
  featureSpec,
  frameFeatureRecord,
  frameFeatures,
} from '../../src/image/features.js';
import { gaussianBlur } from '../../src/image/blur.js';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import { boxDownsample, fastGaussianBlur, laplacian5, scaleNormalisedLog } from '../../src/image/log-filter.js';
import { Rng } from '../../src/util/rng.js';

function record(v: Float64Array): Record<string, number> {
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, v[i]]));
}

function inBounds(v: Float64Array): string[] {
  const bad: string[] = [];
  FEATURE_NAMES.forEach((n, i) => {
    const [lo, hi] = FEATURE_BOUNDS[i];
    if (!Number.isFinite(v[i]) || v[i] < lo || v[i] > hi) bad.push(`${n}=${v[i]}`);
  });
  return bad;
}

describe('frame features', () => {
  it('has a fixed, documented layout with a version', () => {
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_NAMES.length);
    expect(FEATURE_BOUNDS.length).toBe(FEATURE_NAMES.length);
    expect(FEATURE_NAMES.slice(0, 7)).toEqual(['grey_p01', 'grey_p05', 'grey_p25', 'grey_p50', 'grey_p75', 'grey_p95', 'grey_p99']);
    for (const s of FEATURE_SIGMAS) expect(FEATURE_NAMES).toContain(`log_bright_p99_s${s}`);
    expect(featureSpec()).toEqual({ version: FEATURE_VERSION, names: [...FEATURE_NAMES] });
    const frame = generateSynthFrame({ width: 96, height: 80, count: 6 }, new Rng(1), 'layout').frame;
    expect(frameFeatures(frame).length).toBe(FEATURE_NAMES.length);
  });

  it('is deterministic, cached per frame hash, and finite within its bounds on odd inputs', () => {
    const frame = generateSynthFrame({ width: 200, height: 150, count: 12 }, new Rng(2), 'det').frame;
    const a = frameFeatures(frame);
    expect(frameFeatures(frame)).toBe(a);
    const again = computeFeatures({ data: frame.grey, width: frame.width, height: frame.height });
    expect(Array.from(again)).toEqual(Array.from(a));
    expect(inBounds(a)).toEqual([]);
    expect(frameFeatureRecord(frame).grey_p50).toBe(a[3]);
    const rng = new Rng(3);
    const cases = [
      { data: new Float32Array(64 * 64).fill(100), width: 64, height: 64 },
      { data: new Float32Array(1).fill(3), width: 1, height: 1 },
      { data: new Float32Array(5 * 2).fill(0), width: 5, height: 2 },
      { data: Float32Array.from({ length: 33 * 17 }, () => 255 * rng.next()), width: 33, height: 17 },
      { data: Float32Array.from({ length: 40 * 40 }, (_, i) => (i % 2 ? 255 : 0)), width: 40, height: 40 },
    ];
    for (const c of cases) expect(inBounds(computeFeatures(c))).toEqual([]);
    const flat = record(computeFeatures(cases[0]));
    expect(flat.grey_p01).toBeCloseTo(100, 0);
    expect(flat.grey_std).toBe(0);
    expect(flat.noise_sigma).toBe(0);
    expect(flat.gradient_energy).toBe(0);
    expect(flat.blob_scale_bright).toBe(0);
  });

  it('gives percentiles and moments of the grey histogram', () => {
    const rng = new Rng(4);
    const n = 300 * 200;
    const data = Float32Array.from({ length: n }, () => Math.min(255, Math.max(0, 100 + 20 * rng.normal())));
    const f = record(computeFeatures({ data, width: 300, height: 200 }));
    const sorted = Float64Array.from(data).sort();
    const q = (p: number): number => sorted[Math.round((p / 100) * (n - 1))];
    for (const p of [1, 5, 25, 50, 75, 95, 99]) expect(Math.abs(f[`grey_p${String(p).padStart(2, '0')}`] - q(p))).toBeLessThan(0.3);
    expect(f.grey_mean).toBeCloseTo(100, 0);
    expect(f.grey_std).toBeGreaterThan(19.5);
    expect(f.grey_std).toBeLessThan(20.5);
    expect(Math.abs(f.grey_skewness)).toBeLessThan(0.05);
    expect(Math.abs(f.grey_kurtosis)).toBeLessThan(0.1);
    // One Gaussian mode: Otsu separates poorly; two spikes separate perfectly.
    expect(f.otsu_separability).toBeLessThan(0.7);
    const twoSpikes = record(computeFeatures({ data: Float32Array.from({ length: 1000 }, (_, i) => (i < 300 ? 200 : 20)), width: 100, height: 10 }));
    expect(twoSpikes.otsu_separability).toBeGreaterThan(0.99);
    expect(twoSpikes.otsu_fraction).toBeCloseTo(0.3, 3);
    expect(twoSpikes.grey_bimodality).toBeGreaterThan(5 / 9);
  });

  it('estimates white noise (Immerkær and its robust variant) on a smooth background', () => {
    for (const sigma of [3, 10]) {
      const rng = new Rng(5 + sigma);
      const w = 256;
      const data = new Float32Array(w * w);
      for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[y * w + x] = 80 + 0.2 * x + 0.1 * y + sigma * rng.normal();
      const f = record(computeFeatures({ data, width: w, height: w }));
      expect(f.noise_sigma / sigma).toBeGreaterThan(0.93);
      expect(f.noise_sigma / sigma).toBeLessThan(1.07);
      expect(f.noise_mad / sigma).toBeGreaterThan(0.9);
      expect(f.noise_mad / sigma).toBeLessThan(1.1);
    }
  });

  it('measures gradients per full-resolution pixel, also on the downsampled working image', () => {
    for (const w of [128, 1024]) {
      const data = new Float32Array(w * 64);
      for (let y = 0; y < 64; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x * 200) / w;
      const f = record(computeFeatures({ data, width: w, height: 64 }));
      const slope = 200 / w;
      expect(f.gradient_mean / slope).toBeGreaterThan(0.95);
      expect(f.gradient_mean / slope).toBeLessThan(1.05);
      expect(f.gradient_energy / (slope * slope)).toBeGreaterThan(0.9);
      expect(f.gradient_energy / (slope * slope)).toBeLessThan(1.1);
    }
  });

  it('finds the blob scale (σ ≈ r/√2) and polarity, in full-resolution pixels at any frame size', () => {
    const scales: number[] = [];
    for (const d of [6, 12, 24]) {
      const side = 384;
      const s = generateSynthFrame(
        { width: side, height: side, density: (3 * 256) / (d * d), diameter: { median: d, sigma: 0.05 }, elongation: { fraction: 0 } },
        new Rng(10 + d),
        `blobs-${d}`,
      );
      const f = frameFeatureRecord(s.frame);
      const expected = d / 2 / Math.SQRT2;
      expect(f.blob_scale_bright / expected).toBeGreaterThan(0.75);
      expect(f.blob_scale_bright / expected).toBeLessThan(1.3);
      expect(f.blob_polarity).toBeGreaterThan(0.1);
      scales.push(f.blob_scale_bright);
    }
    expect(scales[0]).toBeLessThan(scales[1]);
    expect(scales[1]).toBeLessThan(scales[2]);

    // Dark particles on a bright field flip the polarity.
    const dark = generateSynthFrame({ width: 256, height: 256, count: 30, polarity: 'dark', diameter: { median: 12, sigma: 0.05 } }, new Rng(20), 'dark');
    const fd = frameFeatureRecord(dark.frame);
    expect(fd.blob_polarity).toBeLessThan(-0.1);
    expect(fd.blob_scale_dark / (6 / Math.SQRT2)).toBeGreaterThan(0.75);
    expect(fd.blob_scale_dark / (6 / Math.SQRT2)).toBeLessThan(1.3);
  });

  it('reads the same blob scale on a large frame (working image) as on a small one', () => {
    // The same discs drawn at 4× the size on a 4× larger frame: σ* scales by 4.
    const draw = (side: number, scale: number): Float32Array => {
      const img = new Float32Array(side * side).fill(20);
      const rng = new Rng(30);
      for (let k = 0; k < 25; k++) {
        const cx = (20 + rng.next() * 216) * scale;
        const cy = (20 + rng.next() * 216) * scale;
        const r = 5 * scale;
        for (let y = Math.floor(cy - r); y <= cy + r; y++) for (let x = Math.floor(cx - r); x <= cx + r; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) img[y * side + x] = 180;
      }
      return gaussianBlur(img, side, side, scale);
    };
    const small = record(computeFeatures({ data: draw(256, 1), width: 256, height: 256 }));
    const large = record(computeFeatures({ data: draw(1024, 4), width: 1024, height: 1024 }));
    expect(large.blob_scale_bright / (4 * small.blob_scale_bright)).toBeGreaterThan(0.8);
    expect(large.blob_scale_bright / (4 * small.blob_scale_bright)).toBeLessThan(1.25);
  });

  it('works on frames built from pixels (RGB frames use the grey channel mean)', () => {
    const rgb = new Uint8Array(32 * 24 * 3).map((_, i) => (i * 37) % 256);
    const frame = frameFromPixels({ source: 'rgb', width: 32, height: 24, channels: 3, data: rgb });
    expect(inBounds(frameFeatures(frame))).toEqual([]);
  });
});

describe('log-filter helpers', () => {
  it('fastGaussianBlur equals gaussianBlur (same kernel and mirrored borders)', () => {
    const rng = new Rng(40);
    for (const [w, h, sigma] of [[37, 23, 0.7], [64, 48, 1.7], [9, 5, 3]] as const) {
      const data = Float32Array.from({ length: w * h }, () => 255 * rng.next());
      const a = gaussianBlur(data, w, h, sigma);
      const b = fastGaussianBlur({ data, width: w, height: h }, sigma);
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      expect(diff).toBeLessThan(1e-3);
    }
  });

  it('boxDownsample averages f×f blocks (edge blocks over what they have)', () => {
    const w = 10;
    const h = 7;
    const data = Float32Array.from({ length: w * h }, (_, i) => i);
    for (const f of [2, 3, 4]) {
      const out = boxDownsample({ data, width: w, height: h }, f);
      expect([out.width, out.height]).toEqual([Math.ceil(w / f), Math.ceil(h / f)]);
      for (let by = 0; by < out.height; by++) {
        for (let bx = 0; bx < out.width; bx++) {
          let sum = 0;
          let n = 0;
          for (let y = by * f; y < Math.min(h, by * f + f); y++) for (let x = bx * f; x < Math.min(w, bx * f + f); x++) (sum += data[y * w + x]), n++;
          // Powers of two go through repeated halving: the same mean wherever a block is whole.
          if ((by + 1) * f <= h && (bx + 1) * f <= w) expect(out.data[by * out.width + bx]).toBeCloseTo(sum / n, 4);
        }
      }
    }
    expect(boxDownsample({ data, width: w, height: h }, 1).data).toBe(data);
  });

  it('gives the same scale-normalised response at any pyramid level (a Gaussian blob peaks at its own σ)', () => {
    const w = 128;
    for (const s0 of [2, 4, 8]) {
      const data = new Float32Array(w * w);
      for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[y * w + x] = 100 * Math.exp(-((x - 64) ** 2 + (y - 64) ** 2) / (2 * s0 * s0));
      const sigmas = [1, 1.41, 2, 2.83, 4, 5.66, 8, 11.3, 16];
      const peaks = scaleNormalisedLog({ data, width: w, height: w }, sigmas).map((r) => -Math.min(...r.response.data));
      const best = sigmas[peaks.indexOf(Math.max(...peaks))];
      expect(best / s0).toBeGreaterThan(0.7);
      expect(best / s0).toBeLessThan(1.42);
    }
    expect(Array.from(laplacian5({ data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 }, 2))).toEqual([6, 2, -2, -6]);
  });
});
