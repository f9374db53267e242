import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import type { LabelImage } from '../../src/masks/types.js';
import type { BoxTruth } from '../../src/measure/boxes.js';
import { measure } from '../../src/measure/measure.js';
import type { Segmentation } from '../../src/segmenters/types.js';
import { Rng } from '../../src/util/rng.js';
import { compileReward, evaluateReward } from '../../rewards/composite.js';
import { TERMS } from '../../rewards/registry.js';
import type { RewardTerm } from '../../rewards/types.js';
import { segmentationFromLabels } from './helpers.js';
import { addBackgroundBlobs, addBackgroundMask, dilate, erode, mergeNeighbours, splitInstances } from './perturb.js';

/**
 * The conformance suite of every registered reward term (rewards/registry.ts), so a new term is
 * checked without touching a test file. Each term is built from its declared `example` config (or
 * `{}`) and scored on a synthetic frame: its true labels, spoiled versions of them, and an empty
 * segmentation. Checked: values in the declared range; the declared direction (the truth beats at
 * least one spoiling in the `better` direction); a finite value on an empty segmentation; and the
 * declared `needs` (a term that needs the image or labels is refused without them, one that does
 * not gives the same value without them, and one that does not need the ring measurements works
 * without them). Term-specific expectations live in terms.test.ts.
 */
const synth = generateSynthFrame(
  { width: 200, height: 200, count: 40, diameter: { median: 16, sigma: 0.2, min: 8 }, elongation: { fraction: 0 }, gap: 4, blur: 1, contrast: 0.6 },
  new Rng(5),
);
const { frame } = synth;
const truth = synth.labels;

/** A segmentation of the labels, reporting one decoder prompt per instance (what a cost term like `prompts` reads). */
function asSegmentation(labels: LabelImage): Segmentation {
  const segmentation = segmentationFromLabels(labels);
  return { ...segmentation, stats: { prompts: segmentation.instances.length } };
}

function withDuplicates(labels: LabelImage): Segmentation {
  const segmentation = segmentationFromLabels(labels, segmentationFromLabels(dilate(labels, 2)).instances);
  return { ...segmentation, stats: { prompts: segmentation.instances.length } };
}

const truthSegmentation = asSegmentation(truth);
const spoiled: Record<string, Segmentation> = {
  eroded: asSegmentation(erode(truth, 3)),
  dilated: asSegmentation(dilate(truth, 3)),
  merged: asSegmentation(mergeNeighbours(truth)),
  split: asSegmentation(splitInstances(truth)),
  blobs: asSegmentation(addBackgroundBlobs(truth, 25, 9)),
  background: asSegmentation(addBackgroundMask(truth)),
  // Every mask twice, once grown by 2 px: the nested duplicates SAM returns (label images cannot overlap).
  duplicated: withDuplicates(truth),
};
const empty: Segmentation = { width: truth.width, height: truth.height, instances: [], knobs: {}, timings: {}, stats: { prompts: 0 } };
const boxes: BoxTruth = { kind: 'boxes', width: truth.width, height: truth.height, boxes: [] };

/** The term computed directly on full measurements (image, ring) with the truth at hand. */
function direct(term: RewardTerm<never>, prediction: Segmentation): number {
  const config = term.schema.parse(term.example ?? {}) as never;
  return term.compute({ prediction, measurements: measure(prediction, { frame, ring: true }), frame, truth }, config);
}

/** The term through evaluateReward, as the envs use it: a one-term reward, measured with what the term declares. */
function evaluated(term: RewardTerm<never>, prediction: Segmentation, given: { frame?: boolean; truth?: 'labels' | 'boxes' }): number {
  const reward = compileReward({ terms: { t: { type: term.type, ...term.example } }, total: 't' });
  return evaluateReward(reward, prediction, {
    frame: given.frame ? frame : undefined,
    truth: given.truth === 'labels' ? truth : given.truth === 'boxes' ? boxes : undefined,
  }).terms.t;
}

describe.each(TERMS.map((term) => [term.type, term] as const))('reward term conformance: %s', (_type, term) => {
  const all = { truth: truthSegmentation, ...spoiled, empty };
  const values = Object.fromEntries(Object.entries(all).map(([name, prediction]) => [name, direct(term, prediction)]));

  it('has a summary, and its example (or {}) is a valid config', () => {
    expect(term.summary.length).toBeGreaterThan(0);
    const parsed = term.schema.safeParse(term.example ?? {});
    expect(parsed.success, `${term.type}: declare a valid \`example\` config in its defineTerm`).toBe(true);
  });

  it('stays in its declared range, and is finite on an empty segmentation', () => {
    for (const [name, value] of Object.entries(values)) {
      expect(Number.isFinite(value), `${name}: ${value}`).toBe(true);
      expect(value, name).toBeGreaterThanOrEqual(term.range[0]);
      expect(value, name).toBeLessThanOrEqual(term.range[1]);
    }
  });

  it(`moves in its declared direction (${term.better} is better): the truth beats at least one spoiling`, () => {
    const advantage = (name: string) => (term.better === 'higher' ? values.truth - values[name] : values[name] - values.truth);
    const best = Math.max(...Object.keys(spoiled).map(advantage));
    expect(best, JSON.stringify(values)).toBeGreaterThan(0.02);
  });

  it('is refused without what it declares it needs, and does not read what it does not declare', () => {
    const withAll = { frame: true, truth: 'labels' } as const;
    expect(evaluated(term, truthSegmentation, withAll)).toBeCloseTo(values.truth, 12);
    if (term.needs.frame) expect(() => evaluated(term, truthSegmentation, { truth: 'labels' })).toThrow(/needs the image/);
    else expect(evaluated(term, truthSegmentation, { truth: 'labels' })).toBeCloseTo(values.truth, 12);
    if (term.needs.truth) expect(() => evaluated(term, truthSegmentation, { frame: true })).toThrow(/needs ground truth/);
    else expect(evaluated(term, truthSegmentation, { frame: true })).toBeCloseTo(values.truth, 12);
    if (term.needs.truth === 'labels') expect(() => evaluated(term, truthSegmentation, { frame: true, truth: 'boxes' })).toThrow(/needs ground truth instance labels/);
  });
});
