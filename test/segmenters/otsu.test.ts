import { describe, expect, it } from 'vitest';
import { generateSynthFrame } from '../../src/data/synth.js';
import { frameFromPixels } from '../../src/image/from-pixels.js';
import { scorePrediction } from '../../src/measure/index.js';
import { otsuSegment } from '../../src/segmenters/otsu/otsu.js';
import { Rng } from '../../src/util/rng.js';

/** Separated particles (gap 3 px), noisy, on an uneven background: every particle is its own component. */
function particles(polarity: 'bright' | 'dark', seed: number) {
  return generateSynthFrame(
    { width: 192, height: 160, count: 25, diameter: { median: 12, sigma: 0.25 }, gap: 3, polarity, contrast: 0.4, unevenness: 0.05, noise: { photons: 200, read: 0.02 } },
    new Rng(seed),
    `otsu-test-${polarity}`,
  );
}

describe('otsuSegment', () => {
  for (const [polarity, seed] of [['bright', 1], ['dark', 2]] as const) {
    it(`finds ${polarity} particles with the polarity chosen automatically`, () => {
      const synth = particles(polarity, seed);
      const result = otsuSegment(synth.frame);
      expect(result.polarity).toBe(polarity);
      const scores = scorePrediction(result.labels, synth.labels);
      expect(scores.f1).toBeGreaterThan(0.9);
      expect(scores.msa).toBeGreaterThan(0.5);
      expect(Math.abs(result.count - synth.particles.length)).toBeLessThanOrEqual(2);
    });
  }

  it('with the polarity forced the wrong way, it does not find the particles', () => {
    const synth = particles('bright', 1);
    const scores = scorePrediction(otsuSegment(synth.frame, { polarity: 'dark' }).labels, synth.labels);
    expect(scores.f1).toBeLessThan(0.2);
  });

  it('drops components below minArea and numbers the rest 1..count', () => {
    // Two squares on a flat background: 2×2 (4 px) and 6×6 (36 px).
    const width = 32;
    const height = 24;
    const data = new Uint8Array(width * height).fill(20);
    const square = (x0: number, y0: number, side: number) => {
      for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) data[y * width + x] = 220;
    };
    square(3, 3, 2);
    square(15, 10, 6);
    const frame = frameFromPixels({ source: 'squares', width, height, channels: 1, data });
    const kept = otsuSegment(frame, { sigma: 0, minArea: 10 });
    expect(kept.count).toBe(1);
    expect(Math.max(...kept.labels.data)).toBe(1);
    expect(kept.labels.data[12 * width + 17]).toBe(1);
    expect(kept.labels.data[3 * width + 3]).toBe(0);
    expect(otsuSegment(frame, { sigma: 0, minArea: 1 }).count).toBe(2);
  });

  it('is deterministic for a frame', () => {
    const synth = particles('dark', 3);
    expect(otsuSegment(synth.frame).labels.data).toEqual(otsuSegment(synth.frame).labels.data);
  });
});
