import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import type { LabelImage } from '../../src/masks/types.js';
import { measure } from '../../src/measure/measure.js';
import type { Prediction } from '../../src/measure/crops.js';
import { Rng } from '../../src/util/rng.js';
import { getTerm } from '../../rewards/registry.js';
import type { RewardInput, Truth } from '../../rewards/types.js';
import { segmentationFromLabels } from './helpers.js';
import { addBackgroundBlobs, addBackgroundMask, dilate, erode, mergeNeighbours, splitInstances } from './perturb.js';

/**
 * Each term must prefer the true labels of a synthetic frame to spoiled versions of them:
 * eroded, dilated, merged, split, or polluted with background. Only the spoilings a term is
 * meant to see are checked for it (an eroded disc is still round, so `shape` is not asked).
 */
const synth = generateSynthFrame(
  {
    width: 320,
    height: 320,
    count: 45,
    diameter: { median: 18, sigma: 0.15, min: 8 },
    elongation: { fraction: 0 },
    gap: 4,
    blur: 1,
    contrast: 0.6,
  },
  new Rng(11),
);
const truth = synth.labels;
const { frame } = synth;

const spoiled: Record<string, LabelImage> = {
  eroded: erode(truth, 3),
  dilated: dilate(truth, 3),
  merged: mergeNeighbours(truth),
  split: splitInstances(truth),
  blobs: addBackgroundBlobs(truth, 25, 9),
  background: addBackgroundMask(truth),
};

function score(type: string, params: unknown, prediction: Prediction, truthInput?: Truth): number {
  const term = getTerm(type);
  const config = term.schema.parse(params ?? {});
  const input: RewardInput = {
    prediction,
    measurements: measure(prediction, { frame }),
    frame,
    truth: truthInput,
  };
  const value = term.compute(input, config as never);
  expect(value).toBeGreaterThanOrEqual(term.range[0]);
  expect(value).toBeLessThanOrEqual(term.range[1]);
  return value;
}

/** Assert that the truth scores better than each named spoiling (by at least `margin`). */
function expectTruthBetter(type: string, params: unknown, spoilings: string[], margin = 0.02, withTruth = false): void {
  const term = getTerm(type);
  const t = withTruth ? truth : undefined;
  const best = score(type, params, truth, t);
  for (const name of spoilings) {
    const worse = score(type, params, spoiled[name], t);
    const gap = term.better === 'higher' ? best - worse : worse - best;
    expect(gap, `${type}: truth ${best.toFixed(3)} vs ${name} ${worse.toFixed(3)}`).toBeGreaterThan(margin);
  }
}

const sizeTarget = { distribution: 'lognormal', median: 18, sigma: 0.15 };

