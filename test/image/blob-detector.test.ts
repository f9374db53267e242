import { describe, expect, it } from 'vitest';
import { BlobDetector } from '../../src/image/blob-detector.js';
import { DEFAULT_BLOB_OPTIONS, detectBlobs, type BlobOptions } from '../../src/image/blobs.js';
import { generateSynthFrame } from '../../src/data/synth.js';
import { Rng } from '../../src/util/rng.js';

describe('BlobDetector', () => {
  const { frame } = generateSynthFrame({ width: 160, height: 128, count: 35, diameter: { median: 8, sigma: 0.4, min: 3 }, contrast: 0.25 }, new Rng(5), 'blob-detector');

  it('gives exactly detectBlobs for any threshold and overlap, running the scale space once per σ range', () => {
    const detector = new BlobDetector(1);
    const rng = new Rng(9);
    let computed = 0;
    for (let trial = 0; trial < 30; trial++) {
      const options: BlobOptions = {
        ...DEFAULT_BLOB_OPTIONS,
        sigmaMin: trial < 20 ? 1.5 : 2,
        sigmaMax: trial < 20 ? 6 : 9,
        // Some below the floor: those run the plain detector.
        threshold: trial % 7 === 0 ? rng.uniform(0, 1) : rng.uniform(1, 12),
        overlap: rng.uniform(0, 1),
        polarity: trial % 5 === 0 ? 'both' : 'bright',
      };
      const before = detector.peaks(frame, options).ms;
      if (before !== undefined) computed++;
      expect(detector.detect(frame, options)).toEqual(detectBlobs(frame.grey, frame.width, frame.height, options));
    }
    // Two σ ranges × two polarities: four scale spaces for thirty settings.
    expect(computed).toBe(4);
  });

  it('with a layer cache, σ ranges on one lattice and both polarities share their scale-space layers, and detect exactly as without', () => {
    const cached = new BlobDetector(1, undefined, 64 * 2 ** 20);
    const ranges: [number, number][] = [[1, 4], [2, 8], [4, 16]];
    for (const polarity of ['bright', 'dark', 'both'] as const) {
      for (const [sigmaMin, sigmaMax] of ranges) {
        const options: BlobOptions = { ...DEFAULT_BLOB_OPTIONS, sigmaMin, sigmaMax, sigmaSteps: 5, polarity, threshold: 3 };
        expect(cached.detect(frame, options)).toEqual(detectBlobs(frame.grey, frame.width, frame.height, options));
      }
    }
    // σ = 1, 1.41, 2, …, 16: 9 layers for 9 detections (45 layers without the cache).
    expect(cached.layersComputed).toBe(9);
  });

  it('keeps more blobs at lower thresholds, every one of those at higher thresholds', () => {
    const detector = new BlobDetector(1);
    const at = (threshold: number) => detector.detect(frame, { ...DEFAULT_BLOB_OPTIONS, threshold }).map((b) => `${b.x},${b.y},${b.sigma}`);
    const strict = at(8);
    const loose = at(2);
    expect(loose.length).toBeGreaterThan(strict.length);
    for (const b of strict) expect(loose).toContain(b);
  });
});
