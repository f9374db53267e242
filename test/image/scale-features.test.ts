import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { computeFeatures, FEATURE_VERSION_V1, FEATURE_VERSION_V2, featureNamesOf, featureSpec, frameFeatures } from '../../src/image/features.js';
import type { GreyImage } from '../../src/image/log-filter.js';
import { computeScaleFeatures, SCALE_FEATURE_BOUNDS, SCALE_FEATURE_NAMES, SCALE_SIGMAS } from '../../src/image/scale-features.js';
import { SamstarError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

function record(values: readonly number[]): Record<string, number> {
  return Object.fromEntries(SCALE_FEATURE_NAMES.map((n, i) => [n, values[i]]));
}

/** Each pixel becomes a k×k block: the same scene seen at k× the magnification. */
function magnify(image: GreyImage, k: number): GreyImage {
  const width = image.width * k;
  const height = image.height * k;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = image.data[((y / k) | 0) * image.width + ((x / k) | 0)];
  return { data, width, height };
}

function particles(diameter: number, polarity: 'bright' | 'dark', seed: number): GreyImage {
  const { frame } = generateSynthFrame({ width: 192, height: 192, count: 30, diameter: { median: diameter, sigma: 0.05 }, polarity }, new Rng(seed), 'scale');
  return { data: frame.grey, width: frame.width, height: frame.height };
}

describe('scale features (frame features v2)', () => {
  it('has one name and one bound per value, the σ ladder in √2 steps', () => {
    expect(new Set(SCALE_FEATURE_NAMES).size).toBe(SCALE_FEATURE_NAMES.length);
    expect(SCALE_FEATURE_BOUNDS.length).toBe(SCALE_FEATURE_NAMES.length);
    for (let k = 1; k < SCALE_SIGMAS.length; k++) expect(SCALE_SIGMAS[k] / SCALE_SIGMAS[k - 1]).toBeCloseTo(Math.SQRT2, 2);
  });

  it('is deterministic and stays within its bounds, flat and tiny images included', () => {
    const image = particles(10, 'bright', 1);
    const a = computeScaleFeatures(image, 2);
    expect(computeScaleFeatures(image, 2)).toEqual(a);
    const rng = new Rng(5);
    const cases: GreyImage[] = [
      image,
      { data: new Float32Array(64 * 64).fill(80), width: 64, height: 64 },
      { data: new Float32Array(1).fill(3), width: 1, height: 1 },
      { data: Float32Array.from({ length: 37 * 21 }, () => 255 * rng.next()), width: 37, height: 21 },
    ];
    for (const c of cases) {
      const v = computeScaleFeatures(c, 1);
      SCALE_FEATURE_NAMES.forEach((n, i) => {
        const [lo, hi] = SCALE_FEATURE_BOUNDS[i];
        expect(Number.isFinite(v[i]) && v[i] >= lo && v[i] <= hi, `${n} = ${v[i]}`).toBe(true);
      });
    }
    expect(record(computeScaleFeatures(cases[1], 1)).scale_dominant).toBe(0);
  });

  it('finds the particle scale, and doubles it when the frame is magnified 2×', () => {
    for (const d of [8, 14]) {
      const image = particles(d, 'bright', d);
      const base = record(computeScaleFeatures(image, 2)).scale_dominant;
      // A disc of radius r peaks near σ = r/√2.
      expect(base).toBeGreaterThan((d / 2 / Math.SQRT2) * 0.7);
      expect(base).toBeLessThan((d / 2 / Math.SQRT2) * 1.4);
      const magnified = record(computeScaleFeatures(magnify(image, 2), 2)).scale_dominant;
      expect(magnified / base).toBeGreaterThan(2 * 0.87);
      expect(magnified / base).toBeLessThan(2 * 1.15);
    }
    // Larger particles, larger scale.
    expect(record(computeScaleFeatures(particles(20, 'bright', 3), 2)).scale_dominant).toBeGreaterThan(record(computeScaleFeatures(particles(6, 'bright', 3), 2)).scale_dominant * 2);
  });

  it('reads polarity: bright particles on dark > 0, dark on bright < 0', () => {
    expect(record(computeScaleFeatures(particles(10, 'bright', 7), 2)).scale_polarity).toBeGreaterThan(0.2);
    expect(record(computeScaleFeatures(particles(10, 'dark', 7), 2)).scale_polarity).toBeLessThan(-0.2);
  });

  it('version 2 is version 1 plus the scale features; both stay computable', () => {
    const { frame } = generateSynthFrame({ width: 128, height: 96, count: 8 }, new Rng(9), 'versions');
    const v1 = frameFeatures(frame, FEATURE_VERSION_V1);
    const v2 = frameFeatures(frame, FEATURE_VERSION_V2);
    expect(v1.length).toBe(featureNamesOf(FEATURE_VERSION_V1)!.length);
    expect(v2.length).toBe(v1.length + SCALE_FEATURE_NAMES.length);
    expect(Array.from(v2.subarray(0, v1.length))).toEqual(Array.from(v1));
    expect(featureSpec(FEATURE_VERSION_V2).names.slice(v1.length)).toEqual(SCALE_FEATURE_NAMES);
    const image = { data: frame.grey, width: frame.width, height: frame.height };
    expect(() => computeFeatures(image, 'samstar-frame-features-v9')).toThrow(SamstarError);
    expect(() => computeFeatures(image, 'samstar-frame-features-v9')).toThrow(/unknown frame-feature version "samstar-frame-features-v9".*v1.*v2/);
  });
});