describe('physics terms prefer the true labels', () => {
  it('size', () => {
    expectTruthBetter('size', { target: sizeTarget }, ['eroded', 'dilated', 'merged', 'split', 'blobs']);
    expectTruthBetter('size', { target: sizeTarget, distance: 'ks' }, ['eroded', 'dilated', 'merged', 'split', 'blobs']);
  });

  /** The size term on bare sizes (no image): `property` of each instance, none touching the border. */
  const sizeOf = (sizes: readonly number[], params: unknown, property = 'equivalent_diameter'): number =>
    getTerm('size').compute(
      { measurements: { instances: sizes.map((d) => ({ [property]: d, touches_border: false })) } } as never,
      getTerm('size').schema.parse(params) as never,
    );

  it('size with median auto: sees the spread (split halves, background blobs), not a uniform scale', () => {
    const auto = { target: { distribution: 'lognormal', median: 'auto', sigma: 0.15 } };
    // Not 'merged' or 'split': they pair up or halve nearly every nucleus, which reads as the same
    // sizes at another scale. Half of them split is seen (below).
    expectTruthBetter('size', auto, ['blobs']);
    // The same sizes at any magnification score the same; a fixed median would not.
    const diameters = truth.data.length ? measure(truth).instances.map((m) => m.equivalent_diameter) : [];
    const at = (factor: number, params: unknown): number => sizeOf(diameters.map((d) => d * factor), params);
    for (const factor of [0.25, 3, 40]) expect(at(factor, auto)).toBeCloseTo(at(1, auto), 10);
    expect(at(3, { target: sizeTarget })).toBeLessThan(at(1, { target: sizeTarget }) - 0.3);
    const halfSplit = diameters.flatMap((d, i) => (i % 2 === 0 ? [d] : [d / Math.SQRT2, d / Math.SQRT2]));
    expect(sizeOf(halfSplit, auto)).toBeLessThan(at(1, auto) - 0.05);
    // A wider spread than σ scores lower; a narrower one (a single size) is not penalised.
    expect(sizeOf([20, 20, 20], auto)).toBeCloseTo(1, 4);
    const spread = diameters.map((d, i) => d * Math.exp(0.5 * (i % 2 === 0 ? 1 : -1)));
    expect(sizeOf(spread, auto)).toBeLessThan(at(1, auto) - 0.2);
  });

  it('size with median auto: sizes of 0 (a one-pixel line has minor axis 0) score low, never NaN', () => {
    const params = { property: 'minor_axis_length', target: { distribution: 'lognormal', median: 'auto', sigma: 0.3 } };
    const scoreOf = (sizes: number[]): number => sizeOf(sizes, params, 'minor_axis_length');
    const clean = scoreOf([10, 11, 12, 10, 11]);
    const withLine = scoreOf([10, 11, 12, 10, 11, 0]);
    expect(Number.isFinite(withLine)).toBe(true);
    expect(withLine).toBeLessThan(clean - 0.05);
    expect(scoreOf([0, 0])).toBe(0);
  });

  it('size: median auto is only for the log-normal target', () => {
    expect(() => getTerm('size').schema.parse({ target: { distribution: 'normal', mean: 'auto', sd: 2 } })).toThrow();
    expect(() => getTerm('size').schema.parse({ target: { distribution: 'lognormal', median: 'middle', sigma: 0.2 } })).toThrow();
  });

  it('shape', () => {
    expectTruthBetter('shape', { circularity: { min: 0.85 }, solidity: { min: 0.9 }, aspect_ratio: { max: 1.5 } }, ['merged', 'split']);
    expectTruthBetter('shape', { solidity: { min: 0.9 }, aspect_ratio: { max: 1.5 }, mode: 'fraction' }, ['merged', 'split']);
  });

  it('count', () => {
    const n = synth.particles.length;
    expectTruthBetter('count', { expected_count: n }, ['merged', 'split', 'blobs']);
    expect(score('count', { expected_count: n }, truth)).toBe(1);
  });

  it('coverage', () => {
    expectTruthBetter('coverage', {}, ['eroded', 'dilated', 'background']);
  });

  it('edge', () => {
    expectTruthBetter('edge', {}, ['eroded', 'dilated', 'split', 'blobs']);
  });

  it('contrast', () => {
    // scale 1: full contrast is the whole intensity range, so good masks do not all saturate at 1.
    // (A split particle's halves still contrast with the background around them: not checked.)
    expectTruthBetter('contrast', { polarity: 'bright', scale: 1 }, ['eroded', 'dilated', 'blobs']);
  });

  it('border', () => {
    expectTruthBetter('border', {}, ['background']);
  });

  it('significance: a count of particles that stand out from their ring, minus detections that do not', () => {
    // Background blobs are masks on flat background: each counts against the segmentation.
    expectTruthBetter('significance', { polarity: 'bright' }, ['blobs'], 1);
    const particles = new Set(truth.data).size - 1;
    const all = score('significance', { polarity: 'bright' }, truth);
    // Most particles count clearly (these are packed 4 px apart, so rings hold neighbours and their spread is large).
    expect(all).toBeGreaterThan(0.5 * particles);
    expect(all).toBeLessThanOrEqual(particles);
    // Dropping half the particles drops the count by about half; the wrong polarity makes them all spurious.
    const half = { ...truth, data: truth.data.map((v) => (v % 2 === 0 ? 0 : v)) };
    expect(score('significance', { polarity: 'bright' }, half)).toBeLessThan(0.65 * all);
    expect(score('significance', { polarity: 'dark' }, truth)).toBeLessThan(-0.5 * particles);
    // from_knobs reads a blob segmentation's blob_polarity; a label image (no knobs) takes |z|.
    const asDark = { ...segmentationFromLabels(truth), knobs: { blob_polarity: 'dark' } };
    expect(score('significance', {}, asDark)).toBeCloseTo(score('significance', { polarity: 'dark' }, truth), 9);
    expect(score('significance', {}, truth)).toBeCloseTo(score('significance', { polarity: 'either' }, truth), 9);
    expect(score('significance', {}, { width: truth.width, height: truth.height, instances: [] } as never)).toBe(0);
    expect(() => getTerm('significance').schema.parse({ z_min: 4, z_cap: 3 })).toThrow(/z_cap must be greater than z_min/);
  });

  it('significance, disk statistic: faint large particles outweigh strong speckle, as the Rose criterion says', () => {
    // White noise (σ 10) with 9 faint disks (r 8, +10: one σ per pixel, disk SNR ≈ 1·√201 ≈ 14) and
    // 24 strong speckles between them (r 1.5, +25: 2.5 σ per pixel, disk SNR ≈ 2.5·√9 ≈ 7.5).
    const size = 240;
    const rng = new Rng(5);
    const data = new Float32Array(size * size).map(() => 100 + 10 * rng.normal());
    const particles = new Uint32Array(size * size);
    const speckles = new Uint32Array(size * size);
    const paint = (labels: Uint32Array, cx: number, cy: number, r: number, add: number, id: number): void => {
      for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
        for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
          if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
          data[y * size + x] += add;
          labels[y * size + x] = id;
        }
      }
    };
    for (let k = 0; k < 9; k++) paint(particles, 40 + 80 * (k % 3), 40 + 80 * Math.floor(k / 3), 8, 10, k + 1);
    for (let k = 0; k < 24; k++) paint(speckles, 10 + 20 * (k % 12), 80 * (1 + Math.floor(k / 12)), 1.5, 25, k + 1);
    const noisy = frameFromPixels({ source: 'rose', width: size, height: size, channels: 1, data }, { stretch: 'none' });
    const scoreOn = (labels: Uint32Array, params: unknown): number => {
      const prediction = segmentationFromLabels({ width: size, height: size, data: labels });
      const config = getTerm('significance').schema.parse(params);
      return getTerm('significance').compute({ prediction, measurements: measure(prediction, { frame: noisy }), frame: noisy }, config as never);
    };
    const pixel = { polarity: 'bright' };
    const disk = { polarity: 'bright', statistic: 'disk', z_min: 10, z_cap: 20 };
    // Per pixel, each speckle stands out more than each faint disk, and there are more of them.
    expect(scoreOn(speckles, pixel)).toBeGreaterThan(scoreOn(particles, pixel));
    // Over its area, each faint disk is significant and each speckle is not.
    expect(scoreOn(particles, disk)).toBeGreaterThan(0.2 * 9);
    expect(scoreOn(speckles, disk)).toBeLessThan(0);
  });

  it('blobs: agreement with the LoG detector, no labels', () => {
    // Merged pairs leave blobs unmatched, split halves and background blobs are masks without a blob.
    expectTruthBetter('blobs', {}, ['merged', 'split', 'blobs']);
    // On this frame the detector finds nearly every particle: the truth scores close to 1.
    expect(score('blobs', {}, truth)).toBeGreaterThan(0.9);
    // An empty segmentation scores 0, and an inverted σ range is a config error naming both values.
    expect(score('blobs', {}, { width: truth.width, height: truth.height, instances: [] } as never)).toBe(0);
    expect(() => score('blobs', { sigma_min: 8, sigma_max: 2 }, truth)).toThrow(/sigma_max 2 is below sigma_min 8/);
  });

  it('overlap: nested duplicate masks (as SAM returns them) are penalised', () => {
    const grown = dilate(truth, 2);
    const nested = segmentationFromLabels(truth, segmentationFromLabels(grown).instances);
    const clean = score('overlap', {}, segmentationFromLabels(truth));
    const dirty = score('overlap', {}, nested);
    expect(clean).toBe(0);
    expect(dirty).toBeGreaterThan(0.5);
  });
});

describe('label terms prefer the true labels', () => {
  for (const type of ['precision', 'recall', 'f1', 'sa', 'msa', 'mean_iou', 'dice', 'diameter_error']) {
    it(type, () => {
      const term = getTerm(type);
      const perfect = score(type, {}, truth, truth);
      expect(perfect).toBe(term.better === 'higher' ? 1 : 0);
      // Which spoilings each term can see at IoU 0.5: a merged pair still matches its larger
      // half (precision does not drop, recall does), a split particle's larger half still matches
      // (recall does not drop, precision does); erosion by 3 px takes IoU below 0.5; mean IoU and
      // diameter error only look at what matched, Dice at pixels.
      const sees: Record<string, string[]> = {
        precision: ['eroded', 'split', 'blobs'],
        recall: ['eroded', 'merged'],
        f1: ['merged', 'split', 'blobs'],
        sa: ['merged', 'split', 'blobs'],
        msa: ['eroded', 'dilated', 'merged', 'split', 'blobs'],
        mean_iou: ['eroded', 'dilated'],
        dice: ['eroded', 'dilated', 'background'],
        diameter_error: ['eroded', 'dilated'],
      };
      expectTruthBetter(type, {}, sees[type], 0.02, true);
    });
  }
});
