import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDecoderRuns } from '../fixtures/decoder-runs.js';
import { generateSynthFrame } from '../../src/data/synth.js';
import { scorePrediction } from '../../src/measure/index.js';
import { filterKnobsOf, runFilterStage } from '../../src/segmenters/sam/filter.js';
import { planPrompts } from '../../src/segmenters/sam/prompts.js';
import { promptTensors } from '../../src/segmenters/sam/propose.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { samKnobSpace } from '../../src/segmenters/sam/knob-specs.js';
import type { Blob } from '../../src/image/blobs.js';
import { Rng } from '../../src/util/rng.js';

const blob = (x: number, y: number, radius: number): Blob => ({ x, y, radius, sigma: radius / Math.SQRT2, response: 10, polarity: 'bright' });

describe('blob prompts', () => {
  it('come after the grid, in (y, x) order, at pixel centres, only in the crops that contain them', () => {
    const values = { ...samKnobSpace().defaults(), prompts: 'grid+blobs', points_per_side: 2, crop_n_layers: 1, crop_overlap_ratio: 0.25 };
    const blobs = [blob(10, 5, 3), blob(90, 5, 3), blob(50, 70, 4)];
    const plans = planPrompts(100, 80, values, blobs);
    const whole = plans[0];
    expect(whole.prompts.slice(0, 4).map((p) => [p.x, p.y])).toEqual([
      [25, 20],
      [75, 20],
      [25, 60],
      [75, 60],
    ]);
    expect(whole.prompts.slice(4).map((p) => [p.x, p.y])).toEqual([
      [10.5, 5.5],
      [90.5, 5.5],
      [50.5, 70.5],
    ]);
    // Layer-1 crops: each blob lands in the crops whose box contains its centre, in crop coordinates.
    for (const plan of plans.slice(1)) {
      const [x0, y0, x1, y1] = plan.crop.box;
      const inside = blobs.filter((b) => b.x >= x0 && b.x < x1 && b.y >= y0 && b.y < y1);
      expect(plan.prompts.slice(4).map((p) => [p.x + x0, p.y + y0])).toEqual(inside.map((b) => [b.x + 0.5, b.y + 0.5]));
    }
    const only = planPrompts(100, 80, { ...values, prompts: 'blobs' }, blobs);
    expect(only[0].prompts.length).toBe(3);
  });

  it('carry the padding point without a box, and box corners (labels 2, 3) without padding', () => {
    const point = promptTensors({ x: 10, y: 20 }, 512, 256);
    expect(Array.from(point.labels)).toEqual([1, -1]);
    expect(Array.from(point.coords)).toEqual([20, 40, 0, 0]);
    const boxed = promptTensors({ x: 10, y: 20, box: [4, 14, 16, 26] }, 512, 256);
    expect(Array.from(boxed.labels)).toEqual([1, 2, 3]);
    expect(Array.from(boxed.coords)).toEqual([20, 40, 8, 28, 32, 52]);
  });
});

describe('SAM with blob prompts', () => {
  let segmenter: SamSegmenter;
  beforeAll(async () => {
    segmenter = await SamSegmenter.load();
  });
  afterAll(async () => {
    await segmenter.dispose();
  });
  const synth = generateSynthFrame({ width: 256, height: 256, count: 25, diameter: { median: 12, sigma: 0.2 } }, new Rng(31), 'blob-prompts');

  it('runs one decoder pass per blob and finds the particles', async () => {
    const runs = countDecoderRuns(segmenter);
    try {
      const result = await segmenter.segment(synth.frame, { prompts: 'blobs', pred_iou_thresh: 0.8, stability_score_thresh: 0.8 });
      expect(runs.n).toBeGreaterThanOrEqual(synth.particles.length * 0.8);
      expect(runs.n).toBeLessThanOrEqual(synth.particles.length * 2);
      expect(scorePrediction(result, synth.labels).f1).toBeGreaterThan(0.7);
      // Blob knobs do not matter under grid prompts: no new decoder runs for them.
      await segmenter.segment(synth.frame, { points_per_side: 6 });
      const before = runs.n;
      await segmenter.segment(synth.frame, { points_per_side: 6, blob_threshold: 9 });
      expect(runs.n).toBe(before);
    } finally {
      runs.restore();
    }
  });

  it('re-filters cached blob proposals to exactly the records of the uncached path', async () => {
    const propose = { prompts: 'grid+blobs', points_per_side: 6 };
    const { source } = await segmenter.propose(synth.frame, segmenter.knobs.resolve(propose));
    const direct = await segmenter.proposeDirect(synth.frame, propose);
    const rng = new Rng(8);
    for (let trial = 0; trial < 10; trial++) {
      const values = segmenter.knobs.resolve({
        ...propose,
        pred_iou_thresh: rng.uniform(0.3, 0.95),
        stability_score_thresh: rng.uniform(0.3, 0.95),
        mask_threshold: -0.5 + 0.05 * rng.int(21),
        min_mask_region_area: rng.next() < 0.5 ? 0 : rng.int(60),
      });
      const cached = runFilterStage(source, filterKnobsOf(values));
      const uncached = runFilterStage(direct, filterKnobsOf(values));
      expect(JSON.stringify(cached.instances)).toBe(JSON.stringify(uncached.instances));
    }
  });

  it('a new blob setting decodes only the prompts not yet seen on the frame, with the records of a cold segmenter', async () => {
    const frame = generateSynthFrame({ width: 192, height: 192, count: 30, diameter: { median: 9, sigma: 0.3 }, contrast: 0.2 }, new Rng(47), 'prompt-cache').frame;
    const strict = { prompts: 'grid+blobs', points_per_side: 5, blob_threshold: 4, pred_iou_thresh: 0.6, stability_score_thresh: 0.7 };
    const loose = { ...strict, blob_threshold: 1 };
    const cold = await SamSegmenter.load({ promptCacheBytes: 0 });
    try {
      const first = await segmenter.segment(frame, strict);
      const before = { ...segmenter.decoderCounts };
      const second = await segmenter.segment(frame, loose);
      const decoded = segmenter.decoderCounts.decoded - before.decoded;
      const reused = segmenter.decoderCounts.reused - before.reused;
      // The grid and the strong blobs were decoded for the first setting; only the weak blobs are new.
      expect(decoded + reused).toBe(second.stats?.prompts);
      expect(reused).toBe(first.stats?.prompts);
      expect(decoded).toBeGreaterThan(0);
      const reference = await cold.segment(frame, loose);
      expect(cold.decoderCounts).toEqual({ decoded: second.stats?.prompts, reused: 0 });
      expect(JSON.stringify(second.instances)).toBe(JSON.stringify(reference.instances));
      // Back to the strict setting on a fresh propose stage: everything comes from the per-prompt cache.
      const fresh = await SamSegmenter.load();
      try {
        await fresh.segment(frame, loose);
        const again = await fresh.segment(frame, strict);
        expect(fresh.decoderCounts).toEqual({ decoded: second.stats?.prompts, reused: first.stats?.prompts });
        expect(JSON.stringify(again.instances)).toBe(JSON.stringify(first.instances));
      } finally {
        await fresh.dispose();
      }
    } finally {
      await cold.dispose();
    }
  });
});
