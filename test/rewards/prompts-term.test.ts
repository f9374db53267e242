import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileReward, evaluateReward } from '../../rewards/index.js';
import { generateSynthFrame } from '../../src/data/synth.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { SamSegmenter } from '../../src/segmenters/sam/segmenter.js';
import { Rng } from '../../src/util/rng.js';

/** The `prompts` cost term reads the prompts the SAM segmenter reports; other segmentations cost 0. */
describe('prompts reward term (compute cost)', () => {
  const synth = generateSynthFrame({ width: 96, height: 96, count: 6, diameter: { median: 14 }, contrast: 0.6 }, new Rng(3));
  let sam: SamSegmenter;
  beforeAll(async () => {
    sam = await SamSegmenter.load();
  });
  afterAll(async () => {
    await sam.dispose();
  });

  const reward = compileReward({
    terms: { coverage: { type: 'coverage' }, prompts: { type: 'prompts', per: 100 } },
    total: 'coverage - 0.5*prompts',
  });

  it('counts one prompt per grid point and crop, and its cost enters the total', async () => {
    const knobs = { points_per_side: 6, pred_iou_thresh: 0.5, stability_score_thresh: 0.5 };
    const one = await sam.segment(synth.frame, knobs);
    expect(one.stats?.prompts).toBe(36);
    const r = evaluateReward(reward, one, { frame: synth.frame });
    expect(r.terms.prompts).toBeCloseTo(0.36, 12);
    expect(r.total).toBeCloseTo(r.terms.coverage - 0.18, 12);
    // One crop layer adds 4 crops of the same grid: 5 × 36 prompts.
    const layered = await sam.segment(synth.frame, { ...knobs, crop_n_layers: 1 });
    expect(layered.stats?.prompts).toBe(180);
    // Filter knobs do not change the cost (the proposals are reused).
    const refiltered = await sam.segment(synth.frame, { ...knobs, pred_iou_thresh: 0.9 });
    expect(refiltered.stats?.prompts).toBe(36);
  });

  it('costs 0 for a segmenter without prompts, and rejects a bad "per"', async () => {
    const blobs = new BlobSegmenter();
    const seg = await blobs.segment(synth.frame, {});
    expect(evaluateReward(reward, seg, { frame: synth.frame }).terms.prompts).toBe(0);
    expect(() => compileReward({ terms: { prompts: { type: 'prompts', per: 0 } }, total: 'prompts' })).toThrow(/per.*> 0|must be > 0/);
  });
});
