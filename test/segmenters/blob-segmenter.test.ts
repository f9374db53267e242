import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { BlobSegmenter } from '../../src/segmenters/blobs/segmenter.js';
import { Rng } from '../../src/util/rng.js';

describe('BlobSegmenter filter stage', () => {
  const { frame } = generateSynthFrame({ width: 160, height: 128, count: 30, diameter: { median: 9, sigma: 0.4, min: 3 }, contrast: 0.3 }, new Rng(11), 'blob-segmenter');
  const strip = (s: Awaited<ReturnType<BlobSegmenter['segment']>>) => ({ instances: s.instances, knobs: s.knobs, stats: s.stats });

  it('a search over thresholds, overlaps and shapes on one frame gives exactly what a fresh segmenter gives for each setting', async () => {
    const searching = new BlobSegmenter();
    const rng = new Rng(3);
    for (let trial = 0; trial < 24; trial++) {
      const knobs = {
        blob_threshold: rng.uniform(1, 12),
        blob_overlap: rng.uniform(0, 1),
        radius_scale: trial % 3 === 0 ? 1.3 : 1,
        refine: trial % 4 === 0 ? 'none' : 'threshold',
        min_area: trial % 5 === 0 ? 20 : 0,
      };
      const fresh = new BlobSegmenter();
      expect(strip(await searching.segment(frame, knobs))).toEqual(strip(await fresh.segment(frame, knobs)));
    }
  });

  it('reuses a blob’s instance when a threshold keeps it again', async () => {
    const segmenter = new BlobSegmenter();
    const loose = await segmenter.segment(frame, { blob_threshold: 2 });
    const strict = await segmenter.segment(frame, { blob_threshold: 6 });
    expect(strict.instances.length).toBeGreaterThan(0);
    expect(strict.instances.length).toBeLessThan(loose.instances.length);
    for (const instance of strict.instances) expect(loose.instances).toContain(instance);
  });
});
